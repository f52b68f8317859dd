"""
Start and stop the local AWS stand-ins (tests/aws/ddb-proxy.mjs, tests/aws/s3-server.mjs) from
Python tests, and talk to their control endpoints.

    from fakes import ddb_proxy, s3_server          # sys.path += [<repo>/tests/aws]

    with ddb_proxy() as ddb, s3_server(buckets=["fileshare-test"]) as s3:
        env = {**ddb.env(), **s3.env()}             # AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, keys...
        ddb.call("CreateTable", {...})              # a correctly signed request (botocore's signer)
        ddb.fault(type="throttle", operation="UpdateItem", count=2)
        ...                                         # run the C program against env
        assert ddb.op_stats("UpdateItem")["faulted"] == 2

Both servers listen on 127.0.0.1 only, and stop when the context exits (even on failure), when
this Python process exits, or after max_seconds (default 1800) whatever happens. See README.md
for the fault shapes.

Only the standard library is needed to start/stop/control; call()/request()/presign() use
botocore (Debian's python3-botocore) and import it lazily.
"""
import atexit
import contextlib
import http.client
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))
DDB_SCRIPT = os.path.join(HERE, "ddb-proxy.mjs")
S3_SCRIPT = os.path.join(HERE, "s3-server.mjs")

DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "fileshare-test"

_live = weakref.WeakSet()


@atexit.register
def _stop_all():
    for server in list(_live):
        try:
            server.close()
        except Exception:
            pass


class Response:
    """An HTTP answer: status, headers (list of pairs), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    @property
    def error_type(self):
        """DynamoDB's error name (the part of __type after '#'), or None."""
        try:
            return (self.json() or {}).get("__type", "").split("#")[-1] or None
        except ValueError:
            return None

    @property
    def s3_error_code(self):
        """S3's <Code> from an XML error body, or None."""
        import re
        m = re.search(rb"<Code>([^<]*)</Code>", self.body or b"")
        return m.group(1).decode() if m else None

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:200])


def http_send(port, method, path, headers=None, body=b"", timeout=10.0, host="127.0.0.1"):
    """Sends one request to the loopback server and returns a Response (or raises the socket
    error: timeouts, connection resets)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=bool(headers and any(k.lower() == "host" for k in headers)),
                        skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if (body or method in ("PUT", "POST")) and not any(k.lower() == "content-length" for k in hdrs):
            hdrs["Content-Length"] = str(len(body or b""))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.getheaders(), data)
    finally:
        conn.close()


def _node():
    node = os.environ.get("NODE") or shutil.which("node")
    if not node:
        raise RuntimeError("node (v20) is needed for the AWS stand-ins and is not on PATH")
    return node


class _FakeServer:
    """What both stand-ins share: the process, its endpoint, and the /__proxy/ controls."""

    kind = "?"

    def __init__(self, script, args, access_key, secret_key, region, startup_timeout, env):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.session_token = None
        self._tmp = tempfile.mkdtemp(prefix="aws-fake-%s-" % self.kind)
        self.log_path = os.path.join(self._tmp, "server.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [_node(), script] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=dict(os.environ, **(env or {})), close_fds=True,
        )
        _live.add(self)
        try:
            self.info = self._read_ready(startup_timeout)
        except BaseException:
            self.close()
            raise
        self.host = "127.0.0.1"
        self.port = self.info["port"]
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def _read_ready(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("%s did not become ready in %ss; log:\n%s" % (self.kind, timeout, self.log()))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=5)
                    raise RuntimeError("%s exited with %s before it was ready; log:\n%s"
                                       % (self.kind, self.proc.returncode, self.log()))
                buf += chunk
        line = buf.split(b"\n", 1)[0]
        info = json.loads(line.decode("utf-8"))
        if not info.get("ready"):
            raise RuntimeError("%s: unexpected first line %r" % (self.kind, line))
        return info

    # -- lifetime -------------------------------------------------------------------------------

    def close(self):
        """Stops the server (closing its stdin, then SIGTERM, then SIGKILL) and removes its files.
        Safe to call twice."""
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()
            except Exception:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=3)
        if proc is not None:
            for f in (proc.stdin, proc.stdout):
                try:
                    if f:
                        f.close()
                except Exception:
                    pass
        if getattr(self, "_log", None) and not self._log.closed:
            self._log.close()
        if getattr(self, "_tmp", None) and os.path.isdir(self._tmp) and not os.environ.get("AWS_FAKES_KEEP_LOGS"):
            shutil.rmtree(self._tmp, ignore_errors=True)
        _live.discard(self)

    @property
    def running(self):
        return self.proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def log(self):
        """The server's stderr so far (one line per rejected request, with the reason)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- control endpoints ------------------------------------------------------------------------

    def _control(self, method, what, body=None, query=""):
        data = json.dumps(body).encode() if body is not None else b""
        r = http_send(self.port, method, "/__proxy/" + what + (("?" + query) if query else ""),
                      {"Content-Type": "application/json"}, data)
        payload = r.json()
        if r.status != 200:
            raise RuntimeError("%s %s /__proxy/%s: %s %s" % (self.kind, method, what, r.status, payload))
        return payload

    def stats(self):
        """{"operations": {op: {received, forwarded, rejected, faulted}}, "totals": {...}}"""
        return self._control("GET", "stats")

    def op_stats(self, op):
        """The counters of one operation (zeros if it was never seen)."""
        return self.stats()["operations"].get(op, {"received": 0, "forwarded": 0, "rejected": 0, "faulted": 0})

    def reset(self):
        """Zeroes the counters and the request log (pending faults stay; see clear_faults)."""
        self._control("POST", "reset")

    def requests(self, since=0):
        """The recent requests, oldest first: {seq, at, op, method, path, status, outcome,
        error, reason, fault, access_key}."""
        return self._control("GET", "requests", query="since=%d" % since)["requests"]

    def fault(self, **spec):
        """Adds one fault, e.g. fault(type="throttle", operation="UpdateItem", count=2);
        fault(type="skew", seconds=600) sets the clock skew. Returns the fault's id."""
        return self._control("POST", "faults", spec)["ids"][0]

    def add_faults(self, specs):
        return self._control("POST", "faults", list(specs))["ids"]

    def faults(self):
        """{"pending": [...], "skew_seconds": N, "fired": [...]}"""
        return self._control("GET", "faults")

    def clear_faults(self):
        """Drops pending faults and sets the skew back to 0."""
        self._control("DELETE", "faults")

    def set_skew(self, seconds):
        self._control("POST", "faults", {"type": "skew", "seconds": seconds})

    def set_credentials(self, credentials):
        """Replaces the accepted credential sets at run time:
        [{"access_key", "secret_key", "session_token"?}, ...]."""
        self._control("POST", "credentials", {"credentials": list(credentials)})

    def restore_credentials(self):
        """Back to the start-up sets (--access-key/--secret-key and the credentials file)."""
        self._control("POST", "credentials", {"restore": True})

    # -- signing helpers (botocore) ----------------------------------------------------------------

    def _creds(self, access_key, secret_key, session_token):
        from botocore.credentials import Credentials
        return Credentials(access_key or self.access_key, secret_key or self.secret_key,
                           session_token if session_token is not None else self.session_token)

    def env(self):
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


class DdbProxy(_FakeServer):
    """dynalite behind the SigV4-verifying proxy. Attributes: endpoint, port, region,
    access_key, secret_key, dynalite_port, creds_file (if credentials were given)."""

    kind = "ddb-proxy"

    def __init__(self, port=0, region=DEFAULT_REGION, access_key=DEFAULT_ACCESS_KEY,
                 secret_key=DEFAULT_SECRET_KEY, credentials=None, no_default_creds=False,
                 max_seconds=1800, max_skew_seconds=300, auth_error_status=403, create_table_ms=0,
                 verbose=False, extra_args=(), startup_timeout=20, env=None):
        self.creds_file = None
        args = ["--port", str(port), "--region", region, "--access-key", access_key,
                "--secret-key", secret_key, "--max-seconds", str(max_seconds),
                "--max-skew-seconds", str(max_skew_seconds), "--auth-error-status", str(auth_error_status),
                "--create-table-ms", str(create_table_ms)]
        self._creds_dir = None
        if credentials is not None:
            self._creds_dir = tempfile.mkdtemp(prefix="aws-fake-creds-")
            self.creds_file = os.path.join(self._creds_dir, "credentials.json")
            self.write_credentials_file(credentials)
            args += ["--creds-file", self.creds_file]
        if no_default_creds:
            args.append("--no-default-creds")
        if verbose:
            args.append("--verbose")
        args += list(extra_args)
        super().__init__(DDB_SCRIPT, args, access_key, secret_key, region, startup_timeout, env)
        self.dynalite_port = self.info["dynalite_port"]

    def write_credentials_file(self, credentials):
        """Rewrites the credentials file atomically (the proxy re-reads it when it changes), to
        test rotation: [{"access_key", "secret_key", "session_token"}]."""
        if not self.creds_file:
            raise RuntimeError("start the proxy with credentials=[...] to use a credentials file")
        tmp = self.creds_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(list(credentials), f)
        os.replace(tmp, self.creds_file)
        # make sure the change is visible even within the same mtime tick
        st = os.stat(self.creds_file)
        os.utime(self.creds_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))

    def close(self):
        super().close()
        if getattr(self, "_creds_dir", None):
            shutil.rmtree(self._creds_dir, ignore_errors=True)

    def env(self):
        """Environment for the C program: AWS_ENDPOINT_URL_DYNAMODB, region, keys."""
        env = super().env()
        env["AWS_ENDPOINT_URL_DYNAMODB"] = self.endpoint
        return env

    def sign(self, op, payload, access_key=None, secret_key=None, session_token=None, region=None,
             service="dynamodb", body=None, headers=None, path="/"):
        """Signs a DynamoDB call with botocore's SigV4Auth and returns (path, headers, body)
        without sending it, so tests can alter things after signing."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        data = body if body is not None else json.dumps(payload).encode("utf-8")
        hdrs = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op}
        hdrs.update(headers or {})
        req = AWSRequest("POST", self.endpoint + path, data=data, headers=hdrs)
        SigV4Auth(self._creds(access_key, secret_key, session_token), service, region or self.region).add_auth(req)
        prepared = req.prepare()
        out = {k: v for k, v in prepared.headers.items()}
        return urllib.parse.urlsplit(prepared.url).path or "/", out, data

    def send(self, path, headers, body, timeout=10.0):
        return http_send(self.port, "POST", path, headers, body, timeout=timeout)

    def call(self, op, payload, timeout=10.0, **sign_opts):
        """A correctly signed DynamoDB call; returns a Response (.status, .json(), .error_type)."""
        path, headers, body = self.sign(op, payload, **sign_opts)
        return self.send(path, headers, body, timeout=timeout)

    def ttl_sweep(self, now=None):
        """Deletes items whose TTL attribute is <= now (epoch seconds; default: the proxy's
        clock) in tables with TTL enabled. Returns {table: deleted}."""
        return self._control("POST", "ttl-sweep", {} if now is None else {"now": now})["deleted"]


class S3Server(_FakeServer):
    """s3rver behind the SigV4-verifying proxy. Attributes: endpoint, port, region, buckets,
    bucket (the first), directory, backend_port."""

    kind = "s3-server"

    def __init__(self, port=0, buckets=(DEFAULT_BUCKET,), directory=None, region=DEFAULT_REGION,
                 access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY, credentials=None,
                 no_default_creds=False, cors_origins=None, cors_xml=None, max_seconds=1800,
                 verbose=False, extra_args=(), startup_timeout=20, env=None):
        args = ["--port", str(port), "--region", region, "--access-key", access_key,
                "--secret-key", secret_key, "--max-seconds", str(max_seconds)]
        for b in buckets:
            args += ["--bucket", b]
        if directory:
            args += ["--dir", directory]
        self._extra_dir = tempfile.mkdtemp(prefix="aws-fake-s3cfg-")
        if credentials is not None:
            path = os.path.join(self._extra_dir, "credentials.json")
            with open(path, "w") as f:
                json.dump(list(credentials), f)
            args += ["--creds-file", path]
        if no_default_creds:
            args.append("--no-default-creds")
        for o in cors_origins or ():
            args += ["--cors-origin", o]
        if cors_xml:
            path = os.path.join(self._extra_dir, "cors.xml")
            with open(path, "w") as f:
                f.write(cors_xml)
            args += ["--cors-file", path]
        if verbose:
            args.append("--verbose")
        args += list(extra_args)
        self.buckets = list(buckets)
        self.bucket = self.buckets[0] if self.buckets else None
        # s3rver makes ListObjectsV2 continuation tokens with single DES, which Node's
        # OpenSSL 3 only has in the legacy provider: without it every truncated listing fails.
        env = dict(env or {})
        opts = env.get("NODE_OPTIONS", os.environ.get("NODE_OPTIONS", ""))
        if "--openssl-legacy-provider" not in opts:
            env["NODE_OPTIONS"] = (opts + " --openssl-legacy-provider").strip()
        super().__init__(S3_SCRIPT, args, access_key, secret_key, region, startup_timeout, env)
        self.directory = self.info["dir"]
        self.backend_port = self.info["backend_port"]

    def close(self):
        super().close()
        if getattr(self, "_extra_dir", None):
            shutil.rmtree(self._extra_dir, ignore_errors=True)

    def env(self, bucket=None):
        """Environment for the C program: BLOB_BACKEND=s3, S3_BUCKET, AWS_ENDPOINT_URL_S3, keys."""
        env = super().env()
        env["AWS_ENDPOINT_URL_S3"] = self.endpoint
        env["BLOB_BACKEND"] = "s3"
        if bucket or self.bucket:
            env["S3_BUCKET"] = bucket or self.bucket
        return env

    def path(self, key, bucket=None):
        """Path-style path of an object: /bucket/key (key percent-encoded, '/' kept)."""
        return "/%s/%s" % (bucket or self.bucket, urllib.parse.quote(key, safe="/~"))

    def sign(self, method, key, body=b"", headers=None, query=None, bucket=None, access_key=None,
             secret_key=None, session_token=None, region=None, unsigned_payload=False):
        """Signs an S3 request with botocore's S3SigV4Auth (x-amz-content-sha256 included) and
        returns (path_with_query, headers, body) without sending it."""
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        path = self.path(key, bucket) if key is not None else "/%s" % (bucket or self.bucket)
        if query:
            path += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        hdrs = dict(headers or {})
        if unsigned_payload:
            hdrs["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        req = AWSRequest(method, self.endpoint + path, data=body, headers=hdrs)
        S3SigV4Auth(self._creds(access_key, secret_key, session_token), "s3", region or self.region).add_auth(req)
        prepared = req.prepare()
        parts = urllib.parse.urlsplit(prepared.url)
        return parts.path + (("?" + parts.query) if parts.query else ""), dict(prepared.headers.items()), body

    def request(self, method, key, body=b"", timeout=10.0, **sign_opts):
        """A correctly signed S3 request; returns a Response."""
        path, headers, data = self.sign(method, key, body=body, **sign_opts)
        return http_send(self.port, method, path, headers, data, timeout=timeout)

    def presign(self, method, key, expires=300, bucket=None, params=None, access_key=None,
                secret_key=None, session_token=None, region=None):
        """A presigned URL (botocore's S3SigV4QueryAuth), e.g. presign("GET", "k",
        params={"response-content-disposition": 'attachment; filename="a.txt"'})."""
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        url = self.endpoint + self.path(key, bucket)
        if params:
            url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        req = AWSRequest(method, url)
        S3SigV4QueryAuth(self._creds(access_key, secret_key, session_token), "s3", region or self.region,
                         expires=expires).add_auth(req)
        return req.url

    def get_url(self, url, method="GET", headers=None, body=b"", timeout=10.0):
        """Fetches a (presigned) URL of this server."""
        parts = urllib.parse.urlsplit(url)
        return http_send(parts.port, method, parts.path + (("?" + parts.query) if parts.query else ""),
                         headers, body, timeout=timeout)

    def object_path(self, key, bucket=None):
        """Where s3rver keeps the object's bytes on disk (for white-box checks)."""
        return os.path.join(self.directory, bucket or self.bucket, key + "._S3rver_object")


def start_ddb_proxy(**opts):
    """Starts the DynamoDB proxy and returns a DdbProxy; call .close() (or use ddb_proxy())."""
    return DdbProxy(**opts)


def start_s3_server(**opts):
    """Starts the S3 stand-in and returns an S3Server; call .close() (or use s3_server())."""
    return S3Server(**opts)


@contextlib.contextmanager
def ddb_proxy(**opts):
    """with ddb_proxy(region="us-east-1", credentials=[...]) as ddb: ..."""
    server = DdbProxy(**opts)
    try:
        yield server
    finally:
        server.close()


@contextlib.contextmanager
def s3_server(**opts):
    """with s3_server(buckets=["b"], cors_origins=["http://127.0.0.1:8080"]) as s3: ..."""
    server = S3Server(**opts)
    try:
        yield server
    finally:
        server.close()
