/*
 * The protocol writer of the hosted runner: the records of
 * include/virttax/protocol.h, built with jansson.
 *
 * Why: `virttax baseline` must print exactly what the guest agent prints so
 * the harness has one parser (harness/proto.c) for both sides.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/hosted.h"
#include "virttax/protocol.h"

int hosted_proto_write(FILE *out, json_t *rec)
{
	if (!rec)
		return -ENOMEM;
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (!s)
		return -ENOMEM;
	int rc = fprintf(out, VTX_PROTO_PREFIX "%s\n", s) < 0 ? -EIO : 0;
	free(s);
	if (fflush(out))
		rc = -EIO;
	return rc;
}

int hosted_proto_log(FILE *out, const char *msg)
{
	return hosted_proto_write(out, json_pack("{s:s, s:s}", "t", "log", "msg", msg));
}

int hosted_proto_error(FILE *out, const char *wl, const char *msg)
{
	return hosted_proto_write(out,
				  json_pack("{s:s, s:s, s:s}", "t", "error", "wl", wl, "msg", msg));
}

int hosted_proto_done(FILE *out, int status)
{
	return hosted_proto_write(out, json_pack("{s:s, s:i}", "t", "done", "status", status));
}

/* NaN and infinities are not JSON: they become null (the parser rejects the
 * metric, which is what a non-number deserves). */
static json_t *json_number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int hosted_proto_metric(FILE *out, const char *wl, const char *m, const char *u,
			int lower_is_better, double v, const char *xk, const char *xu, double x)
{
	json_t *rec =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "t", "metric", "wl", wl, "m", m, "u", u,
		      "better", lower_is_better ? "lower" : "higher", "v", json_number_or_null(v));
	if (rec && xk) {
		json_object_set_new(rec, "xk", json_string(xk));
		json_object_set_new(rec, "xu", json_string(xu ? xu : ""));
		json_object_set_new(rec, "x", json_number_or_null(x));
	}
	return hosted_proto_write(out, rec);
}
