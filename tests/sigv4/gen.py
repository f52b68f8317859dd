#!/usr/bin/python3
"""Generates random requests for the SigV4 cross-check (tests/suites/20-sigv4.sh).

    gen.py OUTDIR [COUNT [SEED]]

Writes OUTDIR/req/NNNNN.req (the raw request, as `fileshare-admin sigv4 --request` reads it)
and OUTDIR/cases.jsonl: one JSON object per request with everything the reference signers
need (method, host, path, the decoded query pairs, headers, body, credentials, options) and
the payload hash the request must be signed with. Same COUNT and SEED, same files.

The requests are deliberately awkward: paths with spaces, unicode, reserved characters,
percent-escapes, "." / ".." segments and doubled slashes; queries with repeated and unordered
keys, keys without '=', empty pieces, '+', stray '%' and escapes in either case; headers with
odd whitespace, folded (multi-line) values, repeated names in varying case and non-ASCII
values; bodies (some binary); session tokens; presigned and S3-style (--no-normalize) ones.

What is never generated, and why (the references cannot agree on it, or it is not a legal
request): a Date header (botocore replaces it with its own and drops X-Amz-Date; smithy drops
it), headers only smithy refuses to sign (cache-control, connection, from, keep-alive,
max-forwards, pragma, referer, te, trailer, upgrade, proxy-*, sec-*), raw control characters
in paths or queries, '?' or '#' in a path, query escapes that do not decode to UTF-8 (neither
reference can hold such a string; the unit tests cover them), and, in S3 mode, path bytes
that are not legal on the wire (both references use an S3 path untouched; check_sigv4 covers
what our signer does with those).
"""
import base64
import hashlib
import json
import os
import random
import sys
from urllib.parse import quote, unquote_to_bytes

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
SUB_DELIMS = "!$&'()*+,;=:@"
UNICODE = ["é", "ሴ", "日本", "😀", "ß", "Ωmega", "naïve"]
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
SERVICES = ["service", "dynamodb", "execute-api", "iam", "sqs"]
HOSTS = ["example.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com", "localhost:4569",
         "127.0.0.1:8000", "bucket.s3.amazonaws.com", "my.bucket.s3.eu-west-1.amazonaws.com"]
HEADER_NAMES = ["X-Custom", "x-meta-b", "Content-Type", "Content-Length", "X-Amz-Meta-Foo",
                "X-Amz-Target", "Range", "If-Match", "Accept", "Content-MD5",
                "X-Forwarded-For", "My-Header1", "x-Odd_Name.v2", "ACCEPT-LANGUAGE",
                "x-amz-server-side-encryption", "Content-Disposition", "X-a~b!c"]
SKIPPED_BY_ALL = ["User-Agent", "Expect", "X-Amzn-Trace-Id"]


def rand_token(rng, n, alphabet=UNRESERVED):
    return "".join(rng.choice(alphabet) for _ in range(n))


def path_segment(rng, s3):
    """One path segment; in S3 mode only what an SDK could put on the wire."""
    r = rng.random()
    if r < 0.08:
        return "."
    if r < 0.16:
        return ".."
    if r < 0.22:
        return ""               # a doubled slash
    parts = []
    for _ in range(rng.randint(1, 4)):
        k = rng.random()
        if k < 0.45:
            parts.append(rand_token(rng, rng.randint(1, 6)))
        elif k < 0.60:
            parts.append(rng.choice(SUB_DELIMS))
        elif k < 0.75:
            # escapes already on the wire, both cases of hex
            parts.append(rng.choice(["%20", "%2F", "%2f", "%41", "%25", "%7E", "%e1%88%b4",
                                     "%E6%97%A5", "%3F", "%23"]))
        elif s3:
            # what an S3 client sends for a key with these characters: encoded once
            parts.append(quote(rng.choice(UNICODE + [" ", "a b", "\"<>", "{x}", "50%"]),
                               safe=""))
        elif k < 0.88:
            parts.append(rng.choice(UNICODE))
        else:
            parts.append(rng.choice([" ", "a b", "\"", "<>", "{x}", "^", "`", "|", "\\",
                                     "50%", "%zz", "[]"]))
    return "".join(parts)


def gen_path(rng, s3):
    segs = [path_segment(rng, s3) for _ in range(rng.randint(0, 5))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.25:
        path += "/"
    return path


def query_part(rng):
    k = rng.random()
    if k < 0.45:
        return rand_token(rng, rng.randint(1, 8))
    if k < 0.55:
        return rng.choice(UNICODE)
    if k < 0.80:
        return rng.choice(["%7E", "%7e", "%2B", "%2b", "%3D", "%26", "%20", "%2F", "%e1%88%b4",
                           "%F0%9F%98%80", "%41%42", "%00", "%25"])
    return rng.choice(["+", " ", "a b", "/", ":", "@", "!", "*", "'", "(", ")", ",", ";",
                       "$", "%", "50%", "%zz", "[x]", "\"", "~"])


def gen_query(rng, repeat):
    """A raw query string; repeat is the chance that a key is used again."""
    pieces, keys = [], []
    for _ in range(rng.randint(0, 6)):
        if rng.random() < repeat and keys:
            key = rng.choice(keys)          # a repeated key
        else:
            key = "".join(query_part(rng) for _ in range(rng.randint(1, 3)))
            if rng.random() < 0.1:
                key = ""
        keys.append(key)
        r = rng.random()
        if r < 0.15:
            pieces.append(key)                                      # no '='
        elif r < 0.25:
            pieces.append(key + "=")
        else:
            value = "".join(query_part(rng) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.1:
                value += "=x"                                       # '=' inside the value
            pieces.append(key + "=" + value)
        if rng.random() < 0.08:
            pieces.append("")                                       # "&&"
    rng.shuffle(pieces)
    return "&".join(pieces)


def decode_query(raw):
    """The pairs the query means: split on '&' (empty pieces dropped), then on the first '=',
    then percent-decoded ('+' stays a plus, stray '%' stays). None if not UTF-8."""
    pairs = []
    for piece in raw.split("&"):
        if piece == "":
            continue
        key, eq, value = piece.partition("=")
        try:
            pairs.append([unquote_to_bytes(key).decode("utf-8"),
                          unquote_to_bytes(value).decode("utf-8")])
        except UnicodeDecodeError:
            return None
    return pairs


def header_value(rng):
    words = []
    for _ in range(rng.randint(0, 4)):
        k = rng.random()
        if k < 0.6:
            words.append(rand_token(rng, rng.randint(1, 8), UNRESERVED + "\"/,;=()<>@"))
        elif k < 0.75:
            words.append(rng.choice(UNICODE))
        else:
            words.append(rng.choice(["a,b", "\"a   b\"", "x=1; y=2", "*", "bytes=0-9"]))
    value = ""
    for i, w in enumerate(words):
        if i:
            r = rng.random()
            if r < 0.6:
                value += " "
            elif r < 0.8:
                value += rng.choice(["  ", "\t", " \t ", "     "])
            else:
                value += "\n" + rng.choice([" ", "\t", "   ", " \t"])   # a folded line
        value += w
    if rng.random() < 0.4:
        value = rng.choice([" ", "  ", "\t", " \t"]) + value
    if rng.random() < 0.3:
        value += rng.choice([" ", "  ", "\t"])
    return value


def gen_date(rng):
    y = rng.randint(2000, 2099)
    mo = rng.randint(1, 12)
    dim = [31, 29 if (y % 4 == 0 and (y % 100 or y % 400 == 0)) else 28, 31, 30, 31, 30,
           31, 31, 30, 31, 30, 31][mo - 1]
    return "%04d%02d%02dT%02d%02d%02dZ" % (y, mo, rng.randint(1, dim), rng.randint(0, 23),
                                           rng.randint(0, 59), rng.randint(0, 59))


def gen_case(rng, i):
    s3 = rng.random() < 0.35
    presign = rng.random() < 0.3
    method = rng.choice(METHODS)
    host = rng.choice(HOSTS)
    path = gen_path(rng, s3)
    # Presigned URLs seldom repeat keys or carry a body (botocore cannot presign those).
    repeat = 0.1 if presign else 0.3
    raw_query = gen_query(rng, repeat)
    while decode_query(raw_query) is None:
        raw_query = gen_query(rng, repeat)
    headers = [["Host", rng.choice(["", " ", "  "]) + host + rng.choice(["", " "])]]
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(HEADER_NAMES)
        if rng.random() < 0.3:
            name = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
        if rng.random() < 0.3 and len(headers) > 1:
            name = rng.choice(headers[1:])[0].swapcase()    # repeated, other case
        value = header_value(rng)
        if name.lower() == "content-type" and presign and \
                value == "application/x-www-form-urlencoded; charset=utf-8":
            value = "text/plain"
        headers.append([name, value])
    if rng.random() < 0.15:
        headers.append([rng.choice(SKIPPED_BY_ALL), header_value(rng)])
    rng.shuffle(headers)

    r = rng.random()
    if r < 0.15 or (presign and rng.random() < 0.85):
        body = b""
    elif r < 0.25:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    elif r < 0.6 or method in ("POST", "PUT", "PATCH"):
        body = json.dumps({"TableName": rand_token(rng, 8), "n": rng.randint(0, 10**9),
                           "s": rng.choice(UNICODE)}, ensure_ascii=False).encode()
    else:
        body = b""
    body_hash = hashlib.sha256(body).hexdigest()

    service = "s3" if s3 else rng.choice(SERVICES)
    sign_body = False
    r = rng.random()
    if r < 0.15:
        # No whitespace around this one: both references take the value verbatim as the
        # payload hash, where a service sees the field value (RFC 9110: without OWS).
        headers.append([rng.choice(["x-amz-content-sha256", "X-Amz-Content-Sha256"]),
                        "UNSIGNED-PAYLOAD"])
        payload, payload_source = "UNSIGNED-PAYLOAD", "header"
    elif r < 0.30:
        headers.append(["X-Amz-Content-SHA256", body_hash])
        payload, payload_source = body_hash, "header"
    elif presign and s3:
        payload, payload_source = "UNSIGNED-PAYLOAD", "s3-presign"
    else:
        payload, payload_source = body_hash, "body"
        sign_body = not presign and rng.random() < (0.6 if s3 else 0.3)

    token = None
    if rng.random() < 0.4:
        token = rand_token(rng, rng.randint(16, 120),
                           UNRESERVED + "/+=") + rng.choice(["", "=", "=="])
    return {
        "id": i,
        "method": method,
        "host": host,
        "path": path,
        "query": raw_query,
        "query_pairs": decode_query(raw_query),
        "headers": headers,
        "body_b64": base64.b64encode(body).decode(),
        "payload": payload,
        "payload_source": payload_source,
        "sign_body": sign_body,
        "s3": s3,
        "expires": rng.randint(1, 604800) if presign else 0,
        "region": rng.choice(REGIONS),
        "service": service,
        "date": gen_date(rng),
        "access_key": "AKIA" + rand_token(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        "secret_key": rand_token(rng, 40, UNRESERVED + "/+"),
        "token": token,
        "crlf": rng.random() < 0.15,
    }


def raw_request(c):
    eol = "\r\n" if c["crlf"] else "\n"
    target = c["path"] + ("?" + c["query"] if c["query"] else "")
    out = "%s %s HTTP/1.1%s" % (c["method"], target, eol)
    for name, value in c["headers"]:
        out += name + ":" + value.replace("\n", eol) + eol
    return (out + eol).encode() + base64.b64decode(c["body_b64"])


def main():
    outdir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20150830
    rng = random.Random(seed)
    os.makedirs(os.path.join(outdir, "req"), exist_ok=True)
    with open(os.path.join(outdir, "cases.jsonl"), "w", encoding="utf-8") as f:
        for i in range(count):
            c = gen_case(rng, i)
            c["req_file"] = os.path.join(outdir, "req", "%05d.req" % i)
            with open(c["req_file"], "wb") as r:
                r.write(raw_request(c))
            f.write(json.dumps(c, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
