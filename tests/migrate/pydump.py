#!/usr/bin/python3
"""pydump.py DB [--now EPOCH] [--include-expired]: the canonical dump of a FileShare Plus
SQLite file, written independently of the C code (admin_migrate_rec.c) from the definition in
docs/migration.md, so the tests can check the C dump against it. Prints the dump; the SHA-256
goes to stderr."""
import argparse
import calendar
import hashlib
import re
import sqlite3
import sys
import time

USERS = [("user_id", "s", None), ("email", "s", None), ("password_hash", "s", None),
         ("user_tier", "s", "free"), ("trial_used", "b", "0"), ("trial_started_at", "t", None),
         ("trial_expires_at", "t", None), ("sessions_valid_after", "i", "0"),
         ("created_at", "t", None), ("updated_at", "t", None)]
LINKS = [("short_code", "s", None), ("created_by_user", "s", None), ("created_at", "t", None),
         ("expires_at", "t", None), ("expires_at_ttl", "i", None), ("full_url", "s", None),
         ("file_key", "s", None), ("filename", "s", None), ("file_size", "i", None),
         ("content_type", "s", None), ("click_count", "i", "0"), ("max_clicks", "i", None),
         ("password_hash", "s", None), ("delete_token_hash", "s", None)]
TOKENS = [("jti", "s", None), ("expires_at", "i", None)]
TABLES = [("U", "users", USERS), ("L", "urls", LINKS), ("T", "revoked_tokens", TOKENS)]

TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                     r"([Zz]|[+-]\d{2}:?\d{2})?$")
INT_RE = re.compile(r"^[+-]?\d+(\.0*)?$")


def norm_time(v):
    m = TIME_RE.match(v)
    if not m:
        return v
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        t = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
        time.strptime("%04d-%02d-%02d" % (y, mo, d), "%Y-%m-%d")
    except ValueError:
        return v
    if h > 23 or mi > 59 or s > 59:
        return v
    z = m.group(8)
    if z and z not in "Zz":
        sign = 1 if z[0] == "+" else -1
        hh, mm = int(z[1:3]), int(z[-2:])
        if hh > 23 or mm > 59:
            return v
        t -= sign * (hh * 3600 + mm * 60)
    if t < 0 or t > 253402300799:
        return v
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def norm(v, kind, default):
    if v is None:
        return default
    if isinstance(v, bytes):
        v = v.decode("utf-8", "surrogateescape")
    if isinstance(v, float) and v == int(v):
        v = int(v)
    if isinstance(v, float):
        v = "%.17g" % v
    if isinstance(v, int):
        if kind == "b":
            return "1" if v else "0"
        return str(v)
    if kind == "t":
        return norm_time(v)
    if kind in ("i", "b") and INT_RE.match(v):
        n = int(v.split(".")[0])
        if -2**63 <= n < 2**63:
            return ("1" if n else "0") if kind == "b" else str(n)
    if kind == "b" and v in ("true", "TRUE"):
        return "1"
    if kind == "b" and v in ("false", "FALSE"):
        return "0"
    return v


def esc(v):
    if v is None:
        return "\\N"
    out = []
    for ch in v:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def dump(path, now, include_expired):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    db.text_factory = bytes
    lines = []
    for tag, table, fields in TABLES:
        cols = ", ".join(f[0] for f in fields)
        for row in db.execute("SELECT %s FROM %s" % (cols, table)):
            vals = [norm(v, k, d) for v, (_, k, d) in zip(row, fields)]
            if tag == "L" and not include_expired and vals[4] is not None and INT_RE.match(vals[4]) \
                    and int(vals[4]) <= now:
                continue
            if tag == "T" and vals[1] is not None and INT_RE.match(vals[1]) and int(vals[1]) <= now:
                continue
            lines.append((tag + "\t" + "\t".join(esc(v) for v in vals)).encode("utf-8", "surrogateescape"))
    db.close()
    lines.sort()
    return b"".join(l + b"\n" for l in lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--now", type=int, default=int(time.time()))
    ap.add_argument("--include-expired", action="store_true")
    a = ap.parse_args()
    data = dump(a.db, a.now, a.include_expired)
    sys.stdout.buffer.write(data)
    print("sha256:" + hashlib.sha256(data).hexdigest(), file=sys.stderr)


if __name__ == "__main__":
    main()
