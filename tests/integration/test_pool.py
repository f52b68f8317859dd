"""The worker pool: restarts after kill -9, graceful stop, spawn-fcgi mode, config errors."""
import concurrent.futures
import os
import signal
import subprocess
import threading
import time

import pytest
from conftest import BUILD_DIR, ROOT, PASSWORD


def hammer(stack, stop, results, probes=(("/readyz", 200), ("/Zz9Zz9Zz", 404))):
    """GETs until stop is set, recording (time, "ok" or what came instead). By default both
    kinds of process: /readyz goes to the pool's workers, a link open (of an unknown code)
    where link opens go (on SQLite the link worker)."""
    i = 0
    while not stop.is_set():
        path, want = probes[i % len(probes)]
        i += 1
        try:
            r = stack.raw("GET", path, timeout=10)
            results.append((time.time(), "ok" if r.status == want else (path, r.status)))
        except OSError as e:
            results.append((time.time(), (path, repr(e))))


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
    assert all(st == "ok" for st in after), [st for st in after if st != "ok"][:5]
    log = s.read_log()
    assert "killed by signal 9" in log and "restarting it" in log


def cpu_ticks(pid):
    """User and system CPU time of a process, in clock ticks (0 once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def test_sigterm_finishes_in_flight_requests_and_exits(fresh_stack):
    s = fresh_stack(workers=2)
    c = s.client()
    sup = s.supervisor_pid()
    workers = s.worker_pids()
    busy0 = {p: cpu_ticks(p) for p in workers}
    # A sign-up spends a few hundred ms in scrypt: stop the pool while it runs, once both
    # workers are computing (their CPU time moves; idle, it does not), or after 3 s.
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(lambda: s.client().post("/api/auth/signup", {
            "email": "graceful-%d@example.com" % i, "password": PASSWORD})) for i in range(2)]
        deadline = time.time() + 3
        while time.time() < deadline and any(cpu_ticks(p) < busy0[p] + 2 for p in workers):
            time.sleep(0.01)
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


def test_check_config_prints_the_backends_the_settings_choose(tmp_path):
    base = {"SESSION_SECRET": "x" * 40, "DATA_DIR": str(tmp_path)}
    cases = [({}, "store=sqlite blob=local"),
             ({"USE_DYNAMODB": "false", "BLOB_BACKEND": "local"}, "store=sqlite blob=local"),
             ({"USE_DYNAMODB": "1", "AWS_REGION": "eu-west-1"}, "store=dynamodb blob=local"),
             ({"USE_DYNAMODB": "yes", "AWS_REGION": "eu-west-1", "BLOB_BACKEND": "s3", "S3_BUCKET": "b"},
              "store=dynamodb blob=s3"),
             ({"BLOB_BACKEND": "s3", "S3_BUCKET": "b", "AWS_REGION": "eu-west-1"}, "store=sqlite blob=s3")]
    for extra, want in cases:
        p = run_fcgi(dict(base, **extra), ("--check-config",))
        assert (p.returncode, p.stdout) == (0, want + "\n"), (extra, p.stdout, p.stderr)
    # A wrong setting: exit 1, nothing on stdout, the app's one line naming it on stderr.
    p = run_fcgi(dict(base, USE_DYNAMODB="maybe"), ("--check-config",))
    assert p.returncode == 1 and p.stdout == "" and "USE_DYNAMODB" in p.stderr, (p.stdout, p.stderr)
    p = run_fcgi(dict(base, USE_DYNAMODB="true"), ("--check-config",))    # no AWS_REGION
    assert p.returncode == 1 and p.stdout == "" and "AWS_REGION" in p.stderr, (p.stdout, p.stderr)
    # It only checks: with a socket to listen on it is a usage error.
    p = run_fcgi(base, ("--check-config", "--listen", "unix:" + str(tmp_path / "s.sock")))
    assert p.returncode == 2 and not (tmp_path / "s.sock").exists(), p.stderr


def serve_briefly(tmp_path, env_extra):
    """scripts/serve with env_extra on a free port, until it is serving (or has exited), then
    stopped as an operator would (SIGTERM). Returns the nginx.conf it rendered (None if none),
    its exit status if it ended by itself (None if it was stopped) and its output."""
    from conftest import free_port, stop_serve
    var = tmp_path / "var"
    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(var), "BUILD_DIR": BUILD_DIR,
           "PORT": str(free_port()), "SESSION_SECRET": "x" * 40, "PURGE_INTERVAL": "0"}
    env.update(env_extra)
    tmp_path.mkdir(parents=True, exist_ok=True)
    out_path = tmp_path / "serve.log"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([os.path.join(ROOT, "scripts", "serve")], env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 30
    while proc.poll() is None and b"serving on" not in out_path.read_bytes() and time.time() < deadline:
        time.sleep(0.05)
    rc = proc.poll()
    stop_serve(proc, timeout=20)
    conf = var / "nginx" / "nginx.conf"
    return (conf.read_text() if conf.exists() else None), rc, out_path.read_text(errors="replace")


def test_serve_takes_the_store_from_the_app_and_stops_on_a_wrong_setting(tmp_path):
    """scripts/serve asks fileshare-fcgi --check-config which store the settings choose (kept
    FastCGI connections for link opens on SQLite only), so every spelling the app accepts
    counts; a setting the app refuses stops it before nginx starts, with the app's message."""
    text, rc, out = serve_briefly(tmp_path / "a", {})
    assert text is not None, out
    assert "fastcgi_keep_conn on;" in text
    assert processes_under(tmp_path / "a") == [], out
    # "1" is USE_DYNAMODB=true to the app (an endpoint nobody listens on: only the rendered
    # configuration is looked at).
    text, rc, out = serve_briefly(tmp_path / "b", {
        "USE_DYNAMODB": "1", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-example-key"})
    assert text is not None, out
    assert "fastcgi_keep_conn off;" in text and "fastcgi_keep_conn on;" not in text
    assert processes_under(tmp_path / "b") == [], out
    text, rc, out = serve_briefly(tmp_path / "c", {"USE_DYNAMODB": "maybe"})
    assert text is None and rc == 1, (rc, out)
    assert "USE_DYNAMODB" in out, out
    assert processes_under(tmp_path / "c") == [], out


def processes_under(d):
    """Processes whose command line names a path under d (the stack's app and nginx)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if str(d).encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


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
    # A copy taken while the checkpointer writes pages into the file can be torn ("malformed"):
    # that is a copy to take again, not a finding.
    deadline = time.time() + 10
    clicks = None
    while time.time() < deadline:
        copy = str(tmp_path / "main-file-only.db")
        shutil.copyfile(s.sqlite_path, copy)
        db = sqlite3.connect(copy)
        try:
            row = db.execute("SELECT click_count FROM urls WHERE short_code = ?", (code,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
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


def link_worker_pids(stack):
    return stack.helper_pids("fs-links")


def test_link_opens_have_a_worker_of_their_own(fresh_stack):
    """--links-listen: on SQLite one more process (comm fs-links) answers every GET/HEAD of a
    short link, so one process writes the click counts; password attempts (POST, scrypt) and
    the API stay on the pool. On DynamoDB the pool's workers serve both sockets."""
    from conftest import STORE
    s = fresh_stack(workers=2)
    c = s.client()
    c.signup()
    plain = c.shorten("https://example.com/by-the-link-worker").json["short_code"]
    c.premium()     # passwords are premium
    locked = c.shorten("https://example.com/locked", password="open sesame")
    assert locked.status == 201
    pool = set(s.worker_pids())
    assert len(pool) == 2
    links = link_worker_pids(s)
    for _ in range(20):
        assert s.raw("GET", "/" + plain).status == 302
    assert s.raw("HEAD", "/" + plain).status == 302
    # Each worker writes its access lines just after answering: wait for them (access_lines).
    opens = {e["pid"] for e in s.access_lines(21, path="/" + plain)}
    api = {e["pid"] for e in s.access_lines(1) if e["path"].startswith("/api/")}
    if STORE == "sqlite":
        assert len(links) == 1 and links[0] not in pool
        assert opens == set(links)
        assert api and api <= pool
        assert "link opens on unix:" in s.read_log()
    else:
        assert links == []
        assert opens <= pool
    assert c.get("/api/links/" + plain).json["click_count"] == 20
    # Probes are the pool's: /readyz pings the stores, which must not hold up opens.
    before = len(s.access_lines(0, path="/readyz"))
    assert s.raw("GET", "/readyz").status == 200
    probes = [e["pid"] for e in s.access_lines(before + 1, path="/readyz")]
    assert set(probes) <= pool
    code = locked.json["short_code"]
    assert s.raw("GET", "/" + code, headers={"Accept": "text/html"}).status == 200    # the form
    r = s.raw("POST", "/" + code, body=b"password=open+sesame",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 302
    posted = [e["pid"] for e in s.access_lines(1, method="POST", path="/" + code)]
    assert len(posted) == 1 and posted[0] in pool


def test_link_worker_killed_is_restarted_and_opens_wait_for_it(fresh_stack):
    from conftest import STORE
    if STORE != "sqlite":
        pytest.skip("the link worker is SQLite's")
    s = fresh_stack(workers=2)
    c = s.client()
    c.signup()
    code = c.shorten("https://example.com/through-a-restart").json["short_code"]
    assert s.raw("GET", "/" + code).status == 302
    victim = link_worker_pids(s)
    assert len(victim) == 1
    os.kill(victim[0], signal.SIGKILL)
    # The supervisor keeps the socket: opens sent while no link worker runs wait in its
    # backlog for the new one instead of failing.
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        statuses = list(ex.map(lambda _: s.raw("GET", "/" + code).status, range(40)))
    assert statuses == [302] * 40
    now = link_worker_pids(s)
    assert len(now) == 1 and now != victim
    assert c.get("/api/links/" + code).json["click_count"] == 41
    assert "killed by signal 9" in s.read_log()


def test_links_listen_needs_listen_and_another_address(tmp_path):
    exe = os.path.join(BUILD_DIR, "fileshare-fcgi")
    env = dict(os.environ, DATA_DIR=str(tmp_path), USE_DYNAMODB="false")
    sock = "unix:" + str(tmp_path / "a.sock")
    for args in (["--links-listen", sock], ["--listen", sock, "--links-listen", sock]):
        r = subprocess.run([exe] + args, env=env, capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 2, args
        assert "--links-listen needs --listen, and another address" in r.stderr
