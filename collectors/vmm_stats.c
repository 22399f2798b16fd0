/*
 * Loading the VMM's --stats-json document (docs/INTERFACES.md section 4).
 *
 * Why shared: kvm-stats and exits both read it after the VMM exited; one
 * loader gives one set of error messages for a missing or broken file.
 */
#include <errno.h>

#include "collectors/internal.h"

int vmmstats_load(const char *path, json_t **doc, char *why, size_t whylen)
{
	json_error_t err;

	*doc = NULL;
	if (!path)
		return coll_fail(why, whylen, EINVAL, "unavailable: no VMM stats JSON path");
	json_t *j = json_load_file(path, 0, &err);
	if (!j) {
		int e = json_error_code(&err) == json_error_cannot_open_file ? ENOENT : EINVAL;
		return coll_fail(why, whylen, e, "unavailable: VMM stats JSON %s: %s (line %d)",
				 path, err.text, err.line);
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "vmm"))) {
		json_decref(j);
		return coll_fail(why, whylen, EINVAL,
				 "unavailable: VMM stats JSON %s: not an object with \"vmm\"",
				 path);
	}
	*doc = j;
	return 0;
}
