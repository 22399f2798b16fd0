/*
 * Threads as "CPUs" and clock_nanosleep as the timer sleep for the hosted
 * workload runtime (harness/hosted_smp.c).
 */
#ifndef VIRTTAX_HARNESS_HOSTED_SMP_H
#define VIRTTAX_HARNESS_HOSTED_SMP_H
#include <stdbool.h>
#include "virttax/workload.h"

/* "0,1" -> pins; -EINVAL on anything else (empty, negative, > max entries). */
int hosted_smp_parse_pins(const char *s, int *pins, unsigned max, unsigned *n);
/* pin_list NULL: ncpus = online CPUs, no pinning. 0, -EINVAL, or -errno of pinning. */
int hosted_smp_install(struct wl_env *env, const char *pin_list);
#endif
