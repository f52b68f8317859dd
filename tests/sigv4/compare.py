#!/usr/bin/python3
"""Compares our signatures with the references', case by case.

    /usr/bin/python3 compare.py CASES.jsonl OURS.jsonl botocore=BOTO.jsonl smithy=SMITHY.jsonl

For every case and every reference that did not skip it, the canonical request, the string to
sign, the signature and (header signing) the Authorization value must be byte-identical to
ours. A case passes when every applicable reference agrees and at least one applies; it
fails on any difference, on an error from any signer, or when no reference could check it.
Prints the first few failures in full, a count per reference (with the skip reasons), and a
last line "N passed, M failed"; exits 1 if anything failed.
"""
import collections
import json
import sys

SHOW_FIRST = 5
FIELDS = ("creq", "sts", "signature", "authorization")


def load(path):
    with open(path, encoding="utf-8") as f:
        return {r["id"]: r for r in (json.loads(line) for line in f)}


def main():
    cases = load(sys.argv[1])
    ours = load(sys.argv[2])
    refs = {}
    for arg in sys.argv[3:]:
        name, _, path = arg.partition("=")
        refs[name] = load(path)
    agreed = collections.Counter()
    skipped = {name: collections.Counter() for name in refs}
    failures = []
    passed = 0
    for cid, case in sorted(cases.items()):
        mine = ours.get(cid)
        problems = []
        checked = 0
        if mine is None or "error" in mine:
            problems.append("ours: %s" % (mine or {}).get("error", "no result"))
        for name, results in refs.items():
            r = results.get(cid)
            if r is None or "error" in r:
                problems.append("%s: %s" % (name, (r or {}).get("error", "no result")))
                continue
            if "skip" in r:
                skipped[name][r["skip"]] += 1
                continue
            checked += 1
            if mine is None or "error" in mine:
                continue
            diff = [f for f in FIELDS if r.get(f) != mine.get(f)]
            if diff:
                problems.append("%s differs in %s:\n" % (name, ", ".join(diff)) + "\n".join(
                    "  --- %s: %s\n%s\n  --- ours:\n%s" % (f, name, r.get(f), mine.get(f))
                    for f in diff))
            else:
                agreed[name] += 1
        if checked == 0 and not problems:
            problems.append("no reference signer applies to this case")
        if problems:
            failures.append((case, mine, problems))
        else:
            passed += 1
    for case, mine, problems in failures[:SHOW_FIRST]:
        print("=== case %d FAILED" % case["id"])
        print("request file: %s" % case["req_file"])
        print(json.dumps({k: v for k, v in case.items() if k not in ("secret_key",)},
                         ensure_ascii=False, indent=1))
        if mine and "signed_request" in mine:
            print("--- our signed request:\n%s" % mine["signed_request"])
        for p in problems:
            print(p)
        print()
    if len(failures) > SHOW_FIRST:
        print("... and %d more failed cases" % (len(failures) - SHOW_FIRST))
    for name in refs:
        print("%s: %d requests agreed byte for byte, %d not comparable%s" % (
            name, agreed[name], sum(skipped[name].values()),
            "".join("\n    %d: %s" % (n, why) for why, n in skipped[name].most_common())))
    print("%d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
