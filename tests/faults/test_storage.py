"""
Local storage failing under the service: BLOB_DIR on a full filesystem (a small tmpfs mounted
by the test), and the SQLite file locked by another process for longer than the workers' busy
timeout. Clear JSON errors (507, 503), nothing half-written, and recovery without a restart.
"""
import concurrent.futures
import hashlib
import os
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import BLOB_BACKEND, STORE

pytestmark = pytest.mark.skipif(BLOB_BACKEND != "local", reason="local blob directory and SQLite only")


def files_under(d):
    return sorted(os.path.relpath(os.path.join(p, f), d) for p, _, fs in os.walk(d) for f in fs)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 2 MiB tmpfs: writes beyond it fail with ENOSPC, as on a full disk."""
    d = tmp_path / "full"
    d.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(d)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): %s" % p.stderr.strip())
    yield str(d)
    subprocess.run(["umount", "-l", str(d)], check=False)


def put(stack, token, name, data):
    return stack.raw("PUT", "/api/files/" + name, body=data, headers={"Authorization": "Bearer " + token},
                     timeout=60)


def test_full_blob_filesystem_is_a_clean_507(fresh_stack, tiny_fs):
    s = fresh_stack(workers=2, env={"BLOB_DIR": tiny_fs})
    c = s.client()
    c.signup()
    token = c.api_token()
    # Bigger than the whole filesystem: refused, and nothing of it stays.
    r = put(s, token, "big.bin", os.urandom(3 * 1024 * 1024))
    assert r.status == 507 and r.error_code() == "storage_full", r
    assert r.header("Content-Type").startswith("application/json")
    assert files_under(tiny_fs) == []
    b = "bnd"
    mp = (b"--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n" +
          os.urandom(3 * 1024 * 1024) + b"\r\n--bnd--\r\n")
    r = c.request("POST", "/api/files", body=mp, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 507 and r.error_code() == "storage_full", r
    assert files_under(tiny_fs) == []
    assert c.links().json["links"] == []
    # Small files still fit, and download byte-identical.
    kept = {}
    for i in range(3):
        data = os.urandom(100 * 1024)
        r = put(s, token, "small%d.bin" % i, data)
        assert r.status == 201, r
        kept[r.json["short_code"]] = data
    # Fill it up to the brim: the one that does not fit is refused whole, the rest stays.
    statuses = []
    for i in range(8):
        r = put(s, token, "fill%d.bin" % i, os.urandom(400 * 1024))
        statuses.append(r.status)
        if r.status == 201:
            kept[r.json["short_code"]] = None
        else:
            assert r.status == 507 and r.error_code() == "storage_full", r
    assert 507 in statuses and 201 in statuses, statuses
    assert [f for f in files_under(tiny_fs) if f.startswith(".tmp")] == []
    assert len(files_under(tiny_fs)) == len(kept) == len(c.links(limit=100).json["links"])
    for code, data in kept.items():
        d = s.raw("GET", "/" + code)
        assert d.status == 200 and (data is None or d.body == data)
    assert s.raw("GET", "/readyz").status == 200
    # Space freed: uploads work again.
    victim = [code for code, data in kept.items() if data is None][0]
    assert c.request("DELETE", "/api/links/" + victim).status == 204
    assert put(s, token, "after.bin", os.urandom(300 * 1024)).status == 201


def test_full_filesystem_under_nginx_and_blobs_is_a_clean_507(fresh_stack, tiny_fs, tmp_path):
    """The layout the README recommends: nginx buffers uploads on BLOB_DIR's filesystem (here
    the whole state directory is on it; the database is not). nginx itself runs out of space
    first, and its 500 must reach the client as the same 507 JSON."""
    s = fresh_stack(workers=2, env={"VAR_DIR": tiny_fs, "SQLITE_PATH": str(tmp_path / "db.sqlite")})
    c = s.client()
    c.signup()
    token = c.api_token()
    def leftovers():        # what an upload could leave: nginx's body buffers, blobs
        return [f for f in files_under(tiny_fs) if f.startswith(("nginx/client_body", "blobs"))]
    before = leftovers()
    r = put(s, token, "big.bin", os.urandom(3 * 1024 * 1024))
    assert r.status == 507 and r.error_code() == "storage_full", r
    b = "bnd"
    mp = (b"--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n" +
          os.urandom(3 * 1024 * 1024) + b"\r\n--bnd--\r\n")
    r = c.request("POST", "/api/files", body=mp, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 507 and r.error_code() == "storage_full", r
    # No partial body, no partial blob (nginx drops its buffer when it has finished with the
    # connection, which may be a moment after the answer).
    deadline = time.time() + 5
    while leftovers() != before and time.time() < deadline:
        time.sleep(0.1)
    assert leftovers() == before
    assert c.links().json["links"] == []
    data = os.urandom(50 * 1024)
    r = put(s, token, "small.bin", data)
    assert r.status == 201 and s.raw("GET", "/" + r.json["short_code"]).body == data


@pytest.mark.skipif(STORE != "sqlite", reason="SQLite only")
def test_sqlite_locked_past_the_busy_timeout_is_503_then_recovers(fresh_stack):
    s = fresh_stack(workers=6)
    c = s.client()
    c.signup()
    token = c.api_token()
    code = c.shorten("https://example.org/locked").json["short_code"]
    other = s.client()
    blobs_before = files_under(os.path.join(s.var_dir, "blobs"))
    held = threading.Event()
    release = threading.Event()

    def locker():
        db = sqlite3.connect(s.sqlite_path, timeout=10, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait(20)
        db.execute("ROLLBACK")
        db.close()

    lt = threading.Thread(target=locker)
    lt.start()
    assert held.wait(10)
    writes = {
        "link": lambda: c.shorten("https://example.org/during-lock"),
        "upload": lambda: s.raw("PUT", "/api/files/during.bin", body=os.urandom(200000),
                                headers={"Authorization": "Bearer " + token}, timeout=60),
        "redirect": lambda: s.raw("GET", "/" + code, timeout=60),
        "trial": lambda: c.post("/api/trial/start", {}),
        "signup": lambda: other.post("/api/auth/signup", {"email": "late@example.com",
                                                          "password": "correct horse battery staple"}),
    }
    t0 = time.time()
    try:
        with concurrent.futures.ThreadPoolExecutor(len(writes) + 2) as ex:
            futs = {k: ex.submit(f) for k, f in writes.items()}
            reads = [ex.submit(c.get, "/api/me"), ex.submit(lambda: c.links())]
            got = {k: f.result() for k, f in futs.items()}
            read = [f.result() for f in reads]
    finally:
        release.set()
        lt.join()
    waited = time.time() - t0
    for k, r in got.items():
        assert r.status == 503 and r.error_code() == "store_unavailable", (k, r)
        assert r.header("Content-Type").startswith("application/json")
    assert 4.5 <= waited < 15, waited            # the busy timeout, not forever
    assert all(r.status == 200 for r in read), read     # WAL: readers are not blocked
    # Nothing half-written: no link, no file, no click, no trial, no account.
    assert [l["short_code"] for l in c.links().json["links"]] == [code]
    assert files_under(os.path.join(s.var_dir, "blobs")) == blobs_before
    assert c.get("/api/links/" + code).json["click_count"] == 0
    assert c.get("/api/me").json["trial"]["used"] is False
    assert other.login("late@example.com", "correct horse battery staple").status == 401
    # Recovery, without a restart.
    assert c.shorten("https://example.org/after").status == 201
    data = os.urandom(200000)
    r = s.raw("PUT", "/api/files/after.bin", body=data, headers={"Authorization": "Bearer " + token})
    assert r.status == 201 and s.raw("GET", "/" + r.json["short_code"]).body == data
    assert s.raw("GET", "/" + code).status == 302
    assert c.post("/api/trial/start", {}).status == 200
    assert other.post("/api/auth/signup", {"email": "late@example.com",
                                          "password": "correct horse battery staple"}).status == 201
    assert c.get("/api/links/" + code).json["click_count"] == 1
    db = sqlite3.connect(s.sqlite_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
