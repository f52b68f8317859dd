"""Accounts and sessions over real nginx + workers: sign-up, sign-in, /api/me, sign-out,
API tokens, CSRF, tampered cookies."""
import base64
import uuid

from conftest import PASSWORD


def new_email():
    return "Person.%s@Example.COM" % uuid.uuid4().hex[:10]


def test_signup_sets_session_cookie_and_me_works(stack):
    c = stack.client()
    email = new_email()
    r = c.post("/api/auth/signup", {"email": email, "password": PASSWORD})
    assert r.status == 201, r
    body = r.json
    assert body["email"] == email.lower()
    assert body["tier"] == "free"
    assert body["trial"] == {"used": False, "active": False, "started_at": None,
                             "expires_at": None, "days_left": 0, "can_start": True}
    cookie = r.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie          # PUBLIC_BASE_URL is http here
    me = c.get("/api/me")
    assert me.status == 200 and me.json["user_id"] == body["user_id"]
    assert me.header("Content-Type") == "application/json; charset=utf-8"


def test_duplicate_email_is_409_case_insensitively(stack):
    email = new_email()
    assert stack.client().post("/api/auth/signup", {"email": email, "password": PASSWORD}).status == 201
    r = stack.client().post("/api/auth/signup", {"email": email.upper(), "password": PASSWORD})
    assert r.status == 409 and r.error_code() == "email_taken"


def test_signup_rejects_bad_email_and_weak_password(stack):
    c = stack.client()
    for bad in ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "x" * 250 + "@example.com"]:
        r = c.post("/api/auth/signup", {"email": bad, "password": PASSWORD})
        assert r.status == 400 and r.error_code() == "invalid_email", (bad, r)
    for bad in ["", "short", "123456789", None, 12345678901]:
        r = c.post("/api/auth/signup", {"email": new_email(), "password": bad})
        assert r.status == 400 and r.error_code() == "weak_password", (bad, r)
    assert c.cookie is None


def test_login_wrong_password_and_unknown_email_look_the_same(stack):
    c = stack.client()
    c.signup()
    wrong = stack.client().login(c.email, "not the password at all")
    unknown = stack.client().login(new_email(), PASSWORD)
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert wrong.header("Set-Cookie") is None
    ok = stack.client()
    r = ok.login(c.email.upper())
    assert r.status == 200 and ok.cookie


def test_me_requires_a_valid_session(stack, user):
    assert stack.client().get("/api/me").status == 401
    tampered = stack.client()
    # Flip one character of the payload: the signature no longer matches.
    tok = user.cookie
    i = 10
    tampered.cookie = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1:]
    r = tampered.get("/api/me")
    assert r.status == 401 and r.error_code() == "unauthorized"
    unsigned = stack.client()
    unsigned.cookie = tok.rsplit(".", 1)[0]
    assert unsigned.get("/api/me").status == 401
    garbage = stack.client()
    garbage.cookie = "fs1." + base64.urlsafe_b64encode(b"s.x.1.99999999999.y").decode().rstrip("=") + ".AAAA"
    assert garbage.get("/api/me").status == 401


def test_cross_site_post_is_refused(stack, user):
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"]:
        r = user.request("POST", "/api/trial/start", body=b"{}", headers={"Origin": origin})
        assert r.status == 403 and r.error_code() == "csrf", (origin, r)
    nohdr = stack.client(origin=False)
    nohdr.cookie = user.cookie
    r = nohdr.post("/api/trial/start", {})
    assert r.status == 403 and r.error_code() == "csrf"
    r = nohdr.post("/api/trial/start", {}, headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status == 200, r
    # nothing changed by the refused requests: exactly one trial start went through
    assert user.get("/api/me").json["trial"]["used"] is True


def test_logout_invalidates_a_copied_cookie(stack):
    c = stack.client()
    c.signup()
    copied = stack.client()
    copied.cookie = c.cookie
    other = stack.client()
    assert other.login(c.email).status == 200
    r = c.post("/api/auth/logout", {})
    assert r.status == 200
    assert "Max-Age=0" in r.header("Set-Cookie")
    assert copied.get("/api/me").status == 401      # the copy of the logged-out token is dead
    assert other.get("/api/me").status == 200       # another session lives on


def test_api_token_and_logout_everywhere(stack):
    c = stack.client()
    c.signup()
    r = c.post("/api/auth/tokens", {})
    assert r.status == 201, r
    token = r.json["token"]
    assert r.json["expires_at"]
    script = stack.client(origin=False)
    script.bearer = token
    assert script.get("/api/me").status == 200
    # Bearer requests need no Origin: no ambient credentials to forge.
    assert script.post("/api/trial/start", {}).status == 200
    second = stack.client()
    assert second.login(c.email).status == 200
    assert c.post("/api/auth/logout", {"everywhere": True}).status == 200
    assert script.get("/api/me").status == 401
    assert second.get("/api/me").status == 401
    again = stack.client()
    assert again.login(c.email).status == 200
    assert again.get("/api/me").status == 200


def test_logs_never_contain_secrets(stack):
    c = stack.client()
    secret_pw = "sup3r-s3cret-%s" % uuid.uuid4().hex
    c.signup(password=secret_pw)
    c.login(c.email, secret_pw)
    tok = c.post("/api/auth/tokens", {}).json["token"]
    log = stack.read_log()
    assert secret_pw not in log
    assert c.cookie not in log
    assert tok not in log
    assert tok.split(".")[2] not in log   # not even the signature part
