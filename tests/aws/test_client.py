"""
The C AWS layer (src/aws/transport.c, credentials.c, dynamodb.c) against real parts: the
SigV4-verifying DynamoDB proxy in front of dynalite (fakes.py), a container-credentials endpoint
and a plain HTTP server written here. The C side is tests/aws_client_driver (built with the
project; BUILD_DIR chooses the build, default <repo>/build), one long-lived process per test,
holding one transport, one credentials provider and one DynamoDB handle as a worker does.

    BUILD_DIR=build /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/aws/test_client.py

Every driver runs with LOG_LEVEL=debug, and its stderr is checked at the end for the secrets it
held (secret keys, session tokens, authorization tokens): none may appear. Under a sanitizer
build the driver's exit status and stderr also catch ASan/UBSan/LSan reports.
"""
import contextlib
import datetime as _dt
import hashlib
import http.server
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fakes  # noqa: E402

BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
DRIVER = os.path.join(BUILD_DIR, "tests", "aws_client_driver")
SESSION_SECRET = "driver-session-secret-0123456789abcdefghij"
TABLE = "aws-client-test"
FAST = 0.01		# the backoff's random draw in most tests: 10 ms, 20 ms


def rfc3339(epoch):
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------
# the C driver

class Driver:
    """aws_client_driver as a subprocess: .cmd({...}) -> the JSON answer."""

    def __init__(self, env, args=(), secrets=()):
        if not os.access(DRIVER, os.X_OK):
            pytest.fail("%s is missing: build first (scripts/build %s)" % (DRIVER, BUILD_DIR))
        self.secrets = [s for s in secrets if s]
        self._err = tempfile.TemporaryFile()
        base = {"PATH": "/usr/bin:/bin", "SESSION_SECRET": SESSION_SECRET, "LOG_LEVEL": "debug",
                "DATA_DIR": tempfile.gettempdir()}
        for k, v in os.environ.items():
            if k.startswith(("ASAN_", "UBSAN_", "LSAN_")):
                base[k] = v
        base.update(env)
        self.proc = subprocess.Popen([DRIVER] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._err, env=base)
        self.first = self._line(30)

    def _line(self, timeout):
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            raise AssertionError("driver: no answer in %ss; stderr:\n%s" % (timeout, self.stderr()))
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise AssertionError("driver exited (%s); stderr:\n%s" % (self.proc.returncode, self.stderr()))
        return json.loads(line)

    def cmd(self, c, timeout=60):
        self.proc.stdin.write((json.dumps(c) + "\n").encode())
        self.proc.stdin.flush()
        return self._line(timeout)

    def op(self, op, req, **kw):
        return self.cmd({"cmd": "op", "op": op, "req": req}, **kw)

    def stats(self):
        return self.cmd({"cmd": "stats"})

    def stderr(self):
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")

    def close(self):
        """Stops the driver; checks its exit status and that its log holds no secret."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"cmd":"quit"}\n')
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        log = self.stderr()
        self._err.close()
        return self.proc.returncode, log

    def check_close(self):
        rc, log = self.close()
        assert rc == 0, "driver exit status %s; stderr:\n%s" % (rc, log)
        for bad in ("Sanitizer", "runtime error:", "leaked"):
            assert bad not in log, log
        for s in self.secrets:
            assert s not in log, "a secret is in the driver's log"
        return log


@contextlib.contextmanager
def driver(env, args=(), secrets=()):
    d = Driver(env, args, secrets)
    try:
        assert d.first.get("ready"), d.first
        yield d
    finally:
        if d.proc.poll() is None or not d._err.closed:
            d.check_close()


def ddb_env(ddb, endpoint=None, keys=True):
    env = {"AWS_REGION": ddb.region, "AWS_ENDPOINT_URL_DYNAMODB": endpoint or ddb.endpoint}
    if keys:
        env["AWS_ACCESS_KEY_ID"] = ddb.access_key
        env["AWS_SECRET_ACCESS_KEY"] = ddb.secret_key
    return env


def create_table(ddb, name=TABLE):
    r = ddb.call("CreateTable", {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]})
    assert r.status == 200 or r.error_type == "ResourceInUseException", r


def key(k):
    return {"TableName": TABLE, "Key": {"k": {"S": k}}}


def put(k, extra=None, **req):
    item = {"k": {"S": k}}
    item.update(extra or {})
    r = {"TableName": TABLE, "Item": item}
    r.update(req)
    return r


# ------------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture(scope="module")
def ddb():
    with fakes.ddb_proxy(max_seconds=600) as p:
        create_table(p)
        yield p


@pytest.fixture
def fresh(ddb):
    ddb.clear_faults()
    ddb.reset()
    yield ddb
    ddb.clear_faults()


@pytest.fixture
def client(fresh):
    with driver(ddb_env(fresh), secrets=[fresh.secret_key]) as d:
        d.cmd({"cmd": "random", "value": FAST})
        yield d


# ------------------------------------------------------------------------------------------------
# signed calls, answers and errors

def test_crud_through_the_verifying_proxy(fresh):
    # the request body's "password hash" must not reach the log either
    with driver(ddb_env(fresh), secrets=[fresh.secret_key, "scrypt$secret-hash"]) as d:
        r = d.op("CreateTable", {
            "TableName": "aws-client-created", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})
        assert r["ok"], r
        assert r["resp"]["TableDescription"]["TableName"] == "aws-client-created"
        r = d.op("PutItem", put("crud", {"n": {"N": "1"}, "pw": {"S": "scrypt$secret-hash"},
                                         "url": {"S": "https://x.example/a/b?c=d"}}))
        assert r == {"ok": True, "attempts": 1, "resp": {}}, r
        r = d.op("GetItem", key("crud"))
        assert r["ok"] and r["resp"]["Item"]["n"] == {"N": "1"}, r
        assert r["resp"]["Item"]["url"] == {"S": "https://x.example/a/b?c=d"}
        r = d.op("UpdateItem", dict(key("crud"), UpdateExpression="ADD n :one",
                                    ConditionExpression="attribute_exists(k)",
                                    ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW"))
        assert r["ok"] and r["resp"]["Attributes"]["n"] == {"N": "2"}, r
        r = d.op("DeleteItem", dict(key("crud"), ReturnValues="ALL_OLD"))
        assert r["ok"] and r["resp"]["Attributes"]["n"] == {"N": "2"}, r
        r = d.op("GetItem", key("crud"))
        assert r["ok"] and "Item" not in r["resp"], r
        st = fresh.stats()["totals"]
        assert st["rejected"] == 0 and st["faulted"] == 0 and st["received"] == 6, st


def test_conditional_failure_is_not_retried(client, fresh):
    assert client.op("PutItem", put("cond"))["ok"]
    fresh.reset()
    r = client.op("PutItem", put("cond", ConditionExpression="attribute_not_exists(k)",
                                 ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    assert not r["ok"] and r["kind"] == "conditional", r
    assert r["type"] == "ConditionalCheckFailedException" and r["status"] == 400
    assert r["attempts"] == 1 and len(r["request_id"]) == 52
    assert r["resp"]["Item"]["k"] == {"S": "cond"}		# the error body, for the caller
    assert fresh.op_stats("PutItem") == {"received": 1, "forwarded": 1, "rejected": 0, "faulted": 0}
    # also when a throttle fault is pending for another operation
    fresh.fault(type="throttle", operation="GetItem")
    r = client.op("UpdateItem", dict(key("missing"), UpdateExpression="SET a = :a",
                                     ConditionExpression="attribute_exists(k)",
                                     ExpressionAttributeValues={":a": {"S": "x"}}))
    assert r["kind"] == "conditional" and r["attempts"] == 1, r
    assert fresh.op_stats("UpdateItem")["received"] == 1


def test_transaction_cancelled_reasons(client, fresh):
    assert client.op("PutItem", put("tx-a"))["ok"]
    r = client.op("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": {"k": {"S": "tx-new"}},
                 "ConditionExpression": "attribute_not_exists(k)"}},
        {"Put": {"TableName": TABLE, "Item": {"k": {"S": "tx-a"}},
                 "ConditionExpression": "attribute_not_exists(k)"}}]})
    assert not r["ok"] and r["kind"] == "transaction_canceled", r
    assert r["reasons"] == ["None", "ConditionalCheckFailed"], r
    assert [x["Code"] for x in r["resp"]["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert r["attempts"] == 1
    assert not client.op("GetItem", key("tx-new"))["resp"].get("Item")


def test_client_errors_map_to_kinds(client, fresh):
    r = client.op("GetItem", {"TableName": "no-such-table", "Key": {"k": {"S": "x"}}})
    assert r["kind"] == "not_found" and r["type"] == "ResourceNotFoundException" and r["attempts"] == 1, r
    r = client.op("GetItem", {"TableName": TABLE, "Key": {"wrong": {"N": "1"}}})
    assert r["kind"] == "validation" and r["type"] == "ValidationException" and r["attempts"] == 1, r
    r = client.op("NoSuchOperation", {})
    assert r["kind"] == "other" and r["type"] == "UnknownOperationException" and r["attempts"] == 1, r
    assert fresh.stats()["totals"]["rejected"] == 0


# ------------------------------------------------------------------------------------------------
# retries

@pytest.mark.parametrize("exception", [None, "ThrottlingException", "RequestLimitExceeded"])
def test_throttling_retried_within_three_attempts(client, fresh, exception):
    spec = {"type": "throttle", "operation": "PutItem", "count": 2}
    if exception:
        spec["exception"] = exception
    fresh.fault(**spec)
    r = client.op("PutItem", put("throttled"))
    assert r["ok"] and r["attempts"] == 3, r
    assert fresh.op_stats("PutItem") == {"received": 3, "forwarded": 1, "rejected": 0, "faulted": 2}
    # two retries took quota; the success gave the last one's back
    assert client.stats()["quota"] == 500 - 5


def test_500_and_503_retried(client, fresh):
    fresh.add_faults([{"type": "error500", "operation": "GetItem"},
                      {"type": "error503", "operation": "GetItem"}])
    r = client.op("GetItem", key("x"))
    assert r["ok"] and r["attempts"] == 3, r
    assert fresh.op_stats("GetItem") == {"received": 3, "forwarded": 1, "rejected": 0, "faulted": 2}


def test_still_throttled_after_three_attempts(client, fresh):
    fresh.fault(type="throttle", operation="UpdateItem", count=5)
    r = client.op("UpdateItem", dict(key("t3"), UpdateExpression="SET a = :a",
                                     ExpressionAttributeValues={":a": {"S": "x"}}))
    assert not r["ok"] and r["kind"] == "throttled" and r["attempts"] == 3, r
    assert r["type"] == "ProvisionedThroughputExceededException" and r["request_id"]
    assert fresh.op_stats("UpdateItem")["received"] == 3
    fresh.clear_faults()
    fresh.fault(type="error500", operation="GetItem", count=5)
    r = client.op("GetItem", key("t3"))
    assert not r["ok"] and r["kind"] == "unavailable" and r["attempts"] == 3 and r["status"] == 500, r
    log = client.stderr()
    assert "DynamoDB GetItem failed (unavailable) after 3 attempts: HTTP 500, InternalServerError" in log


def test_backoff_sleeps_with_the_injected_random(client, fresh):
    client.cmd({"cmd": "random", "value": 0.5})	# 500 ms, then 1000 ms
    fresh.fault(type="error503", operation="GetItem", count=2)
    t0 = time.monotonic()
    r = client.op("GetItem", key("x"))
    took = time.monotonic() - t0
    assert r["ok"] and r["attempts"] == 3, r
    assert 1.45 <= took < 4.0, took


def test_timeout_retried():
    with fakes.ddb_proxy(max_seconds=300) as p:
        create_table(p)
        with driver(ddb_env(p), args=["--timeout-ms", "1000"], secrets=[p.secret_key]) as d:
            d.cmd({"cmd": "random", "value": FAST})
            assert d.op("PutItem", put("slow"))["ok"]
            p.reset()
            p.fault(type="delay", ms=2500, operation="GetItem")
            t0 = time.monotonic()
            r = d.op("GetItem", key("slow"))
            took = time.monotonic() - t0
            assert r["ok"] and r["attempts"] == 2 and r["resp"]["Item"]["k"] == {"S": "slow"}, r
            assert 0.9 <= took < 2.4, took
            assert p.op_stats("GetItem")["received"] == 2
            assert "timeout" in d.stderr() or "Timeout" in d.stderr()
            # every attempt times out: unavailable after three
            p.fault(type="delay", ms=1500, operation="GetItem", count=3)
            r = d.op("GetItem", key("slow"))
            assert not r["ok"] and r["kind"] == "unavailable" and r["transport"] == "timeout", r
            assert r["attempts"] == 3
            # a timeout retry costs 10 units of retry quota: the first call's came back with
            # its success, the second call's two did not
            assert d.stats()["quota"] == 480


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connection_retried(client, fresh, when):
    assert client.op("GetItem", key("warm"))["ok"]		# a kept-alive connection to drop
    fresh.reset()
    fresh.fault(type="reset", operation="PutItem", when=when)
    r = client.op("PutItem", put("reset-" + when))
    assert r["ok"], r
    # the retry is ours (attempts 2), or curl's own resend on a dead kept-alive connection
    assert r["attempts"] in (1, 2), r
    st = fresh.op_stats("PutItem")
    assert st["received"] == 2 and st["faulted"] == 1, st
    assert client.op("GetItem", key("reset-" + when))["resp"]["Item"]


def test_dropped_connection_every_time(client, fresh):
    fresh.fault(type="reset", operation="GetItem", count=10)
    r = client.op("GetItem", key("x"))
    assert not r["ok"] and r["kind"] == "unavailable" and r["transport"] == "reset", r
    assert r["attempts"] == 3


def test_unreachable_endpoint():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % port,
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "unreachable-secret"}
    with driver(env, secrets=["unreachable-secret"]) as d:
        d.cmd({"cmd": "random", "value": FAST})
        r = d.op("GetItem", key("x"))
        assert not r["ok"] and r["kind"] == "unavailable" and r["transport"] == "connect", r
        assert r["attempts"] == 3


class FakeDynamo:
    """A stand-in answering DynamoDB calls from a queue of canned answers (status, body, extra
    headers; the last one repeats), for what the proxy cannot do: corrupt x-amz-crc32, non-JSON
    5xx pages, a Date far from ours without an explanatory message. Counts the requests."""

    def __init__(self):
        self.answers = []
        self.count = 0
        self.date = None	# the Date header to send (None: the real time)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def date_time_string(self, timestamp=None):
                return outer.date or super().date_time_string(timestamp)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.count += 1
                status, body, headers = outer.answers[0] if len(outer.answers) == 1 else outer.answers.pop(0)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("x-amzn-RequestId", "FAKE%04d" % outer.count)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_ddb():
    f = FakeDynamo()
    env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_DYNAMODB": f.endpoint,
           "AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret-key-abc"}
    with driver(env, secrets=["fake-secret-key-abc"]) as d:
        d.cmd({"cmd": "random", "value": FAST})
        yield f, d
    f.close()


def crc32_of(data):
    import zlib
    return str(zlib.crc32(data) & 0xffffffff)


def test_crc32_mismatch_retried(fake_ddb):
    f, d = fake_ddb
    good = '{"Item":{"k":{"S":"v"}}}'
    f.answers = [(200, good, {"x-amz-crc32": "12345"}), (200, good, {"x-amz-crc32": crc32_of(good.encode())})]
    r = d.op("GetItem", key("v"))
    assert r["ok"] and r["attempts"] == 2 and r["resp"]["Item"]["k"] == {"S": "v"}, r
    f.answers = [(200, good, {"x-amz-crc32": "1"})]
    f.count = 0
    r = d.op("GetItem", key("v"))
    assert not r["ok"] and r["kind"] == "unavailable" and r["attempts"] == 3 and f.count == 3, r
    assert "crc32" in r["message"]


def test_html_5xx_and_bad_json(fake_ddb):
    f, d = fake_ddb
    f.answers = [(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"}), (200, "{}", {})]
    r = d.op("PutItem", put("x"))
    assert r["ok"] and r["attempts"] == 2, r
    f.answers = [(200, "not json", {})]
    f.count = 0
    r = d.op("PutItem", put("x"))
    assert not r["ok"] and r["kind"] == "other" and f.count == 1, r
    f.answers = [(400, '{"__type":"com.amazon.coral.validate#ValidationException","Message":"first line\nsecond line"}', {})]
    r = d.op("PutItem", put("x"))
    assert r["kind"] == "validation" and r["message"] == "first line" and r["request_id"].startswith("FAKE"), r


def test_far_date_on_refusal_corrects_the_clock(fake_ddb):
    f, d = fake_ddb
    ahead = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=3600)
    date = ahead.strftime("%a, %d %b %Y %H:%M:%S GMT")
    f.date = date
    f.answers = [(403, '{"__type":"com.amazon.coral.service#AccessDeniedException","message":"nope"}', {}),
                 (200, "{}", {})]
    r = d.op("GetItem", key("x"))
    assert r["ok"] and r["attempts"] == 2, r
    assert abs(d.stats()["skew"] - 3600) <= 3, d.stats()
    # a refusal with a Date close to the corrected clock is an ordinary auth error
    f.answers = [(400, '{"__type":"com.amazon.coral.service#UnrecognizedClientException",'
                       '"message":"The security token included in the request is invalid."}', {})]
    f.count = 0
    r = d.op("GetItem", key("x"))
    assert not r["ok"] and r["kind"] == "auth" and r["attempts"] == 1 and f.count == 1, r


def test_wrong_secret_is_an_auth_error_not_retried(fresh):
    env = ddb_env(fresh)
    env["AWS_SECRET_ACCESS_KEY"] = "definitely-the-wrong-secret"
    with driver(env, secrets=["definitely-the-wrong-secret"]) as d:
        r = d.op("GetItem", key("x"))
        assert not r["ok"] and r["kind"] == "auth" and r["type"] == "InvalidSignatureException", r
        assert r["attempts"] == 1 and fresh.op_stats("GetItem")["rejected"] == 1
        # only the first line of AWS's message: the rest quotes the canonical request
        assert "\n" not in r["message"] and "Canonical" not in r["message"], r


# ------------------------------------------------------------------------------------------------
# clock skew

@pytest.mark.parametrize("auth_status", [403, 400])
def test_skewed_clock_corrected_from_date_header(auth_status):
    with fakes.ddb_proxy(max_seconds=300, auth_error_status=auth_status) as p:
        create_table(p)
        with driver(ddb_env(p), secrets=[p.secret_key]) as d:
            d.cmd({"cmd": "random", "value": FAST})
            for skew in (600, -900, 0):
                p.set_skew(skew) if skew else p.clear_faults()
                p.reset()
                r = d.op("GetItem", key("x"))
                assert r["ok"] and r["attempts"] == 2, (skew, r)
                st = p.op_stats("GetItem")
                assert st == {"received": 2, "forwarded": 1, "rejected": 1, "faulted": 0}, (skew, st)
                assert abs(d.stats()["skew"] - skew) <= 2, (skew, d.stats())
                # corrected for good: the next calls go through at once
                for _ in range(2):
                    r = d.op("PutItem", put("skew%d" % skew))
                    assert r["ok"] and r["attempts"] == 1, r
                assert p.stats()["totals"]["rejected"] == 1
            log = d.stderr()
            assert "clock skew" in log


# ------------------------------------------------------------------------------------------------
# connection reuse

class Relay:
    """A TCP relay on loopback that counts the connections it accepts."""

    def __init__(self, port):
        self.target = port
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            u = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closing = True
        self.sock.close()


def test_one_connection_for_many_calls(fresh):
    relay = Relay(fresh.port)
    try:
        with driver(ddb_env(fresh, endpoint="http://127.0.0.1:%d" % relay.port),
                    secrets=[fresh.secret_key]) as d:
            for i in range(25):
                assert d.op("PutItem", put("reuse%d" % i, {"i": {"N": str(i)}}))["ok"]
                assert d.op("GetItem", key("reuse%d" % i))["ok"]
            st = d.stats()
            assert st["calls"] == 50 and st["connections"] == 1, st
            assert relay.accepted == 1, relay.accepted
            assert fresh.stats()["totals"]["received"] == 50
    finally:
        relay.close()


# ------------------------------------------------------------------------------------------------
# container credentials

class CredsEndpoint:
    """A container credentials endpoint: serves .creds (a dict with access_key, secret_key,
    session_token, expiration) as ECS does, checks the Authorization header against .token
    (None: no check), or answers .status with an error body."""

    def __init__(self):
        self.creds = None
        self.token = None
        self.status = 200
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.seen.append((self.path, self.headers.get("Authorization")))
                if outer.token is not None and self.headers.get("Authorization") != outer.token:
                    return self._send(401, {"code": "AccessDenied", "message": "bad token"})
                if outer.status != 200 or outer.creds is None:
                    return self._send(outer.status, {"code": "InternalError", "message": "down"})
                c = outer.creds
                self._send(200, {"RoleArn": "arn:aws:iam::123456789012:role/fileshare",
                                 "AccessKeyId": c["access_key"], "SecretAccessKey": c["secret_key"],
                                 "Token": c["session_token"], "Expiration": rfc3339(c["expiration"])})

            def _send(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1/credentials" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def session(n, expires_in):
    return {"access_key": "ASIAROTATE%04d" % n, "secret_key": "rotating-secret-%d-xyz" % n,
            "session_token": "rotating-session-token-%d-IQoJb3JpZ2lu" % n,
            "expiration": int(time.time()) + expires_in}


def proxy_set(c):
    return {k: c[k] for k in ("access_key", "secret_key", "session_token")}


def all_secrets(*sets, extra=()):
    return [s for c in sets for s in (c["secret_key"], c["session_token"])] + list(extra)


@pytest.fixture
def endpoint():
    e = CredsEndpoint()
    yield e
    e.close()


@pytest.fixture(scope="module")
def creds_ddb():
    """A proxy that accepts only the credentials file's sets (no default keys)."""
    with fakes.ddb_proxy(credentials=[], no_default_creds=True, max_seconds=600) as p:
        p.set_credentials([{"access_key": p.access_key, "secret_key": p.secret_key}])
        create_table(p)
        p.restore_credentials()
        yield p


def container_env(proxy, endpoint, **extra):
    env = ddb_env(proxy, keys=False)
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = endpoint.url
    env.update(extra)
    return env


def keys_used(proxy, since):
    return [e.get("access_key") for e in proxy.requests(since) if e.get("op") == "GetItem"]


def last_seq(proxy):
    reqs = proxy.requests()
    return reqs[-1]["seq"] if reqs else 0


def test_container_credentials_refreshed_before_expiry(creds_ddb, endpoint):
    p = creds_ddb
    a = session(1, 300 + 3)			# inside the refresh window in 3 s
    b = session(2, 3600)
    p.write_credentials_file([proxy_set(a)])
    endpoint.creds = a
    endpoint.token = "Bearer ecs-agent-token-1"
    env = container_env(p, endpoint, AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-agent-token-1")
    with driver(env, secrets=all_secrets(a, b, extra=["ecs-agent-token-1"])) as d:
        seq = last_seq(p)
        assert d.op("GetItem", key("x"))["ok"]
        assert d.cmd({"cmd": "creds"})["access_key_id"] == a["access_key"]
        assert len(endpoint.seen) == 1
        assert endpoint.seen[0] == ("/v1/credentials", "Bearer ecs-agent-token-1")
        # cached: no fetch per call
        assert d.op("GetItem", key("x"))["ok"]
        assert len(endpoint.seen) == 1
        # the agent rotates: the service accepts only the new session from now on
        p.write_credentials_file([proxy_set(b)])
        endpoint.creds = b
        time.sleep(3.2)			# now less than 5 minutes before a's Expiration
        r = d.op("GetItem", key("x"))
        assert r["ok"] and r["attempts"] == 1, r	# refreshed before signing, not after a refusal
        assert len(endpoint.seen) == 2
        assert keys_used(p, seq) == [a["access_key"], a["access_key"], b["access_key"]]
        assert d.cmd({"cmd": "creds"})["expiration"] == b["expiration"]
        assert p.stats()["totals"]["rejected"] == 0
        # and the proxy refuses the old session, as AWS would once it expired
        old = p.call("GetItem", key("x"), access_key=a["access_key"], secret_key=a["secret_key"],
                     session_token=a["session_token"])
        assert old.status in (400, 403) and old.error_type == "UnrecognizedClientException", old
        assert "container credentials fetched" in d.stderr()


def test_refused_credentials_force_a_refresh(creds_ddb, endpoint):
    p = creds_ddb
    a, b = session(3, 3600), session(4, 3600)
    p.write_credentials_file([proxy_set(a)])
    endpoint.creds = a
    with driver(container_env(p, endpoint), secrets=all_secrets(a, b)) as d:
        d.cmd({"cmd": "random", "value": FAST})
        assert d.op("GetItem", key("x"))["ok"]
        # revoked early (a new role session), long before a's Expiration
        p.write_credentials_file([proxy_set(b)])
        endpoint.creds = b
        p.reset()
        r = d.op("GetItem", key("x"))
        assert r["ok"] and r["attempts"] == 2, r
        assert p.op_stats("GetItem") == {"received": 2, "forwarded": 1, "rejected": 1, "faulted": 0}
        assert len(endpoint.seen) == 2
        assert endpoint.seen[1][1] is None	# no token configured: no Authorization header


def test_failed_refresh_keeps_unexpired_credentials(creds_ddb, endpoint):
    p = creds_ddb
    a = session(5, 300 + 2)
    p.write_credentials_file([proxy_set(a)])
    endpoint.creds = a
    with driver(container_env(p, endpoint), secrets=all_secrets(a)) as d:
        assert d.op("GetItem", key("x"))["ok"]
        endpoint.status = 500
        time.sleep(2.2)
        r = d.op("GetItem", key("x"))
        assert r["ok"] and r["attempts"] == 1, r
        assert len(endpoint.seen) >= 2		# it tried (twice: CREDS_FETCH_ATTEMPTS)
        assert "refresh failed: HTTP 500 (InternalError); still using the cached ones" in d.stderr()


def test_token_file_reread_at_each_refresh(creds_ddb, endpoint, tmp_path):
    p = creds_ddb
    a, b = session(6, 300 + 3), session(7, 3600)
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text("pod-identity-token-one\n")
    p.write_credentials_file([proxy_set(a)])
    endpoint.creds = a
    endpoint.token = "pod-identity-token-one"
    env = container_env(p, endpoint, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file),
                        AWS_CONTAINER_AUTHORIZATION_TOKEN="not-this-one")
    with driver(env, secrets=all_secrets(a, b, extra=["pod-identity-token-one", "pod-identity-token-two",
                                                      "not-this-one"])) as d:
        assert d.op("GetItem", key("x"))["ok"]
        # the agent rotates the token file and the credentials
        token_file.write_text("pod-identity-token-two")
        endpoint.token = "pod-identity-token-two"
        endpoint.creds = b
        p.write_credentials_file([proxy_set(a), proxy_set(b)])
        time.sleep(3.2)
        r = d.op("GetItem", key("x"))
        assert r["ok"], r
        assert [s[1] for s in endpoint.seen] == ["pod-identity-token-one", "pod-identity-token-two"]
        assert d.cmd({"cmd": "creds"})["access_key_id"] == b["access_key"]


def test_full_uri_outside_loopback_refused_at_startup(creds_ddb):
    env = ddb_env(creds_ddb, keys=False)
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds"
    d = Driver(env)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in d.first.get("fatal", ""), d.first
    assert "example.com" in d.first["fatal"]
    rc, log = d.close()
    assert rc == 2, log


def test_no_credentials_configured_refused_at_startup(creds_ddb):
    d = Driver(ddb_env(creds_ddb, keys=False))
    assert "AWS_ACCESS_KEY_ID" in d.first.get("fatal", ""), d.first
    assert d.close()[0] == 2


# ------------------------------------------------------------------------------------------------
# the transport's request shapes (what the S3 client will send)

class Recorder:
    """An HTTP/1.1 server that records each request (method, path, headers, body length and
    SHA-256) and answers by path: /big (a large body), /slow, /empty (closes without an
    answer), /list (XML), anything else 200 with an ETag."""

    def __init__(self):
        self.requests = []
        self.connections = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                outer.connections += 1
                super().setup()

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                h = hashlib.sha256()
                left = n
                while left > 0:
                    chunk = self.rfile.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
                outer.requests.append({"method": self.command, "path": self.path,
                                       "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "len": n - left, "sha256": h.hexdigest()})
                if self.path == "/empty":
                    self.close_connection = True
                    return
                if self.path == "/slow":
                    time.sleep(2)
                body = b""
                ctype = "application/octet-stream"
                if self.path == "/big":
                    body = b"x" * 100000
                elif self.path.startswith("/bucket?list-type=2"):
                    body = b'<?xml version="1.0"?><ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>'
                    ctype = "application/xml"
                status = 204 if self.command == "DELETE" else 200
                self.send_response(status)
                self.send_header("ETag", '"%s"' % h.hexdigest()[:32])
                self.send_header("x-amz-request-id", "REQ123")
                self.send_header("x-amz-id-2", "id2/abc=")
                self.send_header("Content-Type", ctype)
                if self.command == "HEAD":
                    self.send_header("Content-Length", "12345")
                    self.end_headers()
                    return
                if status != 204:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def pattern_sha256(n):
    h = hashlib.sha256()
    block = bytes(((i * 31 + 7) & 0xff) for i in range(256))
    full, rest = divmod(n, 256)
    for _ in range(full):
        h.update(block)
    h.update(block[:rest])
    return h.hexdigest()


def test_transport_request_shapes(fresh, recorder):
    with driver(ddb_env(fresh), secrets=[fresh.secret_key]) as d:
        base = recorder.base
        n = 48 * 1024 * 1024 + 123	# streamed, never held in memory by the transport
        r = d.cmd({"cmd": "http", "method": "PUT", "url": base + "/bucket/big%20file.bin",
                   "headers": [["Content-Type", "application/pdf"], ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"]],
                   "stream": n, "stall_s": 10})
        assert r["rc"] == 0 and r["status"] == 200, r
        assert r["etag"].startswith('"') and r["headers"]["x-amz-request-id"] == "REQ123", r
        assert r["headers"]["x-amz-id-2"] == "id2/abc="
        q = recorder.requests[-1]
        assert q["method"] == "PUT" and q["path"] == "/bucket/big%20file.bin"
        assert q["len"] == n and q["sha256"] == pattern_sha256(n)
        assert q["headers"]["content-length"] == str(n)
        assert "transfer-encoding" not in q["headers"] and "expect" not in q["headers"]
        assert q["headers"]["content-type"] == "application/pdf"
        assert r["stream_reads"] > 1

        # POST with an empty body (CreateMultipartUpload): Content-Length 0, no Content-Type added
        r = d.cmd({"cmd": "http", "method": "POST", "url": base + "/bucket/k?uploads"})
        assert r["rc"] == 0 and r["status"] == 200, r
        q = recorder.requests[-1]
        assert q["method"] == "POST" and q["path"] == "/bucket/k?uploads"
        assert q["headers"].get("content-length") == "0" and "content-type" not in q["headers"], q

        # POST with a body in memory (CompleteMultipartUpload's XML)
        xml = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"
        r = d.cmd({"cmd": "http", "method": "POST", "url": base + "/bucket/k?uploadId=abc",
                   "headers": [["Content-Type", "application/xml"]], "body": xml})
        assert r["rc"] == 0, r
        q = recorder.requests[-1]
        assert q["len"] == len(xml) and q["sha256"] == hashlib.sha256(xml.encode()).hexdigest()

        # HEAD: headers, no body
        r = d.cmd({"cmd": "http", "method": "HEAD", "url": base + "/bucket/k"})
        assert r["rc"] == 0 and r["status"] == 200 and r["body_len"] == 0, r
        assert r["headers"]["Content-Length"] == "12345"

        # DELETE
        r = d.cmd({"cmd": "http", "method": "DELETE", "url": base + "/bucket/k"})
        assert r["rc"] == 0 and r["status"] == 204, r
        assert recorder.requests[-1]["method"] == "DELETE"

        # GET ListObjectsV2-like XML
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/bucket?list-type=2&prefix=a%2Fb"})
        assert r["rc"] == 0 and "<KeyCount>0</KeyCount>" in r["body"], r
        assert r["headers"]["Content-Type"] == "application/xml"
        assert recorder.requests[-1]["path"] == "/bucket?list-type=2&prefix=a%2Fb"

        # all of that over one kept-alive connection
        assert recorder.connections == 1, recorder.connections

        # a body over the caller's limit
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/big", "max_body": 65536})
        assert r["rc"] == -1 and r["error"] == "too_large" and r["status"] == 200, r
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/big", "max_body": 100000})
        assert r["rc"] == 0 and r["body_len"] == 100000, r

        # an empty reply, a timeout
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/empty"})
        assert r["rc"] == -1 and r["error"] == "reset", r
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/slow", "timeout_ms": 500})
        assert r["rc"] == -1 and r["error"] == "timeout", r

        # header injection refused before anything is sent
        before = len(recorder.requests)
        r = d.cmd({"cmd": "http", "method": "GET", "url": base + "/x",
                   "headers": [["X-A", "v\r\nInjected: 1"]]})
        assert r["rc"] == -1 and r["error"] == "other", r
        assert len(recorder.requests) == before
