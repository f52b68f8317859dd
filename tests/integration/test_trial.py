"""The one-time 30-day premium trial, over HTTP and through fileshare-admin."""
import datetime
import json
import threading

from conftest import PASSWORD


def parse(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")


def test_trial_starts_once_and_lasts_30_days(stack, user):
    r = user.post("/api/trial/start", {})
    assert r.status == 200, r
    t = r.json["trial"]
    assert r.json["tier"] == "trial"
    assert t["used"] and t["active"] and not t["can_start"]
    assert t["days_left"] == 30
    assert parse(t["expires_at"]) - parse(t["started_at"]) == datetime.timedelta(days=30)
    assert r.json["limits"]["custom_slugs"] is True
    again = user.post("/api/trial/start", {})
    assert again.status == 409 and again.error_code() == "trial_already_used"
    assert user.get("/api/me").json["trial"] == t


def test_fifty_concurrent_starts_give_exactly_one_200(stack, user):
    statuses = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def go():
        barrier.wait()
        s = user.post("/api/trial/start", {}).status
        with lock:
            statuses.append(s)
    threads = [threading.Thread(target=go) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 49
    workers = {e["pid"] for e in stack.access_lines(50, path="/api/trial/start")}
    assert len(workers) > 1, "the starts were not spread over several workers"


def test_expired_trial_is_free_forever(stack, user):
    assert user.post("/api/trial/start", {}).status == 200
    uid = user.get("/api/me").json["user_id"]
    stack.set_trial(uid, "2020-01-01T00:00:00Z", "2020-01-31T00:00:00Z")
    me = user.get("/api/me").json
    assert me["tier"] == "free"
    assert me["trial"]["active"] is False and me["trial"]["can_start"] is False
    assert me["trial"]["used"] is True and me["trial"]["days_left"] == 0
    assert me["limits"]["custom_slugs"] is False
    r = user.post("/api/trial/start", {})
    assert r.status == 409 and r.error_code() == "trial_already_used"


def test_admin_trial_status_and_set_tier(stack, user):
    p = stack.admin("trial-status", user.email.upper())
    st = json.loads(p.stdout)
    assert st["email"] == user.email.lower() and st["trial"]["can_start"] is True
    p = stack.admin("set-tier", user.email, "premium")
    assert json.loads(p.stdout)["tier"] == "premium"
    me = user.get("/api/me").json
    assert me["tier"] == "premium" and me["trial"]["can_start"] is False
    r = user.post("/api/trial/start", {})
    assert r.status == 409
    p = stack.admin("set-tier", user.email, "free")
    assert json.loads(p.stdout)["tier"] == "free"
    assert user.get("/api/me").json["trial"]["can_start"] is True
    missing = stack.admin("trial-status", "nobody-here@example.com", check=False)
    assert missing.returncode == 1 and "no account" in missing.stderr
    bad = stack.admin("set-tier", user.email, "gold", check=False)
    assert bad.returncode == 2
