#!/usr/bin/env python3
"""
Writes the seed corpora under tests/fuzz/corpus/<target>/ (committed; run this again after
changing a seed). Each seed is a small, meaningful input in the target's own input format
(see the comment at the top of each fuzz_<target>.c): valid requests and answers first, then
the classic hostile shapes, so the fuzzer starts from the interesting places.
"""
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
corpus = {}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    corpus.setdefault(target, {})[name] = data


B = "----fuzzBoundary7MA4YWxkTrZu0gW"


def mp(*parts, boundary=B, close=True):
    body = ""
    for headers, data in parts:
        body += "--%s\r\n%s\r\n\r\n%s\r\n" % (boundary, "\r\n".join(headers), data)
    if close:
        body += "--%s--\r\n" % boundary
    return body


# -- http: flags, name line, cookie buffer size, query / Cookie value -------------------------
seed("http", "query", "\x00q\n\x40a=1&q=hello+world%21&x&q=2")
seed("http", "query-bad-escape", "\x00q\n\x40q=%zz&q=%4")
seed("http", "query-plus", "\x04expires_in\n\x40expires_in=3600&max_clicks=+5")
seed("http", "cookie", "\x01fs_session\n\xfftheme=dark; fs_session=fs1.eyJ4Ijo.sig; lang=en")
seed("http", "cookie-tiny-buffer", "\x03fs_session\n\x03fs_session=0123456789")
seed("http", "cookie-prefix-trap", "\x01fs_session\n\x80xfs_session=evil; fs_sessionx=2; fs_session=")
seed("http", "utf8-nul", "\x04a\n\x10a=%00%C3%A9%E2%80%AE")

# -- multipart: flags, split point (u16), body ----------------------------------------------
two = mp((['Content-Disposition: form-data; name="expires_in"'], "3600"),
         (['Content-Disposition: form-data; name="file"; filename="report.pdf"',
           "Content-Type: application/pdf"], "%PDF-1.4\r\n--not-a-boundary\r\n%%EOF"))
seed("multipart", "two-parts", b"\x00\x00\x40" + two.encode())
seed("multipart", "filename-star", b"\x00\x00\x10" + mp(([
    "Content-Disposition: form-data; name=\"file\"; filename=\"euro.txt\"; "
    "filename*=UTF-8''%E2%82%AC%20rates.txt"], "1 EUR")).encode())
seed("multipart", "latin1-star", b"\x00\x00\x10" + mp(([
    "Content-Disposition: form-data; name=file; filename*=ISO-8859-1''caf%E9.txt"], "x")).encode())
seed("multipart", "quoted-boundary-ct", ('\x01multipart/form-data; charset=utf-8; boundary="a b:c"\n'
                                          "\x00\x05" + mp((['Content-Disposition: form-data; name="a"'], "1"),
                                                          boundary="a b:c")).encode())
seed("multipart", "preamble-padding-epilogue", b"\x00\x00\x07" + (
    "preamble\r\n--%s \t\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--%s--\r\nepilogue" % (B, B)).encode())
seed("multipart", "traversal-name", b"\x00\x00\x20" + mp(([
    'Content-Disposition: form-data; name="file"; filename="../../etc/passwd"'], "root:x:0:0")).encode())
seed("multipart", "truncated", b"\x00\x00\x20" + mp((['Content-Disposition: form-data; name="a"'], "1"), close=False).encode())
seed("multipart", "stop-at-second", b"\x04\x00\x20" + two.encode())
seed("multipart", "no-boundary", b"\x01multipart/form-data\n\x00\x00--x--\r\n")

# -- linkrules: selector, string ----------------------------------------------------------------
for name, url in [
        ("url-ok", "https://example.com/a/long/path?q=1#frag"),
        ("url-idn", "http://b\u00fccher.example/"),
        ("url-punycode", "http://xn--bcher-kva.example:8080/x"),
        ("url-ipv6", "http://[2001:db8::1]:443/"),
        ("url-js", "javascript:alert(1)"),
        ("url-js-mixed", "JaVaScRiPt:alert(document.cookie)"),
        ("url-js-tab", "java\tscript:alert(1)"),
        ("url-js-space", " javascript:alert(1)"),
        ("url-data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
        ("url-vbscript", "vbscript:msgbox(1)"),
        ("url-file", "file:///etc/passwd"),
        ("url-loop", "http://fs.test/abc"),
        ("url-loop-dot", "HTTP://FS.TEST./abc"),
        ("url-loop-ip", "http://127.1:8080/"),
        ("url-loop-hex", "http://0x7f.0.0.1/"),
        ("url-loop-v6", "http://[::1]/"),
        ("url-userinfo", "https://example.com@evil.example/"),
        ("url-backslash", "https://evil.example\\@example.com/"),
        ("url-bidi", "https://example.com/\u202egnp.exe"),
        ("url-fullwidth", "https://\uff45xample.com/"),
        ("url-scheme-relative", "//evil.example/"),
        ("url-port", "http://example.com:65536/")]:
    seed("linkrules", name, b"\x00" + url.encode("utf-8"))
for name, slug in [("slug-ok", "my-launch_2026"), ("slug-reserved", "API"), ("slug-short", "abc")]:
    seed("linkrules", name, b"\x01" + slug.encode())
for name, fn in [("fn-traversal", b"../../etc/passwd"), ("fn-windows", b"..\\..\\boot.ini"),
                 ("fn-bidi", "invoice\u202etxt.exe".encode()), ("fn-nul", b"a\x00b.txt"),
                 ("fn-dots", b"...  .htaccess . "), ("fn-crlf", b"a\r\nX-Evil: 1.txt"),
                 ("fn-quote", b'say "hi"\\.txt'), ("fn-invalid-utf8", b"\xff\xfe\xc0\xaf.txt"),
                 ("fn-long", b"a" * 300 + b".tar.gz"), ("fn-nbsp", "a\u00a0b\u3000c.txt".encode())]:
    seed("linkrules", name, b"\x02" + fn)
seed("linkrules", "cd-raw", b'\x03"; filename*=UTF-8\'\'evil\r\nSet-Cookie: x=1')
seed("linkrules", "ct-html", b"\x04text/HTML; charset=utf-8\nindex.html")
seed("linkrules", "ct-bad", b"\x04text/html\r\nX: y\nimage.svg")
seed("linkrules", "ct-ext", b"\x14\nphoto.JPEG")
seed("linkrules", "ua-bot", b"\x05Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)")

# -- validate: raw bytes -------------------------------------------------------------------------
for name, s in [("email-ok", "User.Name+tag@Example.COM"), ("email-idn-tld", "a@example.xn--p1ai"),
                ("email-double-dot", "a..b@example.com"), ("email-two-at", "a@b@example.com"),
                ("email-nul", "a\x00@example.com"), ("pw-ok", "correct horse battery staple"),
                ("pw-unicode", "p\u00e4ssw\u00f6rt-\u6f22\u5b57-ok"), ("pw-overlong", "\xc0\xafabcdefghijk")]:
    seed("validate", name, s.encode("latin-1") if name == "pw-overlong" else s.encode())

# -- auth: selector (bit 7: envelopes), string / payload -------------------------------------------
seed("auth", "payload-session", b"\x00s.2f1c7a9e-1b2c-4d5e-8f90-0123456789ab.1767225600000.1999999999.AAAAAAAAAAAAAAAAAAAAAA")
seed("auth", "payload-api", b"\x01a.user-1.1767225600000.4102444800.jti")
seed("auth", "payload-expired", b"\x02s.user-1.1.2.jti")
seed("auth", "payload-extra-dots", b"\x03s.user.1.9999999999.jti.more")
seed("auth", "token-shape", b"\x04fs1.cy51c2VyLTEuMS45OTk5OTk5OTk5LmpDRl.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
seed("auth", "envelope-json", b'\x80{"k":"0123456789abcdef0123456789abcdef","s":1024,"u":"user-1","e":1767229200}')
seed("auth", "envelope-shape", b"\x81eyJrIjoxfQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

# -- creds: selector, body / date / records ------------------------------------------------------
ecs = {"RoleArn": "arn:aws:iam::123456789012:role/fileshare", "AccessKeyId": "ASIAEXAMPLE",
       "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "Token": "IQoJb3JpZ2luX2VjEXAMPLE",
       "Expiration": "2026-01-01T06:00:00Z"}
seed("creds", "ecs-ok", b"\x00" + json.dumps(ecs).encode())
seed("creds", "ecs-expired", b"\x00" + json.dumps(dict(ecs, Expiration="2025-12-31T23:00:00Z")).encode())
seed("creds", "ecs-control", b"\x00" + json.dumps(dict(ecs, Token="abc\ndef")).encode())
seed("creds", "ecs-trailing", b"\x00" + json.dumps(ecs).encode() + b" {}")
seed("creds", "ecs-nul", b'\x00{"AccessKeyId":"A\\u0000B","SecretAccessKey":"s","Token":"t","Expiration":"2026-01-01T06:00:00Z"}')
seed("creds", "date-offset", b"\x012026-01-01T06:00:00.123456+05:30")
seed("creds", "date-leap", b"\x012028-02-29t23:59:60z")
seed("creds", "full-uri", b"\x01http://[fd00:ec2::23]/v1/credentials")


def rec(ok, body):
    body = body.encode() if isinstance(body, str) else body
    return bytes([ok]) + struct.pack(">H", len(body)) + body


seed("creds", "provider-rotation", b"\x02" + rec(1, json.dumps(dict(ecs, Expiration="2026-01-01T00:06:00Z")))
     + rec(0, "") + rec(1, json.dumps(dict(ecs, Expiration="2026-01-02T00:00:00Z"))))
seed("creds", "provider-garbage", b"\x02" + rec(1, "<html>502</html>") + rec(1, json.dumps(ecs)))

# -- sigv4: flags, method, path, query, headers, blank line, body ----------------------------------
seed("sigv4", "ddb-post", b"\x00POST\n/\n\nContent-Type: application/x-amz-json-1.0\n"
     b"X-Amz-Target: DynamoDB_20120810.GetItem\n\n{\"TableName\":\"t\"}")
seed("sigv4", "normalize", b"\x00GET\n/a/./b/../c//d%20e/\nb=2&a=1&a=0&%41=x&flag\nX-Amz-Meta-A:  v   1 \n"
     b"x-amz-meta-a: second\nUser-Agent: not-signed\n\n")
seed("sigv4", "s3-put", b"\x29PUT\n/bucket/key%20with%20space/\xc3\xa9\n\nContent-Type: text/plain\n\nhello")
seed("sigv4", "s3-presign", b"\x93GET\n/bucket/file.bin\nresponse-content-disposition=attachment%3B%20filename%3D%22a.txt%22\n\n")
seed("sigv4", "presign-clash", b"\x02GET\n/\nX-Amz-Signature=abc\n\n")
seed("sigv4", "token-unsigned", b"\x50GET\n/\n\nHost: other.example\n\n")

# -- api: route, credentials byte, code byte, param line, header line, body ------------------------
R = {name: i for i, name in enumerate([
    "signup", "login", "logout", "tokens", "me", "trial", "link_create", "links_list",
    "link_get", "link_delete", "link_qr", "files_post", "files_put", "uploads", "upload_done",
    "open", "unlock", "open_head", "raw", "readyz"])}
COOKIE_A, BEARER_A, COOKIE_B, GARBAGE = 1, 2, 3, 4
ORIGIN, EVIL, SFS = 0x08, 0x18, 0x10


def api(name, route, cred=0, which=4, param="", header="", body=b""):
    body = body.encode() if isinstance(body, str) else body
    seed("api", name, bytes([R[route], cred, which]) + param.encode() + b"\n" + header.encode() + b"\n" + body)


api("signup", "signup", ORIGIN, body='{"email":"new@example.com","password":"a long passphrase"}')
api("signup-weak", "signup", ORIGIN, body='{"email":"UPPER@Example.COM","password":"short"}')
api("signup-sqli", "signup", ORIGIN, body='{"email":"x\'; DROP TABLE users;--@example.com","password":"\' OR 1=1 --xxxx"}')
api("signup-types", "signup", ORIGIN, body='{"email":["a"],"password":{"x":1},"extra":null}')
api("signup-cross-site", "signup", EVIL, body='{"email":"new2@example.com","password":"a long passphrase"}')
api("login", "login", ORIGIN, body='{"email":"alice@example.com","password":"correct horse battery staple"}')
api("login-wrong", "login", ORIGIN, body='{"email":"alice@example.com","password":"wrong password!!"}')
api("json-deep", "login", ORIGIN, body="[" * 40 + "]" * 40)
api("json-trailing", "login", ORIGIN, body='{"email":"a@b.co","password":"xxxxxxxxxxxx"} {}')
api("json-bad-utf8", "login", ORIGIN, body=b'{"email":"\xff\xfe@b.co","password":"xxxxxxxxxx"}')
api("logout-garbage", "logout", GARBAGE | ORIGIN, header="fs_session=fs1.AAAA.BBBB", body='{"everywhere":true}')
api("tokens", "tokens", COOKIE_A | ORIGIN)
api("me-bearer", "me", BEARER_A)
api("me-tampered", "me", GARBAGE, header="fs_session=fs1.cy51c2VyLTEuMS45OTk5OTk5OTk5Lmp0aQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
api("trial", "trial", COOKIE_B | ORIGIN, body="{}")
api("link", "link_create", COOKIE_A | ORIGIN, body='{"url":"https://example.com/x","expires_in":3600,"max_clicks":3}')
api("link-slug-pw", "link_create", BEARER_A, body='{"url":"https://example.com/y","slug":"my-slug_1","password":"hunter2hunter2"}')
api("link-js", "link_create", BEARER_A, body='{"url":"JaVaScRiPt:alert(1)"}')
api("link-loop", "link_create", BEARER_A, body='{"url":"http://FS.TEST./loop"}')
api("link-numbers", "link_create", BEARER_A, body='{"url":"https://e.com/","expires_in":1e308,"max_clicks":-1}')
api("link-csrf", "link_create", COOKIE_A | EVIL, body='{"url":"https://example.com/csrf"}')
api("link-no-origin", "link_create", COOKIE_A, body='{"url":"https://example.com/csrf"}')
api("list", "links_list", COOKIE_A, param="limit=2")
api("list-cursor", "links_list", COOKIE_A, param="limit=100&cursor=MjAyNi0wMS0wMVQwMDowMDowMFp8QWIzZEU5eFE")
api("list-bad", "links_list", BEARER_A, param="limit=-1&cursor=%zz&limit=999999999999999999999")
api("get-own", "link_get", COOKIE_A, which=0)
api("get-other", "link_get", COOKIE_A, which=3)
api("get-traversal", "link_get", COOKIE_A, param="..%2F..%2Fetc%2Fpasswd")
api("delete-unknown", "link_delete", COOKIE_A | ORIGIN, param="Zz9yX8wV")
api("qr", "link_qr", COOKIE_A, which=0)
api("files-post", "files_post", COOKIE_A | ORIGIN, body=two)
api("files-post-bodyfile", "files_post", BEARER_A, which=0x1c, body=two)
api("files-put", "files_put", BEARER_A, param="notes%20(1).txt?expires_in=600", body="hello")
api("files-put-html", "files_put", BEARER_A, param="index.html", body="<script>alert(document.domain)</script>")
api("files-put-traversal", "files_put", BEARER_A, which=0x10, param="..%2F..%2Fx%00.sh", body="#!/bin/sh")
api("files-put-pw", "files_put", BEARER_A | 0x20, header="open sesame", param="secret.txt", body="s")
api("uploads", "uploads", BEARER_A, body='{"filename":"a.bin","size":10,"content_type":"application/octet-stream"}')
api("upload-done-forged", "upload_done", BEARER_A, param="eyJrIjoiMCJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
api("open-url", "open", 0, which=0)
api("open-file", "open", 0, which=2)
api("open-file-bot", "open", 0x20, which=2, header="Slackbot-LinkExpanding 1.0")
api("open-pw-html", "open", 0, which=1, header="text/html")
api("open-unknown", "open", 0, param="Zz9yX8wV", header="application/json")
api("head-url", "open_head", 0, which=0)
api("unlock-ok", "unlock", 0, which=1, body="password=open+sesame")
api("unlock-wrong", "unlock", 0, which=1, body="password=%zz&password=x")
api("raw-dotdot", "raw", 0, param="/%2e%2e/api/links", header="GET")
api("raw-method", "raw", COOKIE_A, param="/api/links", header="PATCH")
api("raw-no-slash", "raw", 0, param="api/me", header="GET")
api("raw-long", "raw", 0, param="/" + "A" * 3000, header="GET")
api("readyz", "readyz")

# -- ddb: mode, then per mode ---------------------------------------------------------------------
user_item = {"user_id": {"S": "2f1c7a9e-1b2c-4d5e-8f90-0123456789ab"}, "email": {"S": "a@example.com"},
             "password_hash": {"S": "$scrypt$ln=15,r=8,p=3$c2FsdA$aGFzaA"}, "user_tier": {"S": "trial"},
             "trial_used": {"BOOL": True}, "trial_started_at": {"S": "2026-01-01T00:00:00Z"},
             "trial_expires_at": {"S": "2026-01-31T00:00:00Z"}, "sessions_valid_after": {"N": "1767225600000"},
             "created_at": {"S": "2026-01-01T00:00:00Z"}, "updated_at": {"S": "2026-01-01T00:00:00Z"}}
link_item = {"short_code": {"S": "Ab3dE9xQ"}, "full_url": {"S": "https://example.com/"},
             "created_at": {"S": "2026-01-01T00:00:00Z"}, "expires_at": {"S": "2026-01-08T00:00:00Z"},
             "expires_at_ttl": {"N": "1767830400"}, "created_by_user": {"S": "user-1"},
             "click_count": {"N": "3"}, "max_clicks": {"N": "10"}}
file_item = dict(link_item, short_code={"S": "Zz9yX8wVa1b"}, file_key={"S": "0123456789abcdef0123456789abcdef"},
                 filename={"S": "report.pdf"}, file_size={"N": "1048576"}, content_type={"S": "application/pdf"},
                 password_hash={"S": "$scrypt$ln=15,r=8,p=3$c2FsdA$aGFzaA"})
del file_item["full_url"]
seed("ddb", "item-user", b"\x00" + json.dumps(user_item).encode())
seed("ddb", "item-link", b"\x00" + json.dumps(link_item).encode())
seed("ddb", "item-file", b"\x00" + json.dumps(file_item).encode())
seed("ddb", "item-wrong-types", b'\x00{"short_code":{"N":"1"},"click_count":{"N":"1e3"},"max_clicks":{"S":"x"},'
     b'"expires_at_ttl":{"N":"99999999999999999999"},"trial_used":{"S":"true"},"file_size":{"N":"-1"}}')

OK, CRC, DATE, RID = 0, 1, 8, 32


def answer(status_index, flags, body):
    body = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return bytes([status_index, flags]) + struct.pack(">H", len(body)) + body


def scenario(name, op, arg, *answers):
    seed("ddb", name, b"\x01" + bytes([op]) + arg.encode() + b"\n" + b"".join(answers))


CCF = {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
       "message": "The conditional request failed"}
scenario("user-get", 0, "2f1c7a9e-1b2c-4d5e-8f90-0123456789ab", answer(0, CRC | RID, {"Item": user_item}))
scenario("user-get-missing", 0, "nobody", answer(0, CRC, {}))
scenario("by-email", 1, "a@example.com", answer(0, CRC, {"Item": {"user_id": {"S": "email#a@example.com"},
                                                                   "owner": {"S": "u-1"}}}), answer(0, CRC, {"Item": user_item}))
scenario("user-create-taken", 2, "u-2", answer(6, 0, {
    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    "message": "Transaction cancelled", "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed",
                                                                                  "Item": user_item}]}))
scenario("trial-throttled-then-ok", 3, "u-1", answer(6, 0, {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "slow down"}),
    answer(9, 0, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
    answer(0, CRC, {"Attributes": user_item}))
scenario("trial-used", 3, "u-1", answer(6, 0, dict(CCF, Item=user_item)), answer(0, 0, {"Item": user_item}))
scenario("skew", 7, "jti-1", answer(6, DATE | 16, {"__type": "com.amazon.coral.service#InvalidSignatureException",
                                                  "message": "Signature expired: 20260101T000000Z is now earlier than ..."}),
         answer(0, 0, {}))
scenario("expired-token-creds", 7, "jti-1", answer(6, 0, {"__type": "com.amazon.coral.service#ExpiredTokenException",
                                                        "message": "The security token included in the request is expired"}))
scenario("crc-mismatch", 10, "Ab3dE9xQ", answer(0, 2 | 4, {"Item": link_item}), answer(0, CRC, {"Item": link_item}))
scenario("links-create", 9, "Ab3dE9xQ", answer(0, 0, {"Item": {"user_id": {"S": "quota#user-1"}, "version": {"N": "4"},
                                                             "links": {"M": {"Qq1": {"N": "1767830400"}, "Old": {"N": "1"}}}}}),
         answer(0, 0, {}))
scenario("links-create-conflict", 8, "Ab3dE9xQ", answer(0, 0, {}), answer(6, 0, {
    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]}), answer(0, 0, {}), answer(0, 0, {}))
scenario("link-open-gone", 11, "Ab3dE9xQ", answer(6, 0, dict(CCF, Item=dict(link_item, click_count={"N": "10"}))))
scenario("link-open-ok", 11 + 0x80, "Zz9yX8wVa1b", answer(0, CRC, {"Attributes": file_item}))
scenario("list-two-pages", 12 + 17 * 1, "", answer(0, 0, {"Items": [link_item], "Count": 1,
                                                          "LastEvaluatedKey": {"short_code": {"S": "Ab3dE9xQ"}}}),
         answer(0, 0, {"Items": [file_item, link_item], "Count": 2}))
scenario("list-cursor", 12, "MjAyNi0wMS0wMVQwMDowMDowMFp8QWIzZEU5eFE", answer(0, 0, {"Items": "not-an-array"}))
scenario("delete", 13, "Ab3dE9xQ", answer(0, 0, {"Attributes": link_item}), answer(0, 0, {"Item": {}}), answer(0, 0, {}))
scenario("purge", 14 + 17, "", answer(0, 0, {"Items": [link_item, file_item], "LastEvaluatedKey": {}}),
         answer(0, 0, {"Attributes": link_item}), answer(6, 0, CCF), answer(0, 0, {"Items": []}))
scenario("file-keys", 15, "", answer(0, 0, {"Items": [{"file_key": {"S": "0123456789abcdef0123456789abcdef"}}, {}]}))
scenario("ping-reset", 16, "", answer(15, 0, b""), answer(0, 0, b"not json"), answer(0, 0, {}))
scenario("http-500-html", 10, "Ab3dE9xQ", answer(9, 0, b"<html><body>Internal error</body></html>"))
seed("ddb", "helper-date", b"\x02Sun, 06 Nov 1994 08:49:37 GMT\nSignature expired")
seed("ddb", "helper-date-asctime", b"\x02Sun Nov  6 08:49:37 1994\nSignature not yet current")
seed("ddb", "helper-cursor", b"\x02MjAyNi0wMS0wMVQwMDowMDowMFp8QWIzZEU5eFE")
seed("ddb", "helper-type", b"\x02ProvisionedThroughputExceededException\n")

# -- s3xml: selector, document --------------------------------------------------------------------
listing = ('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           "<Name>bucket</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
           "<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
           "<Contents><Key>0123456789abcdef0123456789abcdef</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
           "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1048576</Size><StorageClass>STANDARD</StorageClass></Contents>"
           "<Contents><Key>a&amp;b &#x263A; &#9731;</Key><LastModified>2026-01-02T00:00:00Z</LastModified><Size>0</Size></Contents>"
           "</ListBucketResult>")
seed("s3xml", "list", "\x02" + listing)
seed("s3xml", "list-last", "\x02" + listing.replace("<IsTruncated>true", "<IsTruncated>false"))
seed("s3xml", "list-same-token", "\x06" + listing.replace("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", "token-1"))
seed("s3xml", "error", "\x01<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.\nline 2</Message>"
     "<RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>")
seed("s3xml", "error-prefixed", "\x01<s3:Error xmlns:s3=\"x\"><s3:Code>NoSuchKey</s3:Code></s3:Error>")
seed("s3xml", "scan-cdata-comment-pi", "\x00<?xml version='1.0'?><!-- c --><?pi x?><A b='1' c=\"2\"><B><![CDATA[<not>&amp;]]></B><C/></A>")
seed("s3xml", "scan-doctype", "\x00<!DOCTYPE x [<!ENTITY a \"aaaa\">]><A>&a;</A>")
seed("s3xml", "scan-nul-ref", "\x00<A>&#0;</A>")
seed("s3xml", "scan-surrogate", "\x00<A>&#xD800;</A>")
seed("s3xml", "scan-mismatch", "\x00<A><B></A></B>")
seed("s3xml", "scan-deep", "\x00" + "<a>" * 20 + "</a>" * 20)
seed("s3xml", "scan-stop", "\x0c<A><B>1</B><C>2</C></A>")
seed("s3xml", "complete", "\x00<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key>"
     "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>")

# -- write ------------------------------------------------------------------------------------------
for target, seeds in corpus.items():
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
print(" ".join("%s:%d" % (t, len(s)) for t, s in sorted(corpus.items())))
