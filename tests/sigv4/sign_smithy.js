#!/usr/bin/env node
// Signs every case of cases.jsonl with @smithy/signature-v4 (the AWS SDK for JavaScript v3's
// signer, installed in tests/node) and prints one JSON line per case:
// {id, creq, sts, signature, authorization} or {id, skip: reason}.
//
//     node sign_smithy.js CASES.jsonl > smithy.jsonl
//
// The signer's own sign()/presign() do the work; the canonical request and string to sign
// are captured by wrapping the instance's createCanonicalRequest/createStringToSign.
//
// Mapping our options onto smithy's:
//   - normalisation + double encoding is uriEscapePath (one switch for both, as ours in
//     --no-normalize); --sign-body is applyChecksum;
//   - a payload given by an x-amz-content-sha256 header is taken from the header by smithy
//     too; UNSIGNED-PAYLOAD without such a header (S3 presigning) is smithy's answer for a
//     body that is neither a string nor bytes, so the body is passed as an opaque object;
//   - presigning: smithy moves x-amz-* headers into the query unless told not to; ours
//     signs them as headers, so every x-amz-* header is listed in unhoistableHeaders;
//   - smithy's request holds one value per header name: repeated headers are passed joined
//     with ',', each value trimmed first (what both signers do to each value before
//     joining); the inner whitespace, folding included, is left for smithy to collapse.
// No case is skipped: every option the generator produces has a smithy equivalent.
"use strict";
const path = require("path");
const fs = require("fs");
const readline = require("readline");
const nodeModules = path.join(__dirname, "..", "node", "node_modules");
const { SignatureV4 } = require(path.join(nodeModules, "@smithy/signature-v4"));
const { HttpRequest } = require(path.join(nodeModules, "@smithy/protocol-http"));
const { Sha256 } = require(path.join(nodeModules, "@aws-crypto/sha256-js"));

function toDate(d) {
  const n = (a, b) => Number(d.slice(a, b));
  return new Date(Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(9, 11), n(11, 13), n(13, 15)));
}

const trim = (s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");

async function sign(c) {
  const presign = c.expires > 0;
  const headers = {};
  const groups = new Map();
  for (const [name, value] of c.headers) {
    const l = name.toLowerCase();
    if (!groups.has(l)) groups.set(l, { name, values: [] });
    groups.get(l).values.push(value);
  }
  for (const { name, values } of groups.values())
    headers[name] = values.length > 1 ? values.map(trim).join(",") : values[0];
  const query = {};
  for (const [k, v] of c.query_pairs) {
    if (Object.prototype.hasOwnProperty.call(query, k)) {
      query[k] = [].concat(query[k], v);
    } else query[k] = v;
  }
  let body = Buffer.from(c.body_b64, "base64");
  if (c.payload_source === "s3-presign") body = { unsignedStream: true };

  const signer = new SignatureV4({
    credentials: { accessKeyId: c.access_key, secretAccessKey: c.secret_key,
      sessionToken: c.token === null ? undefined : c.token },
    region: c.region,
    service: c.service,
    sha256: Sha256,
    uriEscapePath: !c.s3,
    applyChecksum: c.sign_body,
  });
  const captured = {};
  const origCR = signer.createCanonicalRequest.bind(signer);
  signer.createCanonicalRequest = (...a) => (captured.creq = origCR(...a));
  const origSTS = signer.createStringToSign.bind(signer);
  signer.createStringToSign = async (...a) => (captured.sts = await origSTS(...a));

  const req = new HttpRequest({ method: c.method, protocol: "https:", hostname: c.host,
    path: c.path, query, headers, body });
  const signingDate = toDate(c.date);
  if (presign) {
    const unhoistableHeaders = new Set(Object.keys(headers).map((h) => h.toLowerCase())
      .filter((h) => h.startsWith("x-amz-")));
    const out = await signer.presign(req, { signingDate, expiresIn: c.expires,
      unhoistableHeaders });
    return { creq: captured.creq, sts: captured.sts, signature: out.query["X-Amz-Signature"],
      authorization: null };
  }
  const out = await signer.sign(req, { signingDate });
  const authorization = out.headers.authorization;
  return { creq: captured.creq, sts: captured.sts,
    signature: authorization.split("Signature=")[1], authorization };
}

async function main() {
  const rl = readline.createInterface({ input: fs.createReadStream(process.argv[2]) });
  const lines = [];
  for await (const line of rl) {
    const c = JSON.parse(line);
    let r;
    try {
      r = await sign(c);
    } catch (e) {
      r = { error: String(e && e.stack || e) };
    }
    r.id = c.id;
    lines.push(JSON.stringify(r));
  }
  process.stdout.write(lines.join("\n") + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
