/*
 * A minimal QMP (QEMU Machine Protocol) client over a unix socket, and the
 * pure functions that turn QMP replies into virttax shapes.
 *
 * Why here and not a library: the QEMU driver needs five commands
 * (qmp_capabilities, query-cpus-fast, query-stats-schemas, query-stats, cont,
 * quit), each with a deadline. Every message is parsed with jansson; the
 * reply handling is pure (qmp_parse_reply, qmp_vcpus, qmp_stats_to_kvm) so
 * unit tests feed canned QMP JSON.
 */
#ifndef VIRTTAX_HARNESS_QMP_H
#define VIRTTAX_HARNESS_QMP_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define QMP_MAX_VCPUS 64

struct qmp {
	int fd;
	char *buf;
	size_t len, cap;
	long long seq; /* the "id" of the last command: replies are matched on it */
};

struct qmp_vcpu {
	int index;	    /* cpu-index */
	pid_t tid;	    /* thread-id */
	char qom_path[128]; /* the key of this vCPU in query-stats target=vcpu */
};

/* Connects to `path` (retrying until QEMU created it, up to timeout_ms),
 * reads the greeting and negotiates capabilities. 0 or -errno; err names why. */
int qmp_connect(struct qmp *q, const char *path, int timeout_ms, char *err, size_t errlen);
/* Runs one command (args may be NULL, it is not stolen); *ret gets the
 * "return" value (new reference) when ret is not NULL. Events are skipped.
 * 0, -EIO for an "error" reply (its desc in err), -ETIMEDOUT, other -errno. */
int qmp_exec(struct qmp *q, const char *cmd, json_t *args, json_t **ret, int timeout_ms, char *err,
	     size_t errlen);
void qmp_close(struct qmp *q);

/* One line of QMP: 0 and *ret (new ref) for {"return":..}; 1 for an event or
 * the greeting (skip it); -EIO for {"error":{"desc"}} (desc in err);
 * -EINVAL for anything else. */
int qmp_parse_reply(const char *line, size_t len, json_t **ret, char *err, size_t errlen);
/* query-cpus-fast's return value: vCPUs sorted by cpu-index. 0, -EINVAL. */
int qmp_vcpus(const json_t *cpus, struct qmp_vcpu *out, size_t max, size_t *n);
/* The kvm_stats object of docs/INTERFACES.md section 4
 * ({"vm":{name:{before,after,delta,unit,type,base,exponent}},"vcpus":[...]})
 * from query-stats-schemas and query-stats target=vm / target=vcpu before and
 * after. Histograms count their samples, booleans are 0/1 (as vmm-lite).
 * NULL when the replies do not have the expected shape. */
json_t *qmp_stats_to_kvm(const json_t *schemas, const json_t *vm_before, const json_t *vm_after,
			 const json_t *vcpu_before, const json_t *vcpu_after,
			 const struct qmp_vcpu *vcpus, size_t nvcpus);

#endif
