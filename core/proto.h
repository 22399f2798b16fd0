/*
 * Parser for the guest/host line protocol (include/virttax/protocol.h).
 *
 * Why: bare-metal runs (`virttax baseline`) and VM runs (guest agent on COM1,
 * forwarded by the VMM) print the same records, so there is exactly one parser
 * for both. It is fed raw bytes as they arrive from a pipe, never trusts the
 * producer (a guest may print anything), and bounds everything it keeps by
 * count and by bytes: what it keeps of a record is a copy of the fields it
 * knows (or, for messages, of scalar fields only), never the parsed record,
 * whose nested values can take a hundred times the line's size in memory.
 * Past the bounds a run fails with a protocol error (records, kept bytes) or
 * the excess is dropped and counted (free-form lines, messages).
 */
#ifndef VIRTTAX_CORE_PROTO_H
#define VIRTTAX_CORE_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PROTO_MAX_LINE 4096	  /* bytes per line, newline excluded */
#define PROTO_MAX_RECORDS 4096	  /* prefixed records per run (more: protocol error) */
#define PROTO_MAX_LOG_LINES 200	  /* free-form lines kept (the first ones) */
#define PROTO_MAX_LOG_BYTES 32768 /* bytes of free-form output kept */
/* bytes of prefixed lines per run (more: protocol error; the rest is not parsed) */
#define PROTO_MAX_RECORD_BYTES (4u << 20)
/* line bytes of the hello, param, metric and calib records kept (more: protocol error) */
#define PROTO_MAX_KEPT_BYTES (1u << 20)
#define PROTO_MAX_MESSAGES 200		    /* log/error/exception records kept (the first) */
#define PROTO_MAX_MESSAGE_BYTES (64u << 10) /* their line bytes kept */
#define PROTO_MAX_FIELDS 16		    /* scalar fields kept of a message or hello */
#define PROTO_MAX_FIELD_BYTES 512	    /* a kept message string is cut here */

struct proto_parser {
	/* current partial line */
	char line[PROTO_MAX_LINE + 1];
	size_t line_len;
	bool line_overflow; /* the current line exceeded PROTO_MAX_LINE */
	size_t line_no;	    /* 1-based number of the line being assembled */

	/* what was received */
	json_t *hello;	     /* the hello record, or NULL */
	json_t *params;	     /* {"k":"v"} from param records */
	json_t *metrics;     /* [{"m","u","better","v"[,"xk","xu","x"]}] */
	json_t *calib;	     /* [{"t":"calib",...}] checked by core/calib.c, known fields */
	json_t *records_log; /* [{"t":"log"|"error"|"exception",...}], scalar fields */
	json_t *log;	     /* free-form lines, bounded */
	size_t log_bytes;
	size_t log_dropped; /* free-form lines not kept */
	size_t nrecords;
	size_t record_bytes;	 /* line bytes of all records */
	size_t kept_bytes;	 /* line bytes of the hello/param/metric/calib records kept */
	size_t message_bytes;	 /* line bytes of the messages kept */
	size_t messages_dropped; /* log/error/exception records not kept */
	bool have_done;
	int done_status;
	char wl_error[256]; /* first "error" record's msg */
	bool have_exception;

	/* protocol errors: the run fails when nerrors > 0 */
	size_t nerrors;
	char error[256]; /* the first one, "line N: what" */
};

void proto_init(struct proto_parser *p);
void proto_release(struct proto_parser *p);
/* Feed bytes as they come; lines are processed as they complete. */
void proto_feed(struct proto_parser *p, const char *buf, size_t len);
/* End of stream: processes a last line without a newline. */
void proto_finish(struct proto_parser *p);

/* A summary object for results.json: hello, params, metrics, log, ... (new ref) */
json_t *proto_to_json(const struct proto_parser *p);

#endif
