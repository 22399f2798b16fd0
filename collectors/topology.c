/*
 * topology: the machine's cores, PUs, SMT siblings, caches and NUMA nodes
 * (hwloc), and the pinning plan for noisy-neighbour experiments.
 *
 * Why hwloc: it reads sysfs/ACPI/cpuid consistently across vendors and can
 * load synthetic topologies, so the pinning plan is unit tested on machines
 * with SMT and several NUMA nodes although this one has neither.
 */
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/internal.h"

struct topology {
	hwloc_topology_t h;
};

int topology_load(struct topology **out, const char *synthetic)
{
	struct topology *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (hwloc_topology_init(&t->h)) {
		free(t);
		return -ENOMEM;
	}
	int rc = synthetic ? hwloc_topology_set_synthetic(t->h, synthetic) : 0;
	if (!rc)
		rc = hwloc_topology_load(t->h);
	if (rc) {
		hwloc_topology_destroy(t->h);
		free(t);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

void topology_free(struct topology *t)
{
	if (!t)
		return;
	hwloc_topology_destroy(t->h);
	free(t);
}

static json_t *cpuset_json(hwloc_const_bitmap_t set)
{
	char *s = NULL;
	if (hwloc_bitmap_list_asprintf(&s, set) < 0)
		return json_null();
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *caches_json(hwloc_topology_t h)
{
	json_t *a = json_array();
	for (hwloc_obj_type_t ty = HWLOC_OBJ_L1CACHE; ty <= HWLOC_OBJ_L5CACHE; ty++) {
		int n = hwloc_get_nbobjs_by_type(h, ty);
		for (int i = 0; i < n; i++) {
			hwloc_obj_t o = hwloc_get_obj_by_type(h, ty, i);
			const char *kind = o->attr->cache.type == HWLOC_OBJ_CACHE_DATA ? "data"
					   : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION
					       ? "instruction"
					       : "unified";
			json_array_append_new(
			    a, json_pack("{s:i,s:s,s:I,s:s,s:o,s:i}", "level",
					 (int)o->attr->cache.depth, "type", kind, "size_bytes",
					 (json_int_t)o->attr->cache.size, "unit", "bytes",
					 "shared_by_cpus", cpuset_json(o->cpuset), "shared_by_n",
					 hwloc_bitmap_weight(o->cpuset)));
		}
	}
	for (hwloc_obj_type_t ty = HWLOC_OBJ_L1ICACHE; ty <= HWLOC_OBJ_L3ICACHE; ty++) {
		int n = hwloc_get_nbobjs_by_type(h, ty);
		for (int i = 0; i < n; i++) {
			hwloc_obj_t o = hwloc_get_obj_by_type(h, ty, i);
			json_array_append_new(
			    a, json_pack("{s:i,s:s,s:I,s:s,s:o,s:i}", "level",
					 (int)o->attr->cache.depth, "type", "instruction",
					 "size_bytes", (json_int_t)o->attr->cache.size, "unit",
					 "bytes", "shared_by_cpus", cpuset_json(o->cpuset),
					 "shared_by_n", hwloc_bitmap_weight(o->cpuset)));
		}
	}
	return a;
}

static json_t *numa_json(hwloc_topology_t h)
{
	json_t *a = json_array();
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, i);
		json_array_append_new(
		    a, json_pack("{s:i,s:o,s:I,s:s}", "os_index", (int)o->os_index, "cpus",
				 cpuset_json(o->cpuset), "memory_bytes",
				 (json_int_t)o->attr->numanode.local_memory, "unit", "bytes"));
	}
	return a;
}

static json_t *smt_json(hwloc_topology_t h)
{
	json_t *a = json_array();
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_CORE, i);
		json_array_append_new(a, cpuset_json(o->cpuset));
	}
	return a;
}

json_t *topology_to_json(struct topology *t)
{
	hwloc_topology_t h = t->h;
	int cores = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
	int pus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	return json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:o}", "packages",
			 hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE), "cores", cores, "pus", pus,
			 "threads_per_core", cores > 0 ? pus / cores : 0, "cores_pus", smt_json(h),
			 "caches", caches_json(h), "numa_nodes", numa_json(h));
}

static hwloc_obj_t numa_of(hwloc_topology_t h, hwloc_obj_t pu)
{
	int n = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, i);
		if (hwloc_bitmap_isset(o->cpuset, pu->os_index))
			return o;
	}
	return NULL;
}

/* first PU (by OS index) in `in` and not in `out`, or -1 */
static int first_pu(hwloc_const_bitmap_t in, hwloc_const_bitmap_t out)
{
	hwloc_bitmap_t s = hwloc_bitmap_dup(in);
	if (!s)
		return -1;
	if (out)
		hwloc_bitmap_andnot(s, s, out);
	int cpu = hwloc_bitmap_first(s);
	hwloc_bitmap_free(s);
	return cpu;
}

int topology_pick_neighbor(struct topology *t, int workload_cpu, enum neighbor_place where,
			   int *cpu, char *why, size_t whylen)
{
	hwloc_topology_t h = t->h;
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(h, (unsigned)workload_cpu);
	if (workload_cpu < 0 || !pu)
		return coll_fail(why, whylen, EINVAL, "CPU %d is not in this topology",
				 workload_cpu);
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
	hwloc_obj_t node = numa_of(h, pu);
	int c = -1;
	switch (where) {
	case NEIGHBOR_SMT_SIBLING:
		c = core ? first_pu(core->cpuset, pu->cpuset) : -1;
		if (c < 0)
			return coll_fail(why, whylen, ENOENT,
					 "CPU %d has no SMT sibling (one PU per core)",
					 workload_cpu);
		break;
	case NEIGHBOR_OTHER_CORE: {
		hwloc_const_bitmap_t pool =
		    node ? node->cpuset : hwloc_topology_get_topology_cpuset(h);
		c = first_pu(pool, core ? core->cpuset : pu->cpuset);
		if (c < 0)
			return coll_fail(why, whylen, ENOENT,
					 "CPU %d: no other core in its NUMA node", workload_cpu);
		break;
	}
	case NEIGHBOR_OTHER_NUMA:
		c = node ? first_pu(hwloc_topology_get_topology_cpuset(h), node->cpuset) : -1;
		if (c < 0)
			return coll_fail(why, whylen, ENOENT,
					 "CPU %d: no other NUMA node (%d node here)", workload_cpu,
					 hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE));
		break;
	default:
		return coll_fail(why, whylen, EINVAL, "unknown placement %d", (int)where);
	}
	*cpu = c;
	return 0;
}

/* ---- the collector: the machine's topology, once per run ---- */

static int topo_probe(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return 0;
}

static int topo_open(struct collector *c, const struct collector_target *t)
{
	(void)t;
	struct topology *topo;
	int rc = topology_load(&topo, NULL);
	if (rc)
		return coll_fail(c->why, sizeof(c->why), rc,
				 "unavailable: hwloc could not load "
				 "this machine's topology");
	c->priv = topo;
	return 0;
}

static json_t *topo_to_json(struct collector *c)
{
	return topology_to_json(c->priv);
}

static void topo_close(struct collector *c)
{
	topology_free(c->priv);
	c->priv = NULL;
}

const struct collector_ops topology_collector = {
    .name = "topology",
    .probe = topo_probe,
    .open = topo_open,
    .to_json = topo_to_json,
    .close = topo_close,
};
