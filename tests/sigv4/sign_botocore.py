#!/usr/bin/python3
"""Signs every case of cases.jsonl with botocore (Debian's python3-botocore) and prints one
JSON line per case: {id, creq, sts, signature, authorization} or {id, skip: reason}.

    /usr/bin/python3 sign_botocore.py CASES.jsonl > botocore.jsonl

botocore's own signer classes do the work (SigV4Auth, S3SigV4Auth, SigV4QueryAuth,
S3SigV4QueryAuth); the canonical request and string to sign are captured by wrapping the
instance's canonical_request/string_to_sign methods, not recomputed.

Where botocore implements a different option than our signer, the case is skipped (and
the reason counted) rather than bent to fit:
  - S3 header signing: S3SigV4Auth always sends x-amz-content-sha256, so only cases that
    sign that header (--sign-body, or the header in the request) are compared;
  - S3 presigning: S3SigV4QueryAuth always signs UNSIGNED-PAYLOAD, so only cases whose
    payload is UNSIGNED-PAYLOAD (or given by an x-amz-content-sha256 header) are compared;
  - presigning: SigV4QueryAuth folds the query into a dict (repeated keys collapse) and
    moves a body into the query string, so cases with repeated query keys or a body are
    not compared.
The query is handed over as decoded (key, value) pairs (request.params), which botocore
encodes itself: a raw query in the URL would be used verbatim, without the decode/encode
step every service performs.
"""
import base64
import datetime
import json
import sys
import types

import botocore.auth
from botocore.auth import (S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth)
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class Clock(datetime.datetime):
    now = None

    @classmethod
    def utcnow(cls):
        return cls.now


def sign(c):
    body = base64.b64decode(c["body_b64"])
    presign = c["expires"] > 0
    pairs = c["query_pairs"]
    names = [n.lower() for n, _ in c["headers"]]
    has_sha_header = "x-amz-content-sha256" in names

    if c["s3"] and not presign and not (c["sign_body"] or has_sha_header):
        return "S3SigV4Auth always adds x-amz-content-sha256"
    if c["s3"] and presign and c["payload"] != "UNSIGNED-PAYLOAD" and not has_sha_header:
        return "S3SigV4QueryAuth always signs UNSIGNED-PAYLOAD"
    if presign and len({k for k, _ in pairs}) != len(pairs):
        return "SigV4QueryAuth keeps one value per query key"
    if presign and body:
        return "SigV4QueryAuth moves the body into the query"

    creds = Credentials(c["access_key"], c["secret_key"], c["token"])
    if presign:
        cls = S3SigV4QueryAuth if c["s3"] else SigV4QueryAuth
        signer = cls(creds, c["service"], c["region"], expires=c["expires"])
    else:
        cls = S3SigV4Auth if c["s3"] else SigV4Auth
        signer = cls(creds, c["service"], c["region"])

    req = AWSRequest(method=c["method"], url="https://" + c["host"] + c["path"], data=body)
    for name, value in c["headers"]:
        req.headers[name] = value           # HTTPHeaders: repeated names accumulate
    if c["sign_body"] and not c["s3"]:
        # SigV4Auth signs a given x-amz-content-sha256 and uses it as the payload hash:
        # exactly what --sign-body does.
        req.headers["X-Amz-Content-SHA256"] = c["payload"]
    if pairs:
        req.params = dict(pairs) if presign else [tuple(p) for p in pairs]
    if c["s3"]:
        # S3SigV4Auth derives the header from this switch (UNSIGNED-PAYLOAD when off).
        enabled = not (not presign and c["payload"] == "UNSIGNED-PAYLOAD")
        req.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": enabled})

    captured = {}

    def canonical_request(r, orig=signer.canonical_request):
        captured["creq"] = orig(r)
        return captured["creq"]

    def string_to_sign(r, cr, orig=signer.string_to_sign):
        captured["sts"] = orig(r, cr)
        return captured["sts"]

    signer.canonical_request = canonical_request
    signer.string_to_sign = string_to_sign
    # add_auth reads the clock (datetime.datetime.utcnow): pinned to the case's time.
    Clock.now = datetime.datetime.strptime(c["date"], "%Y%m%dT%H%M%SZ")
    signer.add_auth(req)

    out = {"creq": captured["creq"], "sts": captured["sts"]}
    if presign:
        out["signature"] = req.url.rsplit("X-Amz-Signature=", 1)[1]
        out["authorization"] = None
    else:
        out["authorization"] = req.headers["Authorization"]
        out["signature"] = out["authorization"].rsplit("Signature=", 1)[1]
    return out


def main():
    botocore.auth.datetime.datetime = Clock
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            r = sign(c)
            if isinstance(r, str):
                r = {"skip": r}
            r["id"] = c["id"]
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
