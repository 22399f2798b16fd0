/*
 * Unit tests of the scheduling workloads' pure parts: the ticket lock, the
 * sort/percentile/histogram statistics, the thread pin list and the
 * co-tenant mode check.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "harness/cotenant.h"
#include "harness/hosted_smp.h"
#include "workloads/wl_sched.h"

struct lock_arg {
	struct wl_ticket_lock *l;
	volatile uint64_t *counter;
	int n;
};

static void *locker(void *p)
{
	struct lock_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		wl_ticket_acquire(a->l);
		uint64_t v = *a->counter; /* non-atomic read-modify-write: races without the lock */
		__asm__ volatile("" ::: "memory");
		*a->counter = v + 1;
		wl_ticket_release(a->l);
	}
	return NULL;
}

Test(sched, ticket_lock_mutual_exclusion)
{
	struct wl_ticket_lock l = {0, 0};
	volatile uint64_t counter = 0;
	/* Two threads, not more: a FIFO ticket lock with more spinners than CPUs
	 * hands the lock to preempted waiters (the lock-holder preemption the
	 * sched-spinlock workload measures) and the test would take minutes. */
	struct lock_arg a = {&l, &counter, 20000};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, locker, &a), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(counter, 40000);
	cr_assert_eq(l.next, 40000);
	cr_assert_eq(l.owner, 40000);
}

Test(sched, ticket_lock_try)
{
	struct wl_ticket_lock l = {0, 0};
	cr_assert(wl_ticket_try(&l));
	cr_assert_not(wl_ticket_try(&l));
	wl_ticket_release(&l);
	cr_assert(wl_ticket_try(&l));
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

Test(sched, sort_matches_qsort)
{
	uint64_t a[1001], b[1001], s = 7;
	for (int i = 0; i < 1001; i++)
		a[i] = b[i] = wl_xorshift64(&s) % 5000;
	wl_sort_u64(a, 1001);
	qsort(b, 1001, sizeof(b[0]), cmp);
	cr_assert_arr_eq(a, b, sizeof(a));
	wl_sort_u64(a, 0);
	wl_sort_u64(a, 1);
}

Test(sched, percentiles_nearest_rank)
{
	uint64_t a[100];
	for (int i = 0; i < 100; i++)
		a[i] = (uint64_t)i + 1; /* 1..100 */
	cr_assert_eq(wl_pct_sorted(a, 100, 500), 50);
	cr_assert_eq(wl_pct_sorted(a, 100, 990), 99);
	cr_assert_eq(wl_pct_sorted(a, 100, 1000), 100);
	cr_assert_eq(wl_pct_sorted(a, 100, 0), 1);
	cr_assert_eq(wl_pct_sorted(a, 0, 500), 0);
	uint64_t one = 42;
	cr_assert_eq(wl_pct_sorted(&one, 1, 999), 42);
}

Test(sched, histogram_and_dist)
{
	cr_assert_eq(wl_log2_bucket(0), 0);
	cr_assert_eq(wl_log2_bucket(1), 0);
	cr_assert_eq(wl_log2_bucket(2), 1);
	cr_assert_eq(wl_log2_bucket(1023), 9);
	cr_assert_eq(wl_log2_bucket(1024), 10);
	cr_assert_eq(wl_log2_bucket(UINT64_MAX), WL_HIST_BUCKETS - 1);
	uint64_t lat[10] = {100, 5000000, 120, 110, 130, 90, 100, 105, 115, 125};
	struct wl_dist d;
	wl_dist_compute(lat, 10, &d);
	cr_assert_eq(d.n, 10);
	cr_assert_eq(d.min, 90);
	cr_assert_eq(d.max, 5000000);
	cr_assert_eq(d.p50, 110);
	cr_assert_eq(d.p99, 5000000);
	cr_assert_float_eq(d.mean, (5000000.0 + 995.0) / 10, 1e-6);
	uint64_t total = 0;
	for (int b = 0; b < WL_HIST_BUCKETS; b++)
		total += d.hist[b];
	cr_assert_eq(total, 10);
	cr_assert_eq(d.hist[wl_log2_bucket(5000000)], 1);
	cr_assert_eq(d.hist[6], 8); /* 90..125 are in [64, 128) */
	cr_assert_eq(d.hist[7], 1); /* 130 is in [128, 256) */
}

Test(sched, thread_pin_list)
{
	int pins[8];
	unsigned n;
	cr_assert_eq(hosted_smp_parse_pins("0,1", pins, 8, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(pins[1], 1);
	cr_assert_eq(hosted_smp_parse_pins("3", pins, 8, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(hosted_smp_parse_pins("0,0", pins, 8, &n), 0);
	cr_assert_neq(hosted_smp_parse_pins("", pins, 8, &n), 0);
	cr_assert_neq(hosted_smp_parse_pins("0,", pins, 8, &n), 0);
	cr_assert_neq(hosted_smp_parse_pins("-1", pins, 8, &n), 0);
	cr_assert_neq(hosted_smp_parse_pins("a", pins, 8, &n), 0);
	cr_assert_neq(hosted_smp_parse_pins("0,1,2", pins, 2, &n), 0);
}

Test(sched, cotenant_modes)
{
	cr_assert_eq(cotenant_mode_check("same-core"), 0);
	cr_assert_eq(cotenant_mode_check("smt-sibling"), 0);
	cr_assert_eq(cotenant_mode_check("other-core"), 0);
	cr_assert_eq(cotenant_mode_check("off"), 0);
	cr_assert_neq(cotenant_mode_check("same"), 0);
	cr_assert_neq(cotenant_mode_check(NULL), 0);
	int cpu = -1;
	char why[160];
	cr_assert_eq(cotenant_place("same-core", 1, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 1);
}
