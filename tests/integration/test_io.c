/*
 * Integration tests of vmm-lite's I/O path with the real guest agent:
 * a hostile virtqueue (vtx.selftest=virtq-bad) is failed request by request
 * while vmm-lite keeps serving, and blk-rand completes under each technique
 * with the exits-per-I/O order the techniques predict.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static const char *build_dir(void)
{
	const char *b = getenv("VTX_BUILD");
	return b && *b ? b : "build";
}

static void need_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0)
		cr_skip_test("no /dev/kvm");
	close(fd);
}

static const char *make_disk(void)
{
	static char path[300];
	snprintf(dir, sizeof(dir), "/var/tmp/vtx-io-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 16 << 20), 0);
	close(fd);
	return path;
}

/* runs vmm-lite; returns its exit status, fills stderr text and the io object */
static int run(const char *disk, const char *tech, const char *cmdline, char *err, size_t errlen,
	       json_t **io)
{
	char cmd[2048], stats[300];
	snprintf(stats, sizeof(stats), "%s/stats.json", dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/vmm-lite --kernel %s/guest-agent.elf --blk %s --io-technique %s --timeout 60 "
		 "--cmdline '%s' --stats-json %s 2>%s/stderr >/dev/null",
		 build_dir(), build_dir(), disk, tech, cmdline, stats, dir);
	int st = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s/stderr", dir);
	FILE *f = fopen(cmd, "r");
	size_t n = f ? fread(err, 1, errlen - 1, f) : 0;
	err[n] = 0;
	if (f)
		fclose(f);
	json_t *j = json_load_file(stats, 0, NULL);
	*io = json_incref(json_object_get(j, "io"));
	json_decref(j);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

Test(io, hostile_virtqueue_is_failed_and_served, .timeout = 120, .fini = cleanup)
{
	need_kvm();
	char err[4096];
	json_t *io;
	int st = run(make_disk(), "virtio-user", "vtx.selftest=virtq-bad", err, sizeof(err), &io);
	cr_assert_eq(st, 1, "guest did not exit ok (status %d): %s", st, err);
	cr_assert(strstr(err, "descriptor outside guest RAM"), "%s", err);
	cr_assert(strstr(err, "descriptor loop"), "%s", err);
	cr_assert(strstr(err, "more bytes than a request may"), "%s", err);
	cr_assert(strstr(err, "indirect descriptor inside an indirect table"), "%s", err);
	cr_assert_eq(num(io, "errors"), 4);
	cr_assert_eq(num(io, "requests"), 5); /* four bad, one good served after them */
	json_decref(io);
}

Test(io, exits_per_io_follow_the_techniques, .timeout = 300, .fini = cleanup)
{
	need_kvm();
	static const char *const tech[] = {"emulated", "virtio-user", "virtio-eventfd", "poll"};
	double epi[4];
	const char *disk = make_disk();
	for (int i = 0; i < 4; i++) {
		char err[4096];
		json_t *io;
		int st = run(disk, tech[i], "workload=blk-rand ms=300", err, sizeof(err), &io);
		cr_assert_eq(st, 1, "%s: status %d: %s", tech[i], st, err);
		cr_assert_gt(num(io, "requests"), 0, "%s", tech[i]);
		cr_assert_eq(num(io, "errors"), 0, "%s", tech[i]);
		epi[i] = num(io, "exits") / num(io, "requests");
		json_decref(io);
	}
	cr_assert_gt(epi[0], 1000, "emulated: %f exits/IO (4 KiB = 2048 data words)", epi[0]);
	cr_assert(epi[1] >= 0.9 && epi[1] < 2, "virtio-user: %f", epi[1]);
	cr_assert(epi[2] >= 0.9 && epi[2] < 2, "virtio-eventfd: %f", epi[2]);
	cr_assert_lt(epi[3], 0.2, "poll: %f", epi[3]);
}

Test(io, unavailable_techniques_are_refused, .timeout = 60, .fini = cleanup)
{
	need_kvm();
	char err[4096];
	json_t *io;
	const char *disk = make_disk();
	int st = run(disk, "vhost", "workload=noop", err, sizeof(err), &io);
	json_decref(io);
	if (access("/dev/vhost-net", F_OK) == 0)
		cr_skip_test("/dev/vhost-net exists here");
	cr_assert_eq(st, 65);
	cr_assert(strstr(err, "unavailable: no /dev/vhost-net"), "%s", err);
	st = run(disk, "passthrough", "workload=noop", err, sizeof(err), &io);
	json_decref(io);
	cr_assert_eq(st, 65);
	cr_assert(strstr(err, "unavailable: no assignable device"), "%s", err);
}
