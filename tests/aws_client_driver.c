/*
 * aws_client_driver: the AWS layer (transport, credentials, DynamoDB client) as one long-lived
 * process, the way a worker holds it, driven by tests/aws/test_client.py over stdin/stdout:
 * one JSON command per line in, one JSON answer per line out. Configuration comes from the
 * environment through config_load(), as in the application; log lines go to stderr.
 *
 *   {"cmd":"op","op":"PutItem","req":{...}}    a DynamoDB call: {"ok":true,"resp":{...}} or
 *        {"ok":false,"kind","type","status","message","request_id","attempts","transport",
 *         "reasons":[...],"resp":...}
 *   {"cmd":"stats"}        transport counters, clock skew, retry quota
 *   {"cmd":"random","value":0.05}   the backoff's random source (a constant)
 *   {"cmd":"creds"}        the current credentials' access key id and expiration (no secret)
 *   {"cmd":"refresh"}      a forced credentials refresh
 *   {"cmd":"http","method","url","headers":[[n,v]],"body":"..."|"stream":N,"rewind":bool,
 *    "max_body":N,"timeout_ms":N,"stall_s":N}   one raw transport call (for the S3 shapes)
 *   {"cmd":"quit"}
 *
 * Usage: aws_client_driver [--timeout-ms N] [--connect-timeout-ms N]
 * On a start-up error it prints {"fatal":"..."} and exits 2.
 *
 * Operations are dispatched with a literal name at each ddb_op() call, as everywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/sigv4.h"
#include "aws/transport.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "num.h"
#include "timeutil.h"

static struct transport *t;
static struct creds_provider *cp;
static struct ddb *d;
static double fixed_r = -1;

static double
driver_random(void *ctx)
{
	(void)ctx;
	return fixed_r;
}

static void
emit(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

static const char *
reason_name(enum ddb_reason r)
{
	switch (r) {
	case DDB_REASON_NONE:		return "None";
	case DDB_REASON_CONDITIONAL:	return "ConditionalCheckFailed";
	case DDB_REASON_CONFLICT:	return "TransactionConflict";
	case DDB_REASON_THROTTLED:	return "Throttled";
	case DDB_REASON_VALIDATION:	return "ValidationError";
	case DDB_REASON_OTHER:		return "Other";
	}
	return "?";
}

static int
dispatch(const char *op, json_object *req, json_object **resp, struct ddb_error *e)
{
	if (strcmp(op, "CreateTable") == 0)
		return ddb_op(d, "CreateTable", req, resp, e);
	if (strcmp(op, "DescribeTable") == 0)
		return ddb_op(d, "DescribeTable", req, resp, e);
	if (strcmp(op, "DeleteTable") == 0)
		return ddb_op(d, "DeleteTable", req, resp, e);
	if (strcmp(op, "PutItem") == 0)
		return ddb_op(d, "PutItem", req, resp, e);
	if (strcmp(op, "GetItem") == 0)
		return ddb_op(d, "GetItem", req, resp, e);
	if (strcmp(op, "UpdateItem") == 0)
		return ddb_op(d, "UpdateItem", req, resp, e);
	if (strcmp(op, "DeleteItem") == 0)
		return ddb_op(d, "DeleteItem", req, resp, e);
	if (strcmp(op, "Query") == 0)
		return ddb_op(d, "Query", req, resp, e);
	if (strcmp(op, "TransactWriteItems") == 0)
		return ddb_op(d, "TransactWriteItems", req, resp, e);
	if (strcmp(op, "ListTables") == 0)
		return ddb_op(d, "ListTables", req, resp, e);
	if (strcmp(op, "NoSuchOperation") == 0)
		return ddb_op(d, "NoSuchOperation", req, resp, e);
	return -2;
}

static void
cmd_op(json_object *cmd)
{
	json_object *opv, *req = NULL, *resp = NULL, *out = json_object_new_object(), *reasons;
	struct ddb_error e;
	const char *op;
	size_t i;
	int rc;

	if (!json_object_object_get_ex(cmd, "op", &opv) || !json_object_is_type(opv, json_type_string)) {
		json_object_object_add(out, "error", json_object_new_string("no op"));
		emit(out);
		return;
	}
	op = json_object_get_string(opv);
	json_object_object_get_ex(cmd, "req", &req);
	rc = dispatch(op, req, &resp, &e);
	if (rc == -2) {
		json_object_object_add(out, "error", json_object_new_string("op not in the driver"));
		emit(out);
		return;
	}
	json_object_object_add(out, "ok", json_object_new_boolean(rc == 0));
	json_object_object_add(out, "attempts", json_object_new_int(e.attempts));
	if (rc != 0) {
		json_object_object_add(out, "kind", json_object_new_string(ddb_errkind_name(e.kind)));
		json_object_object_add(out, "type", json_object_new_string(e.type));
		json_object_object_add(out, "status", json_object_new_int(e.status));
		json_object_object_add(out, "message", json_object_new_string(e.message));
		json_object_object_add(out, "request_id", json_object_new_string(e.request_id));
		json_object_object_add(out, "transport",
		    json_object_new_string(transport_error_name(e.transport)));
		reasons = json_object_new_array();
		for (i = 0; i < e.nreasons; i++)
			json_object_array_add(reasons, json_object_new_string(reason_name(e.reasons[i])));
		json_object_object_add(out, "reasons", reasons);
	}
	json_object_object_add(out, "resp", resp);	/* takes it over (NULL: null) */
	emit(out);
}

static void
cmd_stats(void)
{
	json_object *out = json_object_new_object();
	struct transport_stats st;

	transport_stats(t, &st);
	json_object_object_add(out, "calls", json_object_new_int64((int64_t)st.calls));
	json_object_object_add(out, "connections", json_object_new_int64((int64_t)st.connections));
	json_object_object_add(out, "failures", json_object_new_int64((int64_t)st.failures));
	json_object_object_add(out, "skew", json_object_new_int64(ddb_skew(d)));
	json_object_object_add(out, "quota", json_object_new_int(ddb_retry_quota(d)));
	emit(out);
}

static void
cmd_creds(void)
{
	json_object *out = json_object_new_object();
	struct aws_credentials c;
	int rc = credentials_get(cp, clock_now_ms() / 1000, &c);

	json_object_object_add(out, "ok", json_object_new_boolean(rc == 0));
	json_object_object_add(out, "source", json_object_new_string(
	    creds_provider_source(cp) == CREDS_SOURCE_ENV ? "env" : "container"));
	if (rc == 0) {
		json_object_object_add(out, "access_key_id", json_object_new_string(c.access_key_id));
		json_object_object_add(out, "expiration", json_object_new_int64(c.expiration));
	}
	aws_credentials_clear(&c);
	emit(out);
}

/* A streamed body of n bytes, byte i = (i * 31 + 7) mod 256, with an optional rewind. */
struct stream {
	size_t	n, pos;
	int	reads, rewinds;
};

static ssize_t
stream_read(void *ctx, void *dst, size_t n)
{
	struct stream *s = ctx;
	unsigned char *p = dst;
	size_t i;

	if (n > s->n - s->pos)
		n = s->n - s->pos;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(((s->pos + i) * 31 + 7) & 0xff);
	s->pos += n;
	s->reads++;
	return (ssize_t)n;
}

static int
stream_rewind(void *ctx)
{
	struct stream *s = ctx;

	s->pos = 0;
	s->rewinds++;
	return 0;
}

static int64_t
get_int(json_object *o, const char *name, int64_t def)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ? json_object_get_int64(v) : def;
}

static const char *
get_str(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static void
cmd_http(json_object *cmd)
{
	struct transport_header h[32];
	struct transport_request req;
	struct transport_response resp;
	struct stream st = { 0 };
	json_object *out = json_object_new_object(), *hdrs, *hv, *ho;
	char sha[SIGV4_HEX_LEN + 1];
	size_t i, n = 0;
	int rc;

	memset(&req, 0, sizeof req);
	req.method = get_str(cmd, "method");
	req.url = get_str(cmd, "url");
	if (json_object_object_get_ex(cmd, "headers", &hdrs) && json_object_is_type(hdrs, json_type_array))
		for (i = 0; i < json_object_array_length(hdrs) && n < 32; i++) {
			hv = json_object_array_get_idx(hdrs, i);
			h[n].name = json_object_get_string(json_object_array_get_idx(hv, 0));
			h[n].value = json_object_get_string(json_object_array_get_idx(hv, 1));
			n++;
		}
	req.headers = h;
	req.nheaders = n;
	if (get_str(cmd, "body") != NULL) {
		req.body = get_str(cmd, "body");
		req.body_len = strlen(req.body);
	} else if (get_int(cmd, "stream", -1) >= 0) {
		st.n = (size_t)get_int(cmd, "stream", 0);
		req.read = stream_read;
		req.read_ctx = &st;
		req.body_len = st.n;
		if (get_int(cmd, "rewind", 1))
			req.rewind = stream_rewind;
	}
	req.max_body = (size_t)get_int(cmd, "max_body", 0);
	req.timeout_ms = (long)get_int(cmd, "timeout_ms", 0);
	req.connect_timeout_ms = (long)get_int(cmd, "connect_timeout_ms", 0);
	req.stall_s = (long)get_int(cmd, "stall_s", 0);
	rc = transport_perform(t, &req, &resp);
	json_object_object_add(out, "rc", json_object_new_int(rc));
	json_object_object_add(out, "status", json_object_new_int(resp.status));
	json_object_object_add(out, "error", json_object_new_string(transport_error_name(resp.error)));
	json_object_object_add(out, "message", json_object_new_string(resp.message));
	json_object_object_add(out, "reused", json_object_new_boolean(resp.reused));
	ho = json_object_new_object();
	for (i = 0; i < resp.nheaders; i++)
		json_object_object_add(ho, resp.headers[i].name,
		    json_object_new_string(resp.headers[i].value));
	json_object_object_add(out, "headers", ho);
	json_object_object_add(out, "etag", json_object_new_string(
	    transport_response_header(&resp, "etag") ? transport_response_header(&resp, "etag") : ""));
	json_object_object_add(out, "body_len", json_object_new_int64((int64_t)resp.body.len));
	sigv4_sha256_hex(resp.body.data, resp.body.len, sha);
	json_object_object_add(out, "body_sha256", json_object_new_string(sha));
	json_object_object_add(out, "body", json_object_new_string_len(buf_str(&resp.body),
	    resp.body.len > 4096 ? 4096 : (int)resp.body.len));
	json_object_object_add(out, "stream_reads", json_object_new_int(st.reads));
	json_object_object_add(out, "stream_rewinds", json_object_new_int(st.rewinds));
	transport_response_free(&resp);
	emit(out);
}

static void
fatal(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fatal", json_object_new_string(msg));
	emit(o);
}

int
main(int argc, char **argv)
{
	struct ddb_options opts = { 0 };
	struct config cfg;
	char err[512], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t v;
	int i, rc = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (num_parse_i64(argv[i + 1], 1, 600000, &v) == -1) {
			fprintf(stderr, "usage: %s [--timeout-ms N] [--connect-timeout-ms N]\n", argv[0]);
			return 2;
		}
		if (strcmp(argv[i], "--timeout-ms") == 0)
			opts.timeout_ms = (long)v;
		else if (strcmp(argv[i], "--connect-timeout-ms") == 0)
			opts.connect_timeout_ms = (long)v;
		else {
			fprintf(stderr, "usage: %s [--timeout-ms N] [--connect-timeout-ms N]\n", argv[0]);
			return 2;
		}
	}
	if (config_load(&cfg, err, sizeof err) == -1) {
		fatal(err);
		return 2;
	}
	log_set_level((enum log_level)cfg.log_level);
	t = transport_new();
	if (t == NULL || (cp = creds_provider_new(&cfg, t, err, sizeof err)) == NULL ||
	    (d = ddb_new(&cfg, t, cp, &opts, err, sizeof err)) == NULL) {
		fatal(t == NULL ? "no transport" : err);
		rc = 2;
		goto done;
	}
	printf("{\"ready\":true,\"endpoint\":\"%s\"}\n", ddb_endpoint(d));
	fflush(stdout);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_object *cmd = json_tokener_parse(line);
		const char *name = cmd ? get_str(cmd, "cmd") : NULL;

		if (name == NULL) {
			fatal("bad command line");
		} else if (strcmp(name, "op") == 0) {
			cmd_op(cmd);
		} else if (strcmp(name, "stats") == 0) {
			cmd_stats();
		} else if (strcmp(name, "random") == 0) {
			json_object *val;
			fixed_r = json_object_object_get_ex(cmd, "value", &val) ?
			    json_object_get_double(val) : -1;
			ddb_set_random(d, fixed_r >= 0 ? driver_random : NULL, NULL);
			emit(json_object_new_object());
		} else if (strcmp(name, "creds") == 0) {
			cmd_creds();
		} else if (strcmp(name, "refresh") == 0) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "ok", json_object_new_boolean(
			    credentials_refresh(cp, clock_now_ms() / 1000) == 0));
			emit(o);
		} else if (strcmp(name, "http") == 0) {
			cmd_http(cmd);
		} else if (strcmp(name, "quit") == 0) {
			json_object_put(cmd);
			break;
		} else
			fatal("unknown command");
		json_object_put(cmd);
	}
done:
	free(line);
	ddb_free(d);
	creds_provider_free(cp);
	transport_free(t);
	config_free(&cfg);
	return rc;
}
