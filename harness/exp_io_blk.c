/*
 * Experiment `io-blk` (`virttax run --workloads blk-rand|blk-seq
 * [--io-technique LIST]`): the I/O technique table for a disk.
 *
 * Why its own baseline: the guest's disk workload has no host twin (the
 * hosted build has no disk driver), so the native series is fio on the same
 * backing file with the same request stream (rw, bs, iodepth, duration,
 * O_DIRECT), pinned to the same CPU; its throughput, IOPS and latency
 * percentiles become the run's metrics under the guest workload's names and
 * units, so the one summary pairs each VM series (one per --io-technique and
 * VMM) with it. Each VM run also carries exits, notifications, interrupts and
 * VMM CPU per request (harness/exp_io.c). Techniques a VMM or this host
 * cannot do are series marked `unavailable: <reason>`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/results.h"
#include "harness/exp_io.h"
#include "harness/runner.h"

#define IO_FILE_MB 256
#define FIO "/usr/bin/fio"
#define ATA_PORT_LO 0x1f0 /* the emulated disk's ports (vmm-lite/dev_ata.c) */
#define ATA_PORT_HI 0x3f6

struct blk_state {
	char dir[PATH_MAX], file[PATH_MAX + 16];
	char native_why[200]; /* fio unavailable */
};

static struct blk_state blk;

static bool blk_claims(const struct plan *p, const struct plan_workload *w)
{
	(void)p;
	return w->ops && (w->ops->needs & WL_NEEDS_DISK);
}

static int blk_begin(struct session *s, char *err, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	memset(&blk, 0, sizeof(blk));
	if (access(FIO, X_OK))
		snprintf(blk.native_why, sizeof(blk.native_why),
			 "unavailable: %s missing: apt-get install fio", FIO);
	snprintf(blk.dir, sizeof(blk.dir), "%s/virttax-io-XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
	if (!mkdtemp(blk.dir))
		return snprintf(err, len,
				"cannot create the backing file's directory %s: %s (set "
				"TMPDIR)",
				blk.dir, strerror(errno)),
		       -errno;
	snprintf(blk.file, sizeof(blk.file), "%s/disk.img", blk.dir);
	int fd = open(blk.file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)IO_FILE_MB << 20);
	if (fd >= 0)
		close(fd);
	if (rc)
		return snprintf(err, len, "cannot create the backing file %s: %s (set TMPDIR)",
				blk.file, strerror(rc)),
		       -rc;
	(void)s;
	return 0;
}

static void blk_end(struct session *s)
{
	(void)s;
	if (blk.file[0])
		unlink(blk.file);
	if (blk.dir[0])
		rmdir(blk.dir);
	blk.file[0] = blk.dir[0] = 0;
}

static size_t blk_series(struct session *s, const struct plan_workload *w, struct series *out,
			 size_t max)
{
	(void)w;
	return io_series(s, false, blk.native_why, out, max);
}

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void fio_metric(json_t *metrics, const char *m, const char *u, bool lower, double v)
{
	json_array_append_new(metrics, json_pack("{s:s,s:s,s:s,s:f,s:s}", "m", m, "u", u, "better",
						 lower ? "lower" : "higher", "v", v, "wl", "fio"));
}

/* fio --output-format=json: jobs[0].read|write .bw_bytes .iops .clat_ns.percentile,
 * as the guest workload's metrics (workloads/blk_io.c) */
static void fio_results(const char *out, const char *rw, struct run_result *res, json_t **job)
{
	json_error_t je;
	json_t *j = out ? json_loads(out, 0, &je) : NULL;
	json_t *jb = json_array_get(json_object_get(j, "jobs"), 0);
	json_t *d = json_object_get(jb, rw);
	json_t *pct = json_object_get(json_object_get(d, "clat_ns"), "percentile");
	*job = jb ? json_incref(jb) : json_null();
	if (!(jnum(d, "iops") > 0)) {
		res->status = RUN_FAILED;
		snprintf(res->reason, sizeof(res->reason), "fio: %s",
			 j ? "no I/O completed" : "unreadable JSON output");
	} else {
		json_t *m = res->proto.metrics;
		fio_metric(m, "throughput", "MB/s", false, jnum(d, "bw_bytes") / 1e6);
		fio_metric(m, "iops", "IO/s", false, jnum(d, "iops"));
		fio_metric(m, "lat_p50", "us", true, jnum(pct, "50.000000") / 1e3);
		fio_metric(m, "lat_p99", "us", true, jnum(pct, "99.000000") / 1e3);
		fio_metric(m, "requests", "count", false, jnum(d, "total_ios"));
	}
	json_decref(j);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The native series: fio on the same file, same stream, same CPU. */
static int fio_rep(struct session *s, const struct plan_workload *w, const struct run_meta *m,
		   json_t **record)
{
	char rw[32], bs[32], qd[32], rt[32], cpus[32], fn[PATH_MAX + 32], err[300], *out = NULL;
	bool rnd = !strcmp(w->name, "blk-rand");
	snprintf(rw, sizeof(rw), "--rw=%s%s", rnd ? "rand" : "", plan_value(w, "rw"));
	snprintf(bs, sizeof(bs), "--bs=%s", plan_value(w, "bs"));
	snprintf(qd, sizeof(qd), "--iodepth=%s", plan_value(w, "qd"));
	snprintf(rt, sizeof(rt), "--runtime=%sms", plan_value(w, "ms"));
	snprintf(cpus, sizeof(cpus), "--cpus_allowed=%d", s->plan->cpu);
	snprintf(fn, sizeof(fn), "--filename=%s", blk.file);
	char *argv[] = {FIO,
			"--name=virttax",
			fn,
			rw,
			bs,
			qd,
			"--ioengine=io_uring",
			rt,
			"--time_based",
			cpus,
			s->plan->direct ? "--direct=1" : "--direct=0",
			"--output-format=json",
			NULL};
	struct run_result res;
	run_result_init(&res);
	uint64_t t0 = now_ns();
	int status = proc_run(argv, false, &out, err, sizeof(err));
	res.wall_ns = now_ns() - t0;
	if (session_stopped()) {
		free(out);
		run_result_release(&res);
		return -ECANCELED;
	}
	json_t *job = NULL;
	res.status = RUN_OK;
	res.exit_code = status >= 0 && status < 128 ? status : -1;
	if (status) {
		res.status = RUN_FAILED;
		snprintf(res.reason, sizeof(res.reason), "%s", err);
		job = json_null();
	} else {
		fio_results(out, plan_value(w, "rw"), &res, &job);
	}
	free(out);
	*record = results_run_record(m, &res);
	json_object_set_new(*record, "tool",
			    json_pack("{s:s,s:o}", "name", "fio --ioengine=io_uring", "job", job));
	run_result_release(&res);
	return 0;
}

static int blk_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
		   const struct run_meta *m, json_t **record)
{
	if (!ser->vmm)
		return fio_rep(s, w, m, record);
	struct run_spec spec;
	struct run_result res;
	runner_spec(s, w, ser, &spec);
	spec.disk = blk.file;
	spec.disk_direct = s->plan->direct;
	run_result_init(&res);
	int rc = runner_check(s, w, ser, runner_exec(s, &spec, ser->vmm, &res), &res);
	if (!rc) {
		io_add_metrics(&res, "IO", ATA_PORT_LO, ATA_PORT_HI);
		*record = results_run_record(m, &res);
	}
	run_result_release(&res);
	return rc;
}

static void blk_workload_end(struct session *s, const struct plan_workload *w, json_t *wl)
{
	json_object_set_new(
	    wl, "io",
	    json_pack("{s:s,s:s,s:I,s:b,s:s}", "unit", "request", "native",
		      "fio on the same backing file, same rw/bs/iodepth/duration, same CPU",
		      "file_bytes", (json_int_t)IO_FILE_MB << 20, "direct", s->plan->direct,
		      "per_io",
		      "exits_per_io, notifications_per_io, interrupts_per_io, vmm_cpu_per_io "
		      "(VMM backend thread + its handling of the device's exits) are metrics of "
		      "the VM runs, from the VMM's io stats"));
	(void)w;
}

static void blk_print(FILE *out, json_t *results)
{
	io_print(out, results, "io-blk", "native (fio)");
}

const struct experiment_ops exp_io_blk = {
    .name = "io-blk",
    .help = "disk I/O by technique: fio on the same file vs each VM series",
    .flags = PLAN_F_IO_TECHNIQUE | PLAN_F_DIRECT | PLAN_F_CALIBRATION | PLAN_F_VMMS,
    .reps = 5,
    .quick_reps = 3,
    .warmup = 1,
    .quick_warmup = 0,
    .needs_calibration = true,
    .claims = blk_claims,
    .begin = blk_begin,
    .series = blk_series,
    .rep = blk_rep,
    .workload_end = blk_workload_end,
    .end = blk_end,
    .print = blk_print,
};
