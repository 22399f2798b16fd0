/*
 * The collector table: adding a collector is one file plus one line here.
 * Order is the order of the "collectors" object in results.json.
 */
#include <stddef.h>

#include "collectors/collector.h"

extern const struct collector_ops kvm_stats_collector;
extern const struct collector_ops exits_collector;
extern const struct collector_ops perf_collector;
extern const struct collector_ops sched_collector;
extern const struct collector_ops topology_collector;

const struct collector_ops *const collector_table[] = {
    &kvm_stats_collector, &exits_collector,    &perf_collector,
    &sched_collector,	  &topology_collector, NULL,
};
