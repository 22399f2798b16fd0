/*
 * virtio-balloon driver of the agent (virtio 1.2 section 5.5), inflate only,
 * polled.
 *
 * Why: the host's `--balloon MIB` is the VM's own way of taking memory from
 * a guest: before the workload runs, the agent reads the target num_pages,
 * takes that many pages from its allocator (so the workload cannot use them:
 * the arena is a bump allocator and the workload's allocations come after),
 * posts their PFNs on the inflate queue in batches of up to 256, waits for
 * the device to consume each batch (polling the used ring; no interrupts in
 * the agent) and writes `actual`. The pages are never touched by the agent.
 * No device on the command line: nothing happens.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"

#define VIRTIO_ID_BALLOON 5
#define BAL_PAGE 4096ull
#define BAL_BATCH 256
#define BAL_QSIZE 8
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define R_CONFIG 0x100
#define WAIT_S 10 /* per batch */

static struct ag_vdev bal;
static uint32_t pfns[BAL_BATCH] __attribute__((aligned(64)));

static void log_num(const char *what, uint64_t v, const char *tail)
{
	char msg[AG_ERR_MAX] = "balloon: ";
	char num[24];
	ag_strlcat(msg, sizeof(msg), what);
	ag_fmt_u64(num, sizeof(num), v);
	ag_strlcat(msg, sizeof(msg), num);
	ag_strlcat(msg, sizeof(msg), tail);
	ag_log(msg);
}

/* post pfns[0..n) as one device-readable buffer and wait until it is used */
static int post_batch(uint32_t n, uint64_t tsc_hz)
{
	struct ag_vq *q = &bal.vq;
	uint32_t id, len;
	q->desc[0].addr = (uint64_t)pfns;
	q->desc[0].len = n * 4;
	q->desc[0].flags = 0;
	ag_virtq_publish(&bal, q, 0, 0);
	uint64_t t0 = ag_rdtsc();
	while (!ag_virtq_used(q, &id, &len)) {
		if (ag_rdtsc() - t0 > WAIT_S * tsc_hz)
			return -AG_EIO;
		__builtin_ia32_pause();
	}
	return 0;
}

int ag_balloon_inflate(uint64_t tsc_hz)
{
	if (ag_virtio_probe_nq(VIRTIO_ID_BALLOON, 0, BAL_QSIZE, 2, &bal))
		return 0; /* no balloon announced */
	uint64_t want = ag_virtio_cfg32(&bal, CFG_NUM_PAGES);
	uint64_t base = want ? ag_arena_alloc(ag_memory_arena(), want * BAL_PAGE, BAL_PAGE) : 0;
	if (want && !base) {
		log_num("cannot allocate the target of ", want, " pages; inflated none");
		return -AG_ENOMEM;
	}
	uint64_t done = 0;
	while (done < want) {
		uint32_t n = want - done < BAL_BATCH ? (uint32_t)(want - done) : BAL_BATCH;
		for (uint32_t i = 0; i < n; i++)
			pfns[i] = (uint32_t)(base / BAL_PAGE + done + i);
		if (post_batch(n, tsc_hz)) {
			log_num("device did not consume a batch; inflated ", done, " pages");
			break;
		}
		done += n;
	}
	*(volatile uint32_t *)(bal.regs + R_CONFIG + CFG_ACTUAL) = (uint32_t)done;
	log_num("inflated ", done, " pages");
	return done == want ? 0 : -AG_EIO;
}
