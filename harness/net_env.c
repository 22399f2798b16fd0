/*
 * Host side of net-rr / net-stream: tap, veth + network namespaces,
 * reflector, AF_PACKET endpoint, in-process baseline, iperf3.
 *
 * Why this design (the simplest one that is correct):
 * - The reflector is a thread with an AF_PACKET socket bound to EtherType
 *   0x88B5 on the tap interface. A frame the guest transmits is written by
 *   vmm-lite into the tap fd, so the kernel receives it on the tap interface,
 *   where the packet socket sees it; the reflector's answer is sent on the
 *   same interface, which for a tap means "deliver to the fd", i.e. to
 *   vmm-lite's rx path. No bridge, no IP addresses, no routing: only frames
 *   of our EtherType are seen, nothing else on the machine is touched.
 * - The bare-metal baseline is the same exchange between two host endpoints:
 *   the same reflector code on one end of a veth pair in namespace B, and
 *   the same workload code (workloads/net_io.c, hosted build) running
 *   in-process on an AF_PACKET socket on the other end in namespace A. Both
 *   threads enter their namespace with setns(CLONE_NEWNET), which is
 *   per-thread. iperf3 across the same veth (addresses inside the private
 *   namespaces only) is the TCP throughput reference.
 * - Namespaces, veth and tap are made and removed with iproute2 commands;
 *   leftovers of a killed run are removed before creating, and SIGINT/SIGTERM
 *   remove the current ones before the harness dies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/hosted.h"
#include "core/proc.h"
#include "core/tsc.h"
#include "harness/net_env.h"
#include "virttax/wl_net.h"
#include "virttax/workload.h"

/* ---- commands ---- */

/* Run argv (PATH lookup): core/proc.c's proc_run. */
int net_run_cmd(char *const argv[], char **out, char *err, size_t errlen)
{
	return proc_run(argv, true, out, err, errlen);
}

#define CMD(err, len, ...) net_run_cmd((char *[]){__VA_ARGS__, NULL}, NULL, err, len)

/* ---- cleanup on SIGINT/SIGTERM ---- */

static char sig_tap[16], sig_ns[2][32];

static void sig_exec(const char *a, const char *b, const char *c, const char *d, const char *e)
{
	pid_t p = fork(); /* async-signal-safe, unlike posix_spawn */

	if (p == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("ip", "ip", a, b, c, d, e, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static void on_signal(int sig)
{
	if (sig_tap[0])
		sig_exec("tuntap", "del", "dev", sig_tap, "mode");
	for (int i = 0; i < 2; i++)
		if (sig_ns[i][0])
			sig_exec("netns", "del", sig_ns[i], NULL, NULL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- tap ---- */

int net_tap_create(const char *name, char *err, size_t len)
{
	char mtu[16], knob[96];
	int rc;

	snprintf(mtu, sizeof(mtu), "%d", NET_TAP_MTU);
	net_tap_remove(name);
	if ((rc = CMD(err, len, "ip", "tuntap", "add", "dev", (char *)name, "mode", "tap")))
		return rc < 0 ? rc : -EPERM;
	snprintf(sig_tap, sizeof(sig_tap), "%s", name);
	arm_signals();
	snprintf(knob, sizeof(knob), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	int fd = open(knob, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			(void)0; /* IPv6 noise is filtered by the workload anyway */
		close(fd);
	}
	if ((rc = CMD(err, len, "ip", "link", "set", "dev", (char *)name, "mtu", mtu, "up"))) {
		net_tap_remove(name);
		return rc < 0 ? rc : -EINVAL;
	}
	return 0;
}

void net_tap_remove(const char *name)
{
	char e[8];

	CMD(e, 0, "ip", "tuntap", "del", "dev", (char *)name, "mode", "tap");
	if (!strcmp(sig_tap, name))
		sig_tap[0] = 0;
}

/* ---- veth in two namespaces ---- */

void net_veth_remove(struct net_veth *v)
{
	char e[8];

	if (!v->ns_a[0])
		return;
	CMD(e, 0, "ip", "netns", "del", v->ns_a); /* destroys its veth end and so the pair */
	CMD(e, 0, "ip", "netns", "del", v->ns_b);
	sig_ns[0][0] = sig_ns[1][0] = 0;
	v->created = false;
}

int net_veth_create(struct net_veth *v, const char *tag, char *err, size_t len)
{
	char mtu[16];
	int rc;

	memset(v, 0, sizeof(*v));
	snprintf(v->ns_a, sizeof(v->ns_a), "vtx-a-%s", tag);
	snprintf(v->ns_b, sizeof(v->ns_b), "vtx-b-%s", tag);
	snprintf(v->dev_a, sizeof(v->dev_a), "vtxa%.10s", tag);
	snprintf(v->dev_b, sizeof(v->dev_b), "vtxb%.10s", tag);
	snprintf(v->ip_a, sizeof(v->ip_a), "10.203.0.1");
	snprintf(v->ip_b, sizeof(v->ip_b), "10.203.0.2");
	snprintf(mtu, sizeof(mtu), "%d", NET_VETH_MTU);
	net_veth_remove(v); /* a killed earlier run with the same tag */
	memcpy(sig_ns[0], v->ns_a, sizeof(sig_ns[0]));
	memcpy(sig_ns[1], v->ns_b, sizeof(sig_ns[1]));
	arm_signals();
	v->created = true;
	char ipa[24], ipb[24];
	snprintf(ipa, sizeof(ipa), "%s/24", v->ip_a);
	snprintf(ipb, sizeof(ipb), "%s/24", v->ip_b);
	if ((rc = CMD(err, len, "ip", "netns", "add", v->ns_a)) ||
	    (rc = CMD(err, len, "ip", "netns", "add", v->ns_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "add", v->dev_a, "mtu", mtu, "type",
		      "veth", "peer", "name", v->dev_b, "mtu", mtu, "netns", v->ns_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "addr", "add", ipa, "dev", v->dev_a)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "addr", "add", ipb, "dev", v->dev_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "set", v->dev_a, "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "link", "set", v->dev_b, "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "set", "lo", "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "link", "set", "lo", "up"))) {
		net_veth_remove(v);
		return rc < 0 ? rc : -EPERM;
	}
	return 0;
}

static int enter_netns(const char *ns)
{
	char path[96];
	int fd, rc = 0;

	if (!ns)
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- AF_PACKET ---- */

static int packet_socket(const char *ifname, uint8_t mac[6], char *err, size_t len)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(VTX_NET_ETHERTYPE));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(VTX_NET_ETHERTYPE)};
	struct ifreq ifr = {0};
	int big = 8 << 20;

	if (fd < 0) {
		snprintf(err, len, "AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!(sll.sll_ifindex = (int)if_nametoindex(ifname)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		int e = errno;

		snprintf(err, len, "AF_PACKET on %s: %s", ifname, strerror(e));
		close(fd);
		return -e;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return fd;
}

struct afp {
	struct wl_net pub;
	int fd;
	uint8_t buf[VTX_NET_MAX_FRAME + 64];
};

static int afp_send(struct wl_net *n, const void *frame, uint32_t len)
{
	struct afp *a = n->priv;

	if (send(a->fd, frame, len, MSG_DONTWAIT) == (ssize_t)len)
		return 0;
	return errno == EAGAIN || errno == ENOBUFS ? -EAGAIN : -errno;
}

static int afp_recv(struct wl_net *n, const uint8_t **frame, uint32_t *len)
{
	struct afp *a = n->priv;
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);

	for (;;) {
		ssize_t k = recvfrom(a->fd, a->buf, sizeof(a->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (k <= 0)
			return 0;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		*frame = a->buf;
		*len = (uint32_t)k;
		return 1;
	}
}

static void afp_release(struct wl_net *n)
{
	(void)n;
}

struct wl_net *net_afp_open(const char *ifname, char *err, size_t len)
{
	struct afp *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if ((a->fd = packet_socket(ifname, a->pub.mac, err, len)) < 0) {
		free(a);
		return NULL;
	}
	a->pub.driver = "af-packet";
	a->pub.max_frame = VTX_NET_MAX_FRAME;
	a->pub.send = afp_send;
	a->pub.recv = afp_recv;
	a->pub.release = afp_release;
	a->pub.priv = a;
	return &a->pub;
}

void net_afp_close(struct wl_net *n)
{
	struct afp *a;

	if (!n)
		return;
	a = n->priv;
	close(a->fd);
	free(a);
}

/* ---- the reflector ---- */

static void reflect(struct net_reflector *r, uint8_t *f, size_t k)
{
	uint32_t op;

	if (k < 46 || f[12] != (VTX_NET_ETHERTYPE >> 8) || f[13] != (VTX_NET_ETHERTYPE & 0xff))
		return;
	memcpy(&op, f + 18, 4);
	if (op == VTX_NET_SINK) {
		r->sunk++;
		r->sunk_bytes += k;
		return;
	}
	if (op != VTX_NET_ECHO && op != VTX_NET_REPORT)
		return;
	memcpy(f, f + 6, 6); /* to the sender */
	memcpy(f + 6, r->mac, 6);
	if (op == VTX_NET_REPORT) {
		memcpy(f + 30, &r->sunk, 8);
		memcpy(f + 38, &r->sunk_bytes, 8);
		r->sunk = r->sunk_bytes = 0;
		r->reports++;
	} else
		r->echoed++;
	if (send(r->fd, f, k, 0) < 0)
		return; /* a lost answer is a lost transaction: the workload counts it */
}

static void *reflector_thread(void *arg)
{
	struct net_reflector *r = arg;
	static __thread uint8_t f[VTX_NET_MAX_FRAME + 64];

	pthread_mutex_lock(&r->lock);
	r->ready = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	while (!r->stop) {
		struct pollfd p = {.fd = r->fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t k;

		if (poll(&p, 1, 50) <= 0)
			continue;
		while ((k = recvfrom(r->fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl)) > 0) {
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			reflect(r, f, (size_t)k);
		}
	}
	return NULL;
}

struct refl_start {
	struct net_reflector *r;
	const char *ifname, *netns;
	char *err;
	size_t len;
};

static void *reflector_main(void *arg)
{
	struct refl_start s = *(struct refl_start *)arg;
	struct net_reflector *r = s.r;
	int rc = enter_netns(s.netns);

	if (rc) {
		snprintf(s.err, s.len, "setns %s: %s", s.netns, strerror(-rc));
		r->err = rc;
	} else if ((r->fd = packet_socket(s.ifname, r->mac, s.err, s.len)) < 0)
		r->err = r->fd;
	if (r->err) {
		pthread_mutex_lock(&r->lock);
		r->ready = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	return reflector_thread(r);
}

int net_reflector_start(struct net_reflector *r, const char *ifname, const char *netns, char *err,
			size_t len)
{
	struct refl_start s = {.r = r, .ifname = ifname, .netns = netns, .err = err, .len = len};
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = r->ns_fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if ((rc = pthread_create(&r->th, NULL, reflector_main, &s))) {
		snprintf(err, len, "reflector thread: %s", strerror(rc));
		return -rc;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->ready)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	if (r->err) {
		pthread_join(r->th, NULL);
		return r->err;
	}
	r->started = true;
	return 0;
}

void net_reflector_stop(struct net_reflector *r)
{
	if (!r->started)
		return;
	r->stop = true;
	pthread_join(r->th, NULL);
	close(r->fd);
	r->started = false;
}

/* ---- in-process baseline ---- */

#define BARE_MAX_ALLOC 16
struct bare_env {
	struct wl_env env;
	const struct workload_ops *ops;
	char params[256];
	char val[64];
	json_t *metrics;
	void *allocs[BARE_MAX_ALLOC];
	int nalloc;
};

static void *bare_alloc(struct wl_env *env, size_t bytes, size_t align)
{
	struct bare_env *b = env->priv;
	void *p = NULL;

	if (b->nalloc >= BARE_MAX_ALLOC ||
	    posix_memalign(&p, align < 4096 ? 4096 : align, (bytes + 4095) & ~4095ul))
		return NULL;
	memset(p, 0, bytes); /* pre-fault */
	return b->allocs[b->nalloc++] = p;
}

static void bare_emit(struct wl_env *env, const char *m, const char *u, bool lower, double v,
		      const char *xk, const char *xu, double x)
{
	struct bare_env *b = env->priv;

	(void)u, (void)lower, (void)xk, (void)xu, (void)x;
	json_object_set_new(b->metrics, m, json_real(v));
}

static void bare_log(struct wl_env *env, const char *msg)
{
	(void)env;
	fprintf(stderr, "virttax: baseline: %s\n", msg);
}

static const char *bare_param(struct wl_env *env, const char *key)
{
	struct bare_env *b = env->priv;
	size_t kl = strlen(key);

	for (const char *p = b->params; (p = strstr(p, key)); p += kl)
		if ((p == b->params || p[-1] == ' ') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");

			snprintf(b->val, sizeof(b->val), "%.*s", (int)n, p + kl + 1);
			return b->val;
		}
	for (const struct wl_param *q = b->ops->params; q && q->key; q++)
		if (!strcmp(q->key, key))
			return q->def;
	return NULL;
}

struct bare_job {
	const struct net_veth *v;
	struct bare_env b;
	char *err;
	size_t len;
	int rc;
};

static void *bare_thread(void *arg)
{
	struct bare_job *j = arg;
	struct net_reflector refl;
	struct wl_net *n;

	/* the reflector enters ns_b by itself; this thread becomes ns_a */
	if ((j->rc = net_reflector_start(&refl, j->v->dev_b, j->v->ns_b, j->err, j->len)))
		return NULL;
	if ((j->rc = enter_netns(j->v->ns_a))) {
		snprintf(j->err, j->len, "setns %s: %s", j->v->ns_a, strerror(-j->rc));
	} else if (!(n = net_afp_open(j->v->dev_a, j->err, j->len))) {
		j->rc = -EPERM;
	} else {
		wl_net_hosted = n;
		j->rc = j->b.ops->run(&j->b.env);
		wl_net_hosted = NULL;
		net_afp_close(n);
		if (j->rc)
			snprintf(j->err, j->len, "%s failed on the veth baseline: %s",
				 j->b.ops->name, strerror(-j->rc));
	}
	net_reflector_stop(&refl);
	return NULL;
}

int net_bare_run(const struct net_veth *v, const char *wl, const char *params, json_t **metrics,
		 char *err, size_t len)
{
	static struct bare_job j;
	pthread_t th;
	uint64_t hz;
	int rc;

	memset(&j, 0, sizeof(j));
	j.v = v;
	j.err = err;
	j.len = len;
	if (!(j.b.ops = workload_find(wl))) {
		snprintf(err, len, "unknown workload %s", wl);
		return -EINVAL;
	}
	if ((rc = tsc_measure_hz(50, &hz))) {
		snprintf(err, len, "cannot measure the TSC: %s", strerror(-rc));
		return rc;
	}
	snprintf(j.b.params, sizeof(j.b.params), "%s", params ? params : "");
	j.b.metrics = json_object();
	j.b.env = (struct wl_env){.tsc_hz = hz,
				  .alloc = bare_alloc,
				  .emit = bare_emit,
				  .log = bare_log,
				  .param = bare_param,
				  .priv = &j.b};
	if ((rc = pthread_create(&th, NULL, bare_thread, &j))) {
		json_decref(j.b.metrics);
		return -rc;
	}
	pthread_join(th, NULL);
	for (int i = 0; i < j.b.nalloc; i++)
		free(j.b.allocs[i]);
	if (j.rc) {
		json_decref(j.b.metrics);
		return j.rc;
	}
	*metrics = j.b.metrics;
	return 0;
}

/* ---- iperf3 ---- */

int net_iperf3(const struct net_veth *v, unsigned secs, double *gbps, json_t **raw, char *err,
	       size_t len)
{
	char t[16], *out = NULL;
	pid_t srv;
	int rc;
	char *sargv[] = {"ip", "netns", "exec", (char *)v->ns_b, "iperf3",
			 "-s", "-1",	"-B",	(char *)v->ip_b, NULL};

	*raw = NULL;
	snprintf(t, sizeof(t), "%u", secs);
	struct proc_io io = {.out_fd = -1, .err_fd = -1, .keep_fd = -1, .search_path = true};
	rc = proc_spawn(sargv, &io, &srv);
	if (rc) {
		snprintf(err, len, "iperf3 server: %s", strerror(-rc));
		return rc;
	}
	/* the client retries while the server is still binding */
	for (int tries = 0; tries < 20; tries++) {
		free(out);
		out = NULL;
		rc = net_run_cmd((char *[]){"ip", "netns", "exec", (char *)v->ns_a, "iperf3", "-c",
					    (char *)v->ip_b, "-t", t, "--json", NULL},
				 &out, err, len);
		json_t *j = out ? json_loads(out, 0, NULL) : NULL;
		json_t *bps = json_object_get(
		    json_object_get(json_object_get(j, "end"), "sum_received"), "bits_per_second");
		if (!rc && json_is_number(bps)) {
			*gbps = json_number_value(bps) / 1e9;
			*raw = j;
			break;
		}
		json_decref(j);
		rc = rc ? rc : -EPROTO;
		usleep(100000);
	}
	free(out);
	if (rc) {
		kill(srv, SIGTERM);
		if (!err[0])
			snprintf(err, len, "iperf3 client failed");
	}
	waitpid(srv, NULL, 0);
	return rc > 0 ? -EIO : rc;
}
