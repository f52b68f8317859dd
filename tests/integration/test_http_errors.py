"""Every bad request gets the right status and the JSON error body; nothing crashes."""
import os
import socket
import time

import pytest


def test_unknown_route_404_json(stack):
    r = stack.raw("GET", "/api/nope")
    assert r.status == 404 and r.error_code() == "not_found"
    assert r.header("Content-Type").startswith("application/json")


def test_wrong_method_405_with_allow(stack):
    r = stack.raw("DELETE", "/api/me")
    assert r.status == 405 and r.error_code() == "method_not_allowed"
    assert "GET" in r.header("Allow")
    r = stack.raw("GET", "/api/auth/login")
    assert r.status == 405 and "POST" in r.header("Allow")


@pytest.mark.parametrize("body", [b"{", b"[]", b'"x"', b"{} {}", b"nul", b'{"email": }', b"\xff\xfe"])
def test_malformed_json_400(stack, body):
    r = stack.client().request("POST", "/api/auth/signup", body=body,
                               headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.error_code() == "invalid_json", r


def test_oversized_body_413_json(stack):
    big = b'{"email":"' + b"a" * 200000 + b'"}'
    r = stack.client().request("POST", "/api/auth/signup", body=big,
                               headers={"Content-Type": "application/json"})
    assert r.status == 413 and r.error_code() == "body_too_large"


def test_body_on_bodyless_route_413(stack, user):
    # /api/me takes no body: the app refuses one without reading it.
    r = user.request("GET", "/api/me", body=b"x" * 1000)
    assert r.status == 413 and r.error_code() == "body_too_large"


@pytest.mark.parametrize("method,path", [
    ("PUT", "/api/files/..%2F..%2Fx"),      # nginx: /x (location /, 8 KiB), not an upload
    ("PUT", "/api/files/%2Fetc%2Fshadow"),  # nginx: /api/files/etc/shadow
    ("GET", "/api/links/..%2f..%2fabc"),    # nginx: /abc, a link open on the link worker
    ("GET", "/abc/../api/me"),              # nginx: /api/me
    ("GET", "/x%2E%2E/..%2Fapi%2Fme"),
    ("POST", "//api/auth/login"),           # nginx merges the slashes: the auth limits apply
    ("GET", "/api/./me"),
])
def test_paths_nginx_rewrites_are_refused_400(stack, user, method, path):
    """nginx matches its locations (body limits, rate limits, which workers) on the decoded,
    normalised path; the app routes on the raw one. A path whose segments nginx would change
    is refused, in JSON, whatever location nginx chose."""
    r = user.request(method, path, body=b"0123456789" if method != "GET" else None)
    assert r.status == 400 and r.error_code() == "bad_request", r
    assert "segment" in r.json["error"]["message"]
    assert stack.access_lines(1, method=method, path=path)[-1]["status"] == 400


def test_encoded_slash_in_a_file_name_is_an_upload(stack, user):
    """An encoded '/' that leaves the segments nginx matches on alone is a name like any
    other: the upload location (its body limit) and a cleaned name."""
    body = os.urandom(100 * 1024)           # over location /'s 8 KiB: only the upload location takes it
    r = user.request("PUT", "/api/files/reports%2F2026%2Fq4.pdf", body=body)
    assert r.status == 201, r
    assert "/" not in r.json["filename"] and r.json["filename"].endswith("q4.pdf")


def test_garbage_requests_do_not_hurt_workers(stack):
    pids = set(stack.worker_pids())
    for raw in [b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\x00\x01\x02\x03\x04",
                b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: " + b"fs_session=" + b"\xff" * 300 + b"\r\n\r\n",
                b"GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
            s.sendall(raw)
            data = s.recv(65536)
            assert data.startswith(b"HTTP/1.1 4"), data[:200]
    assert stack.raw("GET", "/healthz").status == 200
    assert set(stack.worker_pids()) == pids


def test_health_and_ready(stack):
    assert stack.raw("GET", "/healthz").json == {"status": "ok"}
    r = stack.raw("GET", "/readyz")
    assert r.status == 200 and r.json["status"] == "ready"
    assert stack.raw("HEAD", "/healthz").status == 200


def test_access_log_lines_are_json(stack):
    path = "/api/nothing-here-%d" % time.monotonic_ns()
    assert stack.raw("GET", path + "?probe=1").status == 404
    stack.access_lines(1, path=path)        # logged without its query
    access = stack.access_lines(1)
    for a in access[-20:]:
        assert {"method", "path", "status", "us", "pid", "ts"} <= set(a)
        assert "?" not in a["path"]
