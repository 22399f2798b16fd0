/*
 * Spawning and observing one measured child (see child.h for why this is
 * shared by the bare-metal and the VM side).
 *
 * The loop polls the child's stdout (protocol), stderr (kept for the error
 * message), the control socket (ready/stopped events) and a pidfd (exit).
 * Nothing here blocks without a deadline.
 */
#include "harness/child.h"

#include "core/proc.h"
#include "core/tsc.h"
#include "harness/footprint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *run_status_name(enum run_status s)
{
	static const char *const names[] = {"ok", "failed", "invalid", "timeout", "crash"};
	return s <= RUN_CRASH ? names[s] : "failed";
}

void run_result_init(struct run_result *r)
{
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	proto_init(&r->proto);
}

void run_result_release(struct run_result *r)
{
	proto_release(&r->proto);
	json_decref(r->footprint);
	json_decref(r->vmm_stats);
	json_decref(r->bare_stats);
	json_decref(r->collectors);
	memset(r, 0, sizeof(*r));
}

int child_probe_agent_kvm(const char *agent, char *why, size_t len)
{
	if (access(agent, R_OK))
		return snprintf(why, len,
				"guest agent not found at %s: build it (make) or set VIRTTAX_AGENT",
				agent),
		       -ENOENT;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		return snprintf(why, len, "/dev/kvm: %s: load kvm and grant access to /dev/kvm",
				strerror(-rc)),
		       rc;
	}
	close(fd);
	return 0;
}

int child_init(struct child *c, enum collector_target_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->pid = -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	c->ctl_parent = sv[0];
	c->ctl_child = sv[1];
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void note_harness_error(struct child *c, const char *what, int err)
{
	if (!c->harness_error[0])
		snprintf(c->harness_error, sizeof(c->harness_error), "%s: %s", what,
			 strerror(-err));
}

/* Release the child past a handshake point: one byte. */
static void release_child(struct child *c)
{
	char b = 1;
	if (c->ctl_parent >= 0 && send(c->ctl_parent, &b, 1, MSG_NOSIGNAL) != 1)
		note_harness_error(c, "control fd write", -errno);
}

static void parse_tids(struct child *c, json_t *ev)
{
	json_t *arr = json_object_get(ev, "vcpu_tids");
	if (!arr)
		arr = json_object_get(ev, "tids");
	size_t i;
	json_t *v;
	c->ntids = 0;
	json_array_foreach(arr, i, v) if (json_is_integer(v) && c->ntids < CHILD_MAX_TIDS)
	    c->tids[c->ntids++] = (pid_t)json_integer_value(v);
	json_t *tid = json_object_get(ev, "tid");
	if (!c->ntids && json_is_integer(tid))
		c->tids[c->ntids++] = (pid_t)json_integer_value(tid);
}

static void open_collectors(struct child *c)
{
	if (c->footprint_bytes || c->no_collectors)
		return; /* a footprint run times the boot: collector start-up would count */
	c->target = (struct collector_target){
	    .kind = c->kind,
	    .pid = c->pid,
	    .tids = c->tids,
	    .ntids = c->ntids,
	    .vmm_stats_json = c->vmm_stats_json,
	    .vmm_name = c->vmm_name,
	};
	int rc = collector_set_open(&c->cset, &c->target);
	if (rc)
		note_harness_error(c, "collector_set_open", rc);
	else
		c->cset_open = true;
	if (c->cset_open && (rc = collector_set_start(&c->cset)))
		note_harness_error(c, "collector_set_start", rc);
}

static void on_ready(struct child *c, json_t *ev)
{
	c->got_ready = true;
	parse_tids(c, ev);
	open_collectors(c);
	release_child(c);
}

void child_ready(struct child *c, const pid_t *tids, size_t ntids)
{
	c->got_ready = true;
	c->ntids = 0;
	for (size_t i = 0; i < ntids && c->ntids < CHILD_MAX_TIDS; i++)
		c->tids[c->ntids++] = tids[i];
	open_collectors(c);
}

void child_stopped(struct child *c, int status)
{
	c->got_stopped = true;
	c->stopped_status = status;
	int rc;
	if (c->cset_open && (rc = collector_set_stop(&c->cset)))
		note_harness_error(c, "collector_set_stop", rc);
	if (c->footprint_bytes && c->res && !c->res->footprint &&
	    (rc = footprint_measure(c->pid, c->footprint_bytes, &c->res->footprint)))
		note_harness_error(c, "footprint", rc);
}

static void on_stopped(struct child *c, json_t *ev)
{
	json_t *st = json_object_get(ev, "status");
	child_stopped(c, json_is_integer(st) ? (int)json_integer_value(st) : -1);
	release_child(c);
}

static void control_line(struct child *c, const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (name && !strcmp(name, "ready") && !c->got_ready)
		on_ready(c, ev);
	else if (name && !strcmp(name, "stopped") && !c->got_stopped)
		on_stopped(c, ev);
	else if (!c->harness_error[0])
		snprintf(c->harness_error, sizeof(c->harness_error),
			 "unexpected control event: %.*s", (int)(len > 80 ? 80 : len), line);
	json_decref(ev);
}

/* 1 when the control socket is at EOF */
static int read_control(struct child *c)
{
	ssize_t n = read(c->ctl_parent, c->ctl_buf + c->ctl_len, sizeof(c->ctl_buf) - c->ctl_len);
	if (n <= 0)
		return n == 0 || (errno != EINTR && errno != EAGAIN);
	c->ctl_len += (size_t)n;
	char *nl;
	while ((nl = memchr(c->ctl_buf, '\n', c->ctl_len))) {
		size_t l = (size_t)(nl - c->ctl_buf);
		control_line(c, c->ctl_buf, l);
		memmove(c->ctl_buf, nl + 1, c->ctl_len - l - 1);
		c->ctl_len -= l + 1;
	}
	if (c->ctl_len == sizeof(c->ctl_buf))
		c->ctl_len = 0; /* an overlong event: dropped */
	return 0;
}

static void keep_stderr(struct run_result *res, const char *buf, size_t n)
{
	size_t cap = sizeof(res->stderr_tail) - 1;
	size_t have = strlen(res->stderr_tail);
	if (n >= cap) {
		buf += n - cap;
		n = cap;
	}
	if (have + n > cap) {
		size_t drop = have + n - cap;
		memmove(res->stderr_tail, res->stderr_tail + drop, have - drop);
		have -= drop;
	}
	memcpy(res->stderr_tail + have, buf, n);
	res->stderr_tail[have + n] = 0;
}

/* 1 at EOF */
static int read_pipe(int fd, struct run_result *res, bool is_stdout)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return errno != EINTR && errno != EAGAIN;
	if (n == 0)
		return 1;
	if (is_stdout)
		proto_feed(&res->proto, buf, (size_t)n);
	else
		keep_stderr(res, buf, (size_t)n);
	return 0;
}

struct loop {
	int out_r, err_r, pidfd;
	bool out_eof, err_eof, ctl_eof, exited;
	int wstatus;
	uint64_t deadline;
};

static int spawn(struct child *c, char *const argv[], struct loop *lp)
{
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		int e = -errno;
		close(out[0]), close(out[1]);
		return e;
	}
	struct proc_io io = {.out_fd = out[1],
			     .err_fd = err[1],
			     .keep_fd = c->ctl_child,
			     .cgroup_procs = c->cgroup_procs};
	int rc = proc_spawn(argv, &io, &c->pid);
	close(out[1]), close(err[1]);
	if (rc) {
		c->pid = -1;
		close(out[0]), close(err[0]);
		return rc;
	}
	close_fd(&c->ctl_child);
	lp->out_r = out[0];
	lp->err_r = err[0];
	lp->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	return lp->pidfd < 0 ? -errno : 0;
}

static void check_exit(struct child *c, struct loop *lp)
{
	if (!lp->exited && waitpid(c->pid, &lp->wstatus, WNOHANG) == c->pid)
		lp->exited = true;
}

static void on_deadline(struct child *c, struct loop *lp)
{
	if (!c->timed_out) {
		c->timed_out = true;
		kill(c->pid, SIGKILL);
	}
	lp->deadline = now_ns() + 10ull * 1000000000ull; /* reaping cannot take longer */
}

static bool loop_done(const struct loop *lp)
{
	return lp->exited && lp->out_eof && lp->err_eof;
}

static void poll_once(struct child *c, struct loop *lp, struct run_result *res)
{
	struct pollfd pf[4] = {
	    {.fd = lp->out_eof ? -1 : lp->out_r, .events = POLLIN},
	    {.fd = lp->err_eof ? -1 : lp->err_r, .events = POLLIN},
	    {.fd = lp->ctl_eof ? -1 : c->ctl_parent, .events = POLLIN},
	    {.fd = lp->exited ? -1 : lp->pidfd, .events = POLLIN},
	};
	uint64_t now = now_ns();
	int wait_ms = now >= lp->deadline ? 0 : (int)((lp->deadline - now) / 1000000 + 1);
	if (wait_ms > CHILD_STOP_POLL_MS)
		wait_ms = CHILD_STOP_POLL_MS; /* a stop request is seen within this */
	if (proc_stop_signal && !c->stopped_by_request) {
		c->stopped_by_request = true; /* SIGINT/SIGTERM to virttax: this run is dropped */
		kill(c->pid, SIGKILL);
		lp->deadline = now + 10ull * 1000000000ull;
	}
	int n = poll(pf, 4, wait_ms);
	if (n == 0 || (n < 0 && errno != EINTR)) {
		if (now_ns() >= lp->deadline)
			on_deadline(c, lp);
		return;
	}
	if (pf[0].revents) {
		lp->out_eof = read_pipe(lp->out_r, res, true);
		if (!res->hello_ns && res->proto.hello) {
			res->hello_ns = now_ns() - c->t0;
			if (c->on_hello)
				c->on_hello(c, res);
		}
		if (c->on_done && !c->done_fired && res->proto.have_done) {
			c->done_fired = true;
			c->on_done(c, res);
		}
	}
	if (pf[1].revents)
		lp->err_eof = read_pipe(lp->err_r, res, false);
	if (pf[2].revents)
		lp->ctl_eof = read_control(c);
	if (pf[3].revents)
		check_exit(c, lp);
}

static void reap(struct child *c, struct loop *lp, struct run_result *res)
{
	if (!lp->exited) { /* deadline passed again while reaping: force it */
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &lp->wstatus, 0);
	}
	if (WIFEXITED(lp->wstatus))
		res->exit_code = WEXITSTATUS(lp->wstatus);
	else if (WIFSIGNALED(lp->wstatus))
		res->term_signal = WTERMSIG(lp->wstatus);
	proto_finish(&res->proto);
}

static void finish_collectors(struct child *c, struct run_result *res)
{
	if (!c->cset_open)
		return;
	int rc = collector_set_finish(&c->cset);
	if (rc)
		note_harness_error(c, "collector_set_finish", rc);
	res->collectors = collector_set_to_json(&c->cset);
	collector_set_close(&c->cset);
	c->cset_open = false;
}

int child_run(struct child *c, char *const argv[], unsigned timeout_s, struct run_result *res)
{
	struct loop lp = {.out_r = -1, .err_r = -1, .pidfd = -1};
	uint64_t t0 = now_ns();
	c->t0 = t0;
	c->res = res;
	res->spawn_tsc = tsc_read();
	int rc = spawn(c, argv, &lp);
	if (rc) {
		if (c->pid > 0) { /* no pidfd: cannot watch it, do not leave it running */
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
		goto out;
	}
	lp.deadline = t0 + (uint64_t)(timeout_s + CHILD_KILL_GRACE_S) * 1000000000ull;
	if (c->on_spawn && (rc = c->on_spawn(c, res))) {
		note_harness_error(c, "VMM start-up", rc);
		kill(c->pid, SIGKILL);
		rc = 0; /* started: reaped below, the driver's verdict says why */
	}
	while (!loop_done(&lp) && !(c->timed_out && now_ns() >= lp.deadline))
		poll_once(c, &lp, res);
	reap(c, &lp, res);
	res->wall_ns = now_ns() - t0;
	finish_collectors(c, res);
out:
	close_fd(&lp.out_r);
	close_fd(&lp.err_r);
	close_fd(&lp.pidfd);
	close_fd(&c->ctl_parent);
	close_fd(&c->ctl_child);
	c->res = NULL;
	return rc;
}

bool child_protocol_verdict(struct run_result *res)
{
	const struct proto_parser *p = &res->proto;
	const char *why = NULL;
	char buf[sizeof(res->reason)];
	if (p->nerrors)
		snprintf(buf, sizeof(buf), "protocol error: %s", p->error), why = buf;
	else if (p->wl_error[0])
		snprintf(buf, sizeof(buf), "workload error: %s", p->wl_error), why = buf;
	else if (!p->hello)
		why = "no hello record";
	else if (!p->have_done)
		why = "no done record";
	else if (p->done_status != 0)
		snprintf(buf, sizeof(buf), "workload done with status %d", p->done_status),
		    why = buf;
	else if (json_array_size(p->metrics) == 0)
		why = "no metric records";
	if (!why)
		return false;
	res->status = RUN_FAILED;
	snprintf(res->reason, sizeof(res->reason), "%s", why);
	return true;
}

void child_check_hello(struct run_result *res, const char *side, const char *pagesize)
{
	const char *got_side = json_string_value(json_object_get(res->proto.hello, "side"));
	const char *got_ps = json_string_value(json_object_get(res->proto.hello, "pagesize"));
	if (res->status != RUN_OK)
		return;
	if (!got_side || strcmp(got_side, side))
		snprintf(res->reason, sizeof(res->reason),
			 "hello says side \"%s\", expected \"%s\"", got_side ? got_side : "(none)",
			 side);
	else if (pagesize && (!got_ps || strcmp(got_ps, pagesize)))
		snprintf(res->reason, sizeof(res->reason),
			 "hello says pagesize \"%s\", expected \"%s\"", got_ps ? got_ps : "(none)",
			 pagesize);
	else
		return;
	res->status = RUN_FAILED;
}

size_t child_workload_cmdline(const struct run_spec *spec, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "workload=%s", spec->workload);
	for (size_t i = 0; i < spec->nwl_args && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %s", spec->wl_args[i]);
	return off;
}
