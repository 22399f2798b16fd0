/*
 * QMP client and reply shaping (see qmp.h for why it is this small).
 */
#include "harness/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_MAX_LINE (4u << 20)

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(char *err, size_t len, int rc, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return rc;
}

int qmp_parse_reply(const char *line, size_t len, json_t **ret, char *err, size_t errlen)
{
	json_error_t je;
	json_t *msg = json_loadb(line, len, 0, &je);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return fail(err, errlen, -EINVAL, "QMP: not a JSON object: %s", je.text);
	}
	int rc;
	json_t *r = json_object_get(msg, "return");
	json_t *e = json_object_get(msg, "error");
	if (r) {
		if (ret)
			*ret = json_incref(r);
		rc = 0;
	} else if (json_is_object(e)) {
		const char *d = json_string_value(json_object_get(e, "desc"));
		rc = fail(err, errlen, -EIO, "QMP error: %s", d ? d : "(no desc)");
	} else if (json_object_get(msg, "event") || json_object_get(msg, "QMP")) {
		rc = 1;
	} else {
		rc = fail(err, errlen, -EINVAL, "QMP: unexpected message%s", "");
	}
	json_decref(msg);
	return rc;
}

/* one line from the socket into q->buf; returns its length (without \n) */
static ssize_t read_line(struct qmp *q, uint64_t deadline)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl)
			return nl - q->buf;
		if (q->len == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 65536;
			char *nb = cap <= QMP_MAX_LINE ? realloc(q->buf, cap) : NULL;
			if (!nb)
				return cap <= QMP_MAX_LINE ? -ENOMEM : -E2BIG;
			q->buf = nb;
			q->cap = cap;
		}
		uint64_t now = mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = q->fd, .events = POLLIN};
		int n = poll(&pf, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		ssize_t r = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (r > 0)
			q->len += (size_t)r;
	}
}

static void consume(struct qmp *q, size_t linelen)
{
	memmove(q->buf, q->buf + linelen + 1, q->len - linelen - 1);
	q->len -= linelen + 1;
}

/* the id of a reply, -1 when it has none (a late reply of an abandoned command has another) */
static json_int_t reply_id(const char *line, size_t len)
{
	json_t *msg = json_loadb(line, len, 0, NULL);
	json_t *id = json_object_get(msg, "id");
	json_int_t v = json_is_integer(id) ? json_integer_value(id) : -1;
	json_decref(msg);
	return v;
}

/* the next non-event reply to command `id` */
static int read_reply(struct qmp *q, json_int_t id, json_t **ret, uint64_t deadline, char *err,
		      size_t errlen)
{
	for (;;) {
		ssize_t n = read_line(q, deadline);
		if (n < 0)
			return fail(err, errlen, (int)n, "QMP read: %s", strerror((int)-n));
		int rc = 1;
		if (reply_id(q->buf, (size_t)n) == id)
			rc = qmp_parse_reply(q->buf, (size_t)n, ret, err, errlen);
		consume(q, (size_t)n);
		if (rc != 1)
			return rc;
	}
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int qmp_exec(struct qmp *q, const char *cmd, json_t *args, json_t **ret, int timeout_ms, char *err,
	     size_t errlen)
{
	json_int_t id = ++q->seq;
	json_t *msg = json_pack("{s:s,s:I}", "execute", cmd, "id", id);
	if (args)
		json_object_set(msg, "arguments", args);
	char *s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!s)
		return -ENOMEM;
	size_t l = strlen(s);
	s[l] = '\n'; /* json_dumps leaves room for its NUL: reuse it for the newline */
	int rc = write_all(q->fd, s, l + 1);
	free(s);
	if (rc)
		return fail(err, errlen, rc, "QMP write: %s", strerror(-rc));
	if (ret)
		*ret = NULL;
	return read_reply(q, id, ret, mono_ms() + (uint64_t)timeout_ms, err, errlen);
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	int e = -errno;
	close(fd);
	return e;
}

int qmp_connect(struct qmp *q, const char *path, int timeout_ms, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
	int fd;
	while ((fd = try_connect(path)) < 0) {
		if ((fd != -ENOENT && fd != -ECONNREFUSED) || mono_ms() >= deadline)
			return fail(err, errlen, fd, "QMP connect %s: no socket in time", path);
		usleep(1000);
	}
	q->fd = fd;
	ssize_t n = read_line(q, deadline); /* the greeting */
	if (n < 0) {
		qmp_close(q);
		return fail(err, errlen, (int)n, "QMP greeting: %s", strerror((int)-n));
	}
	consume(q, (size_t)n);
	int rc = qmp_exec(q, "qmp_capabilities", NULL, NULL, timeout_ms, err, errlen);
	if (rc)
		qmp_close(q);
	return rc;
}

void qmp_close(struct qmp *q)
{
	if (q->fd > 0)
		close(q->fd);
	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

static int cmp_vcpu(const void *a, const void *b)
{
	return ((const struct qmp_vcpu *)a)->index - ((const struct qmp_vcpu *)b)->index;
}

int qmp_vcpus(const json_t *cpus, struct qmp_vcpu *out, size_t max, size_t *n)
{
	size_t i;
	json_t *c;
	*n = 0;
	if (!json_is_array(cpus) || json_array_size(cpus) > max)
		return -EINVAL;
	json_array_foreach(cpus, i, c)
	{
		json_t *idx = json_object_get(c, "cpu-index"),
		       *tid = json_object_get(c, "thread-id");
		const char *qom = json_string_value(json_object_get(c, "qom-path"));
		if (!json_is_integer(idx) || !json_is_integer(tid) || !qom ||
		    json_integer_value(tid) <= 0 || json_integer_value(idx) < 0 ||
		    strlen(qom) >= sizeof(out->qom_path))
			return -EINVAL;
		out[i].index = (int)json_integer_value(idx);
		out[i].tid = (pid_t)json_integer_value(tid);
		snprintf(out[i].qom_path, sizeof(out[i].qom_path), "%s", qom);
	}
	*n = i;
	qsort(out, *n, sizeof(*out), cmp_vcpu);
	return 0;
}

/* ---- query-stats -> kvm_stats ---- */

/* the "stats" array of the kvm provider in one query-stats result entry */
static const json_t *kvm_stats_of(const json_t *entry)
{
	const char *prov = json_string_value(json_object_get(entry, "provider"));
	return prov && !strcmp(prov, "kvm") ? json_object_get(entry, "stats") : NULL;
}

/* query-stats target=X: the entry for qom_path (NULL: the first kvm entry) */
static const json_t *find_entry(const json_t *reply, const char *qom_path)
{
	size_t i;
	json_t *e;
	json_array_foreach(reply, i, e)
	{
		const char *q = json_string_value(json_object_get(e, "qom-path"));
		if (kvm_stats_of(e) && (!qom_path || (q && !strcmp(q, qom_path))))
			return e;
	}
	return NULL;
}

static bool stat_value(const json_t *stats, const char *name, json_int_t *v)
{
	size_t i, j;
	json_t *s, *b;
	json_array_foreach(stats, i, s)
	{
		if (strcmp(json_string_value(json_object_get(s, "name")) ?: "", name))
			continue;
		json_t *val = json_object_get(s, "value");
		if (json_is_integer(val))
			*v = json_integer_value(val);
		else if (json_is_boolean(val))
			*v = json_is_true(val);
		else if (json_is_array(val)) {
			*v = 0;
			json_array_foreach(val, j, b) *v += json_integer_value(b);
		} else
			return false;
		return true;
	}
	return false;
}

static const char *type_name(const char *qmp_type)
{
	if (!strcmp(qmp_type, "linear-histogram"))
		return "linear-hist";
	if (!strcmp(qmp_type, "log2-histogram"))
		return "log-hist";
	return qmp_type;
}

/* one schema's stats, before/after from two kvm "stats" arrays */
static json_t *group(const json_t *schema_stats, const json_t *before, const json_t *after)
{
	json_t *o = json_object(), *d;
	size_t i;
	json_array_foreach(schema_stats, i, d)
	{
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *type = json_string_value(json_object_get(d, "type"));
		const char *unit = json_string_value(json_object_get(d, "unit"));
		json_t *base = json_object_get(d, "base"), *exp = json_object_get(d, "exponent");
		json_int_t b, a;
		if (!name || !type || !stat_value(before, name, &b) || !stat_value(after, name, &a))
			continue;
		json_object_set_new(
		    o, name,
		    json_pack("{s:I,s:I,s:I,s:s,s:s,s:I,s:I}", "before", b, "after", a, "delta",
			      (json_int_t)((unsigned long long)a - (unsigned long long)b), "unit",
			      unit ? unit : "none", "type", type_name(type), "base",
			      json_is_integer(base) ? json_integer_value(base) : 10, "exponent",
			      json_is_integer(exp) ? json_integer_value(exp) : 0));
	}
	return o;
}

static const json_t *schema_for(const json_t *schemas, const char *target)
{
	size_t i;
	json_t *s;
	json_array_foreach(schemas, i, s)
	{
		const char *t = json_string_value(json_object_get(s, "target"));
		if (kvm_stats_of(s) && t && !strcmp(t, target))
			return json_object_get(s, "stats");
	}
	return NULL;
}

json_t *qmp_stats_to_kvm(const json_t *schemas, const json_t *vm_before, const json_t *vm_after,
			 const json_t *vcpu_before, const json_t *vcpu_after,
			 const struct qmp_vcpu *vcpus, size_t nvcpus)
{
	const json_t *svm = schema_for(schemas, "vm"), *svcpu = schema_for(schemas, "vcpu");
	const json_t *vb = find_entry(vm_before, NULL), *va = find_entry(vm_after, NULL);
	if (!svm || !svcpu || !vb || !va)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < nvcpus; i++) {
		const json_t *b = find_entry(vcpu_before, vcpus[i].qom_path);
		const json_t *a = find_entry(vcpu_after, vcpus[i].qom_path);
		if (!a || !b) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr,
				      json_pack("{s:i,s:i,s:o}", "index", vcpus[i].index, "tid",
						(int)vcpus[i].tid, "stats",
						group(svcpu, kvm_stats_of(b), kvm_stats_of(a))));
	}
	return json_pack("{s:o,s:o}", "vm", group(svm, kvm_stats_of(vb), kvm_stats_of(va)), "vcpus",
			 arr);
}
