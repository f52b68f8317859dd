"""
fileshare-admin migrate / export / dump against dynalite (behind the SigV4-verifying proxy):
SQLite -> DynamoDB -> SQLite keeps every byte (C dumps and an independent Python dump agree),
re-runs change nothing, newer items are kept both ways, a migration killed half-way resumes to
the same end, injected UnprocessedItems / throttling / resets lose nothing, conflicts and
unwritable items fail the run, dry runs write nothing, and the real stack works on the migrated
tables and, after a rollback export, on the exported SQLite file.

The tests of this file run in order and share the "rt" tables.
"""
import json
import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import (ADMIN, PASSWORD, RATES, SECRET, copy_db, counts, itconf, sqlite_dump)

RT = "rt"
STATE = {}


_PYDUMPS = {}


def py_dump(path, now, include_expired=False):
    """The independent Python dump, computed once per (file, now, mode) for files that no
    longer change."""
    key = (path, now, include_expired)
    if key not in _PYDUMPS:
        _PYDUMPS[key] = sqlite_dump(path, now, include_expired)
    return _PYDUMPS[key]


def c_dump(admin, prefix, src, now, include_expired=False):
    args = ["dump", "--from", src, "--now", str(now)] + (["--include-expired"] if include_expired else [])
    p = admin.run(prefix, *args, check_rc=0)
    return p.stdout


def same_dump(a, b):
    """Asserts two dumps are equal, showing the first lines that differ if not."""
    if a != b:
        la, lb = a.splitlines(), b.splitlines()
        only_a = sorted(set(la) - set(lb))[:3]
        only_b = sorted(set(lb) - set(la))[:3]
        raise AssertionError("dumps differ (%d vs %d lines)\nonly in the first: %r\nonly in the second: %r"
                             % (len(la), len(lb), only_a, only_b))
    return True


def ddb_get(ddb, table, key):
    r = ddb.call("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
    assert r.status == 200, r.body
    return r.json().get("Item")


def ddb_update(ddb, table, key, expr, values):
    r = ddb.call("UpdateItem", {"TableName": table, "Key": key, "UpdateExpression": expr,
                                "ExpressionAttributeValues": values})
    assert r.status == 200, r.body


def scan_count(ddb, table):
    r = ddb.call("Scan", {"TableName": table, "Select": "COUNT"})
    assert r.status == 200, r.body
    return r.json()["Count"]


def items_written(report):
    c = counts(report)
    m = re.search(r"email claims written: (\d+); quota items written: (\d+)", report)
    return sum(c[k]["new"] + c[k]["updated"] for k in c) + int(m.group(1)) + int(m.group(2))


# ---------------------------------------------------------------------------------- dumps


def test_c_dump_equals_independent_python_dump(admin, source):
    # (Nothing the generator makes expires within an hour of its "now": dumps at now + 1 stay
    # valid for the whole suite. The filter of expired links is compared in the kill test.)
    now = source["now"] + 1
    c = c_dump(admin, RT, "sqlite:" + source["path"], now, True)
    assert same_dump(c, py_dump(source["path"], now, True))
    lines = c.splitlines()
    s = source["summary"]
    assert sum(1 for l in lines if l.startswith(b"U\t")) == s["users"] + 1
    assert sum(1 for l in lines if l.startswith(b"L\t")) == s["links"] + 2
    # The escaping was exercised: a TAB, a newline, a DEL and a literal \N in filenames.
    for needle in (b"tab\\there", b"line\\nbreak", b"del\\x7f", b"\\\\N "):
        assert any(needle in l for l in lines), needle


# ---------------------------------------------------------------------------------- round trip


def test_round_trip_sqlite_dynamodb_sqlite_is_lossless(admin, ddb, source, tmp_path_factory):
    admin.create_tables(RT)
    p = admin.run(RT, "migrate", "--from", "sqlite:" + source["path"], "--to", "dynamodb",
                  "--include-expired", check_rc=0)
    assert "result: OK, the dumps are identical" in p.out, p.out
    c = counts(p.out)
    s = source["summary"]
    assert c["users"]["new"] == s["users"] + 1 and c["links"]["new"] == s["links"] + 2
    assert "quota entries: %d live links checked, 0 missing" % (s["links"] + 2 - s["links_by_kind"]["expired"]) in p.out
    RATES.append(("migrate SQLite -> DynamoDB (items written)", items_written(p.out), p.seconds))
    assert not os.path.exists(source["path"] + ".migrate-checkpoint")   # removed when done
    # (migrate compared the dump of DynamoDB with the source's itself: the same checksum.)
    now = source["now"] + 1
    orig = c_dump(admin, RT, "sqlite:" + source["path"], now, True)
    back = str(tmp_path_factory.mktemp("rt") / "back.db")
    p = admin.run(RT, "export", "--from", "dynamodb", "--to", "sqlite:" + back, "--include-expired",
                  check_rc=0)
    assert "result: OK, the dumps are identical" in p.out, p.out
    c = counts(p.out)
    RATES.append(("export DynamoDB -> SQLite (records written)", sum(c[k]["new"] for k in c), p.seconds))
    assert re.search(r"not exported: %d email claims" % (s["users"] + 1), p.out)
    assert c_dump(admin, RT, "sqlite:" + back, now, True) == orig
    # ... and independently of the C code: Python's dumps of both SQLite files are identical.
    assert same_dump(sqlite_dump(back, now, True), orig)
    assert same_dump(py_dump(source["path"], now, True), orig)
    # The exported file has the schema the app makes, version included.
    db = sqlite3.connect(back)
    assert db.execute("SELECT max(version) FROM schema_version").fetchone() == \
        sqlite3.connect(source["path"]).execute("SELECT max(version) FROM schema_version").fetchone()
    db.close()
    STATE["back"] = back


def test_items_have_the_layout_the_app_writes(ddb, source):
    """The known account was signed up by the app; its migrated items must have exactly the
    attribute names and types store_dynamodb writes (compared with items the app itself makes
    in test_http_on_migrated_tables)."""
    db = sqlite3.connect(source["path"])
    uid = db.execute("SELECT user_id FROM users WHERE email = ?", (source["email"],)).fetchone()[0]
    db.close()
    u = ddb_get(ddb, RT + "-users", {"user_id": {"S": uid}})
    assert {k: list(v)[0] for k, v in u.items()} == {
        "user_id": "S", "email": "S", "password_hash": "S", "user_tier": "S", "trial_used": "BOOL",
        "sessions_valid_after": "N", "created_at": "S", "updated_at": "S"}
    claim = ddb_get(ddb, RT + "-users", {"user_id": {"S": "email#" + source["email"]}})
    assert claim["claimed_by"] == {"S": uid}
    q = ddb_get(ddb, RT + "-users", {"user_id": {"S": "quota#" + uid}})
    assert q["version"] == {"N": "1"} and len(q["links"]["M"]) == 32
    link = ddb_get(ddb, RT + "-urls", {"short_code": {"S": source["app_link"]}})
    assert {k: list(v)[0] for k, v in link.items()} == {
        "short_code": "S", "full_url": "S", "created_at": "S", "expires_at": "S",
        "expires_at_ttl": "N", "created_by_user": "S", "click_count": "N"}
    STATE["known_uid"] = uid


def test_running_it_again_writes_nothing_and_keeps_newer_items(admin, ddb, source, tmp_path):
    db = sqlite3.connect(source["path"])
    known = STATE["known_uid"]
    u1, u2 = [r[0] for r in db.execute("SELECT user_id FROM users WHERE user_id <> ? ORDER BY user_id"
                                       " LIMIT 2", (known,))]
    l1 = db.execute("SELECT short_code, click_count FROM urls WHERE created_by_user NOT IN (?, ?, ?)"
                    " AND expires_at_ttl > ? ORDER BY short_code LIMIT 1",
                    (known, u1, u2, source["now"] + 600)).fetchone()
    db.close()
    # DynamoDB moved on after the migration: u1 became premium, l1 was opened 1000 times.
    ddb_update(ddb, RT + "-users", {"user_id": {"S": u1}}, "SET user_tier = :t, updated_at = :u",
               {":t": {"S": "premium"}, ":u": {"S": "2099-01-01T00:00:00Z"}})
    ddb_update(ddb, RT + "-urls", {"short_code": {"S": l1[0]}}, "ADD click_count :n",
               {":n": {"N": "1000"}})
    ddb.reset()
    p = admin.run(RT, "migrate", "--from", "sqlite:" + source["path"], "--to", "dynamodb",
                  "--include-expired", check_rc=0)
    c = counts(p.out)
    RATES.append(("migrate again, nothing to write (records read)",
                  sum(c[k]["unchanged"] + c[k]["kept-newer"] for k in c), p.seconds))
    # Idempotent: nothing new, nothing overwritten, not one write call...
    for k in c:
        assert c[k]["new"] == c[k]["updated"] == c[k]["conflicts"] == c[k]["failed"] == 0, p.out
    assert c["links"]["unchanged"] == source["summary"]["links"] + 2 - 1
    assert ddb.op_stats("BatchWriteItem").get("received", 0) == 0
    assert ddb.op_stats("PutItem").get("received", 0) == 0
    # ... and what changed in DynamoDB since is newer there: kept, and reported by key.
    assert c["users"]["kept-newer"] == 1 and c["links"]["kept-newer"] == 1, p.out
    assert "users " + u1 in p.out and "links " + l1[0] in p.out            # reported by key
    assert "kept newer 1" in p.out and "result: OK, nothing lost" in p.out
    assert ddb_get(ddb, RT + "-users", {"user_id": {"S": u1}})["user_tier"] == {"S": "premium"}
    assert ddb_get(ddb, RT + "-urls", {"short_code": {"S": l1[0]}})["click_count"] == {"N": str(l1[1] + 1000)}
    # Export into a copy of the old SQLite file: DynamoDB's newer versions replace the older
    # rows; a row newer in the file (u2 changed there later) is kept and reported.
    merged = copy_db(source["path"], str(tmp_path / "merged.db"))
    db = sqlite3.connect(merged)
    with db:
        db.execute("UPDATE users SET user_tier = 'premium', updated_at = '2098-01-01T00:00:00Z'"
                   " WHERE user_id = ?", (u2,))
    db.close()
    p = admin.run(RT, "export", "--from", "dynamodb", "--to", "sqlite:" + merged, "--include-expired",
                  check_rc=0)
    c = counts(p.out)
    assert c["users"]["updated"] == 1 and c["users"]["kept-newer"] == 1, p.out
    assert c["links"]["updated"] == 1 and c["links"]["new"] == 0, p.out
    db = sqlite3.connect(merged)
    assert db.execute("SELECT user_tier FROM users WHERE user_id = ?", (u1,)).fetchone() == ("premium",)
    assert db.execute("SELECT updated_at FROM users WHERE user_id = ?", (u2,)).fetchone() == ("2098-01-01T00:00:00Z",)
    assert db.execute("SELECT click_count FROM urls WHERE short_code = ?", (l1[0],)).fetchone() == (l1[1] + 1000,)
    db.close()


# ---------------------------------------------------------------------------------- kill and resume


def test_killed_half_way_and_resumed_ends_identical(admin, ddb, small_source):
    source = small_source
    prefix = "kill"
    admin.create_tables(prefix)
    ckpt = source["path"] + ".migrate-checkpoint"
    args = [ADMIN, "migrate", "--from", "sqlite:" + source["path"], "--to", "dynamodb", "--chunk", "100",
            "--progress-interval", "100"]
    # A slower network (30 ms more per write) spreads the run over a few seconds.
    ddb.clear_faults()
    ddb.fault(type="delay", operation="BatchWriteItem", ms=30, probability=1.0)
    proc = subprocess.Popen(args, env=admin.env(prefix), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed_at = None
    deadline = time.time() + 240
    for raw in proc.stderr:
        m = re.match(rb"migrate: links (\d+)/(\d+) items", raw)
        if m and int(m.group(2)) // 4 <= int(m.group(1)) < int(m.group(2)):
            proc.send_signal(signal.SIGKILL)         # as an OOM killer or a lost host would
            killed_at = int(m.group(1))
            break
        assert time.time() < deadline
    proc.wait()
    proc.stderr.close()
    ddb.clear_faults()
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    ck = json.load(open(ckpt))
    assert ck["phase"] == "links" and ck["after"] and ck["counts"]["users"][0] == source["summary"]["users"] + 1
    time.sleep(0.3)  # the workers die with their parent (PR_SET_PDEATHSIG)
    left = subprocess.run(["pgrep", "-f", "fileshare-admin migrate --from sqlite:" + source["path"]],
                          capture_output=True, text=True).stdout.split()
    assert not left, "workers outlived their parent: %s" % left
    linked_before = scan_count(ddb, prefix + "-urls")
    assert 0 < linked_before < source["summary"]["links"]
    p = admin.run(prefix, "migrate", "--from", "sqlite:" + source["path"], "--to", "dynamodb", check_rc=0)
    assert "resuming from the checkpoint" in p.err
    assert "result: OK, the dumps are identical" in p.out, p.out
    c = counts(p.out)
    live = source["summary"]["links"] + 2 - source["summary"]["links_by_kind"]["expired"]
    assert c["links"]["new"] + c["links"]["unchanged"] == live     # each link once
    assert c["links"]["skipped"] == source["summary"]["links_by_kind"]["expired"]
    assert c["users"]["new"] == source["summary"]["users"] + 1
    assert not os.path.exists(ckpt)
    now = int(time.time())
    assert same_dump(c_dump(admin, prefix, "dynamodb", now), sqlite_dump(source["path"], now))


# ---------------------------------------------------------------------------------- faults


def test_unprocessed_items_throttling_and_resets_lose_nothing(admin, ddb, small_source, tmp_path):
    prefix = "flt"
    admin.create_tables(prefix)
    ddb.clear_faults()
    ddb.add_faults([
        {"type": "throttle", "operation": "BatchWriteItem", "nth": 3, "count": 2},    # certainly
        {"type": "unprocessed", "operation": "BatchWriteItem", "nth": 2, "items": 5},
        {"type": "unprocessed", "operation": "BatchWriteItem", "probability": 0.3, "items": 8, "seed": 7},
        {"type": "unprocessed", "operation": "BatchGetItem", "probability": 0.2, "items": 30, "seed": 9},
        {"type": "throttle", "operations": ["BatchWriteItem", "BatchGetItem", "Scan"], "probability": 0.03,
         "seed": 8},
        {"type": "throttle", "exception": "ThrottlingException", "operation": "BatchWriteItem",
         "probability": 0.02, "seed": 11},
        {"type": "error500", "operation": "BatchWriteItem", "probability": 0.02, "seed": 10},
        {"type": "reset", "operation": "BatchWriteItem", "when": "after", "probability": 0.02, "seed": 12},
    ])
    try:
        p = admin.run(prefix, "migrate", "--from", "sqlite:" + small_source["path"], "--to", "dynamodb",
                      "--include-expired", check_rc=0)
        fired = ddb.faults()["fired"]
    finally:
        ddb.clear_faults()
    assert "result: OK, the dumps are identical" in p.out, p.out
    kinds = {f["type"] for f in fired}
    assert {"unprocessed", "throttle"} <= kinds, kinds
    m = re.search(r"unprocessed items resent (\d+)", p.out)
    assert int(m.group(1)) > 0, p.out
    now = int(time.time())
    assert c_dump(admin, prefix, "dynamodb", now, True) == sqlite_dump(small_source["path"], now, True)
    # The export under throttled Scans.
    ddb.add_faults([{"type": "throttle", "operation": "Scan", "probability": 0.1, "seed": 3},
                    {"type": "error503", "operation": "Scan", "probability": 0.05, "seed": 4}])
    try:
        back = str(tmp_path / "flt-back.db")
        p = admin.run(prefix, "export", "--from", "dynamodb", "--to", "sqlite:" + back, "--include-expired",
                      check_rc=0)
    finally:
        ddb.clear_faults()
    assert "result: OK, the dumps are identical" in p.out, p.out
    assert sqlite_dump(back, now, True) == sqlite_dump(small_source["path"], now, True)


# ---------------------------------------------------------------------------------- loss is an error


def tiny_source(admin, path, users=20, links=100, seed=5):
    admin.run("tiny", "trial-status", "nobody@example.com", extra={"SQLITE_PATH": path})  # makes the schema
    subprocess.run([os.environ.get("PYTHON", "/usr/bin/python3"), os.path.join(os.path.dirname(__file__), "gen_data.py"),
                    path, "--users", str(users), "--links", str(links), "--seed", str(seed)],
                   check=True, capture_output=True)
    return path


def test_conflicts_and_unwritable_items_fail_the_run(admin, ddb, tmp_path):
    prefix = "cf"
    src = tiny_source(admin, str(tmp_path / "cf.db"))
    admin.create_tables(prefix)
    db = sqlite3.connect(src)
    uid, email = db.execute("SELECT user_id, email FROM users ORDER BY user_id LIMIT 1").fetchone()
    owner = db.execute("SELECT user_id FROM users ORDER BY user_id DESC LIMIT 1").fetchone()[0]
    with db:   # an item over DynamoDB's 400 KB limit
        db.execute("INSERT INTO urls (short_code, full_url, created_at, expires_at, expires_at_ttl,"
                   " created_by_user) VALUES ('TooBig01', ?, '2026-01-01T00:00:00Z',"
                   " '2099-01-01T00:00:00Z', 4070908800, ?)", ("https://example.com/" + "x" * 450000, owner))
    db.close()
    # The address is already claimed in DynamoDB by another account.
    r = ddb.call("PutItem", {"TableName": prefix + "-users", "Item": {
        "user_id": {"S": "email#" + email}, "claimed_by": {"S": "00000000-0000-4000-8000-000000000000"}}})
    assert r.status == 200
    p = admin.run(prefix, "migrate", "--from", "sqlite:" + src, "--to", "dynamodb")
    assert p.returncode == 1, p.out
    c = counts(p.out)
    assert c["users"]["conflicts"] == 1 and c["links"]["failed"] == 1, p.out
    assert "users " + uid in p.out and "links TooBig01" in p.out
    assert "result: FAILED" in p.out
    assert "missing 1" in p.out      # the verification sees both losses too
    # What is lost is not behind a watermark: the next run is a full pass.
    assert not os.path.exists(src + ".migrate-checkpoint")
    assert "the next run is a full pass" in p.out


def test_dry_runs_write_nothing(admin, ddb, tmp_path):
    prefix = "dry"
    src = tiny_source(admin, str(tmp_path / "dry.db"), seed=6)
    admin.create_tables(prefix)
    ddb.reset()
    p = admin.run(prefix, "migrate", "--from", "sqlite:" + src, "--to", "dynamodb", "--dry-run", check_rc=0)
    assert "DRY RUN" in p.out and counts(p.out)["users"]["new"] == 20
    assert scan_count(ddb, prefix + "-users") == 0 and scan_count(ddb, prefix + "-urls") == 0
    assert ddb.op_stats("BatchWriteItem").get("received", 0) == 0
    assert not os.path.exists(src + ".migrate-checkpoint")
    out = str(tmp_path / "never.db")
    # A real migration of the same file elsewhere, and a dry export of it.
    admin.create_tables("dry2")
    admin.run("dry2", "migrate", "--from", "sqlite:" + src, "--to", "dynamodb", check_rc=0)
    p = admin.run("dry2", "export", "--from", "dynamodb", "--to", "sqlite:" + out, "--dry-run", check_rc=0)
    assert "DRY RUN" in p.out and counts(p.out)["links"]["new"] > 0 and not os.path.exists(out)


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(admin, tmp_path):
    prefix = "tty"
    src = tiny_source(admin, str(tmp_path / "tty.db"), seed=7)
    admin.create_tables(prefix)
    master, slave = pty.openpty()
    proc = subprocess.Popen([ADMIN, "migrate", "--from", "sqlite:" + src, "--to", "dynamodb",
                             "--include-expired"], env=admin.env(prefix), stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait()
    os.close(master)
    assert proc.returncode == 0
    assert b"\r\x1b[K" in out and re.search(rb"links +\[#+\] 100/100 items", out), out[-500:]
    assert b"ETA" in out
    p = admin.run(prefix, "migrate", "--from", "sqlite:" + src, "--to", "dynamodb", "--include-expired",
                  check_rc=0)
    assert re.search(r"^migrate: links 100/100 items \(100%\), \d+ items/s, eta", p.err, re.M)


# ---------------------------------------------------------------------------------- the app on the data


def live_links_of(path, uid, now):
    db = sqlite3.connect(path)
    rows = db.execute("SELECT short_code FROM urls WHERE created_by_user = ? AND expires_at_ttl > ?",
                      (uid, now)).fetchall()
    db.close()
    return {r[0] for r in rows}


def all_links(client):
    seen, cursor = [], None
    while True:
        r = client.links(limit=7, **({"cursor": cursor} if cursor else {}))
        assert r.status == 200, r
        seen += [l["short_code"] for l in r.json["links"]]
        cursor = r.json.get("next_cursor")
        if not cursor:
            return seen


def test_http_on_migrated_tables(admin, ddb, source, tmp_path_factory):
    uid = STATE["known_uid"]
    expected = live_links_of(source["path"], uid, int(time.time()))
    assert len(expected) == 32
    s = itconf.Stack(str(tmp_path_factory.mktemp("on-ddb")), workers=2, env=dict(ddb.env(), **{
        "USE_DYNAMODB": "true", "DYNAMODB_USERS_TABLE_NAME": RT + "-users",
        "DYNAMODB_URLS_TABLE_NAME": RT + "-urls", "SESSION_SECRET": SECRET,
        "FREE_MAX_LINKS": str(len(expected) + 3)})).start()
    try:
        # The token revoked on SQLite (logout) stays revoked on DynamoDB.
        old = s.client()
        old.cookie = source["old_cookie"]
        assert old.get("/api/me").status == 401
        c = s.client()
        assert c.login(source["email"]).status == 200     # the app's own scrypt hash, migrated
        me = c.get("/api/me").json
        assert me["trial"]["can_start"] is True and me["trial"]["used"] is False
        listed = all_links(c)
        assert len(listed) == len(set(listed)) and set(listed) == expected
        # A migrated link of another account opens (302) and its click is counted once.
        db = sqlite3.connect(source["path"])
        code, url, clicks = db.execute(
            "SELECT short_code, full_url, click_count FROM urls WHERE full_url IS NOT NULL AND"
            " password_hash IS NULL AND max_clicks IS NULL AND expires_at_ttl > ? AND created_by_user <> ?"
            " ORDER BY short_code DESC LIMIT 1", (int(time.time()) + 600, uid)).fetchone()
        db.close()
        r = s.raw("GET", "/" + code)
        assert r.status == 302 and r.header("Location") == url, r
        assert ddb_get(ddb, RT + "-urls", {"short_code": {"S": code}})["click_count"] == {"N": str(clicks + 1)}
        # The quota item migrated with the links makes the free limit exact: 3 more, no 4th.
        made = []
        for i in range(3):
            r = c.shorten("https://example.org/after-migration-%d" % i)
            assert r.status == 201, r
            made.append(r.json["short_code"])
        assert c.shorten("https://example.org/one-too-many").status == 429
        # The trial of an account that never used it.
        r = c.post("/api/trial/start", {})
        assert r.status == 200 and r.json["trial"]["active"] is True, r
        assert c.post("/api/trial/start", {}).error_code() == "trial_already_used"
        STATE.update(opened=(code, clicks + 1), made=made)
        # Items the app writes now have the names and types of the migrated ones.
        other = s.client()
        other.signup(email="fresh-after-migration@example.com")
        fresh = ddb_get(ddb, RT + "-users", {"user_id": {"S": other.get("/api/me").json["user_id"]}})
        migrated = ddb_get(ddb, RT + "-users", {"user_id": {"S": uid}})
        shape = lambda it: {k: list(v)[0] for k, v in it.items()}   # noqa: E731
        trial = {"trial_started_at": "S", "trial_expires_at": "S", "trial_start_id": "S"}
        assert shape(fresh) == {k: t for k, t in shape(migrated).items() if k not in trial}
        assert shape(ddb_get(ddb, RT + "-urls", {"short_code": {"S": made[0]}})) == \
            shape(ddb_get(ddb, RT + "-urls", {"short_code": {"S": source["app_link"]}}))
        q = ddb_get(ddb, RT + "-users", {"user_id": {"S": "quota#" + uid}})
        assert q["version"] == {"N": "4"} and len(q["links"]["M"]) == 35
    finally:
        itconf.finish_stack(s)


def test_rollback_export_keeps_what_happened_on_dynamodb(admin, source, tmp_path_factory):
    d = tmp_path_factory.mktemp("rollback")
    path = str(d / "rollback.db")
    p = admin.run(RT, "export", "--from", "dynamodb", "--to", "sqlite:" + path, check_rc=0)
    assert "result: OK, the dumps are identical" in p.out, p.out
    # USE_DYNAMODB=false on the exported file.
    s = itconf.Stack(str(d / "stack"), workers=2, env={"USE_DYNAMODB": "false", "SQLITE_PATH": path,
                                                      "SESSION_SECRET": SECRET}).start()
    try:
        old = s.client()
        old.cookie = source["old_cookie"]
        assert old.get("/api/me").status == 401
        c = s.client()
        assert c.login(source["email"]).status == 200
        me = c.get("/api/me").json
        assert me["trial"]["used"] is True and me["trial"]["active"] is True    # started on DynamoDB
        listed = set(all_links(c))
        assert set(STATE["made"]) <= listed and len(listed) == 35
        code, clicks = STATE["opened"]
        clicks_now = lambda: sqlite3.connect(path).execute(      # noqa: E731
            "SELECT click_count FROM urls WHERE short_code = ?", (code,)).fetchone()[0]
        assert clicks_now() == clicks
        r = s.raw("GET", "/" + code)
        assert r.status == 302
        assert clicks_now() == clicks + 1
    finally:
        itconf.finish_stack(s)
