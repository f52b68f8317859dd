"""The worker pool: restarts after kill -9, graceful stop, spawn-fcgi mode, config errors."""
import concurrent.futures
import os
import signal
import subprocess
import threading
import time

from conftest import BUILD_DIR, ROOT, PASSWORD


def hammer(stack, stop, results):
    while not stop.is_set():
        try:
            r = stack.raw("GET", "/readyz", timeout=10)
            results.append((time.time(), r.status))
        except OSError as e:
            results.append((time.time(), repr(e)))


def test_kill_9_worker_under_load_recovers(fresh_stack):
    s = fresh_stack(workers=3)
    workers = s.worker_pids()
    assert len(workers) == 3
    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=hammer, args=(s, stop, results)) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = time.time()
    deadline = killed_at + 10
    while time.time() < deadline:
        now = s.worker_pids()
        if len(now) == 3 and victim not in now:
            break
        time.sleep(0.05)
    recovered_at = time.time()
    assert len(s.worker_pids()) == 3 and victim not in s.worker_pids()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    after = [st for ts, st in results if ts > recovered_at + 0.05]
    assert len(after) > 50
    assert all(st == 200 for st in after), [st for st in after if st != 200][:5]
    log = s.read_log()
    assert "killed by signal 9" in log and "restarting it" in log


def test_sigterm_finishes_in_flight_requests_and_exits(fresh_stack):
    s = fresh_stack(workers=2)
    c = s.client()
    sup = s.supervisor_pid()
    # A sign-up spends a few hundred ms in scrypt: stop the pool while it runs.
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(lambda: s.client().post("/api/auth/signup", {
            "email": "graceful-%d@example.com" % i, "password": PASSWORD})) for i in range(2)]
        time.sleep(0.15)
        t0 = time.time()
        os.kill(sup, signal.SIGTERM)
        statuses = [f.result().status for f in futs]
    assert statuses == [201, 201]
    deadline = t0 + 10
    while time.time() < deadline and any(p == sup for p, _ in s.app_pids()):
        time.sleep(0.05)
    assert not s.app_pids(), "fileshare-fcgi still running 10 s after SIGTERM"
    assert "supervisor stopped" in s.read_log()


def test_spawn_fcgi_mode_serves_the_same_flows(fresh_stack):
    s = fresh_stack(mode="spawn", workers=2)
    assert len(s.worker_pids()) == 2
    c = s.client()
    c.signup()
    assert c.get("/api/me").status == 200
    assert c.post("/api/trial/start", {}).status == 200
    assert c.post("/api/trial/start", {}).status == 409
    other = s.client()
    assert other.login(c.email).status == 200
    assert s.raw("GET", "/nope/nope").status == 404
    assert s.raw("GET", "/readyz").status == 200


def test_spawn_fcgi_concurrent_trial_exactly_once(fresh_stack):
    s = fresh_stack(mode="spawn", workers=3)
    c = s.client()
    c.signup()
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        statuses = list(ex.map(lambda _: c.post("/api/trial/start", {}).status, range(50)))
    assert sorted(statuses) == [200] + [409] * 49


def run_fcgi(env_extra, args=("--listen", "127.0.0.1:0", "--workers", "1"), timeout=10):
    env = {"PATH": os.environ["PATH"], "DATA_DIR": "/nonexistent-dir/x"}
    env.update(env_extra)
    return subprocess.run([os.path.join(BUILD_DIR, "fileshare-fcgi")] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_bad_configuration_stops_startup_with_one_line(tmp_path):
    cases = {
        "USE_DYNAMODB": "maybe",
        "PUBLIC_BASE_URL": "ftp://example.com",
        "BLOB_BACKEND": "nfs",
        "PURGE_INTERVAL": "-5",
        "FREE_MAX_FILE_SIZE": "lots",
        "SESSION_SECRET": "short-secret",
    }
    for name, value in cases.items():
        env = {"SESSION_SECRET": "x" * 40, "DATA_DIR": str(tmp_path)}
        env[name] = value
        p = run_fcgi(env)
        assert p.returncode != 0
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and name in lines[0], (name, p.stderr)
        if name == "SESSION_SECRET":
            assert value not in p.stderr


def test_dev_secret_file_is_created_private_and_reused(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([os.path.join(BUILD_DIR, "fileshare-fcgi"), "--listen",
                             "unix:" + str(tmp_path / "s.sock"), "--workers", "1"],
                            env={"PATH": os.environ["PATH"], **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secret = tmp_path / "session-secret"
    for _ in range(100):
        if secret.exists() and (tmp_path / "s.sock").exists():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    first = secret.read_bytes()
    assert len(first) >= 32
    proc = subprocess.Popen([os.path.join(BUILD_DIR, "fileshare-fcgi"), "--listen",
                             "unix:" + str(tmp_path / "s.sock"), "--workers", "1"],
                            env={"PATH": os.environ["PATH"], **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert secret.read_bytes() == first


def test_rendered_nginx_config_passes_nginx_t(tmp_path):
    d = tmp_path / "nginx"
    subprocess.run([os.path.join(ROOT, "scripts", "render-conf"), str(d),
                    "USER_LINE=", "NGINX_WORKERS=1", "STATE_DIR=" + str(d),
                    "LISTEN=127.0.0.1:1", "WEB_DIR=" + os.path.join(ROOT, "web"),
                    "FCGI_ADDR=unix:/tmp/x.sock", "AUTH_RATE=10r/s", "AUTH_BURST=20",
                    "BLOB_DIR=" + str(tmp_path / "blobs"), "LINKPW_RATE=30r/m", "LINKPW_BURST=10",
                    "UPLOAD_MAX=5200m"], check=True)
    p = subprocess.run(["nginx", "-t", "-p", str(d), "-c", str(d / "nginx.conf"), "-e", "stderr"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    conf = (d / "nginx.conf").read_text()
    assert "server_tokens off" in conf and "limit_req" in conf and "autoindex off" in conf


def test_auth_endpoints_are_rate_limited(fresh_stack):
    s = fresh_stack(workers=2, env={"AUTH_RATE": "5r/s", "AUTH_BURST": "5"})
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda i: s.client().login("nobody%d@example.com" % i, "wrong password!"),
                         range(40)))
    codes = [r.status for r in rs]
    assert 429 in codes, codes
    limited = [r for r in rs if r.status == 429][0]
    assert limited.error_code() == "rate_limited"
    assert set(codes) <= {401, 429}


def test_checkpointer_copies_the_wal_and_is_restarted(fresh_stack, tmp_path):
    """SQLite: the supervisor's checkpointer (not the workers) moves committed clicks from the
    WAL into the database file, and comes back after kill -9."""
    import shutil
    import sqlite3

    import pytest
    from conftest import STORE
    if STORE != "sqlite":
        pytest.skip("the checkpointer is SQLite's")
    s = fresh_stack(workers=2)
    ck = s.helper_pids("fs-checkpoint")
    assert len(ck) == 1, ck
    assert ck[0] not in s.worker_pids()
    c = s.client()
    c.signup()
    code = c.shorten("https://example.com/checkpointed").json["short_code"]
    for _ in range(200):
        assert s.raw("GET", "/" + code).status == 302
    # The database file alone (no -wal next to the copy) shows the clicks once a pass ran.
    deadline = time.time() + 10
    clicks = None
    while time.time() < deadline:
        copy = str(tmp_path / "main-file-only.db")
        shutil.copyfile(s.sqlite_path, copy)
        db = sqlite3.connect(copy)
        try:
            row = db.execute("SELECT click_count FROM urls WHERE short_code = ?", (code,)).fetchone()
        finally:
            db.close()
        clicks = row[0] if row else None
        if clicks == 200:
            break
        time.sleep(0.2)
    assert clicks == 200
    os.kill(ck[0], signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline:
        now = s.helper_pids("fs-checkpoint")
        if now and now[0] != ck[0]:
            break
        time.sleep(0.1)
    assert now and now[0] != ck[0], "checkpointer not restarted"
    assert "checkpointer" in s.read_log()
    assert s.raw("GET", "/" + code).status == 302
