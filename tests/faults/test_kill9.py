"""
kill -9 of a random worker every second under mixed load (uploads, redirects, trial starts)
for LOAD_SECONDS, then: every 201 a client got is there (its link opens, its file downloads
byte-identical), every redirect a client got is counted, every acknowledged trial start
holds, no row points at a missing file and no file is left without a row once purge has
reaped what a killed upload leaves (orphans and partial writes), SQLite passes its integrity
check, and every worker answers again.
"""
import concurrent.futures
import hashlib
import os
import random
import signal
import sqlite3
import threading
import time
import uuid

import pytest

from conftest import BLOB_BACKEND, STORE

LOAD_SECONDS = float(os.environ.get("FS_FAULT_LOAD_SECONDS", "15"))
WORKERS = 4

pytestmark = pytest.mark.skipif(BLOB_BACKEND != "local", reason="white-box checks of the blob directory")


class Load:
    def __init__(self, stack):
        self.stack = stack
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.uploads = {}                 # code -> sha256 of what a 201 acknowledged
        self.upload_tries = 0
        self.redirects = {}               # code -> 302s received
        self.redirect_tries = 0
        self.trials = {}                  # client -> "ok" | "unknown"
        self.errors = {}                  # status or exception name -> count
        self.kills = 0

    def note(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1

    def uploader(self, token, seed):
        rnd = random.Random(seed)
        while not self.stop.is_set():
            data = os.urandom(rnd.choice([1, 700, 4096, 65536, 300000, 1500000]))
            name = "f-%s.bin" % uuid.uuid4().hex[:8]
            with self.lock:
                self.upload_tries += 1
            try:
                r = self.stack.raw("PUT", "/api/files/" + name, body=data,
                                   headers={"Authorization": "Bearer " + token}, timeout=60)
            except OSError as e:
                self.note(type(e).__name__)
                continue
            if r.status == 201:
                with self.lock:
                    self.uploads[r.json["short_code"]] = hashlib.sha256(data).hexdigest()
            else:
                self.note(r.status)

    def redirector(self, codes, seed):
        rnd = random.Random(seed)
        while not self.stop.is_set():
            code = rnd.choice(codes)
            with self.lock:
                self.redirect_tries += 1
            try:
                r = self.stack.raw("GET", "/" + code, timeout=30)
            except OSError as e:
                self.note(type(e).__name__)
                continue
            if r.status == 302:
                with self.lock:
                    self.redirects[code] = self.redirects.get(code, 0) + 1
            else:
                self.note(r.status)

    def trial_starter(self):
        while not self.stop.is_set():
            c = self.stack.client()
            try:
                if c.post("/api/auth/signup", {"email": "t-%s@example.com" % uuid.uuid4().hex[:12],
                                               "password": "correct horse battery staple"}).status != 201:
                    continue
                r = c.post("/api/trial/start", {})
            except OSError as e:
                self.note(type(e).__name__)
                continue
            with self.lock:
                self.trials[c] = "ok" if r.status == 200 else "unknown"
            if r.status != 200:
                self.note(r.status)

    def killer(self):
        rnd = random.Random(1)
        while not self.stop.wait(1.0):
            pids = self.stack.worker_pids()
            if pids:
                try:
                    os.kill(rnd.choice(pids), signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


def wait_for_pool(stack, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(stack.worker_pids()) == n:
            try:
                if stack.raw("GET", "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError("the pool did not come back to %d workers" % n)


def all_links(c):
    out, cursor = [], None
    while True:
        page = c.links(limit=100, **({"cursor": cursor} if cursor else {})).json
        out += page["links"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def blob_files(stack):
    out = {}
    root = os.path.join(stack.var_dir, "blobs")
    for d in os.listdir(root):
        p = os.path.join(root, d)
        if os.path.isdir(p):
            for f in os.listdir(p):
                out[f] = os.path.join(p, f)
    return out


def test_kill_9_under_mixed_load_loses_nothing_acknowledged(fresh_stack):
    s = fresh_stack(workers=WORKERS, env={"PREMIUM_MAX_FILE_SIZE": "8M"})
    owner = s.client()
    owner.signup()
    codes = [owner.shorten("https://example.org/k9/%d" % i).json["short_code"] for i in range(16)]
    load = Load(s)
    def guarded(fn, *args):
        def run():
            try:
                fn(*args)
            except Exception as e:      # a client thread must not die unseen
                load.note("client crashed: %r" % e)
        return threading.Thread(target=run)
    tokens, uploaders = [], []
    for _ in range(3):
        c = s.client()
        c.signup()
        c.premium()
        tokens.append(c.api_token())
        uploaders.append(c)
    threads = [guarded(load.uploader, tokens[i], i) for i in range(3)]
    threads += [guarded(load.redirector, codes, i) for i in range(3)]
    threads += [guarded(load.trial_starter) for _ in range(2)]
    killer = threading.Thread(target=load.killer)
    for t in threads:
        t.start()
    killer.start()
    time.sleep(LOAD_SECONDS)
    load.stop.set()
    killer.join()
    for t in threads:
        t.join(timeout=90)
        assert not t.is_alive(), "a client is stuck"
    wait_for_pool(s, WORKERS)

    print("\n  kill -9: %d kills in %.0f s; %d/%d uploads, %d/%d redirects acknowledged, %d trial "
          "starts; refused or cut: %s" % (load.kills, LOAD_SECONDS, len(load.uploads), load.upload_tries,
                                          sum(load.redirects.values()), load.redirect_tries,
                                          len(load.trials), load.errors))
    assert load.kills >= LOAD_SECONDS * 0.8
    assert load.uploads and load.redirects and load.trials
    # Only the answers a killed worker leaves behind (nginx 502 -> 503 JSON) or a cut connection.
    assert set(load.errors) <= {502, 503, 504, "RemoteDisconnected", "ConnectionResetError",
                                "BrokenPipeError"}, load.errors

    # Every acknowledged file downloads byte-identical; every redirect received was counted.
    for code, digest in load.uploads.items():
        r = s.raw("GET", "/" + code)
        assert r.status == 200 and hashlib.sha256(r.body).hexdigest() == digest, code
    for code in codes:
        counted = owner.get("/api/links/" + code).json["click_count"]
        assert counted >= load.redirects.get(code, 0), (code, counted, load.redirects.get(code))
        assert s.raw("GET", "/" + code).status == 302
    # Acknowledged trial starts hold; an unanswered one either happened or can happen now.
    for c, state in load.trials.items():
        if state == "ok":
            assert c.get("/api/me").json["trial"]["active"] is True
        else:
            r = c.post("/api/trial/start", {})
            assert r.status == 200 or r.error_code() == "trial_already_used", r

    # Nothing half-written: every row's file exists; after purge (as of two hours from now, so
    # a killed upload's leftovers count as old) every file has its row and no partial write is
    # left; the acknowledged files survived the purge.
    # Every file link (acknowledged or not) must open: a row never points at a missing file.
    file_links = [l["short_code"] for c in uploaders for l in all_links(c) if l["kind"] == "file"]
    assert set(load.uploads) <= set(file_links)
    for code in file_links:
        assert s.raw("HEAD", "/" + code).status == 200, code
    files = blob_files(s)
    keys = None
    if STORE == "sqlite":
        db = sqlite3.connect(s.sqlite_path, timeout=10)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            keys = {k for (k,) in db.execute("SELECT file_key FROM urls WHERE file_key IS NOT NULL AND file_key != ''")}
        finally:
            db.close()
        assert keys <= set(files), "rows without their file: %s" % sorted(keys - set(files))[:5]
    strays = len(files) - len(file_links)
    partial = os.listdir(os.path.join(s.var_dir, "blobs", ".tmp"))
    s.admin("purge", "--now", str(int(time.time()) + 7200))
    after = blob_files(s)
    assert len(after) == len(file_links), (len(after), len(file_links))
    if keys is not None:
        assert set(after) == keys, sorted(set(after) ^ keys)[:5]
    assert os.listdir(os.path.join(s.var_dir, "blobs", ".tmp")) == []
    print("  before purge: %d orphan files, %d partial writes (reaped)" % (strays, len(partial)))
    for code, digest in load.uploads.items():
        r = s.raw("GET", "/" + code)
        assert r.status == 200 and hashlib.sha256(r.body).hexdigest() == digest, code
    assert not os.listdir(os.path.join(s.var_dir, "nginx", "client_body")) or not [
        f for _, _, fs in os.walk(os.path.join(s.var_dir, "nginx", "client_body")) for f in fs]

    # No worker stuck: as many slow-ish requests at once as there are workers, twice over.
    with concurrent.futures.ThreadPoolExecutor(WORKERS * 2) as ex:
        t0 = time.time()
        rs = list(ex.map(lambda i: owner.get("/api/links?limit=100"), range(WORKERS * 4)))
    assert all(r.status == 200 for r in rs) and time.time() - t0 < 20
