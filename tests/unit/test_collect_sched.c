/*
 * Unit tests of the sched collector's parsers (/proc/<pid>/task/<tid>/
 * schedstat and status) and of its deltas.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collectors/internal.h"

Test(collect_sched, schedstat)
{
	struct sched_sample s = {0};
	cr_assert_eq(sched_parse_schedstat("2820378730 364795 10\n", &s), 0);
	cr_assert_eq(s.run_ns, 2820378730ull);
	cr_assert_eq(s.wait_ns, 364795);
	cr_assert_eq(s.timeslices, 10);
	cr_assert_eq(sched_parse_schedstat("1 2\n", &s), -EINVAL);
	cr_assert_eq(sched_parse_schedstat("1 2 3 4\n", &s), -EINVAL);
	cr_assert_eq(sched_parse_schedstat("", &s), -EINVAL);
}

Test(collect_sched, status)
{
	struct sched_sample s = {0};
	const char *st = "Name:\tvmm-lite\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t2\n"
			 "nonvoluntary_ctxt_switches:\t8\n";
	cr_assert_eq(sched_parse_status(st, &s), 0);
	cr_assert_eq(s.vol_ctxsw, 2);
	cr_assert_eq(s.invol_ctxsw, 8);
	/* "nonvoluntary_..." must not satisfy the "voluntary_..." key */
	cr_assert_eq(sched_parse_status("nonvoluntary_ctxt_switches:\t8\n", &s), -ENOENT);
	cr_assert_eq(sched_parse_status("voluntary_ctxt_switches:\tx\n"
					"nonvoluntary_ctxt_switches:\t8\n",
					&s),
		     -EINVAL);
}

Test(collect_sched, delta_and_backwards)
{
	struct sched_sample a = {100, 10, 3, 1, 2}, b = {250, 15, 7, 4, 2};
	json_t *o;
	cr_assert_eq(sched_delta_json(&a, &b, &o), 0);
	cr_assert_eq(json_integer_value(json_object_get(o, "run_ns")), 150);
	cr_assert_eq(json_integer_value(json_object_get(o, "wait_ns")), 5);
	cr_assert_eq(json_integer_value(json_object_get(o, "timeslices")), 4);
	cr_assert_eq(json_integer_value(json_object_get(o, "voluntary_ctxt_switches")), 3);
	cr_assert_eq(json_integer_value(json_object_get(o, "nonvoluntary_ctxt_switches")), 0);
	json_decref(o);
	cr_assert_eq(sched_delta_json(&b, &a, &o), -ERANGE);
}

Test(collect_sched, read_self)
{
	struct sched_sample s1, s2;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	cr_assert_eq(sched_read(getpid(), tid, &s1), 0);
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 20000000; i++)
		x += i;
	cr_assert_eq(sched_read(getpid(), tid, &s2), 0);
	cr_assert_gt(s2.run_ns, s1.run_ns, "CPU time did not grow over a busy loop");
	cr_assert_eq(sched_read(getpid(), 0x7ffffff0, &s1), -ENOENT);
}
