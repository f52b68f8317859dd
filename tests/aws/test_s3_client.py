"""
The C S3 client (src/aws/s3.c) against real parts: s3rver behind the SigV4-verifying proxy
(fakes.s3_server()), with faults injected at the proxy. The C side is tests/s3_client_driver
(built with the project; BUILD_DIR chooses the build, default <repo>/build), one long-lived
process per test holding one transport, one credentials provider and one S3 handle, as a
worker does. Bytes are checked end to end: files written here are uploaded by the driver and
fetched back with urllib through the presigned URLs it makes.

    BUILD_DIR=build /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/aws/test_s3_client.py

Every driver runs with LOG_LEVEL=debug; its stderr is checked at the end for the secret key,
presigned URL signatures and POST policy signatures (none may appear), and under a sanitizer
build for ASan/UBSan/LSan reports.
"""
import contextlib
import hashlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fakes  # noqa: E402

BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
DRIVER = os.path.join(BUILD_DIR, "tests", "s3_client_driver")
SESSION_SECRET = "driver-session-secret-0123456789abcdefghij"
BUCKET = "fileshare-test"
MIB = 1024 * 1024
PART = 5 * MIB
FAST = 0.01		# the backoff's random draw: 10 ms, 20 ms


# ------------------------------------------------------------------------------------------------
# the C driver

class Driver:
    """s3_client_driver as a subprocess: .cmd({...}) -> the JSON answer."""

    def __init__(self, env, args=(), secrets=()):
        if not os.access(DRIVER, os.X_OK):
            pytest.fail("%s is missing: build first (scripts/build %s)" % (DRIVER, BUILD_DIR))
        self.secrets = secrets		# the caller's list: it may grow while the driver runs
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

    def stderr(self):
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")

    def close(self):
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
            assert not s or s not in log, "a secret (%s...) is in the driver's log" % s[:6]
        return log


@contextlib.contextmanager
def driver(env, args=(), secrets=()):
    d = Driver(env, args, secrets)
    try:
        assert d.first.get("ready"), d.first
        d.cmd({"cmd": "random", "value": FAST})
        yield d
    finally:
        if d.proc.poll() is None or not d._err.closed:
            d.check_close()


def s3_env(s3, **over):
    env = s3.env()
    env.update(over)
    return env


# ------------------------------------------------------------------------------------------------
# fixtures and helpers

@pytest.fixture(scope="module")
def s3():
    # s3rver makes ListObjectsV2 continuation tokens with single DES, which Node's OpenSSL 3
    # only has in its legacy provider: without it every truncated listing is a 500.
    with fakes.s3_server(buckets=[BUCKET], max_seconds=600,
                         env={"NODE_OPTIONS": "--openssl-legacy-provider"}) as srv:
        yield srv


@pytest.fixture
def fresh(s3):
    s3.clear_faults()
    s3.reset()
    yield s3
    s3.clear_faults()


class Secrets:
    """What the driver's log must never contain: the secret key, and every signature it made
    (added as the test sees them)."""

    def __init__(self, s3):
        self.items = [s3.secret_key]

    def add_url(self, url):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        self.items += q.get("X-Amz-Signature", [])

    def add_form(self, fields):
        self.items += [v for n, v in fields if n in ("x-amz-signature", "policy")]


@pytest.fixture
def secrets(fresh):
    return Secrets(fresh)


@pytest.fixture
def client(fresh, secrets):
    with driver(s3_env(fresh), secrets=secrets.items) as d:
        yield d


@pytest.fixture
def tmpfiles():
    made = []

    def make(size, seed=None):
        data = os.urandom(size) if seed is None else _pattern(size, seed)
        fd, path = tempfile.mkstemp(prefix="s3-client-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        made.append(path)
        return path, data

    yield make
    for p in made:
        os.unlink(p)


def _pattern(size, seed):
    block = hashlib.sha256(b"%d" % seed).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


def fetch(url, headers=None, method="GET", data=None):
    """urllib request: (status, headers dict (lower-case names), body)."""
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def presign(d, secrets, key, **kw):
    r = d.cmd(dict({"cmd": "presign_get", "key": key}, **kw))
    assert r["ok"], r
    secrets.add_url(r["url"])
    return r["url"]


def md5_etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def unique(prefix):
    return "%s/%s" % (prefix, uuid.uuid4().hex[:12])


# ------------------------------------------------------------------------------------------------
# objects: put, head, presigned get, range, delete

def test_put_head_and_presigned_get_are_byte_identical(client, fresh, secrets, tmpfiles):
    path, data = tmpfiles(300 * 1024 + 7)
    key = unique("put")
    r = client.cmd({"cmd": "put", "key": key, "file": path, "content_type": "application/pdf"})
    assert r["ok"] and r["attempts"] == 1, r
    assert r["etag"] == md5_etag(data)
    h = client.cmd({"cmd": "head", "key": key})
    assert h["ok"] and h["size"] == len(data) and h["etag"] == md5_etag(data), h
    assert h["content_type"] == "application/pdf"
    assert abs(h["last_modified"] - time.time()) < 120

    disposition = "attachment; filename=\"resume 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf"
    url = presign(client, secrets, key, expires=120, disposition=disposition,
                  content_type="application/octet-stream")
    assert url.startswith(fresh.endpoint + "/" + BUCKET + "/put/")
    status, hdrs, body = fetch(url)
    assert status == 200 and body == data
    assert hdrs["content-disposition"] == disposition
    assert hdrs["content-type"] == "application/octet-stream"
    # Range on the presigned URL (the Range header is not signed)
    status, hdrs, body = fetch(url, headers={"Range": "bytes=1000-1999"})
    assert status == 206 and body == data[1000:2000], (status, hdrs)
    assert hdrs["content-range"] == "bytes 1000-1999/%d" % len(data)
    # an altered URL is refused by the verifying proxy
    status, _, body = fetch(url.replace("X-Amz-Expires=120", "X-Amz-Expires=121"))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    assert fresh.op_stats("PutObject") == {"received": 1, "forwarded": 1, "rejected": 0, "faulted": 0}
    assert fresh.op_stats("HeadObject")["forwarded"] == 1


def test_put_signed_payload_hash_and_memory_bodies(client, fresh, tmpfiles):
    path, data = tmpfiles(64 * 1024)
    r = client.cmd({"cmd": "put", "key": "hashed/file", "file": path, "hash": True})
    assert r["ok"] and r["etag"] == md5_etag(data), r
    r = client.cmd({"cmd": "put", "key": "hashed/memory", "data": "hello from memory",
                    "content_type": "text/plain; charset=utf-8"})
    assert r["ok"] and r["etag"] == md5_etag(b"hello from memory"), r
    h = client.cmd({"cmd": "head", "key": "hashed/memory"})
    assert h["size"] == 17 and h["content_type"] == "text/plain; charset=utf-8", h
    # a hash that is not the body's: S3 refuses it, and it is not retried
    r = client.cmd({"cmd": "put", "key": "hashed/liar", "file": path, "sha256": "0" * 64})
    assert not r["ok"] and r["kind"] == "bad_request" and r["code"] == "XAmzContentSHA256Mismatch", r
    assert r["status"] == 400 and r["attempts"] == 1 and r["request_id"]
    assert client.cmd({"cmd": "head", "key": "hashed/liar"})["kind"] == "not_found"


SPECIAL_KEYS = [
    "dir/sp ace+plus%pct~tilde/\u00fcn\u00ef\U0001F600.txt",
    "odd/a&b<c>'\"=?#;,:@$!*().txt",
    "odd/trailing/slash/",	# (s3rver answers 404 to any key with "//" in it)
]


def test_special_keys_round_trip(client, fresh, secrets, tmpfiles):
    path, data = tmpfiles(1000)
    for key in SPECIAL_KEYS:
        r = client.cmd({"cmd": "put", "key": key, "file": path})
        assert r["ok"], (key, r)
        h = client.cmd({"cmd": "head", "key": key})
        assert h["ok"] and h["size"] == 1000, (key, h)
        status, _, body = fetch(presign(client, secrets, key))
        assert status == 200 and body == data, key
    r = client.cmd({"cmd": "list_all", "prefix": "odd/"})
    assert r["ok"], r
    assert sorted(o["key"] for o in r["objects"]) == sorted(k for k in SPECIAL_KEYS if k.startswith("odd/"))
    r = client.cmd({"cmd": "list_all", "prefix": "dir/sp ace+"})
    assert [o["key"] for o in r["objects"]] == [SPECIAL_KEYS[0]], r
    for key in SPECIAL_KEYS:
        assert client.cmd({"cmd": "delete", "key": key})["ok"]
    assert fresh.stats()["totals"]["rejected"] == 0
    # keys the client refuses are never sent
    for bad in ("a/../b", "./a", "", "ctl\x01"):
        r = client.cmd({"cmd": "head", "key": bad})
        assert r["kind"] == "bad_request" and r["attempts"] == 0, (bad, r)


def test_delete(client, fresh, secrets, tmpfiles):
    path, _ = tmpfiles(10)
    assert client.cmd({"cmd": "put", "key": "del/x", "file": path})["ok"]
    url = presign(client, secrets, "del/x")
    assert fetch(url)[0] == 200
    r = client.cmd({"cmd": "delete", "key": "del/x"})
    assert r["ok"] and r["attempts"] == 1, r
    h = client.cmd({"cmd": "head", "key": "del/x"})
    assert not h["ok"] and h["kind"] == "not_found" and h["status"] == 404 and h["attempts"] == 1, h
    assert fetch(url)[0] == 404
    # deleting what is not there is fine too
    assert client.cmd({"cmd": "delete", "key": "del/x"})["ok"]
    assert client.cmd({"cmd": "delete", "key": "del/never-was"})["ok"]
    assert fresh.op_stats("DeleteObject")["forwarded"] == 3


# ------------------------------------------------------------------------------------------------
# listing

def test_list_pages_with_continuation_tokens(client, fresh, tmpfiles):
    keys = ["list/%02d-%s" % (i, "x" * i) for i in range(7)]
    sizes = {}
    for i, k in enumerate(keys):
        path, _ = tmpfiles(100 + i)
        assert client.cmd({"cmd": "put", "key": k, "file": path})["ok"]
        sizes[k] = 100 + i
    path, _ = tmpfiles(1)
    assert client.cmd({"cmd": "put", "key": "listing-other", "file": path})["ok"]
    fresh.reset()
    r = client.cmd({"cmd": "list_all", "prefix": "list/", "max_keys": 3})
    assert r["ok"], r
    assert r["pages"] == [3, 3, 1], r
    assert [o["key"] for o in r["objects"]] == sorted(keys)
    now = time.time()
    for o in r["objects"]:
        assert o["size"] == sizes[o["key"]]
        assert abs(o["last_modified"] - now) < 120
        assert o["etag"].startswith('"') and len(o["etag"]) == 34
    assert fresh.op_stats("ListObjects")["forwarded"] == 3
    # one page at a time, by hand
    p1 = client.cmd({"cmd": "list", "prefix": "list/", "max_keys": 5})
    assert p1["truncated"] and len(p1["objects"]) == 5 and p1["next_token"], p1
    p2 = client.cmd({"cmd": "list", "prefix": "list/", "max_keys": 5, "token": p1["next_token"]})
    assert not p2["truncated"] and p2["next_token"] is None and len(p2["objects"]) == 2, p2
    # nothing under a prefix
    r = client.cmd({"cmd": "list_all", "prefix": "no-such-prefix/"})
    assert r["ok"] and r["pages"] == [0] and r["objects"] == [], r


# ------------------------------------------------------------------------------------------------
# multipart uploads

def test_multipart_upload_is_byte_identical(client, fresh, secrets, tmpfiles):
    path, data = tmpfiles(2 * PART + MIB + 123)
    r = client.cmd({"cmd": "multipart", "key": "mp/big.bin", "file": path, "part_size": PART,
                    "content_type": "video/mp4"}, timeout=120)
    assert r["ok"] and r["parts"] == 3 and r["part_attempts"] == [1, 1, 1], r
    assert not r["aborted"] and r["etag"]
    h = client.cmd({"cmd": "head", "key": "mp/big.bin"})
    assert h["size"] == len(data) and h["content_type"] == "video/mp4", h
    status, _, body = fetch(presign(client, secrets, "mp/big.bin"))
    assert status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    st = fresh.stats()["operations"]
    assert st["CreateMultipartUpload"]["forwarded"] == 1
    assert st["UploadPart"] == {"received": 3, "forwarded": 3, "rejected": 0, "faulted": 0}
    assert st["CompleteMultipartUpload"]["forwarded"] == 1
    assert "AbortMultipartUpload" not in st


def test_multipart_part_500_is_retried(client, fresh, secrets, tmpfiles):
    path, data = tmpfiles(2 * PART + 4096)
    fresh.fault(type="error500", match="PUT ?partNumber=2")
    r = client.cmd({"cmd": "multipart", "key": "mp/retried.bin", "file": path, "part_size": PART},
                   timeout=120)
    assert r["ok"] and r["part_attempts"] == [1, 2, 1], r
    assert fresh.op_stats("UploadPart") == {"received": 4, "forwarded": 3, "rejected": 0, "faulted": 1}
    status, _, body = fetch(presign(client, secrets, "mp/retried.bin"))
    assert status == 200 and body == data


def test_multipart_persistent_part_failure_aborts(client, fresh, tmpfiles):
    path, _ = tmpfiles(2 * PART + 10)
    fresh.fault(type="error500", match="PUT ?partNumber=2", count=3)
    r = client.cmd({"cmd": "multipart", "key": "mp/failed.bin", "file": path, "part_size": PART},
                   timeout=120)
    assert not r["ok"] and r["kind"] == "unavailable" and r["code"] == "InternalError", r
    assert r["status"] == 500 and r["attempts"] == 3 and r["part_attempts"] == [1, 3]
    assert r["aborted"] and r["abort_ok"], r
    st = fresh.stats()["operations"]
    assert st["UploadPart"] == {"received": 4, "forwarded": 1, "rejected": 0, "faulted": 3}
    assert st["AbortMultipartUpload"] == {"received": 1, "forwarded": 1, "rejected": 0, "faulted": 0}
    assert "CompleteMultipartUpload" not in st
    assert client.cmd({"cmd": "head", "key": "mp/failed.bin"})["kind"] == "not_found"


# ------------------------------------------------------------------------------------------------
# retries, throttling, clock skew, streams

def test_slowdown_is_retried_then_reported(client, fresh, tmpfiles):
    path, data = tmpfiles(2048)
    fresh.fault(type="throttle", operation="PutObject", count=2)
    r = client.cmd({"cmd": "put", "key": "slow/a", "file": path})
    assert r["ok"] and r["attempts"] == 3 and r["rewinds"] == 2, r
    assert fresh.op_stats("PutObject") == {"received": 3, "forwarded": 1, "rejected": 0, "faulted": 2}
    fresh.reset()
    # a HEAD answer has no body, so no SlowDown code: retried the same, reported by status
    fresh.fault(type="throttle", operation="HeadObject", count=3)
    r = client.cmd({"cmd": "head", "key": "slow/a"})
    assert not r["ok"] and r["kind"] == "unavailable" and r["status"] == 503 and r["attempts"] == 3, r
    assert r["code"] == ""
    fresh.fault(type="throttle", operation="HeadObject", count=2)
    assert client.cmd({"cmd": "head", "key": "slow/a"})["attempts"] == 3
    fresh.fault(type="throttle", operation="PutObject", count=3)
    r = client.cmd({"cmd": "put", "key": "slow/b", "data": "x"})
    assert r["kind"] == "throttled" and r["code"] == "SlowDown" and r["attempts"] == 3, r
    assert r["request_id"]
    stats = client.cmd({"cmd": "stats"})
    assert stats["quota"] < 500


def test_skewed_clock_is_corrected(fresh, secrets, tmpfiles):
    path, data = tmpfiles(4096)
    fresh.set_skew(3600)
    with driver(s3_env(fresh), secrets=secrets.items) as d:
        r = d.cmd({"cmd": "put", "key": "skew/a", "file": path})
        assert r["ok"] and r["attempts"] == 2, r
        skew = d.cmd({"cmd": "stats"})["skew"]
        assert abs(skew - 3600) <= 2, skew
        # later calls and presigned URLs use the correction
        assert d.cmd({"cmd": "head", "key": "skew/a"})["attempts"] == 1
        status, _, body = fetch(presign(d, secrets, "skew/a", expires=60))
        assert status == 200 and body == data
        rejected = [q for q in fresh.requests() if q["outcome"] == "rejected"]
        assert [q["error"] for q in rejected] == ["RequestTimeTooSkewed"], rejected
    # behind, on a HEAD (no error body: the Date alone shows it)
    fresh.set_skew(-3600)
    with driver(s3_env(fresh), secrets=secrets.items) as d:
        r = d.cmd({"cmd": "head", "key": "skew/a"})
        assert r["ok"] and r["size"] == 4096 and r["attempts"] == 2, r
        assert abs(d.cmd({"cmd": "stats"})["skew"] + 3600) <= 2


def test_streamed_body_retry_needs_rewind(fresh, secrets, tmpfiles):
    path, data = tmpfiles(100 * 1024)
    # a reset after the proxy read the body: the stream was consumed
    fresh.fault(type="reset", operation="PutObject")
    with driver(s3_env(fresh), secrets=secrets.items) as d:
        r = d.cmd({"cmd": "put", "key": "stream/norewind", "file": path, "rewind": False})
        assert not r["ok"] and r["kind"] == "unavailable" and r["attempts"] == 1, r
        assert r["transport"] == "reset"
    fresh.fault(type="reset", operation="PutObject")
    with driver(s3_env(fresh), secrets=secrets.items) as d:
        r = d.cmd({"cmd": "put", "key": "stream/rewind", "file": path})
        assert r["ok"] and r["rewinds"] >= 1, r
        status, _, body = fetch(presign(d, secrets, "stream/rewind"))
        assert status == 200 and body == data


# ------------------------------------------------------------------------------------------------
# browser uploads with a presigned POST policy

def multipart_form(fields, filename, data, content_type="application/octet-stream"):
    boundary = "----s3clienttest" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, name, value)).encode())
    out.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, filename, content_type)).encode())
    out.append(data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def post_form(r, data, fields=None):
    body, ctype = multipart_form(fields or r["fields"], "x.bin", data)
    return fetch(r["url"], method="POST", data=body, headers={"Content-Type": ctype})


def test_browser_post_upload_within_the_policy(client, fresh, secrets):
    r = client.cmd({"cmd": "presign_post", "key": "post/ok.bin", "min": 1, "max": 1000,
                    "content_type": "application/octet-stream", "expires": 300})
    assert r["ok"], r
    secrets.add_form(r["fields"])
    assert r["url"] == fresh.endpoint + "/" + BUCKET
    assert [n for n, _ in r["fields"]] == ["key", "Content-Type", "x-amz-algorithm", "x-amz-credential",
                                            "x-amz-date", "policy", "x-amz-signature"]
    data = os.urandom(1000)
    status, _, body = post_form(r, data)
    assert status == 204, body
    h = client.cmd({"cmd": "head", "key": "post/ok.bin"})
    assert h["ok"] and h["size"] == 1000, h
    status, _, got = fetch(presign(client, secrets, "post/ok.bin"))
    assert status == 200 and got == data
    assert fresh.op_stats("PostObject")["forwarded"] == 1


def test_browser_post_upload_outside_the_policy(client, fresh, secrets):
    r = client.cmd({"cmd": "presign_post", "key": "post/big.bin", "min": 1, "max": 1000,
                    "expires": 300})
    assert r["ok"], r
    secrets.add_form(r["fields"])
    status, _, body = post_form(r, os.urandom(1001))
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in body, body
    status, _, body = post_form(r, b"")
    assert status == 400 and b"<Code>EntityTooSmall</Code>" in body, body
    # another key than the signed one
    fields = [(n, "post/other.bin" if n == "key" else v) for n, v in r["fields"]]
    status, _, body = post_form(r, b"x", fields)
    assert status == 403 and b"Policy Condition failed" in body, body
    # a tampered policy
    fields = [(n, v[:-4] + "AAA=" if n == "policy" else v) for n, v in r["fields"]]
    status, _, body = post_form(r, b"x", fields)
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    assert client.cmd({"cmd": "head", "key": "post/big.bin"})["kind"] == "not_found"
    assert client.cmd({"cmd": "head", "key": "post/other.bin"})["kind"] == "not_found"


# ------------------------------------------------------------------------------------------------
# credentials

def test_bad_credentials_are_access_denied(fresh):
    wrong_secret = "WRONGSECRETwJalrXUtnFEMI/K7MDENG+bPxRf"
    with driver(s3_env(fresh, AWS_SECRET_ACCESS_KEY=wrong_secret), secrets=[wrong_secret]) as d:
        r = d.cmd({"cmd": "put", "key": "denied/a", "data": "x"})
        assert not r["ok"] and r["kind"] == "access_denied" and r["code"] == "SignatureDoesNotMatch", r
        assert r["status"] == 403 and r["attempts"] == 1 and r["request_id"], r
        r = d.cmd({"cmd": "head", "key": "denied/a"})
        assert r["kind"] == "access_denied" and r["status"] == 403 and r["attempts"] == 1, r
        r = d.cmd({"cmd": "presign_get", "key": "denied/a"})
        status, _, body = fetch(r["url"])
        assert status == 403 and b"SignatureDoesNotMatch" in body
        log = d.stderr()
        assert "SignatureDoesNotMatch" in log and "failed (access_denied)" in log
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(r["url"]).query)["X-Amz-Signature"][0] not in log
    with driver(s3_env(fresh, AWS_ACCESS_KEY_ID="AKIDUNKNOWN0000"), secrets=[fresh.secret_key]) as d:
        r = d.cmd({"cmd": "list", "prefix": "x"})
        assert r["kind"] == "access_denied" and r["code"] == "InvalidAccessKeyId" and r["attempts"] == 1, r
    assert fresh.stats()["totals"]["forwarded"] == 0
