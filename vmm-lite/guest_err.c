/*
 * Guest-caused error messages, rate-limited per device.
 *
 * Why: a bad request is the guest's fault, and a guest can make one per exit:
 * one stderr line each would let it flood the harness's log and slow the
 * VMM (a write per exit). Each device prints a burst of GUEST_ERR_BURST lines,
 * then at most one per GUEST_ERR_REFILL_NS; the rest are counted, and the
 * counts go to --stats-json ("guest_errors") and to one summary line per
 * device at teardown. Callers hold the device's lock.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vmm-lite/virtio.h"

void guest_err(struct guest_errlog *l, uint64_t now, const char *fmt, ...)
{
	va_list ap;

	l->total++;
	if (!l->started) { /* the bucket starts full */
		l->started = true;
		l->tokens = GUEST_ERR_BURST;
	} else if (l->tokens < GUEST_ERR_BURST && now > l->refill_ns) {
		uint64_t add = (now - l->refill_ns) / GUEST_ERR_REFILL_NS;

		l->tokens = add >= GUEST_ERR_BURST - l->tokens ? GUEST_ERR_BURST
							       : l->tokens + (uint32_t)add;
		l->refill_ns += add * GUEST_ERR_REFILL_NS;
	}
	if (!l->tokens)
		return;
	if (l->tokens == GUEST_ERR_BURST)
		l->refill_ns = now; /* a full bucket banks no time */
	l->tokens--;
	l->printed++;
	fprintf(stderr, "vmm-lite: %s: ", l->dev);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void guest_errlog_summary(const struct guest_errlog *l)
{
	if (l->total > l->printed)
		fprintf(stderr,
			"vmm-lite: %s: %llu more guest errors not printed (%llu in all, rate "
			"limit %d then 1/s)\n",
			l->dev, (unsigned long long)(l->total - l->printed),
			(unsigned long long)l->total, GUEST_ERR_BURST);
}

json_t *guest_errlog_to_json(const struct guest_errlog *l)
{
	return json_pack("{s:I,s:I,s:I}", "count", (json_int_t)l->total, "printed",
			 (json_int_t)l->printed, "suppressed", (json_int_t)(l->total - l->printed));
}
