"""File links over real nginx + workers with local blobs: curl -T and multipart uploads,
downloads through nginx (X-Accel-Redirect), Range, hostile names, limits, cleanup."""
import glob
import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.parse

import pytest

from conftest import BLOB_BACKEND, segments_resolved


def blob_files(stack):
    """The blob keys the stack's blob store holds (and, locally, partial writes)."""
    return stack.blob_keys()


def download(stack, code, headers=None):
    """GET /{code} as a browser would: following the redirect to S3's presigned URL when the
    blobs live there. Returns (first response, final response)."""
    first = stack.raw("GET", "/" + code, headers=headers or {})
    if BLOB_BACKEND == "s3" and first.status == 302:
        return first, stack.fetch_url(first.header("Location"), headers=headers)
    return first, first


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "120"] + list(args), capture_output=True, timeout=180)
    assert p.returncode == 0, p.stderr
    return p.stdout


def random_file(tmp_path, size, name="data.bin"):
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p


def sha(b):
    return hashlib.sha256(b).hexdigest()


def test_curl_T_upload_and_byte_identical_download(stack, user, tmp_path):
    token = user.api_token()
    f = random_file(tmp_path, 3 * 1024 * 1024 + 17, "photo.jpg")
    out = curl("-T", str(f), "-H", "Authorization: Bearer " + token, stack.base_url + "/api/files/")
    link = json.loads(out)
    assert link["kind"] == "file" and link["filename"] == "photo.jpg"
    assert link["size"] == f.stat().st_size and link["content_type"] == "image/jpeg"
    code = link["short_code"]
    assert len(code) == 11
    dl = tmp_path / "dl"
    curl("-L", "-o", str(dl), "-D", str(tmp_path / "h"), stack.base_url + "/" + code)
    assert sha(dl.read_bytes()) == sha(f.read_bytes())
    headers = (tmp_path / "h").read_text().lower()
    assert "content-disposition: attachment;" in headers
    if BLOB_BACKEND == "local":
        assert "x-content-type-options: nosniff" in headers
        assert "content-security-policy: sandbox" in headers
    else:       # the bytes come from S3's origin, never this site's
        assert "location: " + stack.env["AWS_ENDPOINT_URL_S3"].lower() in headers
    assert user.get("/api/links/" + code).json["click_count"] == 1
    # the blob lives under a random key, never the upload's name
    names = [os.path.basename(p) for p in blob_files(stack)]
    assert "photo.jpg" not in names


def test_range_request_resumes(stack, user, tmp_path):
    token = user.api_token()
    data = os.urandom(200000)
    r = stack.raw("PUT", "/api/files/part.bin", body=data, headers={"Authorization": "Bearer " + token})
    assert r.status == 201, r
    code = r.json["short_code"]
    _, part = download(stack, code, headers={"Range": "bytes=1000-1999"})
    assert part.status == 206 and part.body == data[1000:2000]
    assert part.header("Content-Range") == "bytes 1000-1999/200000"
    if BLOB_BACKEND == "local":     # s3rver gets suffix ranges wrong; S3 itself does not
        _, tail = download(stack, code, headers={"Range": "bytes=-10"})
        assert tail.status == 206 and tail.body == data[-10:]


def test_multipart_upload_several_files(stack, user, tmp_path):
    a = random_file(tmp_path, 50000, "a.txt")
    b = random_file(tmp_path, 70001, "b.pdf")
    out = curl("-H", "Authorization: Bearer " + user.api_token(), "-F", "file=@%s" % a,
               "-F", "file=@%s;type=application/pdf" % b, "-F", "max_clicks=3",
               stack.base_url + "/api/files")
    res = json.loads(out)
    assert [l["filename"] for l in res["links"]] == ["a.txt", "b.pdf"]
    assert all(l["max_clicks"] == 3 for l in res["links"])
    for l, f in zip(res["links"], [a, b]):
        _, got = download(stack, l["short_code"])
        assert got.status == 200 and got.body == f.read_bytes()
    assert res["links"][1]["content_type"] == "application/pdf"


def test_multipart_from_a_browser_session(stack, user):
    boundary = "----fsboundary7MA4YWxkTrZu0gW"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\nhello world\r\n--%s--\r\n" % (boundary, boundary)).encode()
    r = user.request("POST", "/api/files", body=body,
                     headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert r.status == 201, r
    assert download(stack, r.json["links"][0]["short_code"])[1].body == b"hello world"


def test_multipart_errors(stack, user):
    r = user.request("POST", "/api/files", body=b"x", headers={"Content-Type": "text/plain"})
    assert r.status == 400 and r.error_code() == "bad_multipart"
    b = "XyZ"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"max_clicks\"\r\n\r\n5\r\n--%s--\r\n" % (b, b)).encode()
    r = user.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 400 and r.error_code() == "no_file"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\nunterminated" % b).encode()
    before = blob_files(stack)
    r = user.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 400 and r.error_code() == "bad_multipart"
    assert blob_files(stack) == before
    body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\nabc\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"expires_in\"\r\n\r\n9999999999\r\n--%s--\r\n" % (b, b, b)).encode()
    r = user.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 403 and r.error_code() == "premium_required"
    assert blob_files(stack) == before     # the file written before the bad option is gone


HOSTILE = [
    ("../../etc/passwd", "passwd"),
    ('a\\"b;c.txt', None),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("x" * 296 + ".txt", None),
    ("bad\xff\xfeutf8.txt", None),
    ("..", "download"),
    ("new\nline.txt", "newline.txt"),
]


@pytest.mark.parametrize("name,expected", HOSTILE)
def test_hostile_filenames_never_reach_a_path(stack, user, name, expected):
    token = user.api_token()
    raw = name.encode("utf-8", "surrogateescape") if "\xff" not in name else b"bad\xff\xfeutf8.txt"
    path = "/api/files/" + urllib.parse.quote(raw, safe="")
    before = set(blob_files(stack))
    r = stack.raw("PUT", path, body=b"payload", headers={"Authorization": "Bearer " + token})
    if segments_resolved(name):
        # nginx would resolve the "..": refused by PUT (nothing stored); the form takes it.
        assert r.status == 400 and r.error_code() == "bad_request", r
        assert set(blob_files(stack)) == before
        mp = (b'--b0\r\nContent-Disposition: form-data; name="file"; filename="' + raw +
              b'"\r\n\r\npayload\r\n--b0--\r\n')
        r = stack.raw("POST", "/api/files", body=mp, headers={
            "Authorization": "Bearer " + token, "Content-Type": "multipart/form-data; boundary=b0"})
        assert r.status == 201, r
        link = r.json["links"][0]
    else:
        assert r.status == 201, r
        link = r.json
    stored = link["filename"]
    if expected is not None:
        assert stored == expected
    assert "/" not in stored and "\\" not in stored and "\x00" not in stored
    assert len(stored.encode()) <= 255 and stored not in ("", ".", "..")
    new = set(blob_files(stack)) - before
    assert len(new) == 1
    key = os.path.basename(new.pop())
    assert len(key) == 32 and all(ch in "0123456789abcdef" for ch in key)
    _, d = download(stack, link["short_code"])
    assert d.status == 200 and d.body == b"payload"
    cd = d.header("Content-Disposition")
    assert cd.startswith("attachment; filename=\"") and "filename*=UTF-8''" in cd
    assert "\n" not in cd and "\r" not in cd and "\x00" not in cd
    fallback = cd.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert all(32 <= ord(ch) < 127 for ch in fallback)
    assert '"' not in fallback.replace('\\"', "")


def test_multipart_hostile_filename(stack, user):
    b = "bnd"
    body = (b"--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../../tmp/evil.sh\"\r\n\r\n"
            b"#!/bin/sh\r\n--bnd--\r\n")
    r = user.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 201 and r.json["links"][0]["filename"] == "evil.sh"
    assert not os.path.exists("/tmp/evil.sh") or os.path.getmtime("/tmp/evil.sh") < time.time() - 60


def test_html_and_svg_uploads_never_render_in_the_origin(stack, user):
    token = user.api_token()
    for name, body in [("x.html", b"<script>alert(1)</script>"), ("x.svg", b"<svg onload=alert(1)/>")]:
        r = stack.raw("PUT", "/api/files/" + name, body=body,
                      headers={"Authorization": "Bearer " + token, "Content-Type": "text/html"})
        first, d = download(stack, r.json["short_code"])
        assert d.header("Content-Disposition").startswith("attachment")
        if BLOB_BACKEND == "local":
            assert d.header("X-Content-Type-Options") == "nosniff"
            assert "sandbox" in d.header("Content-Security-Policy")
        else:
            assert first.header("Location").startswith(stack.env["AWS_ENDPOINT_URL_S3"])


def test_file_size_limit_per_tier(limited, tmp_path):
    c = limited.client()
    c.signup()
    token = c.api_token()
    before = blob_files(limited)
    r = limited.raw("PUT", "/api/files/big.bin", body=os.urandom(1024 * 1024 + 1),
                    headers={"Authorization": "Bearer " + token})
    assert r.status == 413 and r.error_code() == "file_too_large"
    assert "premium" in r.json["error"]["message"]
    b = "bb"
    body = (b"--bb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n" +
            os.urandom(1024 * 1024 + 1) + b"\r\n--bb--\r\n")
    r = c.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=bb"})
    assert r.status == 413 and r.error_code() == "file_too_large"
    assert blob_files(limited) == before
    assert limited.raw("PUT", "/api/files/ok.bin", body=os.urandom(1024 * 1024),
                       headers={"Authorization": "Bearer " + token}).status == 201
    c.premium()
    assert limited.raw("PUT", "/api/files/big.bin", body=os.urandom(3 * 1024 * 1024),
                       headers={"Authorization": "Bearer " + token}).status == 201
    r = limited.raw("PUT", "/api/files/huge.bin", body=os.urandom(4 * 1024 * 1024 + 1),
                    headers={"Authorization": "Bearer " + token})
    assert r.status == 413


def test_interrupted_upload_leaves_nothing(stack, user):
    token = user.api_token()
    before = blob_files(stack)
    rows = stack.count_links()
    s = socket.create_connection(("127.0.0.1", stack.port))
    s.sendall(b"PUT /api/files/cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
              b"\r\nContent-Length: 10000000\r\n\r\n" + os.urandom(1000000))
    time.sleep(0.2)
    s.close()
    # nginx notices the close and removes its temporary file; give it up to 5 s on a busy machine.
    deadline = time.time() + 5
    while True:
        left = glob.glob(os.path.join(stack.var_dir, "nginx", "client_body", "*", "*", "*"))
        if not left or time.time() >= deadline:
            break
        time.sleep(0.05)
    assert left == []
    assert blob_files(stack) == before
    assert stack.count_links() == rows


def test_delete_removes_the_blob(stack, user):
    token = user.api_token()
    before = set(blob_files(stack))
    r = stack.raw("PUT", "/api/files/gone.txt", body=b"bye", headers={"Authorization": "Bearer " + token})
    new = set(blob_files(stack)) - before
    assert len(new) == 1
    assert user.request("DELETE", "/api/links/" + r.json["short_code"]).status == 204
    assert new.pop() not in blob_files(stack)
    assert stack.raw("GET", "/" + r.json["short_code"]).status == 404


def test_purge_removes_expired_files_and_orphans(stack, user):
    token = user.api_token()
    before = set(blob_files(stack))
    r = stack.raw("PUT", "/api/files/old.txt", body=b"old", headers={"Authorization": "Bearer " + token})
    code = r.json["short_code"]
    blob = (set(blob_files(stack)) - before).pop()
    stack.expire_link(code)
    assert stack.raw("GET", "/" + code).status == 410
    orphan = "ab" + "0" * 30
    stack.put_blob(orphan, b"orphan: a crash between the file and its row")
    # Young orphans stay: an upload may still be about to write its row.
    out = json.loads(stack.admin("purge").stdout)
    assert out["expired_links"] >= 1 and out["blobs_deleted"] >= 1
    assert blob not in blob_files(stack) and orphan in blob_files(stack)
    assert stack.raw("GET", "/" + code).status == 404
    # Two hours on, it is an orphan: purge (as of then) removes it, and no live file.
    live = stack.raw("PUT", "/api/files/live.txt", body=b"live", headers={"Authorization": "Bearer " + token})
    out = json.loads(stack.admin("purge", "--now", str(int(time.time()) + 7200)).stdout)
    assert out["orphans_deleted"] >= 1
    assert orphan not in blob_files(stack)
    assert download(stack, live.json["short_code"])[1].body == b"live"


def test_password_protected_file(limited, tmp_path):
    c = limited.client()
    c.signup()
    c.premium()
    token = c.api_token()
    r = limited.raw("PUT", "/api/files/secret.txt", body=b"top secret",
                    headers={"Authorization": "Bearer " + token, "X-Link-Password": "letmein"})
    assert r.status == 201 and r.json["password_protected"]
    code = r.json["short_code"]
    form = limited.raw("GET", "/" + code, headers={"Accept": "text/html"})
    assert form.status == 200 and b"top secret" not in form.body
    ok = limited.raw("POST", "/" + code, body=b"password=letmein",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    if BLOB_BACKEND == "s3":
        assert ok.status == 302
        ok = limited.fetch_url(ok.header("Location"))
    assert ok.status == 200 and ok.body == b"top secret"


def test_direct_upload_tickets(stack, user):
    r = user.post("/api/uploads", {"filename": "big.iso", "size": 10})
    if BLOB_BACKEND == "local":
        assert r.status == 501 and r.error_code() == "direct_upload_unavailable"
    else:
        assert r.status == 201
    assert user.post("/api/uploads", {"filename": "x"}).error_code() == "bad_request"
    assert user.post("/api/uploads", {"filename": "x", "size": -1}).error_code() == "bad_request"
    r = user.post("/api/uploads", {"filename": "x", "size": 6 * 1024 ** 3})
    assert r.status == 413 and r.error_code() == "file_too_large"
    for bogus in ["nope", "AAAA.BBBB", "e30.e30"]:
        r = user.post("/api/uploads/%s/complete" % bogus, {})
        assert r.status == 404 and r.error_code() == "not_found", bogus
