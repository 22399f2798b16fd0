/*
 * Integration test of `virttax calibrate --quick`: boots the agent in
 * vmm-lite, runs the host ladder and checks calibration.json: port I/O to the
 * VMM is available with n > 0 and a positive CI, every unavailable kind
 * carries a reason, the ladder is sorted. Skipped without /dev/kvm.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

Test(calibrate, quick_writes_a_valid_calibration, .timeout = 120)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0)
		cr_skip_test("/dev/kvm not usable here");
	close(fd);
	char out[] = "/tmp/vtx-cal-XXXXXX", cmd[PATH_MAX * 2];
	cr_assert_not_null(mkdtemp(out));
	snprintf(cmd, sizeof(cmd), "%s/virttax calibrate --quick --out %s/cal.json >/dev/null 2>&1",
		 itest_build_dir(), out);
	cr_assert_eq(itest_run_cmd(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/cal.json", out);
	json_error_t e;
	json_t *c = json_load_file(cmd, 0, &e);
	cr_assert_not_null(c, "%s", e.text);
	json_t *pio = json_object_get(json_object_get(c, "vm"), "pio");
	cr_assert(json_is_true(json_object_get(pio, "available")));
	cr_assert_gt(json_integer_value(json_object_get(pio, "n")), 0);
	json_t *ci = json_object_get(pio, "ci95");
	double lo = json_number_value(json_array_get(ci, 0)),
	       hi = json_number_value(json_array_get(ci, 1));
	double ns = json_number_value(json_object_get(pio, "ns"));
	cr_assert(lo > 0 && lo <= ns && ns <= hi, "pio %f CI [%f, %f]", ns, lo, hi);
	/* host syscall is far cheaper than a VM exit */
	double sc = json_number_value(
	    json_object_get(json_object_get(json_object_get(c, "bare"), "syscall"), "ns"));
	cr_assert(sc > 0 && sc < ns, "syscall %f ns vs pio %f ns", sc, ns);
	const char *side_names[] = {"vm", "bare"};
	for (int s = 0; s < 2; s++) {
		const char *kind;
		json_t *k;
		json_object_foreach(json_object_get(c, side_names[s]), kind,
				    k) if (!json_is_true(json_object_get(k, "available")))
		{
			const char *r = json_string_value(json_object_get(k, "reason"));
			cr_assert(r && *r, "%s.%s unavailable without a reason", side_names[s],
				  kind);
		}
	}
	/* the spacing curve of pio: 6 gaps, sorted, each a positive cost with its CI, and the
	 * gap-alone time grows with the gap (0 .. 100000 compute units). A cost is a difference
	 * of two rounds; on a heavily loaded host the preemptions in the long-gap rounds can
	 * exceed the exit cost: a median <= 0 whose own CI also reaches above 0 is a host too
	 * noisy to resolve it (skipped, with the numbers), a CI entirely <= 0 is a defect. */
	char unresolved[256] = "";
	json_t *sp = json_object_get(pio, "spacing");
	cr_assert_eq(json_array_size(sp), 6);
	for (size_t i = 0; i < json_array_size(sp); i++) {
		json_t *p = json_array_get(sp, i), *pci = json_object_get(p, "ci95");
		double pns = json_number_value(json_object_get(p, "ns"));
		double plo = json_number_value(json_array_get(pci, 0));
		double phi = json_number_value(json_array_get(pci, 1));
		cr_assert(plo <= pns && pns <= phi, "spacing[%zu] %f ns CI [%f, %f]", i, pns, plo,
			  phi);
		cr_assert(pns > 0 || phi > 0, "spacing[%zu] %f ns CI [%f, %f]", i, pns, plo, phi);
		if (pns <= 0 && !unresolved[0])
			snprintf(unresolved, sizeof(unresolved),
				 "host too noisy: pio cost after a %.0f ns gap %.0f ns, 95%% CI "
				 "[%.0f, %.0f] ns",
				 json_number_value(json_object_get(p, "gap_ns")), pns, plo, phi);
		cr_assert_gt(json_integer_value(json_object_get(p, "n")), 2);
		if (i)
			cr_assert_gt(json_number_value(json_object_get(p, "gap_ns")),
				     json_number_value(
					 json_object_get(json_array_get(sp, i - 1), "gap_ns")));
	}
	cr_assert_gt(json_number_value(json_object_get(json_array_get(sp, 5), "gap_ns")), 10000.0);
	json_t *ladder = json_object_get(c, "ladder");
	cr_assert_geq(json_array_size(ladder), 3);
	for (size_t i = 1; i < json_array_size(ladder); i++)
		cr_assert_leq(
		    json_number_value(json_object_get(json_array_get(ladder, i - 1), "ns")),
		    json_number_value(json_object_get(json_array_get(ladder, i), "ns")));
	json_decref(c);
	unlink(cmd);
	rmdir(out);
	if (unresolved[0])
		cr_skip_test("%s", unresolved);
}

Test(calibrate, bad_flag_exits_2)
{
	char cmd[PATH_MAX * 2];
	snprintf(cmd, sizeof(cmd), "%s/virttax calibrate --pin x >/dev/null 2>&1",
		 itest_build_dir());
	cr_assert_eq(itest_run_cmd(cmd), 2);
}
