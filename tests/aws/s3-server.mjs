#!/usr/bin/env node
// An S3 stand-in for tests: s3rver (files in --dir, in this process) behind a loopback proxy that
// verifies SigV4 the way S3 does. s3rver 3.7.1 does NOT check V4 signatures itself (its
// authentication middleware accepts any V4 signature from a known access key: "Signature version
// 4 calculation is unimplemented"), so every request is checked here with @smithy/signature-v4
// first: header-signed requests, presigned URLs (query-string), and browser POST uploads
// (policy + signature in the form). The proxy also counts requests per S3 operation and injects
// faults. See README.md.
//
//   node tests/aws/s3-server.mjs [--port 0] [--dir DIR] [--bucket NAME]... [--region us-east-1]
//        [--access-key K --secret-key S] [--creds-file FILE] [--no-default-creds]
//        [--cors-origin ORIGIN]... [--cors-file XML] [--max-seconds 1800] [--no-stdin] [--verbose]
//
// Prints one line {"ready":true,"port":N,...} on stdout when it is ready.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  nodeRequire, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, installLifetime, checkLoopback, parseIntArg,
  Clock, amzDate, parseAmzDate, s3RequestId, s3HostId, sha256Hex, readBody, receivedHeaders,
  parseQuery, splitUrl, Credentials, parseAuthorization, computeSigV4, hmacHex, safeEqual, Faults,
  Stats, handleControl, resetSocket, sleep, log, debug, setVerbose, encodeOncePath, safeDecode,
} from './common.mjs';

const NAME = 's3-server';
const SERVICE = 's3';
const S3_SKEW_MS = 15 * 60 * 1000;
const AUTH_QUERY_PARAMS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires',
  'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token']);

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string' },
      bucket: { type: 'string', multiple: true, default: [] },
      region: { type: 'string', default: 'us-east-1' },
      'access-key': { type: 'string', default: DEFAULT_ACCESS_KEY },
      'secret-key': { type: 'string', default: DEFAULT_SECRET_KEY },
      'creds-file': { type: 'string' },
      'no-default-creds': { type: 'boolean', default: false },
      'cors-origin': { type: 'string', multiple: true, default: [] },
      'cors-file': { type: 'string' },
      'max-seconds': { type: 'string', default: '1800' },
      'max-body-mb': { type: 'string', default: '512' },
      'no-stdin': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('see tests/aws/README.md\n');
    process.exit(0);
  }
  for (const b of values.bucket) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) throw new Error(`invalid bucket name ${JSON.stringify(b)}`);
  }
  if (values['cors-origin'].length && values['cors-file']) throw new Error('give --cors-origin or --cors-file, not both');
  return {
    port: parseIntArg('port', values.port, 0, 65535),
    host: checkLoopback(values.host),
    dir: values.dir || null,
    buckets: values.bucket,
    region: values.region,
    accessKey: values['access-key'],
    secretKey: values['secret-key'],
    credsFile: values['creds-file'],
    useDefault: !values['no-default-creds'],
    corsOrigins: values['cors-origin'],
    corsFile: values['cors-file'],
    maxSeconds: parseIntArg('max-seconds', values['max-seconds'], 0, 7 * 86400),
    maxBody: parseIntArg('max-body-mb', values['max-body-mb'], 1, 8192) * 1024 * 1024,
    watchStdin: !values['no-stdin'],
    verbose: values.verbose,
  };
}

// A CORS configuration that lets the given origins GET/PUT/POST/HEAD/DELETE with any header
// and read ETag back (what a browser upload needs).
function corsXml(origins) {
  return '<CORSConfiguration>' +
    '<CORSRule>' +
    origins.map((o) => `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`).join('') +
    ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'].map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
    '<AllowedHeader>*</AllowedHeader>' +
    '<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>' +
    '<MaxAgeSeconds>3000</MaxAgeSeconds>' +
    '</CORSRule></CORSConfiguration>';
}

// ---------------------------------------------------------------------------------------------
// S3's error shape

function escapeXml(s) {
  return String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));
}

const STATUS = {
  AccessDenied: 403, SignatureDoesNotMatch: 403, InvalidAccessKeyId: 403, RequestTimeTooSkewed: 403,
  AuthorizationHeaderMalformed: 400, AuthorizationQueryParametersError: 400, InvalidRequest: 400,
  InvalidArgument: 400, InvalidToken: 400, XAmzContentSHA256Mismatch: 400, EntityTooLarge: 400,
  EntityTooSmall: 400, MalformedPOSTRequest: 400, InternalError: 500, SlowDown: 503, NotImplemented: 501,
  ExpiredToken: 400,
};

function s3Error(code, message, detail = {}, status) {
  return { status: status || STATUS[code] || 400, code, message, detail };
}

function sendS3Error(ctx, err) {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return;
  const reqId = s3RequestId();
  const hostId = s3HostId();
  const parts = [`<Code>${escapeXml(err.code)}</Code>`, `<Message>${escapeXml(err.message)}</Message>`];
  for (const [k, v] of Object.entries(err.detail || {})) parts.push(`<${k}>${escapeXml(v)}</${k}>`);
  parts.push(`<RequestId>${reqId}</RequestId>`, `<HostId>${escapeXml(hostId)}</HostId>`);
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>${parts.join('')}</Error>`);
  const headers = {
    'x-amz-request-id': reqId,
    'x-amz-id-2': hostId,
    'Content-Type': 'application/xml',
    Date: ctx.clock.httpDate(),
    Server: 'AmazonS3',
  };
  if (ctx.req.method === 'HEAD') {
    res.writeHead(err.status, headers);
    res.end();
  } else {
    res.writeHead(err.status, { ...headers, 'Content-Length': body.length });
    res.end(body);
  }
}

function hexBytes(s) {
  return Buffer.from(s).toString('hex').match(/../g).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Request classification

// Path-style (/bucket/key) or virtual-hosted (bucket.localhost:port/key).
function locate(ctx) {
  const host = (ctx.headers.host || '').replace(/:\d+$/, '');
  const m = /^(.+)\.localhost$/.exec(host);
  const raw = ctx.rawPath;
  let bucket; let keyRaw;
  if (m) {
    bucket = m[1];
    keyRaw = raw.replace(/^\//, '');
    ctx.vhost = true;
  } else {
    const parts = raw.replace(/^\//, '').split('/');
    bucket = parts.shift() || '';
    keyRaw = parts.join('/');
    bucket = safeDecode(bucket);
  }
  ctx.bucket = bucket;
  ctx.key = safeDecode(keyRaw);
}

function operation(ctx) {
  const { method } = ctx.req;
  const q = ctx.query;
  const h = ctx.headers;
  if (method === 'OPTIONS') return 'Preflight';
  if (!ctx.bucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`;
  if (!ctx.key) {
    if (method === 'PUT') return 'cors' in q ? 'PutBucketCors' : 'CreateBucket';
    if (method === 'GET') return 'cors' in q ? 'GetBucketCors' : 'uploads' in q ? 'ListMultipartUploads' : 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'DELETE') return 'cors' in q ? 'DeleteBucketCors' : 'DeleteBucket';
    if (method === 'POST') return 'delete' in q ? 'DeleteObjects' : 'PostObject';
    return `${method}Bucket`;
  }
  if (method === 'PUT') {
    if ('partNumber' in q && 'uploadId' in q) return 'UploadPart';
    if ('tagging' in q) return 'PutObjectTagging';
    if ('x-amz-copy-source' in h) return 'CopyObject';
    return 'PutObject';
  }
  if (method === 'POST') return 'uploads' in q ? 'CreateMultipartUpload' : 'uploadId' in q ? 'CompleteMultipartUpload' : 'PostObjectKey';
  if (method === 'DELETE') return 'uploadId' in q ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'GET') return 'uploadId' in q ? 'ListParts' : 'tagging' in q ? 'GetObjectTagging' : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  return `${method}Object`;
}

// ---------------------------------------------------------------------------------------------
// Verification

function checkScope(ctx, credential, xAmzDate, errCode, prefix) {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    return s3Error(errCode, `${prefix}: Credential must have exactly 5 slash-delimited elements, got '${credential}'`);
  }
  const [, date, region, service, term] = parts;
  if (region !== ctx.opts.region) {
    return s3Error(errCode, `${prefix}; the region '${region}' is wrong; expecting '${ctx.opts.region}'`, { Region: ctx.opts.region });
  }
  if (service !== SERVICE) return s3Error(errCode, `${prefix}; incorrect service '${service}'. This endpoint belongs to '${SERVICE}'.`);
  if (term !== 'aws4_request') return s3Error(errCode, `${prefix}; incorrect terminal '${term}'. This endpoint uses 'aws4_request'.`);
  if (date !== xAmzDate.slice(0, 8)) return s3Error(errCode, `${prefix}; Invalid credential date. Date is not the same as X-Amz-Date.`);
  return null;
}

function lookupCred(ctx, keyId, token) {
  const found = ctx.creds.lookup(keyId, token);
  if (found.status === 'unknown') {
    return { error: s3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: keyId }), reason: `unknown access key ${keyId}` };
  }
  if (found.status === 'token-mismatch') {
    return { error: s3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.'), reason: token ? 'session token does not match' : 'session token missing' };
  }
  return { cred: found.cred };
}

async function verifyHeaderAuth(ctx) {
  const { headers } = ctx;
  const { algorithm, params } = parseAuthorization(headers.authorization);
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    return { error: s3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'), reason: `algorithm ${algorithm}` };
  }
  for (const p of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!params[p]) {
      return { error: s3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; missing ${p}.`), reason: `no ${p}` };
    }
  }
  const contentSha = headers['x-amz-content-sha256'];
  if (!contentSha) {
    return { error: s3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'), reason: 'no x-amz-content-sha256' };
  }
  if (/^STREAMING-/.test(contentSha)) {
    return { error: s3Error('NotImplemented', 'This test server does not implement aws-chunked (streaming) signed payloads.', { Header: 'x-amz-content-sha256' }), reason: 'streaming payload' };
  }
  if (contentSha !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(contentSha)) {
    return { error: s3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha }), reason: 'bad x-amz-content-sha256' };
  }
  const xAmzDate = headers['x-amz-date'];
  if (!xAmzDate) {
    if (!headers.date) return { error: s3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header'), reason: 'no date' };
  }
  const reqDate = parseAmzDate(xAmzDate);
  if (!reqDate) {
    return { error: s3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header'), reason: 'no or bad x-amz-date (Date-only signing is not verified here)' };
  }
  const scopeErr = checkScope(ctx, params.Credential, xAmzDate, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
  if (scopeErr) return { error: scopeErr, reason: 'bad credential scope' };
  const now = ctx.clock.date();
  if (Math.abs(now.getTime() - reqDate.getTime()) > S3_SKEW_MS) {
    return {
      error: s3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: xAmzDate, ServerTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), MaxAllowedSkewMilliseconds: '900000',
      }),
      reason: 'time skew',
    };
  }
  const signedHeaderNames = params.SignedHeaders.split(';');
  const unsigned = Object.keys(headers).filter((h) => h.startsWith('x-amz-') && !signedHeaderNames.includes(h));
  if (unsigned.length) {
    return { error: s3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') }), reason: `unsigned headers ${unsigned.join(',')}` };
  }
  if (!signedHeaderNames.includes('host')) {
    return { error: s3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: 'host' }), reason: 'host not signed' };
  }
  const keyId = params.Credential.split('/')[0];
  const lk = lookupCred(ctx, keyId, headers['x-amz-security-token']);
  if (lk.error) return lk;
  const computed = await computeSigV4({
    service: SERVICE, region: ctx.opts.region, credentials: lk.cred, method: ctx.req.method,
    path: encodeOncePath(ctx.rawPath), query: ctx.query, headers, signedHeaderNames,
    payloadHash: contentSha, longDate: xAmzDate, uriEscapePath: false,
  });
  if (!safeEqual(computed.signature, params.Signature)) {
    return { error: mismatch(keyId, computed, params.Signature), reason: 'signature mismatch', canonicalRequest: computed.canonicalRequest };
  }
  if (contentSha !== 'UNSIGNED-PAYLOAD') {
    const real = sha256Hex(ctx.body);
    if (real !== contentSha) {
      return {
        error: s3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: contentSha, S3ComputedContentSHA256: real }),
        reason: 'body does not match x-amz-content-sha256',
      };
    }
  }
  return { ok: true, accessKey: keyId };
}

function mismatch(keyId, computed, provided) {
  return s3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
    AWSAccessKeyId: keyId,
    StringToSign: computed.stringToSign,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(computed.stringToSign),
    CanonicalRequest: computed.canonicalRequest,
    CanonicalRequestBytes: hexBytes(computed.canonicalRequest),
  });
}

async function verifyPresigned(ctx) {
  const q = ctx.query;
  const E = 'AuthorizationQueryParametersError';
  if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') {
    return { error: s3Error(E, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'), reason: 'bad algorithm' };
  }
  for (const p of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires']) {
    if (typeof q[p] !== 'string' || !q[p]) {
      return { error: s3Error(E, 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.'), reason: `no ${p}` };
    }
  }
  const xAmzDate = q['X-Amz-Date'];
  const reqDate = parseAmzDate(xAmzDate);
  if (!reqDate) return { error: s3Error(E, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""), reason: 'bad X-Amz-Date' };
  const expires = Number(q['X-Amz-Expires']);
  if (!/^\d+$/.test(q['X-Amz-Expires'])) return { error: s3Error(E, 'X-Amz-Expires should be a number'), reason: 'bad X-Amz-Expires' };
  if (expires > 604800) {
    return { error: s3Error(E, 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'), reason: 'X-Amz-Expires too large' };
  }
  const scopeErr = checkScope(ctx, q['X-Amz-Credential'], xAmzDate, E, 'Error parsing the X-Amz-Credential parameter');
  if (scopeErr) return { error: scopeErr, reason: 'bad credential scope' };
  const now = ctx.clock.date();
  if (now.getTime() > reqDate.getTime() + expires * 1000) {
    return {
      error: s3Error('AccessDenied', 'Request has expired', {
        'X-Amz-Expires': q['X-Amz-Expires'],
        Expires: new Date(reqDate.getTime() + expires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ServerTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }),
      reason: 'presigned URL expired',
    };
  }
  if (reqDate.getTime() > now.getTime() + S3_SKEW_MS) {
    return { error: s3Error('AccessDenied', 'Request is not valid yet'), reason: 'presigned URL dated in the future' };
  }
  const signedHeaderNames = q['X-Amz-SignedHeaders'].split(';');
  if (!signedHeaderNames.includes('host')) {
    return { error: s3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: 'host' }), reason: 'host not signed' };
  }
  const keyId = q['X-Amz-Credential'].split('/')[0];
  const lk = lookupCred(ctx, keyId, q['X-Amz-Security-Token']);
  if (lk.error) return lk;
  const computed = await computeSigV4({
    service: SERVICE, region: ctx.opts.region, credentials: lk.cred, method: ctx.req.method,
    path: encodeOncePath(ctx.rawPath), query: q, headers: ctx.headers, signedHeaderNames,
    payloadHash: 'UNSIGNED-PAYLOAD', longDate: xAmzDate, uriEscapePath: false,
  });
  if (!safeEqual(computed.signature, q['X-Amz-Signature'])) {
    return { error: mismatch(keyId, computed, q['X-Amz-Signature']), reason: 'signature mismatch', canonicalRequest: computed.canonicalRequest };
  }
  return { ok: true, accessKey: keyId, presigned: true };
}

// multipart/form-data, buffered: [{name, filename, contentType, data}]
function parseMultipart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const boundary = Buffer.from('--' + (m[1] || m[2]).trim());
  const parts = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) return null;
  for (;;) {
    pos += boundary.length;
    if (body.slice(pos, pos + 2).toString() === '--') break;
    if (body.slice(pos, pos + 2).toString() !== '\r\n') return null;
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return null;
    const head = body.slice(pos, headEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headEnd + 4);
    if (next < 0) return null;
    const data = body.slice(headEnd + 4, next);
    const part = { name: null, filename: null, contentType: null, data };
    for (const line of head.split('\r\n')) {
      const [hn, ...hv] = line.split(':');
      const v = hv.join(':').trim();
      if (hn.toLowerCase() === 'content-disposition') {
        const nm = /\bname="([^"]*)"/i.exec(v);
        const fn = /\bfilename="([^"]*)"/i.exec(v);
        part.name = nm ? nm[1] : null;
        part.filename = fn ? fn[1] : null;
      } else if (hn.toLowerCase() === 'content-type') {
        part.contentType = v;
      }
    }
    parts.push(part);
    pos = next + 2;
  }
  return parts;
}

// Browser POST upload: the form carries policy (base64 JSON), x-amz-algorithm, x-amz-credential,
// x-amz-date, x-amz-signature (= hex HMAC of the base64 policy with the SigV4 signing key) and the
// fields the policy's conditions allow; the file comes last.
async function verifyPostPolicy(ctx) {
  const parts = parseMultipart(ctx.body, ctx.headers['content-type']);
  if (!parts) return { error: s3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'), reason: 'bad multipart' };
  const fields = {};
  let file = null;
  for (const p of parts) {
    if (p.name === 'file') { file = p; break; } // S3 ignores fields after the file
    if (p.name != null) fields[p.name.toLowerCase()] = { name: p.name, value: p.data.toString('utf8') };
  }
  const get = (n) => (fields[n] ? fields[n].value : undefined);
  if (get('awsaccesskeyid') || get('signature')) {
    return { error: s3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'), reason: 'V2 POST' };
  }
  if (!get('policy') && !get('x-amz-signature')) {
    return { error: s3Error('AccessDenied', 'Access Denied'), reason: 'anonymous POST' };
  }
  for (const f of ['policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
    if (!get(f)) return { error: s3Error('InvalidArgument', `Bucket POST must contain a field named '${f}'.  If it is specified, please check the order of the fields.`, { ArgumentName: f, ArgumentValue: '' }), reason: `no ${f}` };
  }
  if (!file) return { error: s3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' }), reason: 'no file' };
  if (get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    return { error: s3Error('InvalidArgument', 'Invalid algorithm', { ArgumentName: 'x-amz-algorithm', ArgumentValue: get('x-amz-algorithm') }), reason: 'bad algorithm' };
  }
  const xAmzDate = get('x-amz-date');
  const reqDate = parseAmzDate(xAmzDate);
  if (!reqDate) return { error: s3Error('InvalidArgument', 'Invalid x-amz-date', { ArgumentName: 'x-amz-date', ArgumentValue: xAmzDate }), reason: 'bad x-amz-date' };
  const credential = get('x-amz-credential');
  const scopeErr = checkScope(ctx, credential, xAmzDate, 'InvalidArgument', 'Error parsing the x-amz-credential field');
  if (scopeErr) return { error: scopeErr, reason: 'bad credential scope' };
  const keyId = credential.split('/')[0];
  const lk = lookupCred(ctx, keyId, get('x-amz-security-token'));
  if (lk.error) return lk;
  const policyB64 = get('policy');
  const computed = await computeSigV4({
    service: SERVICE, region: ctx.opts.region, credentials: lk.cred, method: 'POST', path: '/', query: {},
    headers: {}, signedHeaderNames: [], payloadHash: 'UNSIGNED-PAYLOAD', longDate: xAmzDate, uriEscapePath: false,
  });
  const expected = hmacHex(computed.signingKey, policyB64);
  if (!safeEqual(expected, get('x-amz-signature'))) {
    return {
      error: s3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
        AWSAccessKeyId: keyId, StringToSign: policyB64, SignatureProvided: get('x-amz-signature'), StringToSignBytes: hexBytes(policyB64),
      }),
      reason: 'POST policy signature mismatch',
    };
  }
  let policy;
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    return { error: s3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.', {}, 400), reason: 'policy is not JSON' };
  }
  const denied = (msg) => ({ error: s3Error('AccessDenied', `Invalid according to Policy: ${msg}`), reason: `policy: ${msg}` });
  const exp = Date.parse(policy.expiration);
  if (!policy.expiration || Number.isNaN(exp)) return { error: s3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid \'expiration\' value.', {}, 400), reason: 'policy expiration missing' };
  if (ctx.clock.now() > exp) return denied('Policy expired.');
  if (!Array.isArray(policy.conditions)) return { error: s3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid \'conditions\' value.', {}, 400), reason: 'policy conditions missing' };
  const values = { bucket: ctx.bucket };
  for (const [k, v] of Object.entries(fields)) values[k] = v.value;
  const covered = new Set(['bucket']);
  const lengthRange = [];
  for (const c of policy.conditions) {
    let op; let field; let want;
    if (Array.isArray(c)) {
      if (c[0] === 'content-length-range') { lengthRange.push([Number(c[1]), Number(c[2])]); continue; }
      [op, field, want] = c;
      field = String(field || '').replace(/^\$/, '').toLowerCase();
    } else if (c && typeof c === 'object' && Object.keys(c).length === 1) {
      op = 'eq';
      field = Object.keys(c)[0].toLowerCase();
      want = Object.values(c)[0];
    } else {
      return { error: s3Error('InvalidPolicyDocument', `Invalid Policy: Invalid Condition: ${JSON.stringify(c)}`, {}, 400), reason: 'bad condition' };
    }
    covered.add(field);
    const have = values[field] == null ? '' : values[field];
    const ok = op === 'eq' ? have === want : op === 'starts-with' ? have.startsWith(String(want)) : false;
    if (!ok) return denied(`Policy Condition failed: ${JSON.stringify(Array.isArray(c) ? c : [op, '$' + field, want])}`);
  }
  for (const [k, v] of Object.entries(fields)) {
    if (['x-amz-signature', 'file', 'policy'].includes(k) || k.startsWith('x-ignore-')) continue;
    if (!covered.has(k)) return denied(`Extra input fields: ${v.name}`);
  }
  for (const [min, max] of lengthRange) {
    if (file.data.length < min) return { error: s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: String(file.data.length), MinSizeAllowed: String(min) }), reason: 'file too small' };
    if (file.data.length > max) return { error: s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(file.data.length), MaxSizeAllowed: String(max) }), reason: 'file too large' };
  }
  return { ok: true, accessKey: keyId, post: true };
}

async function authenticate(ctx) {
  const { req, headers, query } = ctx;
  if (req.method === 'OPTIONS') return { ok: true, anonymous: true }; // CORS preflight: never signed
  const hasHeader = 'authorization' in headers;
  const hasQuery = 'X-Amz-Algorithm' in query;
  if (hasHeader && hasQuery) {
    return { error: s3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified', { ArgumentName: 'Authorization', ArgumentValue: headers.authorization }), reason: 'two auth mechanisms' };
  }
  if (hasHeader) return verifyHeaderAuth(ctx);
  if (hasQuery) return verifyPresigned(ctx);
  if (req.method === 'POST' && ctx.bucket && !ctx.key && /^multipart\/form-data/i.test(headers['content-type'] || '')) {
    return verifyPostPolicy(ctx);
  }
  return { error: s3Error('AccessDenied', 'Access Denied'), reason: 'anonymous request' };
}

// ---------------------------------------------------------------------------------------------
// Faults: match on operation, method, path and query parameters.
//   {"type":"error500","match":"PUT ?partNumber=","nth":2}
//   {"type":"reset","operation":"UploadPart","when":"after"}
//   {"type":"error500","method":"GET","path":"^/bucket/uploads/","query":{"partNumber":"3"}}

const FAULT_TYPES = ['error500', 'error503', 'throttle', 'delay', 'reset'];

function parseMatch(s) {
  const m = /^\s*([A-Z]+)?\s*([^?\s]*)?\s*(?:\?(.*))?$/.exec(s);
  if (!m) throw new Error(`bad match pattern ${JSON.stringify(s)}`);
  const query = {};
  if (m[3]) {
    for (const kv of m[3].split('&')) {
      if (!kv) continue;
      const eq = kv.indexOf('=');
      const k = eq < 0 ? kv : kv.slice(0, eq);
      const v = eq < 0 ? '' : kv.slice(eq + 1);
      query[k] = v === '' ? null : v;
    }
  }
  const pathGlob = m[2] || null;
  return {
    method: m[1] || null,
    pathRe: pathGlob ? new RegExp('^' + pathGlob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$') : null,
    query,
  };
}

function normalizeFault(f) {
  const out = {};
  const matcher = f.match != null ? parseMatch(String(f.match)) : { method: null, pathRe: null, query: {} };
  if (f.method) matcher.method = String(f.method).toUpperCase();
  if (f.path) matcher.pathRe = new RegExp(String(f.path));
  if (f.query) {
    if (typeof f.query !== 'object') throw new Error('query must be an object {name: value|null}');
    Object.assign(matcher.query, f.query);
  }
  out._matcher = matcher;
  const ops = f.operations != null ? f.operations : f.operation != null ? [f.operation] : null;
  if (ops != null && (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string'))) throw new Error('operation must be a string (or operations a list)');
  out.operations = ops;
  if (f.type === 'delay') {
    if (!Number.isInteger(f.ms) || f.ms < 0) throw new Error('delay needs "ms" (an integer >= 0)');
    out.then = f.then || 'forward';
    if (!['forward', 'reset'].includes(out.then)) throw new Error('delay "then" must be "forward" or "reset"');
  } else if (f.type === 'reset') {
    out.when = f.when || 'before';
    if (!['before', 'after'].includes(out.when)) throw new Error('reset "when" must be "before" or "after"');
  }
  return out;
}

function faultMatches(f, info) {
  const m = f._matcher;
  if (f.operations && !f.operations.includes(info.op)) return false;
  if (m.method && m.method !== info.method) return false;
  if (m.pathRe && !m.pathRe.test(info.path)) return false;
  for (const [k, v] of Object.entries(m.query)) {
    if (!(k in info.query)) return false;
    if (v != null && v !== '*' && String(info.query[k]) !== String(v)) return false;
  }
  return true;
}

function faultError(f) {
  if (f.type === 'error500') return s3Error(f.code || 'InternalError', f.message || 'We encountered an internal error. Please try again.', {}, 500);
  if (f.type === 'error503' || f.type === 'throttle') return s3Error(f.code || 'SlowDown', f.message || 'Please reduce your request rate.', {}, 503);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Forwarding to s3rver

let backendPort = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// s3rver gets a request it accepts as "signed by S3RVER" (so that response-* overrides work) with
// the real auth parameters removed; it does not check V4 signatures anyway.
function forward(ctx) {
  const h = { ...ctx.headers };
  for (const k of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'host', 'connection', 'transfer-encoding', 'expect']) delete h[k];
  let pathPart = ctx.rawPath;
  if (ctx.vhost) pathPart = '/' + encodeURIComponent(ctx.bucket) + (pathPart.startsWith('/') ? pathPart : '/' + pathPart);
  const rawQuery = ctx.rawQuery
    .split('&')
    .filter((kv) => kv && !AUTH_QUERY_PARAMS.has(safeDecode(kv.split('=')[0])))
    .join('&');
  if (!ctx.auth.anonymous && !ctx.auth.post) {
    const now = amzDate(new Date());
    h.authorization = `AWS4-HMAC-SHA256 Credential=S3RVER/${now.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0`;
    h['x-amz-date'] = now;
    h['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  h.host = `127.0.0.1:${backendPort}`;
  h['content-length'] = String(ctx.body.length);
  const target = pathPart + (rawQuery ? '?' + rawQuery : '');
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: backendPort, method: ctx.req.method, path: target, headers: h, agent }, resolve);
    r.on('error', reject);
    r.end(ctx.body);
  });
}

// ---------------------------------------------------------------------------------------------

async function handle(ctx) {
  const { req, res, stats, faults } = ctx;
  locate(ctx);
  const op = operation(ctx);
  stats.bump(op, 'received');
  const entry = stats.record({ at: new Date().toISOString(), op, method: req.method, path: req.url, bucket: ctx.bucket, key: ctx.key });

  const auth = await authenticate(ctx);
  if (!auth.ok) {
    stats.bump(op, 'rejected');
    entry.outcome = 'rejected';
    entry.status = auth.error.status;
    entry.error = auth.error.code;
    entry.reason = auth.reason;
    log(NAME, `rejected ${op} ${req.method} ${req.url}: ${auth.reason}`);
    if (auth.canonicalRequest) debug(NAME, `expected canonical request:\n${auth.canonicalRequest}`);
    return sendS3Error(ctx, auth.error);
  }
  ctx.auth = auth;
  entry.access_key = auth.accessKey;

  const fault = faults.take({ op, method: req.method, path: safeDecode(ctx.vhost ? `/${ctx.bucket}${ctx.rawPath}` : ctx.rawPath), query: ctx.query, label: `${op} ${req.method} ${req.url} #${entry.seq}` });
  if (fault) {
    entry.fault = fault.type;
    stats.bump(op, 'faulted');
    const canned = faultError(fault);
    if (canned) {
      entry.outcome = 'faulted';
      entry.status = canned.status;
      return sendS3Error(ctx, canned);
    }
    if (fault.type === 'reset' && fault.when === 'before') {
      entry.outcome = 'faulted';
      entry.status = 'reset';
      return resetSocket(req.socket);
    }
    if (fault.type === 'delay') {
      await sleep(fault.ms);
      if (fault.then === 'reset') {
        entry.outcome = 'faulted';
        entry.status = 'reset';
        return resetSocket(req.socket);
      }
    }
  }

  // s3rver answers AbortMultipartUpload with MethodNotAllowed; S3 answers 204 (parts are simply
  // forgotten). Emulated here so clients can clean up after a failed multipart upload.
  if (op === 'AbortMultipartUpload') {
    stats.bump(op, 'forwarded');
    entry.outcome = 'emulated';
    entry.status = 204;
    if (fault && fault.type === 'reset' && fault.when === 'after') return resetSocket(req.socket);
    res.writeHead(204, { 'x-amz-request-id': s3RequestId(), 'x-amz-id-2': s3HostId(), Date: ctx.clock.httpDate(), Server: 'AmazonS3' });
    return res.end();
  }

  const upstream = await forward(ctx);
  stats.bump(op, 'forwarded');
  entry.outcome = 'forwarded';
  entry.status = upstream.statusCode;
  if (fault && fault.type === 'reset' && fault.when === 'after') {
    // let s3rver finish (the object is stored), then drop the client's connection
    upstream.resume();
    await new Promise((r) => { upstream.on('end', r); upstream.on('error', r); });
    entry.outcome = 'faulted';
    entry.status = 'reset';
    return resetSocket(req.socket);
  }
  const headers = {};
  for (const [k, v] of Object.entries(upstream.headers)) {
    if (['date', 'connection', 'keep-alive'].includes(k)) continue;
    headers[k] = v;
  }
  if (!headers['x-amz-request-id']) headers['x-amz-request-id'] = s3RequestId();
  if (!headers['x-amz-id-2']) headers['x-amz-id-2'] = s3HostId();
  headers.date = ctx.clock.httpDate();
  headers.server = 'AmazonS3';
  res.writeHead(upstream.statusCode, headers);
  upstream.pipe(res);
  await new Promise((r) => { res.on('finish', r); res.on('close', r); });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  setVerbose(opts.verbose);
  const clock = new Clock();
  const creds = new Credentials(opts);
  const stats = new Stats();
  const faults = new Faults({ types: FAULT_TYPES, normalize: normalizeFault, matches: faultMatches });

  let dir = opts.dir;
  let removeDir = false;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-server-'));
    removeDir = true;
  } else {
    fs.mkdirSync(dir, { recursive: true });
  }
  let cors = null;
  if (opts.corsOrigins.length) cors = corsXml(opts.corsOrigins);
  if (opts.corsFile) cors = fs.readFileSync(opts.corsFile, 'utf8');

  const S3rver = nodeRequire('s3rver');
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: !opts.verbose,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: cors ? [cors] : [] })),
  });
  const addr = await s3rver.run();
  backendPort = addr.port;

  const server = http.createServer(async (req, res) => {
    const ctx = { req, res, opts, clock, creds, stats, faults };
    res.on('error', () => {});
    req.socket.on('error', () => {});
    try {
      ctx.body = await readBody(req, opts.maxBody);
    } catch (e) {
      if (e.tooLarge) sendS3Error(ctx, s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size (of this test server)'));
      return;
    }
    try {
      if (await handleControl({ req, res, body: ctx.body, stats, faults, clock, creds })) return;
      const { rawPath, rawQuery } = splitUrl(req.url);
      ctx.rawPath = rawPath;
      ctx.rawQuery = rawQuery;
      ctx.query = parseQuery(rawQuery);
      ctx.headers = receivedHeaders(req);
      await handle(ctx);
    } catch (e) {
      log(NAME, `internal error: ${e && e.stack || e}`);
      sendS3Error(ctx, s3Error('InternalError', `s3-server internal error: ${e && e.message}`, {}, 500));
    }
  });
  server.keepAliveTimeout = 60000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });

  installLifetime({
    name: NAME,
    maxSeconds: opts.maxSeconds,
    watchStdin: opts.watchStdin,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
      try { s3rver.httpServer.closeAllConnections(); } catch { /* older node */ }
      await s3rver.close().catch(() => {});
      if (removeDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  });

  process.stdout.write(JSON.stringify({
    ready: true, port: server.address().port, backend_port: backendPort, host: opts.host, region: opts.region,
    dir, buckets: opts.buckets, pid: process.pid,
  }) + '\n');
}

main().catch((e) => {
  log(NAME, `failed to start: ${e && e.message || e}`);
  process.exit(2);
});
