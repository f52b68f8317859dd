"""
DynamoDB misbehaving under the real stack, beyond what tests/integration/test_dynamodb_faults.py
covers (throttling, 5xx, resets before/after a write, skew, random failures): calls stalling
past the client's 10 s timeout while the write still lands; connections cut in the middle of
an answer (a relay in front of the proxy sends half a response, then a TCP reset); and
container credentials rotating every few seconds while the service revokes the old ones, under
load. Every acknowledged link, redirect and trial start must be there afterwards, never twice
where it matters, and the rotation must cost no request at all.

These stacks run on DynamoDB whatever FS_TEST_STORE says.
"""
import concurrent.futures
import http.server
import json
import os
import random
import select
import socket
import struct
import threading
import time
import uuid

import pytest

from conftest import SECRETS, STORE, Stack, ddb_env, ddb_proxy_handle, finish_stack

import fakes    # noqa: E402 (tests/aws/fakes.py, on sys.path through the harness)


@pytest.fixture
def ddb_stacks(tmp_path_factory):
    """Makes stacks on DynamoDB tables of their own: ddb_stacks(env={...}, keys=True)."""
    made = []

    def make(env=None, keys=True, workers=3):
        prefix = "flt-" + uuid.uuid4().hex[:10]
        e = dict(ddb_env()) if keys else {}
        e.update({"USE_DYNAMODB": "true", "DYNAMODB_USERS_TABLE_NAME": prefix + "-users",
                  "DYNAMODB_URLS_TABLE_NAME": prefix + "-urls", "PREMIUM_MAX_FILE_SIZE": "8M"})
        e.update(env or {})
        s = Stack(str(tmp_path_factory.mktemp("ddbfault")), workers=workers, env=e)
        if not keys:
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                s.env.pop(k, None)
        s.env.update(e)
        if STORE != "dynamodb":         # Stack.start() creates them only in that mode
            s.admin("create-tables")
        made.append(s.start())
        return s
    yield make
    for s in made:
        finish_stack(s)


def all_links(c):
    out, cursor = [], None
    while True:
        page = c.links(limit=100, **({"cursor": cursor} if cursor else {})).json
        out += page["links"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


# ---------------------------------------------------------------------------------------------

def test_calls_stalling_past_the_timeout_are_retried_and_applied_once(ddb_stacks):
    s = ddb_stacks()
    proxy = ddb_proxy_handle()
    proxy.clear_faults()
    c = s.client()
    c.signup()
    code = c.shorten("https://example.org/stall").json["short_code"]
    proxy.reset()
    # The first attempt of each waits 11 s (the client gives up at 10 s) and is then applied
    # anyway; the retry meets what the first one did.
    proxy.add_faults([{"type": "delay", "ms": 11000, "operation": "UpdateItem", "count": 2},
                      {"type": "delay", "ms": 11000, "operation": "TransactWriteItems", "count": 1}])
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            t0 = time.time()
            redirect = ex.submit(s.raw, "GET", "/" + code, timeout=60)
            trial = ex.submit(c.post, "/api/trial/start", {}, timeout=60)
            link = ex.submit(c.shorten, "https://example.org/stalled-create", timeout=60)
            redirect, trial, link = redirect.result(), trial.result(), link.result()
        took = time.time() - t0
    finally:
        proxy.clear_faults()
    assert took >= 10, took
    assert redirect.status == 302, redirect
    assert trial.status == 200, trial            # recognises its own start on the retry
    assert link.status == 201, link              # and its own link
    print("\n  stalled calls answered in %.1f s: redirect %d, trial %d, link %d"
          % (took, redirect.status, trial.status, link.status))
    codes = [l["short_code"] for l in all_links(c)]
    assert sorted(codes) == sorted([code, link.json["short_code"]])
    clicks = c.get("/api/links/" + code).json["click_count"]
    assert 1 <= clicks <= 2                      # the late write and the retry may both count
    me = c.get("/api/me").json
    assert me["trial"]["active"] is True and me["tier"] == "trial"
    assert c.post("/api/trial/start", {}).error_code() == "trial_already_used"
    assert proxy.op_stats("UpdateItem")["faulted"] == 2


class CuttingRelay:
    """A TCP relay to the DynamoDB proxy that, with probability p per answer chunk, passes on
    only the first half of it and then resets the connection: an answer cut mid-way."""

    def __init__(self, port, p, seed=5):
        self.upstream = port
        self.p = p
        self.rnd = random.Random(seed)
        self.cuts = 0
        self.on = False                 # switched on once the stack is set up
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.relay, args=(c,), daemon=True).start()

    def relay(self, c):
        """One thread per connection, so that closing really closes (a socket another thread
        is blocked on would stay open, and no reset would go out)."""
        try:
            u = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            c.close()
            return
        try:
            while True:
                ready, _, _ = select.select([c, u], [], [], 30)
                if not ready:
                    break
                if c in ready:
                    data = c.recv(65536)
                    if not data:
                        break
                    u.sendall(data)
                if u in ready:
                    data = u.recv(65536)
                    if not data:
                        break
                    if self.on and len(data) > 1 and self.rnd.random() < self.p:
                        c.sendall(data[:len(data) // 2])
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.cuts += 1
                        break
                    c.sendall(data)
        except OSError:
            pass
        c.close()
        u.close()

    def close(self):
        self.closed = True
        self.sock.close()


def test_answers_cut_mid_way_lose_nothing_acknowledged(ddb_stacks):
    proxy = ddb_proxy_handle()
    proxy.clear_faults()
    relay = CuttingRelay(proxy.port, p=0.12)
    try:
        s = ddb_stacks(env={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % relay.port})
        owner = s.client()
        owner.signup()
        owner.premium()
        token = owner.api_token()
        codes = [owner.shorten("https://example.org/cut/%d" % i).json["short_code"] for i in range(6)]
        relay.on = True
        made, opened, trials, files, failures = [], {}, {}, {}, []
        lock = threading.Lock()
        stop = time.time() + 8

        def creator():
            while time.time() < stop:
                r = owner.shorten("https://example.org/made/%s" % uuid.uuid4().hex[:6])
                with lock:
                    (made.append(r.json["short_code"]) if r.status == 201 else failures.append(r.status))

        def opener(seed):
            rnd = random.Random(seed)
            while time.time() < stop:
                code = rnd.choice(codes)
                r = s.raw("GET", "/" + code)
                with lock:
                    if r.status == 302:
                        opened[code] = opened.get(code, 0) + 1
                    else:
                        failures.append(r.status)

        def trialist():
            while time.time() < stop:
                c = s.client()
                if c.post("/api/auth/signup", {"email": "cut-%s@example.com" % uuid.uuid4().hex[:10],
                                               "password": "correct horse battery staple"}).status != 201:
                    continue
                r = c.post("/api/trial/start", {})
                with lock:
                    trials[c] = r.status

        def uploader():
            while time.time() < stop:
                data = os.urandom(random.choice([100, 5000, 70000]))
                r = s.raw("PUT", "/api/files/cut.bin", body=data, headers={"Authorization": "Bearer " + token})
                with lock:
                    (files.__setitem__(r.json["short_code"], data) if r.status == 201 else failures.append(r.status))

        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            futs = [ex.submit(creator), ex.submit(opener, 1), ex.submit(opener, 2), ex.submit(trialist),
                    ex.submit(uploader), ex.submit(uploader)]
            for f in futs:
                f.result()
        relay.on = False
        print("\n  cut %d answers mid-way: %d links, %d redirects, %d trial starts, %d files acknowledged; "
              "%d refused (%s)" % (relay.cuts, len(made), sum(opened.values()), len(trials), len(files),
                                   len(failures), sorted(set(failures))))
        assert relay.cuts >= 10 and made and opened and files
        assert set(failures) <= {503}, failures
        listed = {l["short_code"]: l for l in all_links(owner)}
        assert set(made) <= set(listed) and set(files) <= set(listed)
        for code in codes:
            assert listed[code]["click_count"] >= opened.get(code, 0), code
        for code, data in files.items():
            d = s.raw("GET", "/" + code)
            assert d.status == 200 and d.body == data
        for c, status in trials.items():
            if status == 200:
                assert c.get("/api/me").json["trial"]["active"] is True
        # Every file link's blob is there, and after purge (two hours on) nothing else is.
        keys = set()
        for d in os.listdir(os.path.join(s.var_dir, "blobs")):
            p = os.path.join(s.var_dir, "blobs", d)
            if len(d) == 2 and os.path.isdir(p):
                keys |= set(os.listdir(p))
        s.admin("purge", "--now", str(int(time.time()) + 7200))
        after = set()
        for d in os.listdir(os.path.join(s.var_dir, "blobs")):
            p = os.path.join(s.var_dir, "blobs", d)
            if len(d) == 2 and os.path.isdir(p):
                after |= set(os.listdir(p))
        file_links = [l for l in listed.values() if l["kind"] == "file"]
        assert len(after) == len(file_links), (len(after), len(file_links), len(keys))
        for l in file_links:
            assert s.raw("GET", "/" + l["short_code"]).status == 200
    finally:
        relay.close()


class RotatingCredentials:
    """A container credentials endpoint that hands out a new short-lived session on every
    fetch, and tells the DynamoDB proxy to accept only the sessions of the last `window`
    seconds (the older ones are revoked: the service refuses them, as AWS does once they
    expire). Half the sessions claim an hour of life they will not get."""

    def __init__(self, proxy, window=3.0):
        self.proxy = proxy
        self.window = window
        self.issued = []            # (time, set)
        self.n = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.headers.get("Authorization") != "Bearer agent-token-rotation":
                    return self.send(401, {"code": "AccessDenied"})
                self.send(200, outer.issue())

            def send(self, status, obj):
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
        threading.Thread(target=self.pruner, daemon=True).start()

    def issue(self):
        with self.lock:
            self.n += 1
            n = self.n
            c = {"access_key": "ASIAROT%09d" % n, "secret_key": "rot-secret-%d-%s" % (n, uuid.uuid4().hex),
                 "session_token": "rot-token-%d-%s" % (n, uuid.uuid4().hex)}
            SECRETS.update([c["secret_key"], c["session_token"]])
            self.issued.append((time.time(), c))
            self.publish()
        life = 302 if n % 2 else 3600           # 302: inside the refresh window in 2 s
        return {"AccessKeyId": c["access_key"], "SecretAccessKey": c["secret_key"],
                "Token": c["session_token"], "RoleArn": "arn:aws:iam::123456789012:role/fileshare",
                "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + life))}

    def publish(self):
        now = time.time()
        self.issued = [(t, c) for t, c in self.issued if now - t < self.window]
        self.proxy.set_credentials([c for _, c in self.issued])

    def pruner(self):
        while not self.stopped.wait(0.5):
            with self.lock:
                self.publish()

    def close(self):
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


def test_credentials_rotating_and_revoked_under_load_cost_no_request(ddb_stacks):
    with fakes.ddb_proxy(credentials=[], no_default_creds=True, max_seconds=300) as proxy:
        creds = RotatingCredentials(proxy)
        try:
            env = {}
            env.update({"AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint, "AWS_REGION": proxy.region,
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.url,
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer agent-token-rotation"})
            s = ddb_stacks(env=env, keys=False)
            owner = s.client()
            owner.signup()
            codes = [owner.shorten("https://example.org/rot/%d" % i).json["short_code"] for i in range(5)]
            opened, statuses = {}, []
            lock = threading.Lock()
            stop = time.time() + 10

            def opener(seed):
                rnd = random.Random(seed)
                while time.time() < stop:
                    code = rnd.choice(codes)
                    r = s.raw("GET", "/" + code)
                    with lock:
                        statuses.append(r.status)
                        if r.status == 302:
                            opened[code] = opened.get(code, 0) + 1
                    time.sleep(rnd.random() * 0.05)

            with concurrent.futures.ThreadPoolExecutor(4) as ex:
                for f in [ex.submit(opener, i) for i in range(4)]:
                    f.result()
            refused = proxy.stats()["totals"].get("rejected", 0)
            print("\n  credentials: %d sessions issued, %d requests refused by the service (each cured "
                  "by a refresh), %d redirects" % (creds.n, refused, len(statuses)))
            assert creds.n >= 8, creds.n                    # they really rotated
            assert refused >= 1                             # and some did expire under a worker
            assert statuses and set(statuses) == {302}, sorted(set(statuses))
            for code in codes:
                assert owner.get("/api/links/" + code).json["click_count"] >= opened.get(code, 0)
            assert "container credentials" in s.read_log()
        finally:
            creds.close()
