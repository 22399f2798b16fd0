/*
 * Guest agent SMP and timer sleep (smp.c, smp_asm.S): what runtime.c hooks
 * into wl_env. Separate from agent.h so the SMP work touches no shared header.
 */
#ifndef VIRTTAX_GUEST_AGENT_SMP_H
#define VIRTTAX_GUEST_AGENT_SMP_H
#include <stddef.h>
#include <stdint.h>

/* Start the APs on first use; CPUs online, the caller's included. Logs one
 * "smp: cpus=N apic_ids=... ap_vif=... start_ms=..." record the first time. */
unsigned ag_smp_ncpus(uint64_t tsc_hz);
int ag_smp_run(unsigned cpu, void (*fn)(void *), void *arg);
/* Wait for CPU `cpu`'s fn, at most max_ms: 0, or -AG_ETIMEDOUT (logged). */
int ag_smp_join(unsigned cpu, uint64_t max_ms);
#define AG_JOIN_WORKLOAD_MS 60000 /* a workload's AP function: its own max_ms is far below */
int ag_sleep_probe(uint64_t tsc_hz, char *why, size_t len);
int ag_sleep_until(uint64_t deadline_tsc, uint64_t *woke_tsc);
/* x2APIC ID of CPU `cpu` (0 = the BSP) once the APs were started, else 0. */
uint32_t ag_smp_apic_id(unsigned cpu);
/* ipi.c: IPI ping-pong CPU 0 <-> CPU 1 (probe once: one bounded round trip). */
int ag_ipi_probe(uint64_t tsc_hz, char *why, size_t len);
int ag_ipi_pingpong(uint64_t n, uint64_t *ticks);
#endif
