/*
 * `virttax baseline`: run one workload as a plain host process.
 *
 * Why: virtualization overhead is a ratio, and its denominator must run the
 * very same workload code with the same parameters, parsed by the same
 * parser (workloads/wl_cmdline.c), reported through the same protocol as the
 * guest agent, with memory pre-faulted as the agent's is pre-mapped. The
 * harness drives it exactly like a VMM (`--control-fd` handshake).
 *
 *   virttax baseline [--pin CPU] [--backing 4k|thp] [--control-fd FD]
 *                    [--stats-json FILE] [--netns NS --net-dev DEV]
 *                    workload=NAME [KEY=VALUE ...]
 *
 * --netns/--net-dev: the network workloads' bare side (the io-net
 * experiment): the process enters namespace NS and its NIC is an AF_PACKET
 * socket on DEV (harness/net_env.c), talking to the harness's reflector.
 *
 * Exit: 0 ok, 1 the workload failed, 2 bad input, 3 host problem.
 */
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cmds.h"
#include "core/tsc.h"
#include "harness/hosted.h"
#include "virttax/protocol.h"
#include "workloads/wl_cmdline.h"
#include "harness/hosted_smp.h"
#include "core/outfile.h"
#include "harness/net_env.h"
#include "virttax/wl_net.h"

#define BASELINE_TSC_WINDOW_MS 60

struct baseline_opts {
	int pin;	/* -1: no pinning */
	int control_fd; /* -1: none */
	enum hosted_backing backing;
	int first_token;	     /* argv index of the first KEY=VALUE */
	const char *thread_pin;	     /* --thread-pin LIST, NULL: none (harness/hosted_smp.c) */
	const char *stats_json;	     /* --stats-json FILE: timed regions (hosted_region.c) */
	const char *netns, *net_dev; /* --netns NS --net-dev DEV: the NIC of net-* */
};

struct baseline_env {
	struct wl_env env;
	const struct wl_cmdline *cmd;
	struct hosted_mem mem;
	size_t mem_bytes, mem_huge; /* what the workload got, kept past the release */
	FILE *out;
};

static void baseline_usage(FILE *f)
{
	fprintf(f, "usage: virttax baseline [--pin CPU] [--thread-pin LIST] [--backing 4k|thp] "
		   "[--control-fd FD]\n"
		   "                        [--stats-json FILE] [--netns NS --net-dev DEV]\n"
		   "                        workload=NAME [KEY=VALUE ...]\n"
		   "Runs one workload as a host process and prints protocol records on stdout.\n"
		   "Numbers take K/M/G (binary) suffixes and 0x hex. Exit: 0 ok, 1 workload\n"
		   "failed, 2 bad input, 3 host problem. Workloads (KEY=default):\n");
	for (const struct workload_ops *const *w = workload_table; *w; w++) {
		fprintf(f, "  %-11s %s\n", (*w)->name, (*w)->help);
		for (const struct wl_param *p = (*w)->params; p && p->key; p++)
			fprintf(f, "      %s=%s  %s\n", p->key, p->def, p->help);
	}
}

static int parse_int(const char *s, int max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* --flag VALUE or --flag=VALUE; returns the value and advances *i. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
	size_t n = strlen(flag);
	if (strncmp(argv[*i], flag, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int baseline_parse_flag(int argc, char **argv, int *i, struct baseline_opts *o)
{
	const char *v;
	if ((v = flag_value(argc, argv, i, "--pin")))
		return parse_int(v, CPU_SETSIZE - 1, &o->pin);
	if ((v = flag_value(argc, argv, i, "--control-fd")))
		return parse_int(v, 1 << 20, &o->control_fd);
	if ((v = flag_value(argc, argv, i, "--backing")))
		return hosted_backing_parse(v, &o->backing);
	if ((v = flag_value(argc, argv, i, "--stats-json")))
		return *v ? (o->stats_json = v, 0) : -EINVAL;
	if ((v = flag_value(argc, argv, i, "--netns")))
		return (o->netns = v), 0;
	if ((v = flag_value(argc, argv, i, "--net-dev")))
		return (o->net_dev = v), 0;
	if ((v = flag_value(argc, argv, i, "--thread-pin"))) {
		int pins[8];
		unsigned n;
		o->thread_pin = v;
		return hosted_smp_parse_pins(v, pins, 8, &n);
	}
	return -EINVAL;
}

static int baseline_parse_opts(int argc, char **argv, struct baseline_opts *o)
{
	o->pin = -1;
	o->control_fd = -1;
	o->thread_pin = NULL;
	o->stats_json = NULL;
	o->netns = o->net_dev = NULL;
	o->backing = HOSTED_BACKING_THP;
	int i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		int flag = i;
		if (baseline_parse_flag(argc, argv, &i, o)) {
			fprintf(stderr,
				"virttax baseline: bad option or value at '%s' (see --help)\n",
				argv[flag]);
			return -EINVAL;
		}
	}
	o->first_token = i;
	if (!o->netns != !o->net_dev) {
		fprintf(stderr, "virttax baseline: --netns and --net-dev go together\n");
		return -EINVAL;
	}
	return 0;
}

/* The NIC of the network workloads on bare metal: an AF_PACKET socket on
 * --net-dev inside --netns. 0, or a host-problem exit status (printed). */
static int baseline_nic(const struct baseline_opts *o, struct wl_net **nic)
{
	char err[300];
	int rc;
	*nic = NULL;
	if (!o->netns)
		return 0;
	if ((rc = net_enter_netns(o->netns))) {
		fprintf(stderr, "virttax baseline: --netns %s: %s\n", o->netns, strerror(-rc));
		return VTX_EXIT_HOST;
	}
	if (!(*nic = net_afp_open(o->net_dev, err, sizeof(err)))) {
		fprintf(stderr, "virttax baseline: --net-dev %s: %s\n", o->net_dev, err);
		return VTX_EXIT_HOST;
	}
	wl_net_hosted = *nic;
	return 0;
}

static int baseline_pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---- wl_env callbacks ---- */

static struct baseline_env *benv(struct wl_env *env)
{
	return env->priv;
}

static void *baseline_alloc(struct wl_env *env, size_t bytes, size_t align)
{
	struct baseline_env *b = benv(env);
	size_t huge0 = b->mem.huge_bytes;
	void *p = hosted_mem_alloc(&b->mem, bytes, align);
	char msg[160];
	if (p)
		snprintf(msg, sizeof(msg), "baseline: mapped %zu B (%s), %zu B of it in huge pages",
			 bytes, b->mem.backing == HOSTED_BACKING_THP ? "thp" : "4k",
			 b->mem.huge_bytes - huge0);
	else
		snprintf(msg, sizeof(msg), "baseline: cannot map %zu B: %s", bytes,
			 strerror(errno));
	hosted_proto_log(b->out, msg);
	return p;
}

static void baseline_emit(struct wl_env *env, const char *metric, const char *unit,
			  bool lower_is_better, double value, const char *xk, const char *xu,
			  double x)
{
	struct baseline_env *b = benv(env);
	hosted_proto_metric(b->out, b->cmd->wl->name, metric, unit, lower_is_better, value, xk, xu,
			    x);
}

static void baseline_log(struct wl_env *env, const char *msg)
{
	hosted_proto_log(benv(env)->out, msg);
}

static void baseline_calib(struct wl_env *env, const struct wl_calib *c)
{
	hosted_proto_calib(benv(env)->out, c);
}

static const char *baseline_param(struct wl_env *env, const char *key)
{
	return wl_cmdline_param(benv(env)->cmd, key);
}

/* ---- protocol ---- */

static void baseline_hello(FILE *out, uint64_t tsc_hz, uint64_t tsc_entry,
			   enum hosted_backing backing)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	json_int_t mem = pages > 0 && psz > 0 ? (json_int_t)pages * psz : 0;
	hosted_proto_write(out, json_pack("{s:s, s:i, s:s, s:I, s:s, s:I, s:s, s:I, s:i}", "t",
					  "hello", "proto", VTX_PROTO_VERSION, "side", "bare",
					  "tsc_khz", (json_int_t)(tsc_hz / 1000), "tsc_src", "host",
					  "tsc_entry", (json_int_t)tsc_entry, "pagesize",
					  hosted_backing_pagesize(backing), "mem_bytes", mem,
					  "pvm_vif", 0));
}

static void baseline_params(FILE *out, const struct wl_cmdline *cmd)
{
	for (size_t i = 0; i < cmd->nparams; i++)
		hosted_proto_write(out, json_pack("{s:s, s:s, s:s}", "t", "param", "k",
						  cmd->params[i].key, "v", cmd->params[i].val));
}

/* Report bad input on both channels and return the exit status. */
static int baseline_reject(FILE *out, const char *wl, const char *why)
{
	fprintf(stderr, "virttax baseline: %s\n", why);
	hosted_proto_error(out, wl ? wl : "", why);
	hosted_proto_done(out, VTX_EXIT_USAGE);
	return VTX_EXIT_USAGE;
}

/* ---- --control-fd handshake (docs/INTERFACES.md §5) ---- */

static int control_write(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!s)
		return -ENOMEM;
	size_t len = strlen(s), off = 0;
	int rc = 0;
	while (off < len && !rc) {
		ssize_t n = write(fd, s + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			rc = -errno;
	}
	if (!rc && write(fd, "\n", 1) != 1)
		rc = -EIO;
	free(s);
	return rc;
}

/* Block until one byte or EOF ("go on"). */
static int control_wait(int fd)
{
	char byte;
	for (;;) {
		ssize_t n = read(fd, &byte, 1);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static int control_ready(int fd)
{
	if (fd < 0)
		return 0;
	json_t *tids = json_pack("[I]", (json_int_t)gettid());
	int rc = control_write(fd, json_pack("{s:s, s:I, s:o}", "event", "ready", "pid",
					     (json_int_t)getpid(), "tids", tids));
	return rc ? rc : control_wait(fd);
}

static int control_stopped(int fd, int status)
{
	if (fd < 0)
		return 0;
	int rc = control_write(fd, json_pack("{s:s, s:i}", "event", "stopped", "status", status));
	return rc ? rc : control_wait(fd);
}

/* ---- the run ---- */

static int dump_json(FILE *out, void *arg)
{
	return json_dumpf(arg, out, JSON_INDENT(1) | JSON_SORT_KEYS) ? -EIO : 0;
}

/* --stats-json: what the runner measured beside the protocol, in the shape of
 * vmm-lite's stats JSON (docs/INTERFACES.md section 5). */
static int baseline_write_stats(const char *path, const struct baseline_env *b)
{
	json_t *mem = json_pack(
	    "{s:s,s:I,s:I,s:o}", "backing", b->mem.backing == HOSTED_BACKING_THP ? "thp" : "4k",
	    "bytes", (json_int_t)b->mem_bytes, "anon_huge_bytes", (json_int_t)b->mem_huge,
	    "huge_share",
	    b->mem_bytes ? json_real((double)b->mem_huge / (double)b->mem_bytes) : json_null());
	json_t *j = json_pack("{s:s,s:i,s:o,s:o}", "side", "bare", "version", 1, "regions",
			      hosted_region_to_json(), "memory", mem);
	int rc = j ? outfile_write(path, dump_json, j) : -ENOMEM;
	json_decref(j);
	if (rc)
		fprintf(stderr, "virttax baseline: --stats-json %s: cannot write: %s\n", path,
			strerror(-rc));
	return rc;
}

static int baseline_run_workload(struct baseline_env *b)
{
	int rc = b->cmd->wl->run(&b->env);
	hosted_ops_release();
	b->mem_bytes = b->mem.bytes;
	b->mem_huge = b->mem.huge_bytes;
	hosted_mem_release(&b->mem);
	int status = wl_status_from_rc(rc);
	if (rc) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s: %s (%d)",
			 status == VTX_EXIT_USAGE ? "invalid parameter value" : "workload failed",
			 strerror(-rc), rc);
		fprintf(stderr, "virttax baseline: %s: %s\n", b->cmd->wl->name, msg);
		hosted_proto_error(b->out, b->cmd->wl->name, msg);
	}
	hosted_proto_done(b->out, status);
	return status;
}

static int baseline_cmdline(struct wl_cmdline *cmd, int argc, char **argv, int first)
{
	wl_cmdline_init(cmd);
	for (int i = first; i < argc; i++) {
		int rc = wl_cmdline_add(cmd, argv[i], strlen(argv[i]));
		if (rc)
			return rc;
	}
	return wl_cmdline_resolve(cmd, NULL);
}

static int baseline_main(const struct baseline_opts *o, struct wl_cmdline *cmd, int argc,
			 char **argv, uint64_t tsc_entry)
{
	struct baseline_env b = {.cmd = cmd, .out = stdout};
	int rc;
	if (o->pin >= 0 && (rc = baseline_pin(o->pin))) {
		fprintf(stderr, "virttax baseline: cannot pin to CPU %d: %s\n", o->pin,
			strerror(-rc));
		return VTX_EXIT_HOST;
	}
	if ((rc = tsc_measure_hz(BASELINE_TSC_WINDOW_MS, &b.env.tsc_hz))) {
		fprintf(stderr, "virttax baseline: cannot measure the TSC: %s\n", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	struct wl_net *nic;
	if ((rc = baseline_nic(o, &nic)))
		return rc;
	hosted_mem_init(&b.mem, o->backing);
	baseline_hello(b.out, b.env.tsc_hz, tsc_entry, o->backing);
	if (baseline_cmdline(cmd, argc, argv, o->first_token))
		return baseline_reject(b.out, cmd->wl ? cmd->wl->name : NULL, cmd->err);
	baseline_params(b.out, cmd);
	b.env.alloc = baseline_alloc;
	b.env.emit = baseline_emit;
	b.env.log = baseline_log;
	b.env.param = baseline_param;
	b.env.emit_calib = baseline_calib;
	hosted_ops_install(&b.env); /* platform primitives (harness/hosted_ops.c) */
	if ((rc = hosted_smp_install(&b.env, o->thread_pin))) { /* threads, timer sleep */
		fprintf(stderr, "virttax baseline: cannot pin to --thread-pin %s: %s\n",
			o->thread_pin, strerror(-rc));
		return VTX_EXIT_HOST;
	}
	b.env.priv = &b;
	if ((rc = hosted_region_install(&b.env))) /* timed regions, as vmm-lite's */
		fprintf(stderr, "virttax baseline: timed regions unavailable: %s\n", strerror(-rc));
	if ((rc = control_ready(o->control_fd))) {
		fprintf(stderr, "virttax baseline: control fd: %s\n", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	int status = baseline_run_workload(&b);
	if (o->stats_json && (rc = baseline_write_stats(o->stats_json, &b)) &&
	    status == VTX_EXIT_OK)
		status = VTX_EXIT_HOST;
	hosted_region_release();
	if (nic) {
		wl_net_hosted = NULL;
		net_afp_close(nic);
	}
	if ((rc = control_stopped(o->control_fd, status))) {
		fprintf(stderr, "virttax baseline: control fd: %s\n", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	return status;
}

int cmd_baseline(int argc, char **argv)
{
	uint64_t tsc_entry = wl_rdtsc();
	struct baseline_opts o;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		baseline_usage(stdout);
		return VTX_EXIT_OK;
	}
	if (baseline_parse_opts(argc, argv, &o))
		return VTX_EXIT_USAGE;
	struct wl_cmdline *cmd = malloc(sizeof(*cmd)); /* ~5 KiB: keep it off the stack */
	if (!cmd)
		return VTX_EXIT_HOST;
	int status = baseline_main(&o, cmd, argc, argv, tsc_entry);
	free(cmd);
	return status;
}
