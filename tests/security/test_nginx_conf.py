"""
The nginx configuration as rendered for the open internet (conf/nginx.conf.in through
scripts/render-conf): `nginx -t` accepts it, and the settings that keep hostile clients out
are there, per location. Grep-level: what the live stack does with them is checked in
test_matrix.py.
"""
import os
import re
import subprocess

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def conf(tmp_path_factory):
    d = tmp_path_factory.mktemp("nginx")
    subprocess.run([os.path.join(ROOT, "scripts", "render-conf"), str(d), "STATE_DIR=" + str(d),
                    "LISTEN=127.0.0.1:1", "WEB_DIR=" + os.path.join(ROOT, "web"),
                    "FCGI_ADDR=unix:/tmp/fs-nginx-test.sock", "BLOB_DIR=" + str(d / "blobs")],
                   check=True)
    p = subprocess.run(["nginx", "-t", "-p", str(d), "-c", str(d / "nginx.conf"), "-e", "stderr"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return (d / "nginx.conf").read_text()


def location(conf, head):
    """The text of the location block whose header line starts with head (nested blocks
    included)."""
    i = conf.index(head)
    depth, j = 0, conf.index("{", i)
    for k in range(j, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[k], 0)
        if depth == 0:
            return conf[i:k + 1]
    raise AssertionError("unterminated block " + head)


def test_no_version_no_listing_bounded_bodies_and_timeouts(conf):
    assert re.search(r"^\s*server_tokens off;", conf, re.M)
    assert re.search(r"^\s*autoindex off;", conf, re.M)
    assert "autoindex on" not in conf
    assert re.search(r"^\s*client_max_body_size 64k;", conf, re.M)      # the default, JSON
    for d in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        m = re.search(r"^\s*%s (\d+)s;" % d, conf, re.M)
        assert m and int(m.group(1)) <= 60, d
    assert "large_client_header_buffers" in conf
    assert "8k" in location(conf, "location / {")                     # password forms only
    for up in ("location = /api/files {", "location ^~ /api/files/ {"):
        assert "client_max_body_size 5200m" in location(conf, up)       # uploads: the app's limit
    assert "fastcgi_read_timeout" in open(os.path.join(ROOT, "conf", "fastcgi.conf.in")).read()


def test_rate_limits(conf):
    assert re.search(r"limit_req_zone \$binary_remote_addr zone=auth:10m rate=10r/s;", conf)
    assert re.search(r"limit_req_zone \$link_post_key zone=linkpw:10m rate=30r/m;", conf)
    assert "limit_req_status 429;" in conf
    assert "limit_req zone=auth" in location(conf, "location ^~ /api/auth/ {")
    assert "limit_req zone=linkpw" in location(conf, "location / {")
    assert re.search(r"limit_conn peraddr \d+;", conf)


def test_security_headers(conf):
    server = conf[conf.index("server {"):]
    for h in ("X-Content-Type-Options nosniff", "Referrer-Policy", "X-Frame-Options DENY",
              "Strict-Transport-Security $hsts"):
        assert h in server.split("location")[0], h
    # nginx does not inherit add_header into a location with its own: each one repeats them.
    for loc in ("location = / {", "location ^~ /static/ {", "location ^~ /_blobs/ {", "location / {"):
        block = location(conf, loc)
        assert "X-Content-Type-Options nosniff" in block, loc
        assert "Strict-Transport-Security $hsts" in block, loc
    assert re.search(r'map "\$scheme:\$http_x_forwarded_proto" \$hsts \{\s*~https "max-age=\d{8,}', conf)
    # Link opens: the app's Referrer-Policy (no-referrer) or same-origin, never both.
    assert "add_header Referrer-Policy $link_referrer_policy always;" in location(conf, "location / {")
    assert re.search(r'map \$upstream_http_referrer_policy \$link_referrer_policy \{\s*"" same-origin;\s*default "";', conf)
    ui = location(conf, "location = / {")
    csp = re.search(r'Content-Security-Policy "([^"]+)"', ui).group(1)
    for d in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
              "frame-ancestors 'none'", "form-action 'self'"):
        assert d in csp, d
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    blobs = location(conf, "location ^~ /_blobs/ {")
    assert "internal;" in blobs and "sandbox" in blobs


def test_methods_hidden_files_and_json_errors(conf):
    assert re.search(r"if \(\$method_refused\) \{\s*return 405;", conf)
    refused = conf[conf.index("map $request_method $method_refused {"):]
    refused = refused[:refused.index("}")]
    assert set(re.findall(r"^\s*(\w+) 0;", refused, re.M)) == {"GET", "HEAD", "POST", "PUT", "DELETE"}
    assert re.search(r"default 1;", refused)
    assert "location ~ /\\. {" in location(conf, "location ^~ /static/ {")
    for status in ("400", "405", "413", "429", "500", "503"):
        assert "/_errors/%s.json" % status in conf, status
    errors = location(conf, "location ^~ /_errors/ {")
    assert "internal;" in errors
    # an upload's error page must not be refused for the upload's own size
    assert "client_max_body_size 0;" in errors
    # nginx's own 500 on an upload is the disk being full: 507 storage_full, as the app says
    assert "return 507" in location(conf, "location = /_errors/500.json {")
