/*
 * Shared pieces of the scheduling workloads (sched-wakeup, sched-ipi,
 * sched-spinlock): a ticket spinlock, sorting and percentiles of latency
 * samples, a log2 histogram and the metric records for a distribution.
 *
 * Why shared and pure: the same code runs hosted and in the guest agent,
 * and the unit tests check the lock, the statistics and the histogram
 * without any runtime.
 */
#ifndef VIRTTAX_WL_SCHED_H
#define VIRTTAX_WL_SCHED_H

#include "virttax/workload.h"

#include "workloads/wl_util.h"

#define WL_ENOTSUP 95 /* the runtime cannot do it here (logged "unavailable: ...") */

/* FIFO ticket lock: `next` is the ticket dispenser, `owner` the now-serving. */
struct wl_ticket_lock {
	volatile uint32_t next;
	volatile uint32_t owner;
};

static inline void wl_ticket_acquire(struct wl_ticket_lock *l)
{
	uint32_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != t)
		__asm__ volatile("pause");
}

static inline int wl_ticket_try(struct wl_ticket_lock *l)
{
	uint32_t o = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t want = o;
	return __atomic_compare_exchange_n(&l->next, &want, o + 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void wl_ticket_release(struct wl_ticket_lock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#define WL_HIST_BUCKETS 40 /* bucket b: [2^b, 2^(b+1)) ns, bucket 0 also holds 0 */

struct wl_dist {
	size_t n;
	uint64_t min, p50, p90, p99, p999, max; /* same unit as the samples */
	double mean;
	uint64_t hist[WL_HIST_BUCKETS];
};

void wl_sort_u64(uint64_t *a, size_t n); /* in place, heapsort (no libc) */
/* Nearest-rank percentile of sorted a[0..n): permille 500 = p50. 0 when n == 0. */
uint64_t wl_pct_sorted(const uint64_t *a, size_t n, unsigned permille);
unsigned wl_log2_bucket(uint64_t v);
/* Sorts `a` and fills d. */
void wl_dist_compute(uint64_t *a, size_t n, struct wl_dist *d);
/* Metrics NAME_p50, _p99, _p999, _max, _mean (unit `unit`, lower is better),
 * NAME_samples (count) and NAME_hist curve points (x = bucket lower bound). */
void wl_dist_emit(struct wl_env *env, const char *name, const char *unit, const struct wl_dist *d);
/* Busy work of about `iters` dependent steps (the critical section). */
uint64_t wl_spin_work(uint64_t iters, uint64_t x);
/* "name" + "suffix" into out (cap bytes). */
void wl_cat2(char *out, size_t cap, const char *a, const char *b);

#endif
