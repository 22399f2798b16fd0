/*
 * Experiment `io-net` (`virttax run --workloads net-rr|net-stream
 * [--io-technique LIST]`): the I/O technique table for a NIC.
 *
 * Why these fixtures: the same workload code runs on both sides over raw
 * Ethernet. The native series is `virttax baseline` in one network namespace
 * of a veth pair, talking to the harness's reflector in the other; each VM
 * series is the guest agent on a tap (one per --io-technique and VMM) with
 * the reflector on the tap. Both go through the one runner (handshake,
 * collectors, protocol parser); an I/O is one frame moved (a net-rr
 * transaction moves two); iperf3 across the same veth is a TCP reference
 * (not a series). Every fixture is removed in end(), on success, failure and
 * interrupt alike (harness/net_env.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/results.h"
#include "harness/exp_io.h"
#include "harness/net_env.h"
#include "harness/runner.h"

#define LNIC_PORT_LO 0x300 /* the emulated NIC's ports (vmm-lite/dev_legacy_nic.c) */
#define LNIC_PORT_HI 0x31f

struct net_state {
	char tap[16];
	bool have_tap, have_veth;
	struct net_reflector tap_refl, veth_refl;
	struct net_veth veth;
	char tap_why[240], veth_why[240];
};

static struct net_state net;

static bool net_claims(const struct plan *p, const struct plan_workload *w)
{
	(void)p;
	return w->ops && (w->ops->needs & WL_NEEDS_NIC);
}

static int net_begin(struct session *s, char *err, size_t len)
{
	char e[300] = "", tag[16];
	(void)err, (void)len;
	memset(&net, 0, sizeof(net));
	snprintf(net.tap, sizeof(net.tap), "vtxtap%d", (int)getpid() % 100000);
	net.have_tap = !net_tap_create(net.tap, e, sizeof(e));
	if (net.have_tap && net_reflector_start(&net.tap_refl, net.tap, NULL, e, sizeof(e))) {
		net_tap_remove(net.tap);
		net.have_tap = false;
	}
	if (!net.have_tap)
		snprintf(net.tap_why, sizeof(net.tap_why), "unavailable: tap %s: %.180s", net.tap,
			 e);
	snprintf(tag, sizeof(tag), "%d", (int)getpid());
	e[0] = 0;
	net.have_veth = !net_veth_create(&net.veth, tag, e, sizeof(e));
	if (net.have_veth &&
	    net_reflector_start(&net.veth_refl, net.veth.dev_b, net.veth.ns_b, e, sizeof(e))) {
		net_veth_remove(&net.veth);
		net.have_veth = false;
	}
	if (!net.have_veth)
		snprintf(net.veth_why, sizeof(net.veth_why),
			 "unavailable: veth baseline: %.180s (needs root / CAP_NET_ADMIN)", e);
	(void)s;
	return 0;
}

static void net_end(struct session *s)
{
	(void)s;
	if (net.have_tap) {
		net_reflector_stop(&net.tap_refl);
		net_tap_remove(net.tap);
	}
	if (net.have_veth) {
		net_reflector_stop(&net.veth_refl);
		net_veth_remove(&net.veth);
	}
	net.have_tap = net.have_veth = false;
}

static size_t net_series(struct session *s, const struct plan_workload *w, struct series *out,
			 size_t max)
{
	(void)w;
	size_t n = io_series(s, true, net.veth_why, out, max);
	for (size_t i = 0; i < n; i++)
		if (out[i].vmm && !out[i].unavailable[0] && net.tap_why[0])
			snprintf(out[i].unavailable, sizeof(out[i].unavailable), "%s", net.tap_why);
	return n;
}

static int net_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
		   const struct run_meta *m, json_t **record)
{
	struct run_spec spec;
	struct run_result res;
	runner_spec(s, w, ser, &spec);
	if (ser->vmm) {
		spec.tap = net.tap;
	} else {
		spec.netns = net.veth.ns_a;
		spec.net_dev = net.veth.dev_a;
	}
	run_result_init(&res);
	int rc = runner_check(s, w, ser, runner_exec(s, &spec, ser->vmm, &res), &res);
	if (!rc) {
		if (ser->vmm)
			io_add_metrics(&res, "frame", LNIC_PORT_LO, LNIC_PORT_HI);
		*record = results_run_record(m, &res);
	}
	run_result_release(&res);
	return rc;
}

/* TCP reference: one iperf3 run across the same veth, as long as one rep */
static void net_workload_end(struct session *s, const struct plan_workload *w, json_t *wl)
{
	char err[300] = "";
	double gbps = 0;
	json_t *raw = NULL, *ref;
	unsigned secs = (unsigned)(atoi(plan_value(w, "ms")) + 999) / 1000;
	if (!net.have_veth || session_stopped())
		ref =
		    json_pack("{s:s}", "status", net.have_veth ? "not run: stopped" : net.veth_why);
	else if (net_iperf3(&net.veth, secs ? secs : 1, &gbps, &raw, err, sizeof(err)))
		ref = json_pack("{s:s}", "status", err);
	else
		ref = json_pack("{s:s,s:s,s:{s:f,s:s,s:i},s:o}", "tool", "iperf3", "status", "ok",
				"throughput", "value", gbps, "unit", "Gbit/s", "n", 1, "raw", raw);
	if (json_is_string(json_object_get(ref, "tool")))
		progress_note(&s->progress,
			      "%s: %s: iperf3 across the same veth (TCP reference): "
			      "%.3f Gbit/s (1 run of %u s)",
			      s->cmd, w->name, gbps, secs ? secs : 1);
	json_object_set_new(
	    wl, "io",
	    json_pack("{s:s,s:s,s:o}", "unit", "frame", "native",
		      "the same workload in `virttax baseline` over AF_PACKET across a veth "
		      "pair in two network namespaces, reflector in the peer namespace",
		      "reference", ref));
}

static void net_print(FILE *out, json_t *results)
{
	io_print(out, results, "io-net", "native (veth)");
}

const struct experiment_ops exp_io_net = {
    .name = "io-net",
    .help = "network I/O by technique: the workload across a veth pair vs each VM series",
    .flags = PLAN_F_IO_TECHNIQUE | PLAN_F_CALIBRATION | PLAN_F_VMMS,
    .reps = 5,
    .quick_reps = 3,
    .warmup = 1,
    .quick_warmup = 0,
    .needs_calibration = true,
    .claims = net_claims,
    .begin = net_begin,
    .series = net_series,
    .rep = net_rep,
    .workload_end = net_workload_end,
    .end = net_end,
    .print = net_print,
};
