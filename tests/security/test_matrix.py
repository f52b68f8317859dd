"""
The security matrix: one table of (attack, expected answer), each row run against the real
stack (nginx + workers, through the integration harness), each counting the bad inputs it
tried. The table is MATRIX below, in the order the rows run; the last row greps every log the
whole test run produced (LOG_DIR: the integration suites' stacks and these) for every secret
any of those tests used.

Some rows re-assert what tests/integration checks in passing (the first lines of its
test_links, test_accounts and test_files); here each attack is tried in many more shapes.
"""
import base64
import collections
import concurrent.futures
import glob
import hashlib
import hmac
import json
import os
import random
import re
import socket
import time
import urllib.parse
import uuid

import pytest

import conftest
from conftest import BLOB_BACKEND, LOG_DIR, PASSWORD, SECRETS, STORE, Stack, finish_stack, segments_resolved

SECRET = "matrix-session-secret-%s" % uuid.uuid4().hex     # the forging stack's SESSION_SECRET
TRIED = collections.OrderedDict()                          # row -> bad inputs tried
MATRIX = []                                                # (id, attack, expected, fn)


def row(rid, attack, expected):
    def deco(fn):
        MATRIX.append((rid, attack, expected, fn))
        return fn
    return deco


class World:
    """What the rows share: the session's stack with two users and their links, and a stack of
    the matrix's own with a known session secret and tight rate limits."""

    def __init__(self, stack, tmp_path_factory):
        self.stack = stack
        self.alice = stack.client()
        self.alice.signup()
        self.alice.premium()
        self.bob = stack.client()
        self.bob.signup()
        self.alice_code = self.alice.shorten("https://example.org/alice-private").json["short_code"]
        self.alice_token = self.alice.api_token()
        SECRETS.add(SECRET)
        self.tight = Stack(str(tmp_path_factory.mktemp("matrix-tight")), workers=2, env={
            "SESSION_SECRET": SECRET, "AUTH_RATE": "5r/s", "AUTH_BURST": "10",
            "LINKPW_RATE": "6r/m", "LINKPW_BURST": "3"}).start()

    def close(self):
        finish_stack(self.tight)


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory):
    w = World(stack, tmp_path_factory)
    yield w
    w.close()


def expect_error(r, status, code, what):
    assert r.status == status and r.error_code() == code, (what, r)


# ---------------------------------------------------------------------------------------------
# links

SCHEMES = [
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", "JaVaScRiPt:alert(document.cookie)",
    " javascript:alert(1)", "\tjavascript:alert(1)", "\njavascript:alert(1)", "\x00javascript:alert(1)",
    "java\tscript:alert(1)", "java\nscript:alert(1)", "java\rscript:alert(1)", "javascript\x00:alert(1)",
    "javascript :alert(1)", "javascript&colon;alert(1)", "%6Aavascript:alert(1)", "&#106;avascript:alert(1)",
    "\u00a0javascript:alert(1)", "\u200bjavascript:alert(1)", "\ufeffjavascript:alert(1)",
    "\uff4aavascript:alert(1)", "javascript://example.com/%0Aalert(1)", "javascript:/*http://x*/alert(1)",
    "data:text/html,<script>alert(1)</script>", "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    " data:,x", "Data:image/svg+xml,<svg onload=alert(1)>", "vbscript:msgbox(1)", "VBScript:MsgBox(1)",
    " vbscript:msgbox(1)", "file:///etc/passwd", "FILE://localhost/etc/passwd", "file:\\\\server\\share",
    "File:/etc/shadow", "blob:https://example.com/uuid", "about:blank", "view-source:https://example.com",
    "filesystem:https://example.com/temporary/x", "jar:http://example.com/x.jar!/", "ws://example.com/",
    "ftp://example.com/f", "gopher://example.com/", "mailto:a@example.com", "tel:+1555",
    "http:javascript:alert(1)", "https:/\\evil.example", "//evil.example/", "\\\\evil.example\\x",
    "http://", "https:///x", "h\ttp://example.com/",
]


@row("url-schemes", "dangerous URL schemes (javascript:, data:, vbscript:, file:, ...), mixed case, "
     "whitespace-, control- and entity-obfuscated", "400 invalid_url, nothing stored")
def r_url_schemes(w):
    before = len(w.bob.links().json["links"])
    for url in SCHEMES:
        expect_error(w.bob.shorten(url), 400, "invalid_url", url)
    assert len(w.bob.links().json["links"]) == before
    return len(SCHEMES)


@row("self-links", "links to this service (its own host in every spelling browsers resolve)",
     "400 invalid_url")
def r_self_links(w):
    port = w.stack.port
    urls = [w.stack.base_url + "/x", "http://127.0.0.1/x", "HTTP://127.0.0.1.:%d/" % port,
            "https://127.0.0.1:%d/api/links" % port, "http://127.1/", "http://127.0.1/",
            "http://2130706433/", "http://0x7f000001/", "http://0x7f.0.0.1/", "http://0177.0.0.1/",
            "http://017700000001/", "http://127.0.0.1:443/", "http://127.000.000.001/",
            "https://127.0.0.1.:8443/" + w.alice_code]
    for url in urls:
        expect_error(w.bob.shorten(url), 400, "invalid_url", url)
    return len(urls)


@row("other-users-links", "another user's links: read, QR, delete, list, by cookie and by token",
     "404 not_found, byte-identical to an unknown code; the owner's link untouched")
def r_other_users(w):
    unknown = "Zz9Zz9Zz"
    mallory = w.bob
    token = mallory.api_token()
    script = w.stack.client(origin=False)
    script.bearer = token
    n = 0
    for who in (mallory, script):
        for method, suffix in (("GET", ""), ("GET", "/qr.svg"), ("DELETE", "")):
            theirs = who.request(method, "/api/links/" + w.alice_code + suffix)
            none = who.request(method, "/api/links/" + unknown + suffix)
            assert theirs.status == none.status == 404, (method, suffix, theirs)
            assert theirs.body == none.body and theirs.error_code() == "not_found"
            n += 1
    assert w.alice_code not in json.dumps(mallory.links().json)
    assert w.alice_code not in json.dumps(script.links(limit=100).json)
    assert w.alice.get("/api/links/" + w.alice_code).status == 200
    assert w.stack.raw("GET", "/" + w.alice_code).status == 302
    return n + 2


@row("enumeration", "guessing short codes (random codes, slugs, deleted links; HTML and JSON)",
     "404, byte-identical bodies for every guess")
def r_enumeration(w):
    rnd = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    gone = w.alice.shorten("https://example.org/deleted").json["short_code"]
    assert w.alice.request("DELETE", "/api/links/" + gone).status == 204
    guesses = ["".join(rnd.choice(alphabet) for _ in range(n)) for n in (8,) * 30 + (11,) * 10]
    guesses += [gone, "admin", "login", "wp-login.php", "my-slug", "a" * 64, "%3Cscript%3E", "-_-_"]
    bodies = {"html": set(), "json": set()}
    for g in guesses:
        for kind, hdr in (("html", {"Accept": "text/html"}), ("json", {"Accept": "application/json"})):
            r = w.stack.raw("GET", "/" + g, headers=hdr)
            assert r.status == 404, (g, r)
            bodies[kind].add(r.body)
        assert w.stack.raw("HEAD", "/" + g).status == 404
    assert len(bodies["html"]) == 1 and len(bodies["json"]) == 1, bodies
    return len(guesses) * 3


@row("referrer-leak", "a short link's address reaching the target site (Referer), conflicting "
     "security headers on link opens", "one Referrer-Policy per answer: no-referrer on redirects, "
     "files and password forms, same-origin on 404s; nosniff and DENY once each")
def r_referrer(w):
    pw = w.alice.shorten("https://example.org/referrer-pw", password="open sesame 1").json["short_code"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases = [("GET", "/" + w.alice_code, None, {}, 302, "no-referrer"),
             ("HEAD", "/" + w.alice_code, None, {}, 302, "no-referrer"),
             ("GET", "/" + pw, None, {"Accept": "text/html"}, 200, "no-referrer"),
             ("POST", "/" + pw, b"password=open+sesame+1", form, 302, "no-referrer"),
             ("GET", "/NoSuchLink", None, {"Accept": "application/json"}, 404, "same-origin"),
             ("GET", "/NoSuchLink", None, {"Accept": "text/html"}, 404, None)]
    for method, path, body, hdrs, status, policy in cases:
        r = w.stack.raw(method, path, body=body, headers=hdrs)
        assert r.status == status, (method, path, r)
        rp = r.header_all("Referrer-Policy")
        assert len(rp) == 1 and (policy is None or rp == [policy]), (method, path, rp)
        assert r.header_all("X-Content-Type-Options") == ["nosniff"], (method, path)
        assert r.header_all("X-Frame-Options") == ["DENY"], (method, path)
    return len(cases)


@row("sql-metacharacters", "SQL metacharacters in URLs, file names, emails, link passwords, cursors, "
     "codes and limits", "stored and returned verbatim, or 400/404; the tables intact")
def r_sql(w):
    n = 0
    for url in ["https://example.org/?q=%27%20OR%201=1;--", "https://example.org/a';DROP%20TABLE%20urls;--",
                'https://example.org/"),("x', "https://example.org/%00%27%22%5C"]:
        r = w.alice.shorten(url)
        assert r.status == 201, (url, r)
        assert w.stack.raw("GET", "/" + r.json["short_code"]).header("Location") == url
        n += 1
    name = "x'; DROP TABLE urls;-- \"y\".txt"
    r = w.stack.raw("PUT", "/api/files/" + urllib.parse.quote(name, safe=""), body=b"sql",
                    headers={"Authorization": "Bearer " + w.alice_token})
    assert r.status == 201 and r.json["filename"] == name, r
    n += 1
    email = "o'brien+%s@example.com" % uuid.uuid4().hex[:6]
    c = w.stack.client()
    assert c.post("/api/auth/signup", {"email": email, "password": PASSWORD}).status == 201
    assert w.stack.client().login(email.upper()).status == 200
    assert w.stack.client().login("' OR '1'='1' --@example.com").status in (400, 401)
    n += 2
    pw = "' OR '1'='1' --"
    code = w.alice.shorten("https://example.org/sqlpw", password=pw).json["short_code"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert w.stack.raw("POST", "/" + code, body=b"password=%27+OR+%271%27%3D%271", headers=form).status == 401
    assert w.stack.raw("POST", "/" + code, body=("password=" + urllib.parse.quote_plus(pw)).encode(),
                       headers=form).status == 302
    n += 2
    for q in ["cursor=%27%20OR%201=1--", "limit=1;DROP%20TABLE%20urls", "limit=1%20OR%201=1"]:
        assert w.alice.get("/api/links?" + q).status == 400, q
        n += 1
    for p in ["/'%20OR%20'1'='1", "/x'--", "/%27;DELETE%20FROM%20urls;--"]:
        assert w.stack.raw("GET", p).status == 404, p
        n += 1
    assert w.stack.raw("GET", "/" + w.alice_code).status == 302     # still there
    assert w.alice.links(limit=100).status == 200
    return n


# ---------------------------------------------------------------------------------------------
# files

HOSTILE_NAMES = [
    "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "a/../../b.txt", "%2e%2e%2fx.txt",
    "x\x00.txt.sh", "evil\r\nSet-Cookie: pwned=1.txt", 'quo"te.txt', "back\\slash.txt", "semi;colon.txt",
    "invoice\u202efdp.exe", ".htaccess", "...", "..", ".", "~/.ssh/authorized_keys", "con.txt",
    "x" * 1000 + ".txt", "<script>alert(1)</script>.html", "$(reboot).txt", "`id`.txt",
    "name with spaces .txt ", "\u0000", "\x1b[31mred.txt", "a\u200b\u2066b.txt", "\ud83d\ude00.png",
    "\U0001F600.png", "\xff\xfe.bin",
]
TRAVERSAL_TARGETS = ["passwd", "shadow", "win.ini", "authorized_keys", "b.txt", "x.txt"]


def cd_filename_star(cd):
    return urllib.parse.unquote(cd.split("filename*=UTF-8''", 1)[1], errors="strict")


def check_download(w, code, stored, body):
    r = w.stack.raw("GET", "/" + code)
    if BLOB_BACKEND == "s3":
        assert r.status == 302
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.header("Location")).query)
        cd = q["response-content-disposition"][0]
        r = w.stack.fetch_url(r.header("Location"))
    else:
        assert r.status == 200 and r.body == body
        cd = r.header("Content-Disposition")
    assert cd.startswith('attachment; filename="'), cd
    assert not re.search(r"[\x00-\x1f\x7f]", cd) and all(ord(ch) < 128 for ch in cd), cd
    assert cd_filename_star(cd) == stored
    assert r.header("Set-Cookie") is None         # no header smuggled in through the name


@row("hostile-filenames", "hostile file names by PUT and by multipart (traversal, NUL, CR/LF header "
     "injection, quotes, bidi, dot files, 1000 bytes, invalid UTF-8)",
     "201 with a cleaned name (by PUT, 400 where nginx would resolve the name's segments); "
     "never a path; Content-Disposition escaped, filename* exact")
def r_filenames(w):
    n = 0
    for i, name in enumerate(HOSTILE_NAMES):
        raw = name.encode("utf-8", "surrogatepass") if name != "\xff\xfe.bin" else b"\xff\xfe.bin"
        body = b"payload %d" % i
        by_put = i % 2 == 0 and b"\x00" not in raw     # nginx refuses a NUL in the path itself
        if by_put:
            r = w.stack.raw("PUT", "/api/files/" + urllib.parse.quote(raw, safe=""), body=body,
                            headers={"Authorization": "Bearer " + w.alice_token})
            if segments_resolved(name):
                expect_error(r, 400, "bad_request", name)
                n += 1
                by_put = False      # and the same name by multipart, below
            else:
                assert r.status == 201, (name, r)
                link = r.json
        if not by_put:
            # Control characters cannot stand in a quoted header value (the parser refuses
            # them, 400): those names go in filename*.
            if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", raw):
                param = b"filename*=UTF-8''" + urllib.parse.quote(raw, safe="").encode()
            else:
                param = b'filename="' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
            mp = (b"--bnd\r\nContent-Disposition: form-data; name=\"file\"; " + param +
                  b"\r\nContent-Type: text/html\r\n\r\n" + body + b"\r\n--bnd--\r\n")
            r = w.alice.request("POST", "/api/files", body=mp,
                                headers={"Content-Type": "multipart/form-data; boundary=bnd"})
            assert r.status == 201, (name, r)
            link = r.json["links"][0]
        stored = link["filename"]
        assert stored and stored not in (".", "..") and len(stored.encode()) <= 255, (name, stored)
        assert not re.search(r"[/\\\x00-\x1f\x7f\u202e\u2066\u200b]", stored), (name, stored)
        assert not stored.startswith(".") and stored == stored.strip(" ."), (name, stored)
        check_download(w, link["short_code"], stored, body)
        n += 1
    # Nothing but 32-hex blob files, and no traversal target anywhere in the stack's tree.
    if BLOB_BACKEND == "local":
        for dirpath, _, files in os.walk(os.path.join(w.stack.var_dir, "blobs")):
            for f in files:
                assert re.fullmatch(r"[0-9a-f]{32}", f) and os.path.basename(dirpath) == f[:2], \
                    os.path.join(dirpath, f)
    for dirpath, _, files in os.walk(w.stack.tmpdir):
        assert not set(files) & set(TRAVERSAL_TARGETS), (dirpath, set(files) & set(TRAVERSAL_TARGETS))
    return n


ACTIVE = [("x.html", b"<html><script>alert(document.domain)</script></html>", "text/html"),
          ("x.htm", b"<script>alert(1)</script>", None),
          ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
          ("x.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>', None),
          ("x.xml", b"<?xml-stylesheet href='javascript:alert(1)'?><x/>", "application/xml"),
          ("x.png", b"<html><script>alert('sniffed')</script>", "image/png"),
          ("x.txt", b"<script>alert(1)</script>", "text/html; charset=utf-8"),
          ("x.js", b"alert(1)", "text/javascript"),
          ("x.pdf", b"%PDF-1.4 /JS (app.alert(1))", "application/pdf")]


@row("active-content", "uploaded HTML, SVG, XHTML, XML, JS, PDF and HTML disguised as an image",
     "always an attachment, nosniff, sandboxing CSP, never framed; the blob location is internal")
def r_active(w):
    n = 0
    for name, body, ctype in ACTIVE:
        hdrs = {"Authorization": "Bearer " + w.alice_token}
        if ctype:
            hdrs["Content-Type"] = ctype
        r = w.stack.raw("PUT", "/api/files/" + name, body=body, headers=hdrs)
        assert r.status == 201, r
        code = r.json["short_code"]
        for method in ("GET", "HEAD"):
            d = w.stack.raw(method, "/" + code, headers={"Accept": "text/html"})
            if BLOB_BACKEND == "s3":
                assert d.status == 302 and d.header("Location").startswith(w.stack.env["AWS_ENDPOINT_URL_S3"])
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(d.header("Location")).query)
                assert q["response-content-disposition"][0].startswith("attachment")
                continue
            assert d.status == 200, d
            assert d.header("Content-Disposition").startswith("attachment"), name
            assert d.header("X-Content-Type-Options") == "nosniff"
            csp = d.header("Content-Security-Policy") or ""
            assert "sandbox" in csp and "default-src 'none'" in csp, csp
            assert d.header("X-Frame-Options") == "DENY"
        n += 1
    key = None
    if BLOB_BACKEND == "local":
        key = sorted(w.stack.blob_keys())[0]
    for p in ["/_blobs/", "/_blobs/%s/%s" % (key[:2], key) if key else "/_blobs/x", "/_blobs/../fileshare.db",
              "/%5F%62lobs/", "/_blobs%2f..%2ffileshare.db"]:
        r = w.stack.raw("GET", p)
        assert r.status in (400, 404) and b"payload" not in r.body, (p, r)
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# sessions

def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def forge(user_id, exp, iat_ms=None, kind="s", key=SECRET):
    """A token in the app's format (auth.c), signed with key."""
    iat_ms = int(time.time() * 1000) if iat_ms is None else iat_ms
    head = "fs1." + b64(("%s.%s.%d.%d.%s" % (kind, user_id, iat_ms, exp, b64(os.urandom(16)))).encode())
    sig = hmac.new(key.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + b64(sig)


def me_with(stack, cookie=None, bearer=None):
    c = stack.client(origin=False)
    c.cookie, c.bearer = cookie, bearer
    return c.get("/api/me")


@row("tampered-sessions", "tampered, truncated, spliced, unsigned, re-signed, expired, pre-logout and "
     "logged-out session cookies and tokens", "401 unauthorized")
def r_sessions(w):
    t = w.tight
    victim = t.client()
    victim.signup()
    uid = victim.get("/api/me").json["user_id"]
    tok = victim.cookie
    head, sig = tok.rsplit(".", 1)
    other = t.client()
    other.signup()
    # Control: the forger is right about the format (a token signed with the real key works).
    assert me_with(t, cookie=forge(uid, int(time.time()) + 3600)).status == 200
    bad = [
        tok[:10] + ("A" if tok[10] != "A" else "B") + tok[11:],           # payload bit flipped
        head + "." + ("A" if sig[0] != "A" else "B") + sig[1:],          # signature bit flipped
        head, head + ".", tok[:-1], tok + "A", tok.upper(), " " + tok,
        other.cookie.rsplit(".", 1)[0] + "." + sig,                        # spliced payload
        "fs1." + b64(b"s.%s.1.99999999999.j" % uid.encode()) + ".",        # unsigned
        forge(uid, int(time.time()) + 3600, key=SECRET + "x"),            # wrong key
        forge(uid, int(time.time()) + 3600, key=""),                      # empty key
        forge(uid, int(time.time()) - 1),                                 # expired
        forge(uid, 0), forge("", int(time.time()) + 3600),
        forge(uid + "x", int(time.time()) + 3600),                       # no such user
        forge("../" + uid, int(time.time()) + 3600),
        "fs2." + tok[4:], "", "fs1.", "fs1..", "%s.%s" % (tok, sig), "null", "undefined",
        base64.b64encode(tok.encode()).decode(),
    ]
    n = 0
    for b in bad:
        for r in (me_with(t, cookie=b), me_with(t, bearer=b)):
            expect_error(r, 401, "unauthorized", b)
            n += 1
    # A session issued before "log out everywhere" is dead, even if freshly re-signed.
    copy = tok
    old_api = victim.api_token()
    again = t.client()
    assert again.login(victim.email).status == 200
    assert victim.post("/api/auth/logout", {"everywhere": True}).status == 200
    for b in (copy, again.cookie, forge(uid, int(time.time()) + 3600, iat_ms=int(time.time() * 1000) - 5000)):
        expect_error(me_with(t, cookie=b), 401, "unauthorized", "after logout everywhere")
        n += 1
    expect_error(me_with(t, bearer=old_api), 401, "unauthorized", "api token after logout everywhere")
    # A single logged-out session: its copy is dead, other sessions live.
    s1, s2 = t.client(), t.client()
    time.sleep(0.01)
    assert s1.login(victim.email).status == 200 and s2.login(victim.email).status == 200
    dead = s1.cookie
    assert s1.post("/api/auth/logout", {}).status == 200
    expect_error(me_with(t, cookie=dead), 401, "unauthorized", "logged-out copy")
    assert me_with(t, cookie=s2.cookie).status == 200
    # The cookie itself: HttpOnly, SameSite, whole-site path.
    sc = s2.post("/api/auth/login", {"email": victim.email, "password": PASSWORD}).header("Set-Cookie")
    assert "HttpOnly" in sc and "SameSite=Lax" in sc and "Path=/" in sc
    return n + 3


@row("cross-site-posts", "cross-site state changes with the session cookie: foreign, null, look-alike "
     "and missing Origin, cross-site Sec-Fetch-Site, text/plain form posts, on every writing route",
     "403 csrf, nothing changed; no CORS grant on reads")
def r_csrf(w):
    port = w.stack.port
    victim = w.stack.client()
    victim.signup()
    code = victim.shorten("https://example.org/csrf-victim").json["short_code"]
    origins = ["https://evil.example", "null", "http://127.0.0.1:%d.evil.example" % port,
               "http://evil.example:%d" % port, "http://127.0.0.1", "http://127.0.0.1:%d/" % port,
               "http://127.0.0.1:%d@evil.example" % port, "https://127.0.0.1:%d" % port,
               "http://127.0.0.1:%d " % (port + 1), "file://", "chrome-extension://abc"]
    routes = [("POST", "/api/links", b'{"url":"https://evil.example/planted"}'),
              ("POST", "/api/trial/start", b"{}"), ("POST", "/api/auth/tokens", b"{}"),
              ("POST", "/api/auth/logout", b'{"everywhere":true}'), ("DELETE", "/api/links/" + code, None),
              ("PUT", "/api/files/planted.html", b"<script>x</script>"),
              ("POST", "/api/files", b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
                                     b"filename=\"p.txt\"\r\n\r\nx\r\n--b--\r\n"),
              ("POST", "/api/uploads", b'{"filename":"a","size":1}')]
    n = 0
    for method, path, body in routes:
        for o in origins:
            hdrs = {"Origin": o, "Content-Type": "text/plain"}
            if path == "/api/files":
                hdrs["Content-Type"] = "multipart/form-data; boundary=b"
            r = victim.request(method, path, body=body, headers=hdrs)
            expect_error(r, 403, "csrf", (method, path, o))
            n += 1
        for sfs in (None, "cross-site", "same-site", "none"):
            c = w.stack.client(origin=False)
            c.cookie = victim.cookie
            r = c.request(method, path, body=body, headers={"Sec-Fetch-Site": sfs} if sfs else {})
            expect_error(r, 403, "csrf", (method, path, sfs))
            n += 1
    me = victim.get("/api/me").json
    assert me["trial"]["used"] is False
    links = victim.links().json["links"]
    assert [l["short_code"] for l in links] == [code]
    assert victim.get("/api/me").status == 200              # not logged out
    for p in ("/api/me", "/api/links", "/api/links/" + code):
        r = victim.get(p, headers={"Origin": "https://evil.example"})
        assert r.header("Access-Control-Allow-Origin") is None and r.header("Access-Control-Allow-Credentials") is None
        n += 1
    return n


@row("brute-force", "password guessing on login and on a protected link, from one address",
     "429 rate_limited once over the limit (nginx), 401 before; the right password changes nothing")
def r_brute(w):
    t = w.tight
    owner = t.client()
    owner.signup()
    owner.premium()
    n = 0
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        logins = list(ex.map(lambda i: t.client().login(owner.email, "guess-%04d-password" % i), range(40)))
    statuses = [r.status for r in logins]
    assert set(statuses) <= {401, 429} and 429 in statuses, statuses
    assert [r for r in logins if r.status == 429][0].error_code() == "rate_limited"
    n += len(logins)
    code = owner.shorten("https://example.org/locked", password="the real one").json["short_code"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    guesses = [t.raw("POST", "/" + code, body=b"password=guess%d" % i, headers=form) for i in range(12)]
    statuses = [r.status for r in guesses]
    assert set(statuses) <= {401, 429} and 429 in statuses, statuses
    n += len(guesses)
    # still limited: even the right password waits; nothing was counted meanwhile
    assert t.raw("POST", "/" + code, body=b"password=the+real+one", headers=form).status == 429
    assert owner.get("/api/links/" + code).json["click_count"] == 0
    return n + 1


# ---------------------------------------------------------------------------------------------
# the edge

@row("edge", "methods the app never uses, dot files, traversal into static files, directory "
     "listings, oversized bodies, header smuggling, a forged Host",
     "405 / 404 / 400 / 413 as JSON or plain, never a file's content or a version")
def r_edge(w):
    s = w.stack
    n = 0
    for m in ("TRACE", "TRACK", "PATCH", "OPTIONS", "CONNECT", "PROPFIND", "MKCOL", "COPY", "MOVE",
              "LOCK", "SEARCH", "FOO"):
        path = "example.com:443" if m == "CONNECT" else "/api/links"
        try:
            r = s.raw(m, path, body=b"x" if m in ("PATCH", "PROPFIND") else None)
        except OSError:
            n += 1                     # nginx closed the connection: fine too
            continue
        assert r.status in (400, 405), (m, r)
        if r.status == 405:
            assert r.error_code() == "method_not_allowed" and "TRACE" not in (r.header("Allow") or ""), (m, r)
        n += 1
    for p in ("/static/.htaccess", "/static/.git/config", "/static/.env", "/.git/config", "/.env",
              "/static/../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/", "/static", "/../conf/nginx.conf.in",
              "/static/%00", "/index.html/..%2f..%2fscripts%2fserve", "/web/index.html"):
        r = s.raw("GET", p)
        assert r.status in (301, 400, 403, 404), (p, r)
        assert b"root:" not in r.body and b"Index of" not in r.body and b"[core]" not in r.body, p
        n += 1
    r = s.raw("GET", "/")
    assert r.status == 200 and "script-src 'self'" in r.header("Content-Security-Policy")
    assert r.header("Server") in (None, "nginx") and not re.search(r"\d", r.header("Server") or "")
    for path, size in (("/api/links", 70 * 1024), ("/Abcdefgh", 9 * 1024), ("/api/auth/login", 65 * 1024)):
        r = w.alice.request("POST", path, body=b"x" * size, headers={"Content-Type": "application/json"})
        expect_error(r, 413, "body_too_large", path)
        n += 1
    for raw in (b"GET /api/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"GET /api/me HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n",
                b"GET /api/me HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/3.7\r\nHost: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.sendall(raw)
            data = sock.recv(65536)
        assert re.match(rb"HTTP/1\.[01] (4\d\d|505)", data), (raw, data[:100])
        n += 1
    # A forged Host never reaches the short links the app hands out.
    r = w.alice.request("POST", "/api/links", json_body={"url": "https://example.org/host"},
                        headers={"Host": "evil.example", "Origin": "http://evil.example"})
    assert r.status == 403 or r.json["short_url"].startswith(s.base_url), r
    r = w.stack.client(origin=False)
    r.bearer = w.alice_token
    out = r.request("POST", "/api/links", json_body={"url": "https://example.org/host2"},
                    headers={"Host": "evil.example"})
    assert out.status == 201 and out.json["short_url"].startswith(s.base_url), out
    assert s.raw("GET", "/healthz").status == 200
    return n + 2


# ---------------------------------------------------------------------------------------------
# logs: last, so that it sees what every row above logged

SECRET_PATTERNS = [
    (re.compile(r"\$scrypt\$"), "a password hash"),
    (re.compile(r"fs1\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), "a session or API token"),
    (re.compile(r"X-Amz-Signature=|X-Amz-Security-Token|x-amz-security-token", re.I), "a presigned URL or session token"),
    (re.compile(r"AWS4-HMAC-SHA256 Credential="), "an Authorization header"),
    (re.compile(r"Bearer [A-Za-z0-9._-]{8,}"), "a bearer credential"),
    (re.compile(r"password=[^&\s\"]{3,}"), "a form password"),
]


def all_secrets(w):
    secrets = set(SECRETS)
    for f in glob.glob(os.path.join(LOG_DIR, "secrets-*.json")):
        with open(f) as fh:
            secrets.update(json.load(fh))
    for s in (w.stack, w.tight):
        try:
            with open(os.path.join(s.var_dir, "session-secret")) as fh:
                secrets.add(fh.read().strip())
        except OSError:
            pass
        for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "SESSION_SECRET"):
            secrets.add(s.env.get(k))
    # Short or generic values (e.g. "open sesame" typed by a test as a wrong answer) could match
    # by chance; every real secret here is long.
    return {s for s in secrets if s and len(s) >= 10}


@row("secrets-in-logs", "every log line of every stack this test run started (integration suites "
     "included) against every password, token, cookie, session secret and AWS key the tests used, "
     "and against the shapes of hashes, tokens, presigned URLs and credentials",
     "no match anywhere")
def r_logs(w):
    secrets = all_secrets(w)
    assert secrets
    logs = sorted(glob.glob(os.path.join(LOG_DIR, "*.log")))
    assert w.stack.log_path in logs and w.tight.log_path in logs
    found = []
    lines = 0
    for path in logs:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for line in text.splitlines():
            lines += 1
            for s in secrets:
                if s in line:
                    found.append((os.path.basename(path), "a secret value (%s...)" % s[:4], line[:200]))
            for rx, what in SECRET_PATTERNS:
                if rx.search(line):
                    found.append((os.path.basename(path), what, line[:200]))
    assert not found, "secrets in logs:\n" + "\n".join(map(str, found[:20]))
    print("\n  grepped %d log lines in %d logs for %d secret values and %d patterns"
          % (lines, len(logs), len(secrets), len(SECRET_PATTERNS)))
    return len(secrets) + len(SECRET_PATTERNS)


# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rid,attack,expected,fn", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(world, rid, attack, expected, fn):
    TRIED[rid] = fn(world)
    assert TRIED[rid] > 0


def test_matrix_summary(world, capsys):
    """Prints the table with what each row tried, and checks every row ran."""
    with capsys.disabled():
        print("\n\nsecurity matrix (%s store, %s blobs)" % (STORE, BLOB_BACKEND))
        for rid, attack, expected, _ in MATRIX:
            print("  %-20s %5s  %s\n  %-20s        -> %s" % (rid, TRIED.get(rid, "-"), attack, "", expected))
        print("  %d bad inputs tried in %d rows" % (sum(TRIED.values()), len(TRIED)))
    assert list(TRIED) == [m[0] for m in MATRIX], "some rows did not run"
