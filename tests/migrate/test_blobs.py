"""
fileshare-admin migrate-blobs --to s3 against s3rver behind the SigV4-verifying proxy: every
local blob ends up in the bucket under its key with the same bytes (checked on s3rver's disk,
not through the tool), single PUTs and multipart uploads, re-runs skip what is there and
replace what differs, injected 500s / SlowDown / resets are retried, a blob that cannot be
written fails the run by name, a dry run writes nothing, and the app on BLOB_BACKEND=s3 serves
a file that was uploaded to the local store before the move.
"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ADMIN, SANITIZER_RE, SECRET, copy_db, itconf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "aws"))
from fakes import start_s3_server  # noqa: E402

MIB = 1 << 20


@pytest.fixture(scope="module")
def s3():
    server = start_s3_server(buckets=["fileshare-test", "dry"])
    yield server
    server.close()


@pytest.fixture(scope="module")
def blobs(small_source, tmp_path_factory):
    """A blob directory: the app's own file, then random ones (empty, tiny, 1 MiB, two of
    7 MiB that go up in parts with a 5 MiB threshold), and files that are not blobs."""
    d = str(tmp_path_factory.mktemp("blobs"))
    shutil.copytree(small_source["blob_dir"], d, dirs_exist_ok=True)
    rng = random.Random(42)
    sizes = [0, 1, 17, 4096, MIB, 7 * MIB + 3, 7 * MIB] + [rng.randrange(1, 200000) for _ in range(150)]
    for n in sizes:
        key = "%032x" % rng.getrandbits(128)
        os.makedirs(os.path.join(d, key[:2]), exist_ok=True)
        with open(os.path.join(d, key[:2], key), "wb") as f:
            f.write(rng.randbytes(n))
    # Not blobs: a partial write, a stray file, a blob in the wrong shard.
    key = "%032x" % rng.getrandbits(128)
    os.makedirs(os.path.join(d, key[:2]), exist_ok=True)
    open(os.path.join(d, key[:2], key + ".12345"), "wb").write(b"partial")
    open(os.path.join(d, key[:2], "README"), "wb").write(b"stray")
    open(os.path.join(d, key[:2], "ff" * 16 if key[:2] != "ff" else "00" * 16), "wb").write(b"wrong shard")
    return d


def local_blobs(d):
    out = {}
    for sub in os.listdir(d):
        if len(sub) != 2:
            continue
        for name in os.listdir(os.path.join(d, sub)):
            if re.fullmatch(r"[0-9a-f]{32}", name) and name.startswith(sub):
                out[name] = os.path.join(d, sub, name)
    return out


def run(s3, bucket, *args, extra=None):
    env = dict(os.environ)
    env.update(s3.env(bucket))
    env.update({"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=0",
                "DATA_DIR": os.path.dirname(args[args.index("--from") + 1]), "LOG_LEVEL": "warn"})
    env.update(extra or {})
    p = subprocess.run([ADMIN, "migrate-blobs", "--to", "s3"] + list(args), env=env,
                       capture_output=True, text=True, timeout=300)
    reports = [l for l in p.stderr.splitlines() if SANITIZER_RE.search(l)]
    assert not reports, "\n".join(reports[:20])
    return p


def numbers(out):
    m = re.search(r"(?:copied|to copy) (\d+), replaced \(a different object had the key\) (\d+), "
                  r"already there (\d+), failed (\d+)", out)
    assert m, out
    return tuple(int(x) for x in m.groups())


def same_bytes(s3, bucket, key, path):
    with open(s3.object_path(key, bucket), "rb") as a, open(path, "rb") as b:
        return hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest()


def test_blobs_copied_verified_and_skipped_on_rerun(s3, blobs):
    want = local_blobs(blobs)
    p = run(s3, "fileshare-test", "--from", blobs, "--multipart-threshold", str(5 * MIB))
    assert p.returncode == 0, p.stdout + p.stderr
    assert numbers(p.stdout) == (len(want), 0, 0, 0), p.stdout
    assert "other files left alone 3" in p.stdout
    assert "result: OK, every local blob is in the bucket" in p.stdout
    for key, path in want.items():
        assert same_bytes(s3, "fileshare-test", key, path), key
    assert s3.op_stats("CompleteMultipartUpload").get("forwarded", 0) == 2   # the two 7 MiB ones
    # Again: nothing to send.
    s3.reset()
    p = run(s3, "fileshare-test", "--from", blobs)
    assert p.returncode == 0 and numbers(p.stdout) == (0, 0, len(want), 0), p.stdout
    assert s3.op_stats("PutObject").get("received", 0) == 0
    # An object under a blob's key with other bytes is replaced.
    key = sorted(want)[3]
    assert s3.request("PUT", key, body=b"not the blob").status == 200
    p = run(s3, "fileshare-test", "--from", blobs)
    assert p.returncode == 0 and numbers(p.stdout) == (0, 1, len(want) - 1, 0), p.stdout
    assert same_bytes(s3, "fileshare-test", key, want[key])


def test_faults_are_retried_and_a_lost_blob_fails_the_run(s3, blobs, tmp_path):
    d = str(tmp_path / "b")
    shutil.copytree(blobs, d)
    for key in list(local_blobs(d))[:40]:      # a fresh set of keys for this test
        path = local_blobs(d)[key]
        new = "%032x" % random.Random(key).getrandbits(128)
        os.makedirs(os.path.join(d, new[:2]), exist_ok=True)
        os.rename(path, os.path.join(d, new[:2], new))
    want = local_blobs(d)
    doomed = sorted(k for k in want if not os.path.exists(s3.object_path(k, "fileshare-test")))[0]
    s3.clear_faults()
    s3.add_faults([
        {"type": "error500", "match": "PUT /fileshare-test/" + doomed, "count": 50},
        {"type": "error500", "method": "PUT", "count": 3},
        {"type": "throttle", "method": "PUT", "count": 3},
        {"type": "reset", "method": "PUT", "when": "after", "count": 1},
        {"type": "error503", "method": "HEAD", "count": 2},
    ])
    try:
        p = run(s3, "fileshare-test", "--from", d)
    finally:
        s3.clear_faults()
    assert p.returncode == 1, p.stdout + p.stderr
    copied, replaced, same, failed = numbers(p.stdout)
    assert failed == 1 and copied + same == len(want) - 1, p.stdout
    assert doomed in p.stdout and "result: FAILED" in p.stdout
    for key, path in want.items():
        if key != doomed:
            assert same_bytes(s3, "fileshare-test", key, path), key
    # Once the bucket takes it, a re-run completes the set.
    p = run(s3, "fileshare-test", "--from", d)
    assert p.returncode == 0 and numbers(p.stdout) == (1, 0, len(want) - 1, 0), p.stdout


def test_dry_run_writes_nothing(s3, blobs):
    p = run(s3, "dry", "--from", blobs, "--dry-run")
    assert p.returncode == 0, p.stdout + p.stderr
    assert numbers(p.stdout)[0] == len(local_blobs(blobs))
    assert not any(n.endswith("._S3rver_object") for _, _, fs in os.walk(os.path.join(s3.directory, "dry"))
                   for n in fs)


def test_app_serves_a_moved_file_from_s3(s3, blobs, small_source, tmp_path_factory):
    d = tmp_path_factory.mktemp("app-s3")
    db = copy_db(small_source["path"], str(d / "app.db"))
    env = dict(s3.env("fileshare-test"))
    env.update({"SQLITE_PATH": db, "SESSION_SECRET": SECRET})
    s = itconf.Stack(str(d / "stack"), workers=1, env=env).start()
    try:
        r = s.raw("GET", "/" + small_source["app_file"])
        assert r.status == 302, r
        body = s3.get_url(r.header("Location"))
        assert body.status == 200 and body.body == b"hello from the app\n"
    finally:
        itconf.finish_stack(s)
