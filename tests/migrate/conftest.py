"""
The harness of the data-move tests (tests/suites/60-migrate.sh): the integration harness's
Stack (tests/integration/conftest.py, imported under another name), the DynamoDB stand-in
(dynalite behind the SigV4-verifying proxy), a source SQLite file made by the app itself and
filled by gen_data.py, and a runner for fileshare-admin that fails a test on any sanitizer
report.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
os.environ["FS_TEST_STORE"] = "sqlite"	# stacks choose their store explicitly here
_spec = importlib.util.spec_from_file_location("itconf", os.path.join(ROOT, "tests", "integration", "conftest.py"))
itconf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(itconf)

BUILD_DIR = itconf.BUILD_DIR
ADMIN = os.path.join(BUILD_DIR, "fileshare-admin")
PASSWORD = itconf.PASSWORD
SECRET = "migrate-tests-session-secret-0123456789abcdef"
SANITIZER_RE = itconf.SANITIZER_RE
USERS = int(os.environ.get("MIGRATE_USERS", "10000"))
LINKS = int(os.environ.get("MIGRATE_LINKS", "100000"))
RATES = []	# (what, items, seconds) for the summary


def pytest_terminal_summary(terminalreporter):
    if RATES:
        terminalreporter.write_line("items per second against dynalite (this machine):")
        for what, items, secs in RATES:
            terminalreporter.write_line("  %-44s %7d items in %6.1f s = %6.0f items/s"
                                        % (what, items, secs, items / secs if secs else 0))


class Admin:
    """fileshare-admin against the session's DynamoDB stand-in, on tables of a prefix."""

    def __init__(self, ddb, tmpdir):
        self.ddb = ddb
        self.tmpdir = tmpdir

    def env(self, prefix, extra=None):
        e = dict(os.environ)
        e.update(self.ddb.env())
        e.update({"DATA_DIR": self.tmpdir, "DYNAMODB_USERS_TABLE_NAME": prefix + "-users",
                  "DYNAMODB_URLS_TABLE_NAME": prefix + "-urls", "LOG_LEVEL": "warn",
                  "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=0",
                  "UBSAN_OPTIONS": "print_stacktrace=1"})
        e.update(extra or {})
        return e

    def run(self, prefix, *args, extra=None, timeout=300, check_rc=None):
        t0 = time.monotonic()
        p = subprocess.run([ADMIN] + list(args), env=self.env(prefix, extra), capture_output=True,
                           timeout=timeout)
        p.seconds = time.monotonic() - t0
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        reports = [l for l in p.err.splitlines() if SANITIZER_RE.search(l)]
        assert not reports, "sanitizer reports from fileshare-admin %s:\n%s" % (args[0], "\n".join(reports[:20]))
        if check_rc is not None:
            assert p.returncode == check_rc, (args, p.returncode, p.out[-3000:], p.err[-3000:])
        return p

    def create_tables(self, prefix):
        self.run(prefix, "create-tables", check_rc=0)


def counts(report):
    """The count table of a migrate/export report: {kind: {column: n}}."""
    lines = report.splitlines()
    for i, l in enumerate(lines):
        if l.split() and l.split()[0] == "new" and "kept-newer" in l:
            cols = l.split()
            out = {}
            for row in lines[i + 1:i + 4]:
                f = row.split()
                out[f[0]] = dict(zip(cols, (int(x) for x in f[1:])))
            return out
    raise AssertionError("no count table in:\n" + report)


def sqlite_dump(path, now, include_expired=False):
    """The independent Python dump (pydump.py)."""
    sys.path.insert(0, HERE)
    import pydump
    return pydump.dump(path, now, include_expired)


@pytest.fixture(scope="session")
def ddb():
    return itconf.ddb_proxy_handle()


@pytest.fixture(scope="session")
def admin(ddb, tmp_path_factory):
    return Admin(ddb, str(tmp_path_factory.mktemp("admin")))


def make_source(tmp_path_factory, users, links, seed):
    """A SQLite file made by the app (a stack on SQLite): one account signed up through it
    (the password is known, the hash is the app's scrypt), two links made through it, one
    session token revoked by logging out; then gen_data.py adds users and links."""
    s = itconf.Stack(str(tmp_path_factory.mktemp("source")), workers=2,
                     env={"SESSION_SECRET": SECRET}).start()
    try:
        c = s.client()
        email = "known-%d@example.com" % seed
        c.signup(email=email)
        r = c.shorten("https://www.example.com/made-by-the-app?x=1")
        assert r.status == 201, r
        app_link = r.json["short_code"]
        r = c.request("PUT", "/api/files/app%20file.txt", body=b"hello from the app\n",
                      headers={"Content-Type": "text/plain"})
        assert r.status in (200, 201), r
        app_file = r.json["short_code"]
        old_cookie = c.cookie
        r = c.post("/api/auth/logout", {})
        assert r.status in (200, 204), r
    finally:
        itconf.finish_stack(s)
    now = int(time.time())
    g = subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py"), s.sqlite_path,
                        "--users", str(users), "--links", str(links), "--seed", str(seed),
                        "--now", str(now), "--owner-email", email],
                       capture_output=True, text=True, check=True)
    return {"path": s.sqlite_path, "email": email, "summary": json.loads(g.stdout), "now": now,
            "old_cookie": old_cookie, "app_link": app_link, "app_file": app_file, "blob_dir": os.path.join(s.var_dir, "blobs"),
            "var_dir": s.var_dir}


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    return make_source(tmp_path_factory, USERS, LINKS, 1)


@pytest.fixture(scope="session")
def small_source(tmp_path_factory):
    return make_source(tmp_path_factory, max(50, USERS // 20), max(500, LINKS // 20), 2)


def copy_db(src, dst):
    """A consistent copy of a SQLite file (WAL included)."""
    import sqlite3
    a = sqlite3.connect(src)
    b = sqlite3.connect(dst)
    with b:
        a.backup(b)
    a.close()
    b.close()
    return dst
