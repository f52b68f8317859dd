"""URL links over real nginx + workers: creation rules, redirects, click counting, expiry,
max_clicks, ownership, passwords, listing."""
import concurrent.futures
import http.client
import json
import threading
import uuid

import pytest

from conftest import PASSWORD, STORE, ddb_proxy_handle


def open_link(stack, code, method="GET", headers=None):
    return stack.raw(method, "/" + code, headers=headers or {})


def test_shorten_and_redirect_counts_clicks(stack, user):
    r = user.shorten("https://example.org/some/long/path?q=1#frag")
    assert r.status == 201, r
    link = r.json
    code = link["short_code"]
    assert len(code) == 8 and code.isalnum()
    assert link["short_url"] == stack.base_url + "/" + code
    assert link["full_url"] == "https://example.org/some/long/path?q=1#frag"
    assert link["click_count"] == 0 and link["max_clicks"] is None and link["kind"] == "url"
    assert link["created_at"] and link["expires_at"]
    for i in range(3):
        o = open_link(stack, code)
        assert o.status == 302
        assert o.header("Location") == "https://example.org/some/long/path?q=1#frag"
        assert o.header("Cache-Control") == "private, no-store"
        assert o.header("Referrer-Policy") == "no-referrer"
    assert user.get("/api/links/" + code).json["click_count"] == 3


def test_head_and_preview_bots_are_not_counted(stack, user):
    code = user.shorten("https://example.org/bots").json["short_code"]
    assert open_link(stack, code, "HEAD").status == 302
    for ua in ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Twitterbot/1.0",
               "facebookexternalhit/1.1", "Mozilla/5.0 (compatible; Discordbot/2.0)",
               "WhatsApp/2.23.20.0", "TelegramBot (like TwitterBot)", "LinkedInBot/1.0",
               "Mozilla/5.0 SkypeUriPreview Preview/0.5"]:
        r = open_link(stack, code, headers={"User-Agent": ua})
        assert r.status == 302, ua
    assert user.get("/api/links/" + code).json["click_count"] == 0
    assert open_link(stack, code, headers={"User-Agent": "Mozilla/5.0 Firefox/120.0"}).status == 302
    assert user.get("/api/links/" + code).json["click_count"] == 1


BAD_URLS = [
    "", "example.com", "//example.com/x", "ftp://example.com/f", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>x</script>",
    "vbscript:msgbox(1)", "file:///etc/passwd", "https://", "https:///path", "http://:80/",
    "https://user:pw@example.com/", "https://example.com@evil.example/", "https://exa mple.com/",
    "https://example.com/a b", "https://example.com/\x00", "https://example.com\\@evil/",
    "https://example.com:99999/", "https://example.com:0/", "https://example.com/\u202egnp.exe",
    "https://example.com/\u00a0", "https://" + "a" * 4090 + ".com/", "http://127.0.0.1/loop",
    "http://127.0.0.1:1/loop", "HTTP://127.0.0.1./x", "mailto:a@example.com",
]


@pytest.fixture(scope="module")
def url_user(stack):
    c = stack.client()
    c.signup()
    return c


@pytest.mark.parametrize("url", BAD_URLS)
def test_invalid_urls_are_refused_and_nothing_stored(url_user, url):
    c = url_user
    r = c.shorten(url)
    assert r.status == 400 and r.error_code() == "invalid_url", (url, r)
    assert c.links().json["links"] == []


def test_non_string_url_and_bad_options(stack, user):
    assert user.post("/api/links", {"url": 5}).error_code() == "invalid_url"
    assert user.post("/api/links", {}).error_code() == "invalid_url"
    r = user.shorten("https://example.org/", max_clicks=0)
    assert r.status == 400 and r.error_code() == "invalid_max_clicks"
    r = user.shorten("https://example.org/", max_clicks="ten")
    assert r.status == 400 and r.error_code() == "invalid_max_clicks"
    r = user.shorten("https://example.org/", expires_in=10)
    assert r.status == 400 and r.error_code() == "invalid_expiry"
    r = user.shorten("https://example.org/", expires_in=3.5)
    assert r.status == 400
    assert user.links().json["links"] == []


def test_custom_slugs_are_premium_unique_and_not_reserved(stack):
    free = stack.client()
    free.signup()
    slug = "my-" + uuid.uuid4().hex[:8]
    r = free.shorten("https://example.org/", slug=slug)
    assert r.status == 403 and r.error_code() == "premium_required"
    assert "trial" in r.json["error"]["message"]
    prem = stack.client()
    prem.signup()
    prem.premium()
    r = prem.shorten("https://example.org/slug", slug=slug)
    assert r.status == 201 and r.json["short_code"] == slug
    assert open_link(stack, slug).header("Location") == "https://example.org/slug"
    other = stack.client()
    other.signup()
    other.premium()
    r = other.shorten("https://example.org/other", slug=slug)
    assert r.status == 409 and r.error_code() == "slug_taken"
    for bad in ["api", "API", "static", "healthz", "Readyz"]:
        r = prem.shorten("https://example.org/", slug=bad)
        assert r.status == 400 and r.error_code() == "invalid_slug", bad
    for bad in ["abc", "a" * 65, "has space", "dot.dot", "slash/x", "ünï"]:
        r = prem.shorten("https://example.org/", slug=bad)
        assert r.status == 400 and r.error_code() == "invalid_slug", bad


def test_other_users_links_are_invisible(stack, user):
    code = user.shorten("https://example.org/private").json["short_code"]
    mallory = stack.client()
    mallory.signup()
    unknown = mallory.get("/api/links/Zz9Zz9Zz")
    theirs = mallory.get("/api/links/" + code)
    assert theirs.status == unknown.status == 404
    assert theirs.body == unknown.body
    d = mallory.request("DELETE", "/api/links/" + code)
    assert d.status == 404 and d.body == mallory.request("DELETE", "/api/links/Zz9Zz9Zz").body
    assert code not in json.dumps(mallory.links().json)
    assert user.get("/api/links/" + code).status == 200
    assert open_link(stack, code).status == 302


def test_unknown_codes_answer_identical_404s(stack):
    bodies = set()
    for code in ["Abcdefgh", "zzzzzzzz", "x", "a-b_c", "%3Cscript%3E", "..."]:
        r = open_link(stack, code)
        assert r.status == 404, code
        bodies.add(r.body)
    assert len(bodies) == 1
    nul = open_link(stack, "a%00b")      # nginx refuses a NUL in the path itself
    assert nul.status == 400 and nul.error_code() == "bad_request"
    j = stack.raw("GET", "/Abcdefgh", headers={"Accept": "application/json"})
    assert j.status == 404 and j.error_code() == "not_found"


def test_thousand_concurrent_opens_count_exactly(stack, user):
    code = user.shorten("https://example.org/popular").json["short_code"]
    counts = {"ok": 0}
    lock = threading.Lock()

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        ok = 0
        for _ in range(n):
            conn.request("GET", "/" + code)
            r = conn.getresponse()
            r.read()
            ok += r.status == 302
        conn.close()
        with lock:
            counts["ok"] += ok
    with concurrent.futures.ThreadPoolExecutor(40) as ex:
        list(ex.map(worker, [25] * 40))
    assert counts["ok"] == 1000
    assert user.get("/api/links/" + code).json["click_count"] == 1000
    pids = {e["pid"] for e in stack.access_lines(1000, path="/" + code)}
    if STORE == "sqlite":
        # Every open is the link worker's (fileshare-fcgi --links-listen).
        assert pids == set(stack.helper_pids("fs-links"))
    else:
        assert len(pids) > 1    # DynamoDB: every worker serves opens; counts stay exact


def test_max_clicks_is_exact_under_concurrency(stack, user):
    code = user.shorten("https://example.org/limited", max_clicks=10).json["short_code"]
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        statuses = list(ex.map(lambda _: open_link(stack, code).status, range(200)))
    assert statuses.count(302) == 10
    assert statuses.count(410) == 190
    info = user.get("/api/links/" + code).json
    assert info["click_count"] == 10 and info["status"] == "exhausted"
    gone = stack.raw("GET", "/" + code, headers={"Accept": "text/html"})
    assert gone.status == 410 and b"expired" in gone.body
    assert gone.header("Content-Type").startswith("text/html")
    gj = stack.raw("GET", "/" + code, headers={"Accept": "application/json"})
    assert gj.status == 410 and gj.error_code() == "link_expired"


def test_expired_links_are_gone_and_purged(stack, user):
    code = user.shorten("https://example.org/old").json["short_code"]
    stack.expire_link(code)
    assert open_link(stack, code).status == 410
    assert code not in json.dumps(user.links().json)     # listing shows live links only
    p = stack.admin("purge")
    assert json.loads(p.stdout)["expired_links"] >= 1
    assert open_link(stack, code).status == 404
    assert user.get("/api/links/" + code).status == 404


def test_free_tier_lifetime_limit(stack, user):
    r = user.shorten("https://example.org/", expires_in=8 * 86400)
    assert r.status == 403 and r.error_code() == "premium_required"
    r = user.shorten("https://example.org/", expires_in=7 * 86400)
    assert r.status == 201
    user.premium()
    r = user.shorten("https://example.org/", expires_in=300 * 86400)
    assert r.status == 201
    r = user.shorten("https://example.org/", expires_in=366 * 86400)
    assert r.status == 400 and r.error_code() == "invalid_expiry"


def test_default_lifetimes(stack, user):
    import datetime
    p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    l = user.shorten("https://example.org/").json
    assert (p(l["expires_at"]) - p(l["created_at"])).days == 7
    user.premium()
    l = user.shorten("https://example.org/").json
    assert (p(l["expires_at"]) - p(l["created_at"])).days == 30


def test_active_link_quota(limited):
    c = limited.client()
    c.signup()
    for i in range(5):
        assert c.shorten("https://example.org/%d" % i).status == 201
    r = c.shorten("https://example.org/6")
    assert r.status == 429 and r.error_code() == "link_quota_reached"
    assert "5" in r.json["error"]["message"]
    # deleting one frees a place
    code = c.links().json["links"][0]["short_code"]
    assert c.request("DELETE", "/api/links/" + code).status == 204
    assert c.shorten("https://example.org/7").status == 201
    # the trial raises the limit
    c.premium()
    for i in range(3):
        assert c.shorten("https://example.org/p%d" % i).status == 201
    assert c.shorten("https://example.org/p9").error_code() == "link_quota_reached"


def test_quota_is_exact_under_concurrency(limited):
    c = limited.client()
    c.signup()
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        statuses = list(ex.map(lambda i: c.shorten("https://example.org/c%d" % i).status, range(20)))
    assert statuses.count(201) == 5 and statuses.count(429) == 15


def test_listing_pages_newest_first(stack, user):
    made = [user.shorten("https://example.org/n%d" % i).json["short_code"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        r = user.links(limit=3, **({"cursor": cursor} if cursor else {}))
        assert r.status == 200
        seen += [l["short_code"] for l in r.json["links"]]
        pages += 1
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 7 and pages == 3
    created = [l["created_at"] for l in user.links(limit=100).json["links"]]
    assert created == sorted(created, reverse=True)
    assert user.links(limit=101).error_code() == "invalid_limit"
    assert user.links(limit=0).error_code() == "invalid_limit"
    assert user.links(cursor="garbage!").error_code() == "invalid_cursor"
    assert user.links(cursor="QUJD").error_code() == "invalid_cursor"


def test_delete_link(stack, user):
    code = user.shorten("https://example.org/bye").json["short_code"]
    assert user.request("DELETE", "/api/links/" + code).status == 204
    assert open_link(stack, code).status == 404
    assert user.request("DELETE", "/api/links/" + code).status == 404


def test_sql_metacharacters_stored_verbatim(stack, user):
    url = "https://example.org/?q=' OR 1=1;--&x=\"; DROP TABLE urls;--"
    url = url.replace(" ", "%20")
    r = user.shorten(url)
    assert r.status == 201
    assert open_link(stack, r.json["short_code"]).header("Location") == url


def test_password_protected_links(limited):
    c = limited.client()
    c.signup()
    r = c.shorten("https://example.org/secret", password="open sesame")
    assert r.status == 403 and r.error_code() == "premium_required"
    c.premium()
    r = c.shorten("https://example.org/secret", password="open sesame")
    assert r.status == 201 and r.json["password_protected"] is True
    code = r.json["short_code"]
    form = limited.raw("GET", "/" + code, headers={"Accept": "text/html"})
    assert form.status == 200 and b'type="password"' in form.body
    api = limited.raw("GET", "/" + code)
    assert api.status == 401 and api.error_code() == "password_required"
    assert "default-src 'none'" in form.header("Content-Security-Policy")
    wrong = limited.raw("POST", "/" + code, body=b"password=nope",
                        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert wrong.status == 401 and b"Wrong password" in wrong.body
    right = limited.raw("POST", "/" + code, body=b"password=open+sesame",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert right.status == 302 and right.header("Location") == "https://example.org/secret"
    js = limited.raw("POST", "/" + code, body=json.dumps({"password": "open sesame"}).encode(),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert js.status == 302
    assert c.get("/api/links/" + code).json["click_count"] == 2
    # the stored hash is salted scrypt, never the password
    h = limited.link_attr(code, "password_hash")
    assert h.startswith("$scrypt$") and "open sesame" not in h
    # brute force is rate-limited by nginx
    statuses = [limited.raw("POST", "/" + code, body=b"password=guess%d" % i,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}).status
                for i in range(15)]
    assert 429 in statuses


@pytest.mark.skipif(STORE != "dynamodb", reason="counts calls at the DynamoDB proxy")
def test_one_dynamodb_call_per_redirect(stack, user):
    code = user.shorten("https://example.org/counted").json["short_code"]
    user.get("/api/me")
    proxy = ddb_proxy_handle()
    proxy.reset()
    for _ in range(50):
        assert open_link(stack, code).status == 302
    assert open_link(stack, "NoSuchCd").status == 404
    stats = proxy.stats()
    ops = stats.get("operations", stats)
    calls = {op: v["received"] for op, v in ops.items() if isinstance(v, dict) and v.get("received")}
    assert calls == {"UpdateItem": 51}, calls
