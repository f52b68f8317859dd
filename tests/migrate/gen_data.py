#!/usr/bin/python3
"""gen_data.py DB [--users N] [--links N] [--seed S] [--now EPOCH] [--owner-email EMAIL]

Fills an existing FileShare Plus SQLite file (made by the app itself, so its schema is the
current one) with realistic data for the migration tests: accounts with UUIDs, lower-case
emails and scrypt-looking password hashes (random bytes in the app's format; no scrypt is
run), tiers and trials in every state, URL and file links (8- and 11-character codes and
custom slugs, filenames with spaces, accents, quotes and a few with TABs, newlines and
backslashes, sizes, content types, max_clicks, password hashes, delete-token hashes, click
counts, some expired), and revoked tokens (some expired). Deterministic for a seed.

--owner-email gives links to an account that exists already (one signed up through the app,
whose password the tests know). Prints a JSON summary on stdout.
"""
import argparse
import base64
import calendar
import json
import os
import random
import sqlite3
import sys
import time
import uuid

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FIRST = ["ana", "bo", "chen", "dara", "emil", "fatima", "gus", "hana", "ivo", "jules", "kofi",
         "lena", "mateo", "nika", "omar", "priya", "quinn", "radu", "sofia", "tomas", "uma",
         "viktor", "wen", "xochitl", "yusuf", "zoe"]
LAST = ["lupan", "smith", "garcia", "nguyen", "muller", "rossi", "kowalski", "tanaka", "okafor",
        "silva", "ivanova", "haddad", "jensen", "o'brien", "dubois"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "example.co.uk", "xn--bcher-kva.example",
           "corp.example.io"]
SITES = ["https://www.example.com/articles/%d?utm_source=newsletter&utm_medium=email",
         "https://docs.example.org/guide/section-%d#install",
         "http://intranet.example.net/tickets/%d",
         "https://shop.example.co.uk/p/%d?colour=blue&size=M",
         "https://maps.example.com/?q=52.5200,13.4050&z=%d",
         "https://example.com/a/very/long/path/%d/" + "segment/" * 20 + "end.html",
         "https://xn--bcher-kva.example/katalog/%d?s=%%C3%%BC",
         "https://example.com/search?q=%d+r%%C3%%A9sum%%C3%%A9&lang=fr"]
FILES = [("report-%d.pdf", "application/pdf"), ("holiday photo %d.jpg", "image/jpeg"),
         ("Präsentation_%d.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
         ("data_%d.csv", "text/csv"), ("archive-%d.tar.gz", "application/gzip"),
         ("notes \"draft\" %d.txt", "text/plain; charset=utf-8"), ("résumé %d.docx", "application/msword"),
         ("clip_%d.mp4", "video/mp4"), ("日本語ファイル%d.txt", "text/plain")]
# A few filenames that exercise the dump's escaping (the store keeps bytes as given).
ODD = ["tab\there %d.txt", "line\nbreak %d.txt", "back\\slash %d.txt", "cr\rlf %d.bin",
       "bell\x07 %d.bin", "del\x7f %d.bin", "\\N %d.txt", "trailing space %d.txt "]


def b64u(rng, n):
    return base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(n))).rstrip(b"=").decode()


def scrypt_like(rng):
    return "$scrypt$ln=15,r=8,p=1$%s$%s" % (b64u(rng, 16), b64u(rng, 32))


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def code(rng, n):
    return "".join(rng.choice(B62) for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--links", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--now", type=int, default=int(time.time()))
    ap.add_argument("--owner-email", default=None)
    ap.add_argument("--owner-links", type=int, default=30)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    now = a.now
    day = 86400
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA foreign_keys=ON")
    users, premiums, states = [], [], {}
    emails = set(r[0] for r in db.execute("SELECT email FROM users"))
    rows = []
    for i in range(a.users):
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        while True:
            email = "%s.%s%s@%s" % (rng.choice(FIRST), rng.choice(LAST).replace("'", ""),
                                    rng.randrange(100000), rng.choice(DOMAINS))
            if rng.random() < 0.1:
                email = email.replace("@", "+tag%d@" % rng.randrange(100))
            if email not in emails:
                emails.add(email)
                break
        created = now - rng.randrange(2 * day, 700 * day)
        updated = created + rng.randrange(0, max(1, now - created - day))
        # Trials in every state.
        state = rng.choices(["never", "active", "expired", "ended_free", "premium",
                             "premium_after_trial"], [50, 10, 10, 10, 12, 8])[0]
        states[state] = states.get(state, 0) + 1
        tier, used, t_start, t_exp = "free", 0, None, None
        if state in ("active", "expired", "ended_free", "premium_after_trial"):
            used = 1
            if state == "active":
                start = now - rng.randrange(0, 29 * day)
            else:
                start = created + rng.randrange(0, max(1, now - created - 31 * day)) if now - created > 31 * day \
                    else created
            start = max(start, created)
            t_start, t_exp = ts(start), ts(start + 30 * day)
            tier = {"active": "trial", "expired": "trial", "ended_free": "free",
                    "premium_after_trial": "premium"}[state]
            updated = max(updated, start)
        elif state == "premium":
            tier = "premium"
        sva = 0 if rng.random() < 0.8 else (created + rng.randrange(1, 1000)) * 1000 + rng.randrange(1000)
        rows.append((uid, email, scrypt_like(rng), tier, used, t_start, t_exp, sva, ts(created),
                     ts(min(updated, now))))
        users.append((uid, created))
        if tier in ("premium", "trial"):
            premiums.append((uid, created))
    db.executemany("INSERT INTO users (user_id, email, password_hash, user_tier, trial_used,"
                   " trial_started_at, trial_expires_at, sessions_valid_after, created_at, updated_at)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    owner = None
    if a.owner_email:
        r = db.execute("SELECT user_id, created_at FROM users WHERE email = ?", (a.owner_email,)).fetchone()
        owner = (r[0], calendar.timegm(time.strptime(r[1], "%Y-%m-%dT%H:%M:%SZ")))
    codes = set(r[0] for r in db.execute("SELECT short_code FROM urls"))
    keys = set()
    links, kinds = [], {"url": 0, "file": 0, "slug": 0, "expired": 0, "password": 0, "max_clicks": 0,
                        "odd": 0}
    # Some accounts have many links, most a few: a skewed choice of owners.
    weights = [rng.paretovariate(1.2) for _ in users]
    owners = rng.choices(users, weights=weights, k=a.links)
    if owner is not None:
        owners[:a.owner_links] = [owner] * a.owner_links
    for i in range(a.links):
        uid, ucreated = owners[i]
        created = rng.randrange(min(ucreated, now - 120), now - 60)
        expired = rng.random() < 0.1 and (owner is None or uid != owner[0])
        if expired:
            exp = rng.randrange(created + 60, now - 1) if created + 60 < now - 1 else now - 1
            kinds["expired"] += 1
        else:
            exp = now + rng.randrange(3600, 365 * day)
        is_file = rng.random() < 0.35
        slug = not is_file and rng.random() < 0.05
        while True:
            if slug:
                c = "%s-%s-%d" % (rng.choice(FIRST), rng.choice(["docs", "promo", "q3", "talk"]),
                                  rng.randrange(10000))
            else:
                c = code(rng, 11 if is_file else 8)
            if c not in codes:
                codes.add(c)
                break
        kinds["slug"] += slug
        full_url = file_key = filename = size = ctype = None
        if is_file:
            kinds["file"] += 1
            while True:
                file_key = "%032x" % rng.getrandbits(128)
                if file_key not in keys:
                    keys.add(file_key)
                    break
            if kinds["odd"] < len(ODD) or rng.random() < 0.002:
                filename = ODD[kinds["odd"] % len(ODD)] % i
                kinds["odd"] += 1
            else:
                tmpl, ctype = rng.choice(FILES)
                filename = tmpl % i
            ctype = ctype or "application/octet-stream"
            size = rng.choice([0, 1, rng.randrange(1, 4096), rng.randrange(4096, 10 << 20),
                               rng.randrange(10 << 20, 5 << 30)])
        else:
            kinds["url"] += 1
            full_url = rng.choice(SITES) % rng.randrange(1000000)
        maxc = None
        clicks = rng.choice([0, 0, rng.randrange(1, 10), rng.randrange(10, 100000)])
        if rng.random() < 0.1:
            maxc = rng.randrange(1, 100)
            clicks = rng.randrange(0, maxc + 1)
            kinds["max_clicks"] += 1
        pw = None
        if rng.random() < 0.05:
            pw = scrypt_like(rng)
            kinds["password"] += 1
        dth = ("%064x" % rng.getrandbits(256)) if rng.random() < 0.02 else None
        links.append((c, full_url, ts(created), ts(exp), exp, uid, file_key, filename, size, ctype,
                      clicks, maxc, pw, dth))
    db.executemany("INSERT INTO urls (short_code, full_url, created_at, expires_at, expires_at_ttl,"
                   " created_by_user, file_key, filename, file_size, content_type, click_count,"
                   " max_clicks, password_hash, delete_token_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   links)
    toks = []
    for i in range(max(1, a.users // 10)):
        jti = b64u(rng, 16)
        exp = now + rng.randrange(3600, 30 * day) if rng.random() < 0.7 else now - rng.randrange(1, 30 * day)
        toks.append((jti, exp))
    db.executemany("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)", toks)
    db.commit()
    db.close()
    json.dump({"users": a.users, "links": a.links, "tokens": len(toks), "trial_states": states,
               "links_by_kind": kinds, "now": now}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
