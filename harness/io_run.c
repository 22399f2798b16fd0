/*
 * `virttax run --io-technique LIST`: the I/O technique table.
 *
 * Why a separate path from the A/B loop of cmd_run.c: an I/O run needs a
 * backing file shared by both sides, a different bare-metal baseline (fio on
 * the same file with the same bs/iodepth/rw/direct, not the hosted workload)
 * and one VM series per technique. Each technique row says how it compares
 * with native (throughput %, latency x) and why (exits, notifications and
 * interrupts per I/O, VMM CPU per I/O from vmm-lite's "io" stats). Techniques
 * this host cannot run (vhost, passthrough) are probed and printed as
 * `unavailable: <reason>`. The network workloads (net-rr, net-stream) have
 * their own fixtures and rows (harness/io_net.c: veth baseline, iperf3
 * reference, tap + reflector). Everything lands in OUT/results.json (atomic).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/child.h"
#include "core/outfile.h"
#include "core/proc.h"
#include "harness/io_run.h"
#include "harness/net_env.h"
#include "harness/plan.h"
#include "core/results.h"
#include "virttax/protocol.h"
#include "vmm-lite/virtio.h"

#define IO_MAX_TECH 8
#define IO_MAX_WL 4
#define IO_DEFAULT_FILE_MB 256

struct io_plan {
	const char *wl[IO_MAX_WL];
	size_t nwl;
	const char *tech[IO_MAX_TECH];
	size_t ntech;
	const char *rw, *bs, *qd, *ms, *size;
	bool direct;
	unsigned reps;
	int cpu;
	char out[PATH_MAX], scratch[PATH_MAX], file[PATH_MAX + 16];
	char vmm[PATH_MAX], agent[PATH_MAX];
};

struct io_sample {
	double mbps, iops, p50_us, p99_us;
	double exits, notifs, irqs, requests, vmm_cpu_ns;
	bool ok;
};

bool io_run_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--io-technique", 14))
			return true;
	return false;
}

static int split(char *s, const char **out, size_t max, size_t *n)
{
	*n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= max)
			return -E2BIG;
		out[(*n)++] = tok;
	}
	return *n ? 0 : -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virttax run --io-technique LIST [--workloads blk-rand,blk-seq,net-rr,"
		"net-stream]\n"
		"       [--set rw=read|write] [--set bs=4096] [--set qd=1] [--set ms=2000]\n"
		"       [--set size=64..65535 (net-* frame bytes)]\n"
		"       [--direct] [--reps N] [--pin CPU] [--out DIR]\n"
		"Techniques: emulated, virtio-user, virtio-eventfd, poll, vhost, passthrough.\n"
		"The native row is fio on the same backing file for blk-*, the same frames across\n"
		"a veth pair in two network namespaces for net-* (docs/IO.md).\n");
}

static int parse_set(struct io_plan *p, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		return -EINVAL;
	*eq = 0;
	const char *v = eq + 1;
	if (!strcmp(kv, "rw") && (!strcmp(v, "read") || !strcmp(v, "write")))
		p->rw = v;
	else if (!strcmp(kv, "bs") && atoi(v) >= 4096 && atoi(v) <= (1 << 20) && !(atoi(v) % 512))
		p->bs = v;
	else if (!strcmp(kv, "qd") && atoi(v) >= 1 && atoi(v) <= 32)
		p->qd = v;
	else if (!strcmp(kv, "ms") && atoi(v) >= 100)
		p->ms = v;
	else if (!strcmp(kv, "size") && atoi(v) >= 64 && atoi(v) <= 65535)
		p->size = v;
	else
		return -EINVAL;
	return 0;
}

static int validate(struct io_plan *p, char *err, size_t len)
{
	for (size_t i = 0; i < p->ntech; i++) {
		enum io_technique t;
		if (io_technique_parse(p->tech[i], &t))
			return snprintf(err, len,
					"--io-technique '%s': expected emulated, virtio-user, "
					"virtio-eventfd, poll, vhost or passthrough",
					p->tech[i]),
			       -EINVAL;
	}
	for (size_t i = 0; i < p->nwl; i++)
		if (strcmp(p->wl[i], "blk-rand") && strcmp(p->wl[i], "blk-seq") &&
		    strcmp(p->wl[i], "net-rr") && strcmp(p->wl[i], "net-stream"))
			return snprintf(
				   err, len,
				   "--workloads '%s': I/O runs take blk-rand, blk-seq, net-rr, "
				   "net-stream",
				   p->wl[i]),
			       -EINVAL;
	return 0;
}

static int parse(struct io_plan *p, int argc, char **argv, char *err, size_t len)
{
	static char wl_buf[256], tech_buf[256];
	static const struct option opts[] = {{"io-technique", required_argument, NULL, 't'},
					     {"workloads", required_argument, NULL, 'w'},
					     {"set", required_argument, NULL, 's'},
					     {"reps", required_argument, NULL, 'r'},
					     {"pin", required_argument, NULL, 'p'},
					     {"out", required_argument, NULL, 'o'},
					     {"direct", no_argument, NULL, 'd'},
					     {"quick", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	*p = (struct io_plan){.rw = "read", .bs = "4096", .qd = "1", .ms = "2000", .reps = 3};
	p->cpu = plan_default_cpu();
	if (p->cpu < 0)
		p->cpu = 0;
	snprintf(wl_buf, sizeof(wl_buf), "blk-rand");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			snprintf(tech_buf, sizeof(tech_buf), "%s", optarg);
			break;
		case 'w':
			snprintf(wl_buf, sizeof(wl_buf), "%s", optarg);
			break;
		case 's':
			if (parse_set(p, optarg))
				return snprintf(
					   err, len,
					   "--set '%s': expected rw=read|write, bs=4096..1048576 "
					   "(multiple of 512), qd=1..32, ms>=100 or size=64..65535 "
					   "(net frame bytes)",
					   optarg),
				       -EINVAL;
			break;
		case 'r':
			p->reps = (unsigned)atoi(optarg);
			if (p->reps < 1 || p->reps > 100)
				return snprintf(err, len, "--reps '%s': expected 1..100", optarg),
				       -EINVAL;
			break;
		case 'p':
			p->cpu = atoi(optarg);
			break;
		case 'o':
			snprintf(p->out, sizeof(p->out), "%s", optarg);
			break;
		case 'd':
			p->direct = true;
			break;
		case 'q':
			p->reps = 1;
			p->ms = "500";
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return snprintf(err, len,
					"bad option '%s'; see virttax run --io-technique --help",
					argv[optind - 1]),
			       -EINVAL;
		}
	}
	if (split(tech_buf, p->tech, IO_MAX_TECH, &p->ntech) ||
	    split(wl_buf, p->wl, IO_MAX_WL, &p->nwl))
		return snprintf(err, len, "--io-technique and --workloads take non-empty lists"),
		       -EINVAL;
	return validate(p, err, len);
}

/* ---- children ---- */

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* fio's JSON: jobs[0].read|write .bw_bytes .iops .clat_ns.percentile */
static int fio_run(const struct io_plan *p, const char *wl, struct io_sample *s, json_t **raw)
{
	char rw[32], bs[32], qd[32], rt[32], cpus[32], fn[PATH_MAX + 32], *out = NULL;
	bool rnd = !strcmp(wl, "blk-rand");
	snprintf(rw, sizeof(rw), "--rw=%s%s", rnd ? "rand" : "", p->rw);
	snprintf(bs, sizeof(bs), "--bs=%s", p->bs);
	snprintf(qd, sizeof(qd), "--iodepth=%s", p->qd);
	snprintf(rt, sizeof(rt), "--runtime=%dms", atoi(p->ms));
	snprintf(cpus, sizeof(cpus), "--cpus_allowed=%d", p->cpu);
	snprintf(fn, sizeof(fn), "--filename=%s", p->file);
	char *argv[] = {"/usr/bin/fio",
			"--name=virttax",
			fn,
			rw,
			bs,
			qd,
			"--ioengine=io_uring",
			rt,
			"--time_based",
			cpus,
			p->direct ? "--direct=1" : "--direct=0",
			"--output-format=json",
			NULL};
	char err[200];
	int status = proc_run(argv, false, &out, err, sizeof(err));
	if (status < 0)
		return status;
	json_error_t je;
	json_t *j = out ? json_loads(out, 0, &je) : NULL;
	free(out);
	if (!j || status) {
		json_decref(j);
		return -EIO;
	}
	json_t *job = json_array_get(json_object_get(j, "jobs"), 0);
	json_t *d = json_object_get(job, p->rw);
	json_t *pct = json_object_get(json_object_get(d, "clat_ns"), "percentile");
	s->mbps = jnum(d, "bw_bytes") / 1e6;
	s->iops = jnum(d, "iops");
	s->p50_us = jnum(pct, "50.000000") / 1e3;
	s->p99_us = jnum(pct, "99.000000") / 1e3;
	s->ok = s->iops > 0;
	*raw = json_pack("{s:O}", "fio_job", job ? job : json_null());
	json_decref(j);
	return 0;
}

/* VMM CPU for the device: backend thread + userspace handling of device exits */
static double vmm_cpu_ns(json_t *stats)
{
	json_t *io = json_object_get(stats, "io"), *exits = json_object_get(stats, "exits"), *v;
	const char *k;
	double ns = jnum(io, "backend_cpu_ns");
	json_object_foreach(exits, k, v) if (!strcmp(k, "mmio") || !strncmp(k, "io:0x1f", 7)) ns +=
	    jnum(v, "total_ns");
	return ns;
}

static void parse_metrics(const char *out, struct io_sample *s, json_t *metrics)
{
	const char *pfx = VTX_PROTO_PREFIX;
	for (const char *l = out; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n > strlen(pfx) && !strncmp(l, pfx, strlen(pfx))) {
			json_t *r = json_loadb(l + strlen(pfx), n - strlen(pfx), 0, NULL);
			const char *t = json_string_value(json_object_get(r, "t"));
			const char *m = json_string_value(json_object_get(r, "m"));
			if (t && m && !strcmp(t, "metric")) {
				double v = jnum(r, "v");
				json_object_set_new(metrics, m, json_real(v));
				if (!strcmp(m, "throughput"))
					s->mbps = v;
				else if (!strcmp(m, "iops"))
					s->iops = v;
				else if (!strcmp(m, "lat_p50"))
					s->p50_us = v;
				else if (!strcmp(m, "lat_p99"))
					s->p99_us = v;
			}
			json_decref(r);
		}
		l = e ? e + 1 : NULL;
	}
}

static int vm_run_io(const struct io_plan *p, const char *wl, const char *tech, struct io_sample *s,
		     json_t **raw)
{
	char cmdline[256], blk[PATH_MAX + 32], stats[PATH_MAX + 32], cpu[16], *out = NULL;
	snprintf(cmdline, sizeof(cmdline), "workload=%s rw=%s bs=%s qd=%s ms=%s", wl, p->rw, p->bs,
		 p->qd, p->ms);
	snprintf(blk, sizeof(blk), "%s%s", p->file, p->direct ? ",direct" : "");
	snprintf(stats, sizeof(stats), "%s/vmm-io-stats.json", p->scratch);
	snprintf(cpu, sizeof(cpu), "%d", p->cpu);
	char *argv[] = {(char *)p->vmm,
			"--kernel",
			(char *)p->agent,
			"--cmdline",
			cmdline,
			"--blk",
			blk,
			"--io-technique",
			(char *)tech,
			"--pin",
			cpu,
			"--mem",
			"512M",
			"--timeout",
			"120",
			"--stats-json",
			stats,
			NULL};
	char err[200];
	int status = proc_run(argv, false, &out, err, sizeof(err));
	if (status < 0)
		return status;
	json_t *metrics = json_object();
	parse_metrics(out ? out : "", s, metrics);
	free(out);
	json_t *st = json_load_file(stats, 0, NULL);
	unlink(stats);
	json_t *io = json_object_get(st, "io");
	s->requests = jnum(io, "requests");
	if (s->requests > 0) {
		s->exits = jnum(io, "exits") / s->requests;
		s->notifs = jnum(io, "notifications") / s->requests;
		s->irqs = jnum(io, "interrupts") / s->requests;
		s->vmm_cpu_ns = vmm_cpu_ns(st) / s->requests;
	}
	/* the agent exits with (0<<1)|1 when the workload succeeded */
	s->ok = status == 1 && s->iops > 0;
	*raw = json_pack("{s:o,s:O,s:i}", "metrics", metrics, "io", io ? io : json_null(),
			 "exit_status", status < 128 ? status : -1);
	json_decref(st);
	return 0;
}

/* ---- aggregation and the table ---- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, lo, hi;
	unsigned n;
};

static struct stat3 agg(const struct io_sample *s, unsigned n, size_t off)
{
	double v[128];
	unsigned k = 0;
	for (unsigned i = 0; i < n && k < 128; i++)
		if (s[i].ok)
			v[k++] = *(const double *)((const char *)&s[i] + off);
	if (!k)
		return (struct stat3){0};
	qsort(v, k, sizeof(v[0]), cmp_d);
	return (struct stat3){.med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2,
			      .lo = v[0],
			      .hi = v[k - 1],
			      .n = k};
}

#define AGG(s, n, f) agg(s, n, offsetof(struct io_sample, f))

static json_t *stat_json(struct stat3 st, const char *unit)
{
	return json_pack("{s:f,s:f,s:f,s:i,s:s}", "median", st.med, "min", st.lo, "max", st.hi, "n",
			 (int)st.n, "unit", unit);
}

static json_t *summary_json(const struct io_sample *s, unsigned n)
{
	return json_pack(
	    "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "throughput", stat_json(AGG(s, n, mbps), "MB/s"),
	    "iops", stat_json(AGG(s, n, iops), "IO/s"), "lat_p50",
	    stat_json(AGG(s, n, p50_us), "us"), "lat_p99", stat_json(AGG(s, n, p99_us), "us"),
	    "exits_per_io", stat_json(AGG(s, n, exits), "exits/IO"), "notifications_per_io",
	    stat_json(AGG(s, n, notifs), "notifications/IO"), "interrupts_per_io",
	    stat_json(AGG(s, n, irqs), "interrupts/IO"), "vmm_cpu_per_io",
	    stat_json(AGG(s, n, vmm_cpu_ns), "ns/IO"));
}

static void print_header(const struct io_plan *p, const char *wl)
{
	printf("\n%s rw=%s bs=%s qd=%s direct=%d, %u rep(s), medians [min..max]\n", wl, p->rw,
	       p->bs, p->qd, p->direct, p->reps);
	printf("%-15s %22s %9s %11s %9s %9s %9s %9s %12s\n", "technique", "throughput MB/s",
	       "vs native", "p50 us", "latency x", "exits/IO", "notif/IO", "irq/IO",
	       "VMM CPU us/IO");
}

static void print_row(const char *name, const struct io_sample *s, unsigned n,
		      const struct stat3 *native_mbps, const struct stat3 *native_p50, bool vm)
{
	struct stat3 mb = AGG(s, n, mbps), p50 = AGG(s, n, p50_us);
	char thr[40], pct[16] = "-", lat[16] = "-";
	if (!mb.n) {
		printf("%-15s failed: no successful run (see results.json)\n", name);
		return;
	}
	snprintf(thr, sizeof(thr), "%.2f [%.2f..%.2f]", mb.med, mb.lo, mb.hi);
	if (native_mbps && native_mbps->n && native_mbps->med > 0)
		snprintf(pct, sizeof(pct), "%.1f%%", 100 * mb.med / native_mbps->med);
	if (native_p50 && native_p50->n && native_p50->med > 0)
		snprintf(lat, sizeof(lat), "%.1fx", p50.med / native_p50->med);
	if (!vm) {
		printf("%-15s %22s %9s %11.1f %9s %9s %9s %9s %12s\n", name, thr, "100%", p50.med,
		       "1.0x", "-", "-", "-", "-");
		return;
	}
	printf("%-15s %22s %9s %11.1f %9s %9.2f %9.2f %9.3f %12.2f\n", name, thr, pct, p50.med, lat,
	       AGG(s, n, exits).med, AGG(s, n, notifs).med, AGG(s, n, irqs).med,
	       AGG(s, n, vmm_cpu_ns).med / 1e3);
}

static json_t *run_blk(struct io_plan *p, const char *wl)
{
	struct io_sample native[100] = {{0}}, vm[100];
	json_t *rows = json_array(), *runs;
	print_header(p, wl);
	runs = json_array();
	for (unsigned r = 0; r < p->reps; r++) {
		json_t *raw = NULL;
		if (fio_run(p, wl, &native[r], &raw))
			native[r].ok = false;
		json_array_append_new(runs, raw ? raw : json_pack("{s:s}", "error", "fio failed"));
	}
	struct stat3 nm = AGG(native, p->reps, mbps), np = AGG(native, p->reps, p50_us);
	print_row("native (fio)", native, p->reps, NULL, NULL, false);
	json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "technique", "native", "tool",
					      "fio --ioengine=io_uring", "summary",
					      summary_json(native, p->reps), "runs", runs));
	for (size_t t = 0; t < p->ntech; t++) {
		enum io_technique tech;
		char why[160];
		io_technique_parse(p->tech[t], &tech);
		if (io_technique_probe(tech, NULL, why, sizeof(why))) {
			printf("%-15s %s\n", p->tech[t], why);
			json_array_append_new(
			    rows, json_pack("{s:s,s:s}", "technique", p->tech[t], "status", why));
			continue;
		}
		runs = json_array();
		for (unsigned r = 0; r < p->reps; r++) {
			json_t *raw = NULL;
			memset(&vm[r], 0, sizeof(vm[r]));
			if (vm_run_io(p, wl, p->tech[t], &vm[r], &raw))
				vm[r].ok = false;
			json_array_append_new(runs,
					      raw ? raw : json_pack("{s:s}", "error", "spawn"));
		}
		print_row(p->tech[t], vm, p->reps, &nm, &np, true);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "technique", p->tech[t],
						      "status", "ok", "summary",
						      summary_json(vm, p->reps), "runs", runs));
	}
	return json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:b},s:o}", "workload", wl, "params", "rw", p->rw,
			 "bs", p->bs, "qd", p->qd, "ms", p->ms, "direct", p->direct, "techniques",
			 rows);
}

static json_t *run_net(const struct io_plan *p, const char *wl)
{
	struct io_net_plan np = {.wl = wl,
				 .tech = p->tech,
				 .ntech = p->ntech,
				 .size = p->size,
				 .ms = p->ms,
				 .reps = p->reps,
				 .cpu = p->cpu,
				 .vmm = p->vmm,
				 .agent = p->agent};
	return io_net_run(&np);
}

static int make_file(struct io_plan *p)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(p->scratch, sizeof(p->scratch), "%s/virttax-io-XXXXXX",
		 tmp && *tmp ? tmp : "/var/tmp");
	if (!mkdtemp(p->scratch))
		return -errno;
	snprintf(p->file, sizeof(p->file), "%s/disk.img", p->scratch);
	int fd = open(p->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = posix_fallocate(fd, 0, (off_t)IO_DEFAULT_FILE_MB << 20);
	close(fd);
	return -rc;
}

static int locate(struct io_plan *p)
{
	char dir[PATH_MAX];
	const char *v = getenv("VIRTTAX_VMM_LITE"), *a = getenv("VIRTTAX_AGENT");
	int rc = proc_self_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	snprintf(p->vmm, sizeof(p->vmm), "%s", v && *v ? v : dir);
	if (!(v && *v))
		strncat(p->vmm, "/vmm-lite", sizeof(p->vmm) - strlen(p->vmm) - 1);
	snprintf(p->agent, sizeof(p->agent), "%s", a && *a ? a : dir);
	if (!(a && *a))
		strncat(p->agent, "/guest-agent.elf", sizeof(p->agent) - strlen(p->agent) - 1);
	return access(p->vmm, X_OK) || access(p->agent, R_OK) ? -ENOENT : 0;
}

int cmd_io_run(int argc, char **argv)
{
	static struct io_plan p;
	char err[400], path[PATH_MAX + 32];
	int rc = parse(&p, argc, argv, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "virttax run: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (locate(&p)) {
		fprintf(stderr,
			"virttax run: vmm-lite or guest-agent.elf not found next to virttax: "
			"build them (make) or set VIRTTAX_VMM_LITE / VIRTTAX_AGENT\n");
		return 2;
	}
	bool want_fio = false;
	for (size_t i = 0; i < p.nwl; i++)
		want_fio |= strncmp(p.wl[i], "net-", 4) != 0;
	if (want_fio && access("/usr/bin/fio", X_OK)) {
		fprintf(stderr, "virttax run: /usr/bin/fio missing: apt-get install fio\n");
		return 3;
	}
	if ((rc = make_file(&p))) {
		fprintf(stderr,
			"virttax run: cannot create the backing file in %s: %s (set TMPDIR)\n",
			p.scratch, strerror(-rc));
		return 3;
	}
	if (!p.out[0]) {
		time_t now = time(NULL);
		strftime(p.out, sizeof(p.out), "out/io-%Y%m%d-%H%M%S", localtime(&now));
	}
	json_t *wls = json_array();
	for (size_t i = 0; i < p.nwl; i++)
		json_array_append_new(wls, strncmp(p.wl[i], "net-", 4) ? run_blk(&p, p.wl[i])
								       : run_net(&p, p.wl[i]));
	unlink(p.file);
	rmdir(p.scratch);
	json_t *root = json_pack("{s:s,s:i,s:o}", "kind", "io-techniques", "pinned_cpu", p.cpu,
				 "io_workloads", wls);
	snprintf(path, sizeof(path), "%s/results.json", p.out);
	rc = outfile_mkdirs(p.out);
	if (!rc)
		rc = results_write_atomic(path, root);
	json_decref(root);
	if (rc) {
		fprintf(stderr, "virttax run: cannot write %s: %s (check --out)\n", path,
			strerror(-rc));
		return 3;
	}
	printf("\nresults: %s\n", path);
	return 0;
}
