"""
The integration harness: starts the real stack (nginx + fileshare-fcgi through scripts/serve)
on a free loopback port with a temporary state directory, and gives tests an HTTP client.

Environment: BUILD_DIR (default <repo>/build) chooses the binaries, so the same tests run
against the plain and the sanitizer builds. Extra variables for the app (USE_DYNAMODB, ...)
can be supplied per stack.

Logs: every stack's log goes to LOG_DIR (FS_TEST_LOG_DIR, default <BUILD_DIR>/test-logs) and
stays there after the run, with one secrets-*.json per test process listing the passwords,
tokens, cookies and keys it used, so tests/security can check that no log of the whole run
holds any of them. Files older than six hours are pruned (no test run takes that long,
and an older log may come from older code). spawn-fcgi points its children's stderr
at /dev/null, so in that mode the workers are started through a shim that sends their stderr
(log lines and sanitizer reports) to the stack's log as well.
"""
import glob
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
# FS_TEST_STORE=dynamodb runs the whole suite against DynamoDB (dynalite behind the
# SigV4-verifying proxy), each stack on tables of its own.
STORE = os.environ.get("FS_TEST_STORE", "sqlite")
# FS_TEST_BLOBS=s3 keeps file bodies in S3 (s3rver behind the SigV4-verifying proxy).
BLOB_BACKEND = os.environ.get("FS_TEST_BLOBS", "local")
sys.path.insert(0, os.path.join(ROOT, "tests", "aws"))
SANITIZER_RE = re.compile(r"(ERROR: \w*Sanitizer|runtime error:|SUMMARY: \w*Sanitizer|"
                          r"Sanitizer has encountered a fatal error|Sanitizer:DEADLYSIGNAL)")
PASSWORD = "correct horse battery staple"
# Processes of the supervisor beside its WORKERS workers (their /proc comm), never counted as
# workers: the checkpointer, and on SQLite the link worker (link opens, --links-listen).
HELPER_COMMS = {"fs-checkpoint", "fs-links"}
LOG_DIR = os.environ.get("FS_TEST_LOG_DIR") or os.path.join(BUILD_DIR, "test-logs")
SECRETS = {PASSWORD}    # every secret value this process used (see the docstring)


def _prune_logs(max_age=6 * 3600):
    os.makedirs(LOG_DIR, exist_ok=True)
    for f in glob.glob(os.path.join(LOG_DIR, "*")):
        try:
            if os.path.getmtime(f) < time.time() - max_age:
                os.remove(f)
        except OSError:
            pass


_prune_logs()


def pytest_sessionfinish(session):
    path = os.path.join(LOG_DIR, "secrets-%d-%s.json" % (os.getpid(), uuid.uuid4().hex[:8]))
    with open(path, "w") as f:
        json.dump(sorted(s for s in SECRETS if s), f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_code(self):
        try:
            return self.json["error"]["code"]
        except Exception:
            return None

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class Client:
    """A browser-like client: keeps the session cookie and sends a same-site Origin."""

    def __init__(self, stack, origin=True):
        self.stack = stack
        self.cookie = None
        self.bearer = None
        self.origin = origin

    def request(self, method, path, body=None, headers=None, json_body=None, timeout=30):
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        if isinstance(json_body, dict) and isinstance(json_body.get("password"), str):
            SECRETS.add(json_body["password"])
        if self.cookie:
            hdrs["Cookie"] = "fs_session=" + self.cookie
        if self.bearer:
            hdrs["Authorization"] = "Bearer " + self.bearer
        if self.origin and method not in ("GET", "HEAD"):
            hdrs["Origin"] = self.stack.base_url
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        resp = self.stack.raw(method, path, body=body, headers=hdrs, timeout=timeout)
        for v in resp.header_all("Set-Cookie"):
            m = re.match(r"fs_session=([^;]*)", v)
            if m:
                self.cookie = m.group(1) or None
                SECRETS.add(m.group(1))
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def signup(self, email=None, password=PASSWORD):
        email = email or "user-%s@example.com" % uuid.uuid4().hex[:12]
        r = self.post("/api/auth/signup", {"email": email, "password": password})
        assert r.status == 201, r
        self.email = email
        return r

    def login(self, email, password=PASSWORD):
        return self.post("/api/auth/login", {"email": email, "password": password})

    def premium(self):
        """Starts the trial: premium limits from now on."""
        r = self.post("/api/trial/start", {})
        assert r.status == 200, r
        return self

    def api_token(self):
        r = self.post("/api/auth/tokens", {})
        assert r.status == 201, r
        SECRETS.add(r.json["token"])
        return r.json["token"]

    def shorten(self, url, **opts):
        body = {"url": url}
        body.update(opts)
        return self.post("/api/links", body)

    def links(self, **query):
        qs = "&".join("%s=%s" % kv for kv in query.items())
        return self.get("/api/links" + ("?" + qs if qs else ""))


def segments_resolved(name):
    """Does a file name sent as one path segment (PUT /api/files/{name}), once nginx decodes it,
    give a "." or ".." segment or an empty one inside ("//")? nginx would resolve it and match
    the request on another path: the app refuses it (400)."""
    segs = name.split("/")
    return any(seg in (".", "..") for seg in segs) or "" in segs[:-1]


def stop_serve(proc, timeout=15):
    """Stops a scripts/serve started in a session of its own as an operator would (SIGTERM:
    it stops nginx and the app), and kills the whole session if it is not done in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Stack:
    def __init__(self, tmpdir, mode="prefork", workers=3, env=None):
        self.tmpdir = tmpdir
        self.mode = mode
        self.workers = workers
        self.port = free_port()
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.var_dir = os.path.join(tmpdir, "var")
        self.log_path = os.path.join(LOG_DIR, "%s-%s-serve.log" % (os.path.basename(tmpdir), uuid.uuid4().hex[:8]))
        self.env = dict(os.environ)
        self.env.update({
            "PORT": str(self.port),
            "VAR_DIR": self.var_dir,
            "BUILD_DIR": BUILD_DIR,
            "WORKERS": str(workers),
            "FCGI_MODE": mode,
            "AUTH_RATE": "1000r/s",
            "AUTH_BURST": "1000",
            "PURGE_INTERVAL": "0",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        })
        if BLOB_BACKEND == "s3":
            bucket = "it-" + uuid.uuid4().hex[:12]
            s3 = s3_handle()
            r = s3.request("PUT", "", bucket=bucket)
            assert r.status == 200, r.body
            self.env.update(s3.env(bucket))
        if STORE == "dynamodb":
            prefix = "it-" + uuid.uuid4().hex[:10]
            self.env.update(ddb_env())
            self.env.update({"USE_DYNAMODB": "true",
                             "DYNAMODB_USERS_TABLE_NAME": prefix + "-users",
                             "DYNAMODB_URLS_TABLE_NAME": prefix + "-urls"})
        self.env.update(env or {})
        if mode == "spawn":
            # serve runs $BUILD_DIR/fileshare-fcgi: a shim that keeps the worker's stderr.
            shim = os.path.join(tmpdir, "spawn-shim")
            os.makedirs(shim, exist_ok=True)
            with open(os.path.join(shim, "fileshare-fcgi"), "w") as f:
                f.write('#!/bin/sh\nexec 2>>"%s"\nexec "%s/fileshare-fcgi" "$@"\n' % (self.log_path, BUILD_DIR))
            os.chmod(os.path.join(shim, "fileshare-fcgi"), 0o755)
            self.env["BUILD_DIR"] = shim
        self.proc = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout=20):
        if STORE == "dynamodb":
            self.admin("create-tables")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(ROOT, "scripts", "serve")], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("scripts/serve exited early:\n" + self.read_log()[-3000:])
            try:
                r = self.raw("GET", "/healthz", timeout=2)
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("stack did not become healthy:\n" + self.read_log()[-3000:])

    def stop(self, timeout=15):
        if self.proc is None:
            return
        stop_serve(self.proc, timeout)
        self.proc = None
        self.log.close()
        for name in ("SESSION_SECRET", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            SECRETS.add(self.env.get(name))
        try:
            with open(os.path.join(self.var_dir, "session-secret")) as f:
                SECRETS.add(f.read().strip())
        except OSError:
            pass

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def access_lines(self, count=1, timeout=10, **match):
        """The access-log entries whose fields equal `match` (path="/x", method="POST"), once at
        least `count` of them are in the log. A worker writes its access lines after it has
        answered (one write per batch of answers), so a client can hold its response a moment
        before the line is there: wait for it rather than read once. Raises AssertionError with
        what was found when the lines do not come within `timeout` seconds."""
        deadline = time.time() + timeout
        while True:
            found = []
            for line in self.read_log().splitlines():
                if not line.startswith("{") or '"type":"access"' not in line:
                    continue
                entry = json.loads(line)
                if all(entry.get(k) == v for k, v in match.items()):
                    found.append(entry)
            if len(found) >= count or time.time() >= deadline:
                break
            time.sleep(0.05)
        assert len(found) >= count, "%d access lines matching %r, wanted %d" % (
            len(found), match, count)
        return found

    def sanitizer_reports(self):
        return [l for l in self.read_log().splitlines() if SANITIZER_RE.search(l)]

    # -- processes --------------------------------------------------------------------------
    def _fcgi_procs(self):
        """(pid, ppid, comm) of every fileshare-fcgi process of this stack, helpers included."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().split(b"\0")
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                with open("/proc/%s/environ" % d, "rb") as f:
                    environ = f.read()
            except OSError:
                continue
            if not cmd or not cmd[0].endswith(b"fileshare-fcgi"):
                continue
            if ("VAR_DIR=" + self.var_dir).encode() + b"\0" not in environ:
                continue
            comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
            out.append((int(d), int(stat.rsplit(")", 1)[1].split()[1]), comm))
        return out

    def app_pids(self):
        """The fileshare-fcgi processes of this stack (supervisor and workers; the supervisor's
        helpers are not workers)."""
        return [(p, pp) for p, pp, comm in self._fcgi_procs() if comm not in HELPER_COMMS]

    def helper_pids(self, comm):
        """The supervisor's helper processes named comm (see HELPER_COMMS)."""
        return [p for p, _, c in self._fcgi_procs() if c == comm]

    def supervisor_pid(self):
        pids = self.app_pids()
        own = {p for p, _ in pids}
        sup = [p for p, pp in pids if pp not in own]
        return sup[0] if len(sup) == 1 else None

    def worker_pids(self):
        pids = self.app_pids()
        if self.mode == "spawn":
            return [p for p, _ in pids]
        sup = self.supervisor_pid()
        return [p for p, pp in pids if pp == sup]

    # -- HTTP -------------------------------------------------------------------------------
    def raw(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            conn.close()

    def client(self, **kw):
        return Client(self, **kw)

    def admin(self, *args, env=None, check=True):
        e = dict(self.env)
        e["DATA_DIR"] = self.var_dir
        e.update(env or {})
        p = subprocess.run([os.path.join(BUILD_DIR, "fileshare-admin")] + list(args), env=e,
                           capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        return p

    @property
    def sqlite_path(self):
        return os.path.join(self.var_dir, "fileshare.db")

    # -- reaching into the store, as an operator could (the same on both backends) ---------
    def _ddb(self, op, payload):
        r = ddb_proxy_handle().call(op, payload)
        assert r.status == 200, (op, r.status, r.body[:300])
        return r.json()

    def _sql(self, sql, args=()):
        db = sqlite3.connect(self.sqlite_path, timeout=10)
        try:
            with db:
                return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def expire_link(self, code, when=1577836800):
        """Moves a link's expiry into the past (no sleeping)."""
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        if STORE == "dynamodb":
            self._ddb("UpdateItem", {
                "TableName": self.env["DYNAMODB_URLS_TABLE_NAME"], "Key": {"short_code": {"S": code}},
                "UpdateExpression": "SET expires_at = :s, expires_at_ttl = :n",
                "ExpressionAttributeValues": {":s": {"S": ts}, ":n": {"N": str(when)}}})
        else:
            self._sql("UPDATE urls SET expires_at=?, expires_at_ttl=? WHERE short_code=?", (ts, when, code))

    def set_trial(self, user_id, started, expires):
        if STORE == "dynamodb":
            self._ddb("UpdateItem", {
                "TableName": self.env["DYNAMODB_USERS_TABLE_NAME"], "Key": {"user_id": {"S": user_id}},
                "UpdateExpression": "SET trial_started_at = :s, trial_expires_at = :e",
                "ExpressionAttributeValues": {":s": {"S": started}, ":e": {"S": expires}}})
        else:
            self._sql("UPDATE users SET trial_started_at=?, trial_expires_at=? WHERE user_id=?",
                      (started, expires, user_id))

    def link_attr(self, code, attr):
        if STORE == "dynamodb":
            item = self._ddb("GetItem", {"TableName": self.env["DYNAMODB_URLS_TABLE_NAME"],
                                         "Key": {"short_code": {"S": code}}, "ConsistentRead": True}).get("Item", {})
            v = item.get(attr)
            return None if v is None else list(v.values())[0]
        rows = self._sql("SELECT %s FROM urls WHERE short_code=?" % attr, (code,))
        return rows[0][0] if rows else None

    # -- the blob store, seen from outside -------------------------------------------------
    def blob_keys(self):
        """The keys of the stored blobs (and, for local blobs, the names of partial writes)."""
        if BLOB_BACKEND == "s3":
            keys, token = [], None
            while True:
                q = {"list-type": "2"}
                if token:
                    q["continuation-token"] = token
                r = s3_handle().request("GET", "", bucket=self.env["S3_BUCKET"], query=q)
                assert r.status == 200, r.body[:300]
                body = r.body.decode()
                keys += re.findall(r"<Key>([^<]*)</Key>", body)
                m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
                if not m:
                    return sorted(keys)
                token = m.group(1)
        d = os.path.join(self.var_dir, "blobs")
        names = []
        for sub in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            p = os.path.join(d, sub)
            if os.path.isdir(p):
                names += [n for n in os.listdir(p) if os.path.isfile(os.path.join(p, n))]
        return sorted(names)

    def put_blob(self, key, data):
        """Writes a blob behind the app's back (an orphan, as a crash would leave)."""
        if BLOB_BACKEND == "s3":
            r = s3_handle().request("PUT", key, body=data, bucket=self.env["S3_BUCKET"])
            assert r.status == 200, r.body[:300]
        else:
            p = os.path.join(self.var_dir, "blobs", key[:2], key)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)

    def fetch_url(self, url, headers=None):
        """GET an absolute URL (a presigned S3 URL the app redirected to)."""
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def count_links(self):
        if STORE == "dynamodb":
            r = self._ddb("Scan", {"TableName": self.env["DYNAMODB_URLS_TABLE_NAME"], "Select": "COUNT"})
            return r["Count"]
        return self._sql("SELECT count(*) FROM urls")[0][0]


_ddb = None
_s3 = None


def s3_handle():
    """The session's S3 stand-in (s3rver behind the SigV4-verifying proxy)."""
    global _s3
    if _s3 is None:
        from fakes import start_s3_server
        _s3 = start_s3_server(buckets=["fileshare-it"])
    return _s3


def ddb_env():
    """The session's DynamoDB stand-in (started on first use, stopped at exit)."""
    global _ddb
    if _ddb is None:
        from fakes import start_ddb_proxy
        _ddb = start_ddb_proxy(auth_error_status=400)
    return _ddb.env()


def ddb_proxy_handle():
    ddb_env()
    return _ddb


def make_stack(tmp_path_factory, name, **kw):
    return Stack(str(tmp_path_factory.mktemp(name)), **kw).start()


def finish_stack(stack):
    stack.stop()
    reports = stack.sanitizer_reports()
    assert not reports, "sanitizer reports in %s:\n%s" % (stack.log_path, "\n".join(reports[:20]))
    # A worker the supervisor had to SIGKILL at shutdown was stuck, and never ran its leak check.
    stuck = [l for l in stack.read_log().splitlines() if "still busy after" in l]
    assert not stuck, "workers killed at shutdown in %s:\n%s" % (stack.log_path, "\n".join(stuck[:5]))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One shared stack (prefork, 3 workers) for tests that do not disturb it."""
    s = make_stack(tmp_path_factory, "stack")
    yield s
    finish_stack(s)


@pytest.fixture
def fresh_stack(tmp_path_factory):
    """A stack of the test's own, for tests that kill, stop or reconfigure it."""
    made = []

    def factory(**kw):
        s = make_stack(tmp_path_factory, "fresh", **kw)
        made.append(s)
        return s
    yield factory
    for s in made:
        finish_stack(s)


@pytest.fixture(scope="session")
def limited(tmp_path_factory):
    """A stack with small tier limits, so every limit can be reached quickly."""
    s = make_stack(tmp_path_factory, "limited", env={
        "FREE_MAX_FILE_SIZE": "1M", "PREMIUM_MAX_FILE_SIZE": "4M", "FREE_MAX_LINKS": "5",
        "PREMIUM_MAX_LINKS": "8", "LINKPW_RATE": "60r/m", "LINKPW_BURST": "5"})
    yield s
    finish_stack(s)


@pytest.fixture
def client(stack):
    return stack.client()


@pytest.fixture
def user(stack):
    c = stack.client()
    c.signup()
    return c
