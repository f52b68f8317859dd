"""DynamoDB failures injected by the SigV4-verifying proxy while the real stack runs on it:
requests still succeed within the retry budget, conditional failures are not retried, a
retried write that had been applied is not applied twice, and nothing the client was told
succeeded is missing afterwards."""
import concurrent.futures

import pytest

from conftest import STORE, ddb_proxy_handle

pytestmark = pytest.mark.skipif(STORE != "dynamodb", reason="faults are injected at the DynamoDB proxy")


@pytest.fixture
def proxy():
    p = ddb_proxy_handle()
    p.clear_faults()
    yield p
    p.clear_faults()
    p.set_skew(0) if hasattr(p, "set_skew") else None


def received(p, op):
    return p.op_stats(op).get("received", 0)


def test_throttling_and_5xx_are_retried(stack, user, proxy):
    code = user.shorten("https://example.org/t").json["short_code"]
    proxy.fault(type="throttle", operation="UpdateItem", count=2)
    assert stack.raw("GET", "/" + code).status == 302
    proxy.fault(type="error500", operation="TransactWriteItems", count=2)
    c = stack.client()
    c.signup()
    assert c.get("/api/me").status == 200
    proxy.fault(type="error503", operation="GetItem", count=2)
    assert c.get("/api/me").status == 200
    proxy.fault(type="throttle", exception="ThrottlingException", operation="Query", count=1)
    assert user.links().status == 200
    assert user.get("/api/links/" + code).json["click_count"] == 1


def test_retry_budget_exhausted_is_a_clean_503(stack, user, proxy):
    proxy.fault(type="error500", operation="GetItem", count=3)
    r = user.get("/api/me")
    assert r.status == 503 and r.error_code() == "store_unavailable"
    assert user.get("/api/me").status == 200


def test_conditional_failures_are_not_retried(stack, user, proxy):
    proxy.reset()
    r = stack.client().post("/api/auth/signup", {"email": user.email, "password": "another long password"})
    assert r.status == 409
    assert received(proxy, "TransactWriteItems") == 1
    proxy.reset()
    assert user.post("/api/trial/start", {}).status == 200
    assert user.post("/api/trial/start", {}).status == 409
    assert received(proxy, "UpdateItem") == 2


def test_connection_reset_before_is_retried(stack, user, proxy):
    proxy.fault(type="reset", operation="PutItem", when="before")
    copy = stack.client()
    copy.cookie = user.cookie
    assert user.post("/api/auth/logout", {}).status == 200
    assert copy.get("/api/me").status == 401      # the revocation was stored


def test_applied_writes_are_not_applied_twice(stack, proxy):
    c = stack.client()
    c.signup()
    proxy.fault(type="reset", operation="TransactWriteItems", when="after")
    r = c.shorten("https://example.org/once")
    assert r.status == 201, r
    links = c.links().json["links"]
    assert [l["short_code"] for l in links] == [r.json["short_code"]]
    proxy.fault(type="reset", operation="UpdateItem", when="after")
    r = c.post("/api/trial/start", {})
    assert r.status == 200, r        # the retry recognises its own start
    assert c.get("/api/me").json["trial"]["active"] is True


def test_skewed_service_clock_is_corrected(stack, user, proxy):
    proxy.fault(type="skew", seconds=900)
    try:
        assert user.get("/api/me").status == 200
        code = user.shorten("https://example.org/skew").json["short_code"]
        assert stack.raw("GET", "/" + code).status == 302
    finally:
        proxy.fault(type="skew", seconds=0)
    assert user.get("/api/me").status == 200


def test_nothing_acknowledged_is_lost_under_random_failures(stack, proxy):
    c = stack.client()
    c.signup()
    c.premium()
    proxy.fault(type="error500", probability=0.1, seed=7)
    proxy.fault(type="throttle", probability=0.05, seed=11)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            made = list(ex.map(lambda i: c.shorten("https://example.org/r%d" % i), range(30)))
        codes = [r.json["short_code"] for r in made if r.status == 201]
        opened = {}
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for code, r in zip(codes * 3, ex.map(lambda k: stack.raw("GET", "/" + k), codes * 3)):
                opened[code] = opened.get(code, 0) + (r.status == 302)
    finally:
        proxy.clear_faults()
    assert all(r.status in (201, 503) for r in made)
    assert len(codes) >= 25
    listed = set()
    cursor = None
    while True:
        page = c.links(limit=100, **({"cursor": cursor} if cursor else {})).json
        listed |= {l["short_code"]: l for l in page["links"]}.keys()
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(codes) <= listed
    for code in codes:
        # every redirect a client received was counted (a retry after a lost answer may count
        # once more, never less)
        assert c.get("/api/links/" + code).json["click_count"] >= opened[code]
