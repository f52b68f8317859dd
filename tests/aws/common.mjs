// Shared pieces of the local AWS stand-ins (ddb-proxy.mjs, s3-server.mjs): argument parsing,
// lifetime rules, the SigV4 recomputation (done by @smithy/signature-v4, AWS's own JS signer),
// credentials, the proxy clock, request ids, fault bookkeeping, counters and the /__proxy/
// control endpoints. Nothing here listens on anything but loopback.

import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// The npm packages live in tests/node/node_modules, not next to this file.
export const nodeRequire = createRequire(path.join(here, '..', 'node', 'package.json'));

const { SignatureV4, getCanonicalHeaders } = nodeRequire('@smithy/signature-v4');
const { HttpRequest } = nodeRequire('@smithy/protocol-http');
const { Sha256 } = nodeRequire('@aws-crypto/sha256-js');

export const DEFAULT_ACCESS_KEY = 'AKIDEXAMPLE';
export const DEFAULT_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

// ---------------------------------------------------------------------------------------------
// Logging (stderr only: stdout carries exactly one JSON "ready" line)

let verbose = false;
export function setVerbose(v) { verbose = !!v; }
export function log(name, msg) {
  process.stderr.write(`${new Date().toISOString()} ${name}: ${msg}\n`);
}
export function debug(name, msg) { if (verbose) log(name, msg); }

// ---------------------------------------------------------------------------------------------
// Lifetime: SIGTERM/SIGINT/SIGHUP, stdin reaching EOF, and --max-seconds all stop the process,
// so that no test can leave a server behind.

export function installLifetime({ name, maxSeconds, watchStdin, stop }) {
  let stopping = false;
  const finish = (why) => {
    if (stopping) return;
    stopping = true;
    debug(name, `stopping: ${why}`);
    const hard = setTimeout(() => process.exit(0), 3000);
    hard.unref();
    Promise.resolve()
      .then(stop)
      .catch((e) => log(name, `error while stopping: ${e && e.stack || e}`))
      .finally(() => process.exit(0));
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => finish(sig));
  if (watchStdin) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => finish('stdin closed'));
    process.stdin.on('close', () => finish('stdin closed'));
    process.stdin.on('error', () => finish('stdin error'));
    process.stdin.resume();
  }
  if (maxSeconds > 0) {
    setTimeout(() => {
      log(name, `--max-seconds ${maxSeconds} reached, stopping`);
      finish('max-seconds');
    }, maxSeconds * 1000).unref();
    // unref: the listening servers keep the process alive; the timer must not be the only thing.
  }
  return finish;
}

export function checkLoopback(host) {
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`refusing to listen on ${host}: only loopback addresses are allowed`);
  }
  return host === 'localhost' ? '127.0.0.1' : host;
}

export function parseIntArg(name, value, min, max) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The proxy's clock. "skew" shifts it for signature checks and for the Date response header,
// as if the server's clock (or, seen from the client, the client's own clock) were off.

export class Clock {
  constructor() { this.skewMs = 0; }
  now() { return Date.now() + this.skewMs; }
  date() { return new Date(this.now()); }
  httpDate() { return this.date().toUTCString(); }
}

export function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

// YYYYMMDDTHHMMSSZ -> Date, or null.
export function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const d = new Date(t);
  // reject 20260231T... and friends
  if (amzDate(d) !== s) return null;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Request ids in the shapes the services use.

export function ddbRequestId() {
  // DynamoDB: 52 characters of [A-Z0-9] (e.g. LDM6CJP8RMQ1FHKSC1RBVJFPNVV4KQNSO5AEMF66Q9ASUAAJG)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = crypto.randomBytes(52);
  let s = '';
  for (const b of bytes) s += alphabet[b % 36];
  return s;
}

export function s3RequestId() {
  // S3: 16 upper-case hex characters, plus a base64 "host id" (x-amz-id-2)
  return crypto.randomBytes(8).toString('hex').toUpperCase();
}
export function s3HostId() {
  return crypto.randomBytes(48).toString('base64');
}

export function crc32(buf) {
  return zlib.crc32(buf) >>> 0;
}

export function sha256Hex(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Reading a whole body (the signature covers it, so it is buffered).

export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('body too large'), { tooLarge: true }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Headers exactly as received: lower-cased names, repeated headers joined with ',' (the SigV4
// rule), values trimmed. Node's req.headers would drop some duplicates, so rawHeaders is used.
export function receivedHeaders(req) {
  const out = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1].trim();
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return out;
}

// The query string as a map of decoded names to decoded values (arrays when repeated),
// which is what smithy's canonical query expects. '+' is kept literally, as AWS does.
export function parseQuery(rawQuery) {
  const query = {};
  if (!rawQuery) return query;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const v = safeDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (k in query) {
      query[k] = Array.isArray(query[k]) ? [...query[k], v] : [query[k], v];
    } else {
      query[k] = v;
    }
  }
  return query;
}

export function safeDecode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

// S3's canonical URI (and AWS's for "unnormalized" signing): each path segment URI-encoded once
// (RFC 3986 unreserved characters kept), no dot-segment normalisation. Segments are decoded first
// so that a client that percent-encodes on the wire and one that does not produce the same
// canonical form, as the spec describes.
export function encodeOncePath(rawPath) {
  return rawPath.split('/').map((seg) => encodeRfc3986(safeDecode(seg))).join('/');
}
export function encodeRfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function splitUrl(url) {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

// ---------------------------------------------------------------------------------------------
// Credentials: the --access-key/--secret-key pair plus any sets from --creds-file (a JSON list of
// {access_key, secret_key, session_token}); the file is re-read whenever it changes, and
// POST /__proxy/credentials can replace the sets at run time, so rotation can be tested.

export class Credentials {
  constructor({ accessKey, secretKey, credsFile, useDefault }) {
    this.base = useDefault ? [{ access_key: accessKey, secret_key: secretKey, session_token: null }] : [];
    this.credsFile = credsFile || null;
    this.fileSets = [];
    this.fileStamp = null;
    this.runtimeSets = null; // when set (POST /__proxy/credentials), replaces base + file sets
    if (this.credsFile) this.reloadFile(true);
  }

  static validate(list, where) {
    if (!Array.isArray(list)) throw new Error(`${where}: expected a JSON list of credential sets`);
    return list.map((c, i) => {
      if (!c || typeof c.access_key !== 'string' || typeof c.secret_key !== 'string' || !c.access_key || !c.secret_key) {
        throw new Error(`${where}[${i}]: access_key and secret_key (non-empty strings) are required`);
      }
      if (c.session_token != null && typeof c.session_token !== 'string') {
        throw new Error(`${where}[${i}]: session_token must be a string or null`);
      }
      return { access_key: c.access_key, secret_key: c.secret_key, session_token: c.session_token || null };
    });
  }

  reloadFile(mustExist) {
    let st;
    try {
      st = fs.statSync(this.credsFile);
    } catch (e) {
      if (mustExist) throw new Error(`--creds-file ${this.credsFile}: ${e.message}`);
      this.fileSets = [];
      this.fileStamp = null;
      return;
    }
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (stamp === this.fileStamp) return;
    try {
      this.fileSets = Credentials.validate(JSON.parse(fs.readFileSync(this.credsFile, 'utf8')), this.credsFile);
      this.fileStamp = stamp;
    } catch (e) {
      if (mustExist) throw e;
      // a half-written file during rotation: keep the previous sets and try again next time
    }
  }

  all() {
    if (this.runtimeSets) return this.runtimeSets;
    if (this.credsFile) this.reloadFile(false);
    return [...this.base, ...this.fileSets];
  }

  // -> {status: 'unknown'} | {status: 'token-mismatch'} | {status: 'ok', cred}
  lookup(accessKey, sessionToken) {
    const sets = this.all().filter((c) => c.access_key === accessKey);
    if (!sets.length) return { status: 'unknown' };
    const token = sessionToken || null;
    const cred = sets.find((c) => (c.session_token || null) === token);
    if (!cred) return { status: 'token-mismatch' };
    return { status: 'ok', cred };
  }

  describe() {
    return this.all().map((c) => ({ access_key: c.access_key, has_session_token: !!c.session_token }));
  }
}

// ---------------------------------------------------------------------------------------------
// SigV4: parse the Authorization header and recompute the signature with @smithy/signature-v4.

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=a;b, Signature=..."
export function parseAuthorization(value) {
  const s = value.trim();
  const sp = s.indexOf(' ');
  const algorithm = sp < 0 ? s : s.slice(0, sp);
  const params = {};
  const rest = sp < 0 ? '' : s.slice(sp + 1);
  for (const piece of rest.split(',')) {
    const p = piece.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) { params[p] = undefined; continue; }
    params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return { algorithm, params };
}

// Recomputes what a correct signer would have produced for this request, using smithy's
// canonicalisation (path normalisation and double encoding unless uriEscapePath is false,
// canonical query, header value trimming) and its key derivation. Only the headers named in
// SignedHeaders enter the canonical request, and the payload hash is the one the service
// computes (the real body's SHA-256 for DynamoDB), never merely whatever the client claims.
export async function computeSigV4({
  service, region, credentials, method, path: reqPath, query, headers, signedHeaderNames,
  payloadHash, longDate, uriEscapePath,
}) {
  const signer = new SignatureV4({
    service,
    region,
    credentials: {
      accessKeyId: credentials.access_key,
      secretAccessKey: credentials.secret_key,
      sessionToken: credentials.session_token || undefined,
    },
    sha256: Sha256,
    uriEscapePath,
    applyChecksum: false,
  });
  const signed = {};
  for (const name of signedHeaderNames) {
    if (name in headers) signed[name] = headers[name];
  }
  const request = new HttpRequest({ method, path: reqPath, query, headers: signed, hostname: headers.host || '' });
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signedHeaderNames));
  const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = await signer.createStringToSign(longDate, scope, canonicalRequest, 'AWS4-HMAC-SHA256');
  const signingKey = signer.getSigningKey(
    { accessKeyId: credentials.access_key, secretAccessKey: credentials.secret_key, sessionToken: credentials.session_token || undefined },
    region, shortDate, service,
  );
  const signature = await signer.getSignature(longDate, scope, signingKey, canonicalRequest);
  return { signature, canonicalRequest, stringToSign, scope, signingKey: await signingKey };
}

// hex(HMAC-SHA256(signingKey, data)) -- used for S3 POST policies, where the string to sign is
// the base64 policy itself.
export function hmacHex(key, data) {
  return crypto.createHmac('sha256', Buffer.from(key)).update(data).digest('hex');
}

export function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------------------------
// Faults. A fault is a JSON object:
//   {type, count?=1, probability?, seed?, skip?=0 | nth?, ...filters, ...type-specific}
// It applies to the next `count` requests that pass authentication and match its filters (after
// letting `skip` matching requests through; nth:N is skip:N-1), or, with `probability`, to each
// matching request with that probability (until `count` is used up, if given, or cleared).
// Filters are checked by the `matches(fault, info)` callback of the server.

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  constructor({ types, normalize, matches }) {
    this.types = types;        // allowed per-request types
    this.normalize = normalize; // (spec) -> spec with type-specific defaults; throws on bad input
    this.matches = matches;    // (fault, info) -> bool
    this.pending = [];
    this.nextId = 1;
    this.history = [];         // faults that fired, newest last (bounded)
  }

  add(spec) {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('a fault must be a JSON object');
    if (!this.types.includes(spec.type)) {
      throw new Error(`unknown fault type ${JSON.stringify(spec.type)}; known: ${this.types.join(', ')}`);
    }
    const f = { ...spec };
    if (f.nth != null) {
      if (!Number.isInteger(f.nth) || f.nth < 1) throw new Error('nth must be an integer >= 1');
      if (f.skip != null) throw new Error('give either nth or skip, not both');
      f.skip = f.nth - 1;
    }
    f.skip = f.skip == null ? 0 : f.skip;
    if (!Number.isInteger(f.skip) || f.skip < 0) throw new Error('skip must be an integer >= 0');
    if (f.probability != null) {
      if (typeof f.probability !== 'number' || f.probability < 0 || f.probability > 1) {
        throw new Error('probability must be a number in [0, 1]');
      }
      if (f.count != null && (!Number.isInteger(f.count) || f.count < 1)) throw new Error('count must be an integer >= 1');
      f.remaining = f.count == null ? null : f.count;
      f.rng = f.seed != null ? mulberry32(Number(f.seed)) : Math.random;
    } else {
      f.count = f.count == null ? 1 : f.count;
      if (!Number.isInteger(f.count) || f.count < 1) throw new Error('count must be an integer >= 1');
      f.remaining = f.count;
    }
    Object.assign(f, this.normalize(f));
    f.id = this.nextId++;
    f.fired = 0;
    this.pending.push(f);
    return f.id;
  }

  // The first pending fault that matches this request and decides to fire, consumed by one.
  take(info) {
    for (const f of this.pending) {
      if (!this.matches(f, info)) continue;
      if (f.skip > 0) { f.skip -= 1; continue; }
      if (f.probability != null && !(f.rng() < f.probability)) continue;
      f.fired += 1;
      if (f.remaining != null) {
        f.remaining -= 1;
        if (f.remaining <= 0) this.pending = this.pending.filter((g) => g !== f);
      }
      this.history.push({ id: f.id, type: f.type, at: new Date().toISOString(), request: info.label });
      if (this.history.length > 200) this.history.shift();
      return f;
    }
    return null;
  }

  clear() { this.pending = []; }

  describe() {
    return this.pending.map((f) => {
      const { rng, ...rest } = f;
      return rest;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Counters per operation and a bounded log of recent requests.

export class Stats {
  constructor() { this.reset(); }
  reset() {
    this.ops = {};
    this.log = [];
    this.seq = 0;
  }
  bump(op, field) {
    const o = this.ops[op] || (this.ops[op] = { received: 0, forwarded: 0, rejected: 0, faulted: 0 });
    o[field] += 1;
  }
  record(entry) {
    entry.seq = ++this.seq;
    this.log.push(entry);
    if (this.log.length > 2000) this.log.shift();
    return entry;
  }
  totals() {
    const t = { received: 0, forwarded: 0, rejected: 0, faulted: 0 };
    for (const o of Object.values(this.ops)) for (const k of Object.keys(t)) t[k] += o[k];
    return t;
  }
  snapshot() {
    return { operations: this.ops, totals: this.totals() };
  }
}

// ---------------------------------------------------------------------------------------------
// Small HTTP helpers.

export function sendJson(res, status, obj, extraHeaders = {}) {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(JSON.stringify(obj, null, 1) + '\n');
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    ...extraHeaders,
  });
  res.end(body);
}

export function parseJsonBody(body) {
  if (!body.length) return {};
  return JSON.parse(body.toString('utf8'));
}

// Handles the control endpoints every stand-in shares. Returns true if it answered.
//   GET  /__proxy/health            {"ok":true}
//   GET  /__proxy/stats             counters per operation
//   POST /__proxy/reset             zero the counters and the request log (faults stay)
//   GET  /__proxy/requests[?since=N] the recent requests (seq, op, status, outcome, reason)
//   GET  /__proxy/faults            pending faults, the skew, and the faults that fired
//   POST /__proxy/faults            add one fault (object) or several (list); skew is set here too
//   DELETE /__proxy/faults          clear pending faults and the skew
//   GET/POST /__proxy/credentials   show / replace the accepted credential sets
export async function handleControl({ req, res, body, stats, faults, clock, creds, extra }) {
  const { rawPath, rawQuery } = splitUrl(req.url);
  if (!rawPath.startsWith('/__proxy/')) return false;
  const what = rawPath.slice('/__proxy/'.length);
  const m = req.method;
  try {
    if (extra) {
      const handled = await extra({ what, method: m, body, query: parseQuery(rawQuery) });
      if (handled) {
        sendJson(res, handled.status || 200, handled.body);
        return true;
      }
    }
    if (what === 'health' && m === 'GET') {
      sendJson(res, 200, { ok: true });
    } else if (what === 'stats' && m === 'GET') {
      sendJson(res, 200, stats.snapshot());
    } else if (what === 'reset' && m === 'POST') {
      stats.reset();
      sendJson(res, 200, { ok: true });
    } else if (what === 'requests' && m === 'GET') {
      const since = Number(parseQuery(rawQuery).since || 0);
      sendJson(res, 200, { requests: stats.log.filter((e) => e.seq > since) });
    } else if (what === 'faults' && m === 'GET') {
      sendJson(res, 200, { pending: faults.describe(), skew_seconds: clock.skewMs / 1000, fired: faults.history });
    } else if (what === 'faults' && m === 'POST') {
      const spec = parseJsonBody(body);
      const list = Array.isArray(spec) ? spec : [spec];
      const ids = [];
      for (const f of list) {
        if (f && f.type === 'skew') {
          if (typeof f.seconds !== 'number' || !Number.isFinite(f.seconds)) throw new Error('skew needs "seconds" (a number)');
          clock.skewMs = Math.round(f.seconds * 1000);
          ids.push(null);
        } else {
          ids.push(faults.add(f));
        }
      }
      sendJson(res, 200, { ok: true, ids, skew_seconds: clock.skewMs / 1000 });
    } else if (what === 'faults' && m === 'DELETE') {
      faults.clear();
      clock.skewMs = 0;
      sendJson(res, 200, { ok: true });
    } else if (what === 'credentials' && m === 'GET') {
      sendJson(res, 200, { credentials: creds.describe() });
    } else if (what === 'credentials' && m === 'POST') {
      const spec = parseJsonBody(body);
      if (spec.restore) {
        creds.runtimeSets = null;
      } else {
        creds.runtimeSets = Credentials.validate(spec.credentials, 'credentials');
      }
      sendJson(res, 200, { ok: true, credentials: creds.describe() });
    } else {
      sendJson(res, 404, { error: `no control endpoint ${m} ${rawPath}` });
    }
  } catch (e) {
    sendJson(res, 400, { error: String(e && e.message || e) });
  }
  return true;
}

// Destroys a socket so that the client sees a reset (RST) rather than an orderly close.
export function resetSocket(socket) {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// A readers-writer lock: ordinary requests share it, emulated transactions take it alone so
// that they are atomic with respect to everything else going through the proxy.
export class RWLock {
  constructor() { this.readers = 0; this.writer = false; this.queue = []; }
  _grant() {
    while (this.queue.length) {
      const w = this.queue[0];
      if (w.exclusive) {
        if (this.writer || this.readers) return;
        this.writer = true;
        this.queue.shift();
        w.resolve();
        return;
      }
      if (this.writer) return;
      this.readers += 1;
      this.queue.shift();
      w.resolve();
    }
  }
  acquire(exclusive) {
    return new Promise((resolve) => {
      this.queue.push({ exclusive, resolve });
      this._grant();
    }).then(() => () => {
      if (exclusive) this.writer = false; else this.readers -= 1;
      this._grant();
    });
  }
}
