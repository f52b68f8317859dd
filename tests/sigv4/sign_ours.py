#!/usr/bin/python3
"""Signs every case of cases.jsonl with `fileshare-admin sigv4` and prints one JSON line per
case: {id, creq, sts, signature, authorization, signed_request} (or {id, error}).

    /usr/bin/python3 sign_ours.py FILESHARE_ADMIN CASES.jsonl > ours.jsonl

Each case is run three times (--show canonical-request, string-to-sign, signed-request);
the signature and the Authorization value are read back from the signed request, so the
request the command would send is what gets compared.
"""
import base64
import concurrent.futures
import json
import os
import subprocess
import sys


def run(admin, c, show):
    args = [admin, "sigv4", "--request", c["req_file"], "--region", c["region"],
            "--service", c["service"], "--date", c["date"], "--access-key", c["access_key"],
            "--secret-key", c["secret_key"], "--show", show]
    if c["token"] is not None:
        args += ["--session-token", c["token"]]
    if c["expires"]:
        args += ["--presign", str(c["expires"])]
    if c["s3"]:
        args.append("--no-normalize")
    if c["sign_body"]:
        args.append("--sign-body")
    p = subprocess.run(args, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout


def sign(admin, c):
    try:
        creq = run(admin, c, "canonical-request").decode()
        sts = run(admin, c, "string-to-sign").decode()
        sreq = run(admin, c, "signed-request")
    except (RuntimeError, UnicodeDecodeError) as e:
        return {"id": c["id"], "error": str(e)}
    head, _, body = sreq.partition(b"\r\n\r\n" if c["crlf"] else b"\n\n")
    lines = head.decode().split("\r\n" if c["crlf"] else "\n")
    out = {"id": c["id"], "creq": creq[:-1], "sts": sts[:-1], "authorization": None,
           "signed_request": sreq.decode(errors="replace")}
    if body != base64.b64decode(c["body_b64"]):
        out["error"] = "the signed request does not end with the body"
    if c["expires"]:
        target = lines[0].split(" ")[1:-1]
        out["signature"] = " ".join(target).rsplit("&X-Amz-Signature=", 1)[-1]
    else:
        authz = [l for l in lines if l.startswith("Authorization:")]
        out["authorization"] = authz[0][len("Authorization:"):] if len(authz) == 1 else None
        out["signature"] = (out["authorization"] or "").rsplit("Signature=", 1)[-1]
    return out


def main():
    admin, cases = sys.argv[1], sys.argv[2]
    with open(cases, encoding="utf-8") as f:
        cs = [json.loads(line) for line in f]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        for r in pool.map(lambda c: sign(admin, c), cs):
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
