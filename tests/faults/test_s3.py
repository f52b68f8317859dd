"""
S3 misbehaving during multipart uploads (the S3 blob backend, src/blob_s3.c), beyond
tests/integration/test_s3.py (which fails every attempt of one part of a PUT, and one attempt
once): a part stored by S3 whose answer is cut (reset after), S3 slowing down on a part,
CompleteMultipartUpload failing for good, and a buffered multipart form upload whose parts all
fail. Acknowledged files download byte-identical; a failed upload leaves no object, no link,
and no multipart upload that was neither completed nor aborted.

These stacks keep their blobs in S3 whatever FS_TEST_BLOBS says.
"""
import hashlib
import os
import re
import uuid

import pytest

from conftest import finish_stack, make_stack, s3_handle

SIZE = 20 * 1024 * 1024 + 17          # above the 16 MiB single-PUT size: two parts


@pytest.fixture
def s3_stack(tmp_path_factory):
    s3 = s3_handle()
    s3.clear_faults()
    bucket = "flt-" + uuid.uuid4().hex[:12]
    assert s3.request("PUT", "", bucket=bucket).status == 200
    s = make_stack(tmp_path_factory, "s3fault", workers=2, env=dict(s3.env(bucket), PREMIUM_MAX_FILE_SIZE="64M"))
    s.bucket = bucket
    yield s, s3
    s3.clear_faults()
    finish_stack(s)


def keys(s3, bucket):
    r = s3.request("GET", "", bucket=bucket, query={"list-type": "2"})
    assert r.status == 200
    return sorted(re.findall(r"<Key>([^<]*)</Key>", r.body.decode()))


def stats(s3, op):
    return s3.op_stats(op)


def upload(s, token, data, name="big.bin"):
    return s.raw("PUT", "/api/files/" + name, body=data, headers={"Authorization": "Bearer " + token},
                 timeout=120)


def download(s, code):
    first = s.raw("GET", "/" + code)
    assert first.status == 302, first
    return s.fetch_url(first.header("Location")).body


def test_multipart_part_and_completion_failures(s3_stack):
    s, s3 = s3_stack
    c = s.client()
    c.signup()
    c.premium()
    token = c.api_token()
    acknowledged = {}
    n = 0

    # 1. S3 stores part 2 but the answer is cut: the part is sent again, the upload completes.
    s3.reset()
    s3.fault(type="reset", when="after", match="PUT ?partNumber=", nth=2)
    data = os.urandom(SIZE)
    r = upload(s, token, data)
    assert r.status == 201, r
    acknowledged[r.json["short_code"]] = hashlib.sha256(data).hexdigest()
    assert stats(s3, "UploadPart")["faulted"] == 1 and stats(s3, "CompleteMultipartUpload")["forwarded"] == 1
    n += 1

    # 2. SlowDown on the first part, twice: retried within the budget.
    s3.reset()
    s3.fault(type="throttle", match="PUT ?partNumber=", count=2)
    data = os.urandom(SIZE)
    r = upload(s, token, data, "slow.bin")
    assert r.status == 201, r
    acknowledged[r.json["short_code"]] = hashlib.sha256(data).hexdigest()
    n += 1

    # 3. CompleteMultipartUpload fails on every attempt: 503, the upload is aborted, no link.
    before = keys(s3, s.bucket)
    s3.reset()
    s3.fault(type="error500", operation="CompleteMultipartUpload", count=10)
    r = upload(s, token, os.urandom(SIZE), "never.bin")
    assert r.status == 503 and r.error_code() == "storage_unavailable", r
    s3.clear_faults()
    assert stats(s3, "AbortMultipartUpload")["forwarded"] == 1
    assert keys(s3, s.bucket) == before
    n += 1

    # 4. A multipart form upload (parts buffered by the worker) whose parts all fail.
    s3.reset()
    s3.fault(type="error500", match="PUT ?partNumber=", count=10)
    body = (b"--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"form.bin\"\r\n\r\n" +
            os.urandom(9 * 1024 * 1024) + b"\r\n--bnd--\r\n")
    r = c.request("POST", "/api/files", body=body, headers={"Content-Type": "multipart/form-data; boundary=bnd"},
                  timeout=120)
    assert r.status == 503 and r.error_code() == "storage_unavailable", r
    s3.clear_faults()
    assert stats(s3, "AbortMultipartUpload")["forwarded"] >= 1
    assert stats(s3, "CompleteMultipartUpload").get("received", 0) == 0
    assert keys(s3, s.bucket) == before
    n += 1

    # Every acknowledged file is there, byte-identical; nothing else is; no link without its file.
    links = c.links(limit=100).json["links"]
    assert sorted(l["short_code"] for l in links) == sorted(acknowledged)
    assert len(keys(s3, s.bucket)) == len(acknowledged)
    for code, digest in acknowledged.items():
        assert hashlib.sha256(download(s, code)).hexdigest() == digest
    print("\n  S3: %d multipart fault cases; %d uploads acknowledged and intact, failed ones left nothing"
          % (n, len(acknowledged)))
