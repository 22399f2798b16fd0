/*
 * Unit tests of vmm-lite's rate-limited guest-error messages
 * (vmm-lite/guest_err.c): a burst, then one per second, every one counted,
 * and the teardown summary says how many were not printed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"

Test(vmm_guest_err, burst_then_one_per_second_all_counted)
{
	struct guest_errlog l = {.dev = "test-dev"};
	const uint64_t s = 1000000000ULL, t0 = 5 * s;
	char tmpl[] = "/tmp/vtx-guest-err-XXXXXX", out[8192] = {0};
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO), lines = 0;

	cr_assert_geq(fd, 0);
	unlink(tmpl);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	for (int i = 0; i < 1000; i++) /* a flood within one instant */
		guest_err(&l, t0 + (uint64_t)i, "bad request %d", i);
	cr_assert_eq(l.printed, GUEST_ERR_BURST);
	guest_err(&l, t0 + s / 2, "half a second later");
	cr_assert_eq(l.printed, GUEST_ERR_BURST);
	guest_err(&l, t0 + s + 1, "a second later");
	cr_assert_eq(l.printed, GUEST_ERR_BURST + 1);
	guest_err(&l, t0 + s + 2, "no token left");
	cr_assert_eq(l.printed, GUEST_ERR_BURST + 1);
	guest_err(&l, t0 + 1000 * s, "long quiet: the bucket refilled, capped at the burst");
	for (int i = 0; i < 100; i++)
		guest_err(&l, t0 + 1000 * s + 1, "again");
	cr_assert_eq(l.printed, 2 * GUEST_ERR_BURST + 1);
	cr_assert_eq(l.total, 1000 + 3 + 1 + 100);
	guest_errlog_summary(&l);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert_gt(pread(fd, out, sizeof(out) - 1, 0), 0);
	close(fd);
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 2 * GUEST_ERR_BURST + 1 + 1, "%s", out);
	cr_assert(strstr(out, "vmm-lite: test-dev: bad request 0\n"), "%s", out);
	cr_assert_null(strstr(out, "bad request 10\n"), "%s", out);
	cr_assert(strstr(out, "vmm-lite: test-dev: 1083 more guest errors not printed (1104 in "
			      "all"),
		  "%s", out);
	json_t *j = guest_errlog_to_json(&l);
	cr_assert_eq(json_integer_value(json_object_get(j, "suppressed")), 1083);
	json_decref(j);
}
