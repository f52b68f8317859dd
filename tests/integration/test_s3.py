"""What only the S3 blob backend does: multipart uploads (aborted on failure), presigned
downloads, and direct browser uploads with a presigned POST form."""
import hashlib
import json
import os
import uuid

import pytest

from conftest import BLOB_BACKEND, s3_handle

pytestmark = pytest.mark.skipif(BLOB_BACKEND != "s3", reason="S3 blob backend only")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def post_form(url, fields, filename, data):
    """A browser's multipart/form-data POST of a presigned form (the file last)."""
    import http.client
    import urllib.parse
    boundary = "----fs" + uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n" % (boundary, filename)).encode() + data + b"\r\n")
    parts.append(("--%s--\r\n" % boundary).encode())
    body = b"".join(parts)
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("POST", u.path or "/", body=body,
                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


@pytest.fixture
def s3():
    p = s3_handle()
    p.clear_faults()
    yield p
    p.clear_faults()


def test_large_upload_goes_multipart_and_downloads_identical(stack, user, s3, tmp_path):
    user.premium()
    token = user.api_token()
    data = os.urandom(40 * 1024 * 1024 + 123)       # above the 16 MiB single-PUT size
    s3.reset()
    r = stack.raw("PUT", "/api/files/big.bin", body=data, headers={"Authorization": "Bearer " + token})
    assert r.status == 201, r
    assert s3.op_stats("CompleteMultipartUpload")["received"] == 1
    assert s3.op_stats("UploadPart")["received"] == 3
    first = stack.raw("GET", "/" + r.json["short_code"])
    assert first.status == 302
    loc = first.header("Location")
    assert "X-Amz-Signature=" in loc and "response-content-disposition=" in loc
    got = stack.fetch_url(loc)
    assert got.status == 200 and sha(got.body) == sha(data)
    assert got.header("Content-Disposition").startswith("attachment")


def test_multipart_form_part_over_the_buffer_goes_multipart(stack, user, s3):
    user.premium()
    data = os.urandom(9 * 1024 * 1024)              # above the 8 MiB writer buffer
    b = "bnd" + uuid.uuid4().hex
    body = (b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\r\n" +
            data + b"\r\n--" + b.encode() + b"--\r\n")
    s3.reset()
    r = user.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.status == 201, r
    assert s3.op_stats("CompleteMultipartUpload")["received"] == 1
    got = stack.fetch_url(stack.raw("GET", "/" + r.json["links"][0]["short_code"]).header("Location"))
    assert sha(got.body) == sha(data)


def test_a_failed_part_leaves_no_incomplete_upload(stack, user, s3):
    user.premium()
    token = user.api_token()
    before = stack.blob_keys()
    s3.reset()
    s3.fault(type="error500", match="PUT ?partNumber=", count=3)    # every attempt of one part
    r = stack.raw("PUT", "/api/files/doomed.bin", body=os.urandom(20 * 1024 * 1024),
                  headers={"Authorization": "Bearer " + token})
    assert r.status == 503 and r.error_code() == "storage_unavailable"
    assert s3.op_stats("AbortMultipartUpload")["received"] == 1
    assert s3.op_stats("CompleteMultipartUpload").get("received", 0) == 0
    assert stack.blob_keys() == before
    assert user.links().json["links"] == []
    # a transient failure of a part is retried and the upload succeeds
    s3.fault(type="error500", match="PUT ?partNumber=", count=1)
    r = stack.raw("PUT", "/api/files/ok.bin", body=os.urandom(20 * 1024 * 1024),
                  headers={"Authorization": "Bearer " + token})
    assert r.status == 201, r


def test_direct_browser_upload_with_presigned_post(stack, user, s3):
    data = os.urandom(300000)
    r = user.post("/api/uploads", {"filename": "direct.bin", "size": len(data), "max_clicks": 5})
    assert r.status == 201, r
    up = r.json
    assert up["url"].startswith(stack.env["AWS_ENDPOINT_URL_S3"])
    assert "policy" in up["fields"] and "x-amz-signature" in up["fields"]
    # completing before the file arrived
    c = user.post("/api/uploads/%s/complete" % up["upload_id"], {})
    assert c.status == 409 and c.error_code() == "upload_missing"
    # a body larger than declared is refused by S3 itself (content-length-range)
    status, body = post_form(up["url"], up["fields"], "direct.bin", data + b"x" * 1000)
    assert status == 400 and b"EntityTooLarge" in body, body[:300]
    status, _ = post_form(up["url"], up["fields"], "direct.bin", data)
    assert status in (200, 201, 204)
    # someone else cannot complete it
    other = stack.client()
    other.signup()
    assert other.post("/api/uploads/%s/complete" % up["upload_id"], {}).status == 404
    c = user.post("/api/uploads/%s/complete" % up["upload_id"], {})
    assert c.status == 201, c
    link = c.json
    assert link["filename"] == "direct.bin" and link["size"] == len(data) and link["max_clicks"] == 5
    got = stack.fetch_url(stack.raw("GET", "/" + link["short_code"]).header("Location"))
    assert got.body == data
    again = user.post("/api/uploads/%s/complete" % up["upload_id"], {})
    assert again.status == 409 and again.error_code() == "upload_already_completed"
    # tampered ticket
    t = up["upload_id"]
    bad = t[:5] + ("A" if t[5] != "A" else "B") + t[6:]
    assert user.post("/api/uploads/%s/complete" % bad, {}).status == 404


def test_over_size_declaration_is_refused_up_front(limited):
    c = limited.client()
    c.signup()
    r = c.post("/api/uploads", {"filename": "big.iso", "size": 2 * 1024 * 1024})
    assert r.status == 413 and r.error_code() == "file_too_large"


def test_uncompleted_direct_upload_is_purged(stack, user, s3):
    data = os.urandom(1000)
    up = user.post("/api/uploads", {"filename": "never.bin", "size": len(data)}).json
    assert post_form(up["url"], up["fields"], "never.bin", data)[0] in (200, 201, 204)
    key = up["fields"]["key"]
    assert key in stack.blob_keys()
    out = json.loads(stack.admin("purge", "--now", str(int(__import__("time").time()) + 7200)).stdout)
    assert out["orphans_deleted"] >= 1
    assert key not in stack.blob_keys()
