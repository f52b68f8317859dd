#!/usr/bin/env python3
"""Versions the web UI's asset URLs by content: every `/static/NAME?v=...` in web/index.html
gets the first 12 hex digits of NAME's SHA-256, so a deploy that changes a file changes its URL
and no browser keeps a stale copy (nginx lets browsers cache versioned URLs for a year and
revalidates index.html every time).

    tests/browser/stamp_assets.py           rewrite web/index.html after editing web/static/
    tests/browser/stamp_assets.py --check   exit 1 if a version is stale (the browser suite runs this)
"""
import hashlib
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEB = os.path.join(ROOT, "web")
REF = re.compile(r'(/static/([A-Za-z0-9._-]+))\?v=([0-9a-z]*)')


def digest(name):
    with open(os.path.join(WEB, "static", name), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def main():
    check = "--check" in sys.argv[1:]
    path = os.path.join(WEB, "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    stale = []

    def fix(m):
        want = digest(m.group(2))
        if m.group(3) != want:
            stale.append("%s (v=%s, content %s)" % (m.group(1), m.group(3), want))
        return "%s?v=%s" % (m.group(1), want)

    new = REF.sub(fix, html)
    if not REF.search(html):
        print("stamp_assets: no /static/...?v= references in web/index.html", file=sys.stderr)
        return 1
    if check:
        if stale:
            print("stamp_assets: stale asset versions in web/index.html: %s\n"
                  "run tests/browser/stamp_assets.py" % ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    if new != html:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print("stamp_assets: updated %s" % ", ".join(stale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
