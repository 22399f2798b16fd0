/*
 * Integration tests of the network path: net-rr with a small count through
 * virtio-user over a tap with the harness's reflector (RTT > 0, exits per
 * frame > 0, every transaction answered), 64 KiB-1 frames through the same
 * path, and the veth/netns baseline (`virttax baseline --netns --net-dev`
 * with the reflector in the peer namespace; then leaves no namespace behind).
 * Skipped without /dev/kvm, /dev/net/tun or root, and when plain `ip` commands
 * (a probe independent of harness/net_env.c) cannot create a tap device or
 * two network namespaces joined by a veth pair here (a container without
 * CAP_NET_ADMIN or mount rights, a kernel without veth/netns, no iproute2):
 * the environment, not the product, is what fails then.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/net_env.h"
#include "tests/integration/helpers.h"

static char tap[16];
static struct net_reflector refl;

static const char *build_dir(void)
{
	const char *b = getenv("VTX_BUILD");
	return b && *b ? b : "build";
}

static void need(const char *dev)
{
	int fd = open(dev, O_RDWR);
	if (fd < 0)
		cr_skip_test("no %s", dev);
	close(fd);
	if (geteuid() != 0)
		cr_skip_test("not root (tap, AF_PACKET and netns need CAP_NET_ADMIN/RAW)");
}

/* what net_tap_create does, with plain commands */
static void need_tap(void)
{
	char why[300];
	if (itest_env_probe("d=vtxprobe$$; ip tuntap add dev $d mode tap && ip link set dev $d up; "
			    "rc=$?; ip tuntap del dev $d mode tap >/dev/null 2>&1; exit $rc",
			    why, sizeof(why)))
		cr_skip_test("cannot create a tap device here: %s", why);
}

/* what net_veth_create does, with plain commands */
static void need_netns_veth(void)
{
	char why[300];
	if (geteuid() != 0)
		cr_skip_test("not root (netns and veth need CAP_SYS_ADMIN/CAP_NET_ADMIN)");
	if (itest_env_probe("n=vtxprobe$$; ip netns add $n-a && ip netns add $n-b && "
			    "ip -n $n-a link add vpa$$ type veth peer name vpb$$ netns $n-b && "
			    "ip -n $n-a link set vpa$$ up; rc=$?; "
			    "ip netns del $n-a >/dev/null 2>&1; ip netns del $n-b >/dev/null 2>&1; "
			    "exit $rc",
			    why, sizeof(why)))
		cr_skip_test("cannot create network namespaces joined by a veth pair here: %s",
			     why);
}

static void up(void)
{
	char err[300];
	need("/dev/kvm");
	need("/dev/net/tun");
	need_tap();
	snprintf(tap, sizeof(tap), "vtxit%d", (int)getpid() % 100000);
	cr_assert_eq(net_tap_create(tap, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_reflector_start(&refl, tap, NULL, err, sizeof(err)), 0, "%s", err);
}

static void down(void)
{
	net_reflector_stop(&refl);
	if (tap[0])
		net_tap_remove(tap);
}

/* metric `m` of the run's output, -1 when absent */
static double metric(const char *out, const char *m)
{
	char key[64];
	snprintf(key, sizeof(key), "\"m\":\"%s\"", m);
	const char *p = strstr(out, key), *v = p ? strstr(p, "\"v\":") : NULL;
	return v ? atof(v + 4) : -1;
}

static json_t *run_rr(const char *tech, const char *params, char **out)
{
	char stats[64], cmdline[128], net[32];
	snprintf(stats, sizeof(stats), "/tmp/vtx-net-it-%d.json", (int)getpid());
	snprintf(cmdline, sizeof(cmdline), "workload=net-rr %s", params);
	snprintf(net, sizeof(net), "tap=%s", tap);
	char vmm[300], agent[300], err[300] = "";
	snprintf(vmm, sizeof(vmm), "%s/vmm-lite", build_dir());
	snprintf(agent, sizeof(agent), "%s/guest-agent.elf", build_dir());
	int rc = net_run_cmd((char *[]){vmm, "--kernel", agent, "--cmdline", cmdline, "--net", net,
					"--io-technique", (char *)tech, "--mem", "256M",
					"--timeout", "60", "--stats-json", stats, NULL},
			     out, err, sizeof(err));
	cr_assert_eq(rc, 1, "vmm-lite exit %d: %s", rc, err); /* agent done, status 0 */
	json_t *j = json_load_file(stats, 0, NULL);
	unlink(stats);
	cr_assert_not_null(j);
	return j;
}

Test(net, rr_through_virtio_user, .init = up, .fini = down, .timeout = 120)
{
	char *out = NULL;
	json_t *st = run_rr("virtio-user", "size=64 count=200 ms=60000", &out);
	json_t *io = json_object_get(st, "io");
	double frames = json_number_value(json_object_get(io, "requests"));
	double exits = json_number_value(json_object_get(io, "exits"));
	cr_assert_eq(metric(out, "transactions"), 200);
	cr_assert_eq(metric(out, "lost"), 0);
	cr_assert_gt(metric(out, "rtt_p50"), 0);
	cr_assert_geq(metric(out, "rtt_p99"), metric(out, "rtt_p50"));
	cr_assert_geq(frames, 400); /* 200 out, 200 back */
	cr_assert_gt(exits / frames, 0, "exits per I/O must be > 0 under virtio-user");
	cr_assert_eq(json_number_value(json_object_get(io, "errors")), 0);
	free(out);
	json_decref(st);
}

Test(net, rr_64k_frames_and_poll_has_no_exits, .init = up, .fini = down, .timeout = 120)
{
	char *out = NULL;
	json_t *st = run_rr("poll", "size=65535 count=20 ms=60000", &out);
	json_t *io = json_object_get(st, "io");
	cr_assert_eq(metric(out, "transactions"), 20);
	cr_assert_gt(metric(out, "rtt_p50"), 0);
	cr_assert_geq(json_number_value(json_object_get(io, "bytes")), 40.0 * 65535);
	cr_assert_lt(json_number_value(json_object_get(io, "exits")), 10);
	free(out);
	json_decref(st);
}

Test(net, veth_baseline_runs_and_cleans_up, .timeout = 60)
{
	struct net_veth v;
	char err[300], tag[16], *out = NULL;
	need_netns_veth();
	snprintf(tag, sizeof(tag), "t%d", (int)getpid() % 100000);
	cr_assert_eq(net_veth_create(&v, tag, err, sizeof(err)), 0, "%s", err);
	/* the io-net experiment's bare side: `virttax baseline` in ns_a, reflector in ns_b */
	struct net_reflector r;
	char bin[300];
	cr_assert_eq(net_reflector_start(&r, v.dev_b, v.ns_b, err, sizeof(err)), 0, "%s", err);
	snprintf(bin, sizeof(bin), "%s/virttax", build_dir());
	int rc =
	    net_run_cmd((char *[]){bin, "baseline", "--netns", v.ns_a, "--net-dev", v.dev_a,
				   "workload=net-rr", "size=64", "count=100", "ms=30000", NULL},
			&out, err, sizeof(err));
	net_reflector_stop(&r);
	net_veth_remove(&v);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_gt(metric(out, "rtt_p50"), 0);
	cr_assert_eq(metric(out, "transactions"), 100);
	free(out);
	out = NULL;
	cr_assert_eq(net_run_cmd((char *[]){"ip", "netns", "list", NULL}, &out, err, sizeof(err)),
		     0);
	cr_assert_null(strstr(out, v.ns_a), "namespace %s left behind", v.ns_a);
	cr_assert_null(strstr(out, v.ns_b));
	free(out);
}
