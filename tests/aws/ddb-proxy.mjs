#!/usr/bin/env node
// A DynamoDB stand-in for tests: dynalite (in memory, in this process) behind a loopback HTTP
// proxy that checks every request's SigV4 signature the way AWS does (recomputed with
// @smithy/signature-v4 from the request as received), counts requests per operation, injects
// faults on demand, and fills in what dynalite lacks (TransactWriteItems, TransactGetItems,
// UpdateTimeToLive, ReturnValuesOnConditionCheckFailure) by emulation. See README.md.
//
//   node tests/aws/ddb-proxy.mjs [--port 0] [--region us-east-1] [--access-key K --secret-key S]
//        [--creds-file FILE] [--no-default-creds] [--max-seconds 1800] [--max-skew-seconds 300]
//        [--auth-error-status 403] [--create-table-ms 0] [--no-stdin] [--verbose]
//
// Prints one line {"ready":true,"port":N,"dynalite_port":M,...} on stdout when it is ready.

import http from 'node:http';
import { parseArgs } from 'node:util';
import {
  nodeRequire, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, installLifetime, checkLoopback, parseIntArg,
  Clock, amzDate, parseAmzDate, ddbRequestId, crc32, sha256Hex, readBody, receivedHeaders,
  parseQuery, splitUrl, Credentials, parseAuthorization, computeSigV4, safeEqual, Faults, Stats,
  handleControl, resetSocket, sleep, RWLock, log, debug, setVerbose,
} from './common.mjs';

const NAME = 'ddb-proxy';
const SERVICE = 'dynamodb';
const JSON_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY = 16 * 1024 * 1024;
const NS_CORAL = 'com.amazon.coral.service#';
const NS_DDB = 'com.amazonaws.dynamodb.v20120810#';
const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

// Operations dynalite 3.2.2 implements itself (index.js validOperations) and the ones this proxy
// emulates on top of it.
const DYNALITE_OPS = new Set(['BatchGetItem', 'BatchWriteItem', 'CreateTable', 'DeleteItem', 'DeleteTable',
  'DescribeTable', 'DescribeTimeToLive', 'GetItem', 'ListTables', 'PutItem', 'Query', 'Scan', 'TagResource',
  'UntagResource', 'ListTagsOfResource', 'UpdateItem', 'UpdateTable']);
const EMULATED_OPS = new Set(['TransactWriteItems', 'TransactGetItems', 'UpdateTimeToLive', 'DescribeTimeToLive']);

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      region: { type: 'string', default: 'us-east-1' },
      'access-key': { type: 'string', default: DEFAULT_ACCESS_KEY },
      'secret-key': { type: 'string', default: DEFAULT_SECRET_KEY },
      'creds-file': { type: 'string' },
      'no-default-creds': { type: 'boolean', default: false },
      'max-seconds': { type: 'string', default: '1800' },
      'max-skew-seconds': { type: 'string', default: '300' },
      'auth-error-status': { type: 'string', default: '403' },
      'create-table-ms': { type: 'string', default: '0' },
      'delete-table-ms': { type: 'string', default: '0' },
      'update-table-ms': { type: 'string', default: '0' },
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
  const status = parseIntArg('auth-error-status', values['auth-error-status'], 400, 499);
  return {
    port: parseIntArg('port', values.port, 0, 65535),
    host: checkLoopback(values.host),
    region: values.region,
    accessKey: values['access-key'],
    secretKey: values['secret-key'],
    credsFile: values['creds-file'],
    useDefault: !values['no-default-creds'],
    maxSeconds: parseIntArg('max-seconds', values['max-seconds'], 0, 7 * 86400),
    maxSkewSeconds: parseIntArg('max-skew-seconds', values['max-skew-seconds'], 1, 7 * 86400),
    authErrorStatus: status,
    createTableMs: parseIntArg('create-table-ms', values['create-table-ms'], 0, 600000),
    deleteTableMs: parseIntArg('delete-table-ms', values['delete-table-ms'], 0, 600000),
    updateTableMs: parseIntArg('update-table-ms', values['update-table-ms'], 0, 600000),
    watchStdin: !values['no-stdin'],
    verbose: values.verbose,
  };
}

// ---------------------------------------------------------------------------------------------
// Responses in DynamoDB's shape

// Real request ids are 52 characters, the last 26 of which are a per-region constant.
function requestId() {
  return ddbRequestId().slice(0, 26) + 'VV4KQNSO5AEMVJF66Q9ASUAAJG';
}

function sendDdb(ctx, status, obj, reqId) {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, {
    'x-amzn-RequestId': reqId || requestId(),
    'x-amz-crc32': String(crc32(body)),
    'Content-Type': JSON_TYPE,
    'Content-Length': body.length,
    Date: ctx.clock.httpDate(),
  });
  res.end(body);
}

function ddbError(type, message, status = 400, extra = {}) {
  const body = { __type: type, ...extra };
  if (message != null) body.message = message;
  return { status, body };
}

// ---------------------------------------------------------------------------------------------
// SigV4 verification, in the order AWS checks things (as dynalite's notes record it):
// missing token -> incomplete signature -> date format -> expiry -> Host signed -> algorithm ->
// credential scope -> access key -> signature -> session token.

async function authenticate(ctx) {
  const { headers, opts, clock, creds } = ctx;
  const authz = headers.authorization;
  const query = ctx.query;
  if (!authz && 'X-Amz-Algorithm' in query) {
    return { error: ddbError(NS_CORAL + 'IncompleteSignatureException', 'This test proxy does not accept query-string (presigned) authentication for DynamoDB.'), reason: 'query-string auth' };
  }
  if (!authz || authz.trim().slice(0, 5) !== 'AWS4-') {
    return { error: ddbError(NS_CORAL + 'MissingAuthenticationTokenException', 'Request is missing Authentication Token'), reason: 'no Authorization header' };
  }
  const { algorithm, params } = parseAuthorization(authz);
  let msg = '';
  for (const p of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!params[p]) msg += `Authorization header requires '${p}' parameter. `;
  }
  if (!headers['x-amz-date'] && !headers.date) {
    msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (msg) {
    return { error: ddbError(NS_CORAL + 'IncompleteSignatureException', msg + 'Authorization=' + authz), reason: 'incomplete Authorization' };
  }
  const invalid = (message, reason) => ({
    error: ddbError(NS_CORAL + 'InvalidSignatureException', message, opts.authErrorStatus), reason,
  });
  if (!headers['x-amz-date']) {
    return invalid(SIGNATURE_MISMATCH, 'no X-Amz-Date header (this proxy does not verify Date-only signatures)');
  }
  const xAmzDate = headers['x-amz-date'];
  const reqDate = parseAmzDate(xAmzDate);
  if (!reqDate) {
    return { error: ddbError(NS_CORAL + 'IncompleteSignatureException', `Date must be in ISO-8601 'basic format'. Got '${xAmzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`), reason: 'bad X-Amz-Date' };
  }
  const now = clock.date();
  const skewMs = opts.maxSkewSeconds * 1000;
  const mins = opts.maxSkewSeconds % 60 === 0 ? `${opts.maxSkewSeconds / 60} min.` : `${opts.maxSkewSeconds} sec.`;
  if (reqDate.getTime() < now.getTime() - skewMs) {
    return invalid(`Signature expired: ${xAmzDate} is now earlier than ${amzDate(new Date(now.getTime() - skewMs))} (${amzDate(now)} - ${mins})`, 'signature expired');
  }
  if (reqDate.getTime() > now.getTime() + skewMs) {
    return invalid(`Signature not yet current: ${xAmzDate} is still later than ${amzDate(new Date(now.getTime() + skewMs))} (${amzDate(now)} + ${mins})`, 'signature not yet current');
  }
  const signedHeaderNames = params.SignedHeaders.split(';');
  if (!signedHeaderNames.includes('host')) {
    return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.", 'host not signed');
  }
  // SigV4: "If you include a date or x-amz-date header, you must also include that header in the
  // list of signed headers."
  if (!signedHeaderNames.includes('x-amz-date')) {
    return invalid(SIGNATURE_MISMATCH, 'signature mismatch (x-amz-date not signed)');
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    return { error: ddbError(NS_CORAL + 'IncompleteSignatureException', `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now). `), reason: 'bad algorithm' };
  }
  const credParts = params.Credential.replace(/\/+$/, '').split('/');
  if (credParts.length !== 5) {
    return { error: ddbError(NS_CORAL + 'IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.Credential}'`), reason: 'bad Credential' };
  }
  const [keyId, scopeDate, scopeRegion, scopeService, term] = credParts;
  let scopeMsg = '';
  if (scopeRegion !== opts.region) scopeMsg += `Credential should be scoped to a valid region, not '${scopeRegion}'. `;
  if (scopeService !== SERVICE) scopeMsg += `Credential should be scoped to correct service: '${SERVICE}'. `;
  if (term !== 'aws4_request') scopeMsg += `Credential should be scoped with a valid terminator: 'aws4_request', not '${term}'. `;
  if (scopeDate !== xAmzDate.slice(0, 8)) {
    scopeMsg += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${xAmzDate.slice(0, 8)}', from '${xAmzDate}'.`;
  }
  if (scopeMsg) return invalid(scopeMsg.trim(), 'bad credential scope');
  const token = headers['x-amz-security-token'];
  const found = creds.lookup(keyId, token);
  if (found.status === 'unknown') {
    return { error: ddbError(NS_CORAL + 'UnrecognizedClientException', 'The security token included in the request is invalid.'), reason: `unknown access key ${keyId}` };
  }
  // The signature is computed with the secret of the key; if the token does not match any set
  // for the key, any set's secret serves to check the signature first, as AWS checks the token last.
  const cred = found.cred || creds.all().find((c) => c.access_key === keyId);
  const realHash = sha256Hex(ctx.body);
  const computed = await computeSigV4({
    service: SERVICE,
    region: opts.region,
    credentials: cred,
    method: ctx.req.method,
    path: ctx.rawPath,
    query,
    headers,
    signedHeaderNames,
    payloadHash: realHash,
    longDate: xAmzDate,
    uriEscapePath: true,
  });
  if (!safeEqual(computed.signature, params.Signature)) {
    const detail = `${SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'${computed.canonicalRequest}'\n\n` +
      `The String-to-Sign should have been\n'${computed.stringToSign}'\n`;
    let reason = 'signature mismatch';
    if (headers['x-amz-content-sha256'] && headers['x-amz-content-sha256'] !== realHash) reason += ' (x-amz-content-sha256 is not the body hash)';
    if (token && !signedHeaderNames.includes('x-amz-security-token')) reason += ' (x-amz-security-token not signed)';
    return { ...invalid(detail, reason), canonicalRequest: computed.canonicalRequest };
  }
  if (found.status === 'token-mismatch') {
    return { error: ddbError(NS_CORAL + 'UnrecognizedClientException', 'The security token included in the request is invalid.'), reason: token ? 'session token does not match' : 'session token missing' };
  }
  return { ok: true, accessKey: keyId };
}

// ---------------------------------------------------------------------------------------------
// Talking to dynalite

let dynalitePort = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// Forwards a request (the client's headers, possibly a rewritten body) and resolves with
// {status, headers, body}.
function toDynalite(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const h = { ...headers, 'content-length': String(body.length), host: `127.0.0.1:${dynalitePort}` };
    delete h['transfer-encoding'];
    delete h.connection;
    const r = http.request({ host: '127.0.0.1', port: dynalitePort, method, path, headers: h, agent }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => resolve({ status: resp.statusCode, headers: resp.headers, body: Buffer.concat(chunks) }));
      resp.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

// The proxy's own calls (emulation): dynalite wants an Authorization-shaped header but does not
// check it.
const INTERNAL_HEADERS = {
  'content-type': JSON_TYPE,
  authorization: 'AWS4-HMAC-SHA256 Credential=internal/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20200101T000000Z',
};
async function ddbCall(op, payload) {
  const r = await toDynalite('POST', '/', { ...INTERNAL_HEADERS, 'x-amz-target': `DynamoDB_20120810.${op}` }, Buffer.from(JSON.stringify(payload)));
  let json = {};
  try { json = r.body.length ? JSON.parse(r.body.toString('utf8')) : {}; } catch { json = {}; }
  return { status: r.status, json };
}
function errorName(json) {
  return String((json && json.__type) || '').split('#').pop();
}

// ---------------------------------------------------------------------------------------------
// Emulated operations

const ttlByTable = new Map(); // TableName -> AttributeName (TTL enabled)
const txTokens = new Map();   // ClientRequestToken -> {hash, at}

async function keySchema(table) {
  const r = await ddbCall('DescribeTable', { TableName: table });
  if (r.status !== 200) return { error: r };
  return { keys: r.json.Table.KeySchema.map((k) => k.AttributeName) };
}

function keyOf(keys, item) {
  const key = {};
  for (const k of keys) {
    if (!item || !(k in item)) return null;
    key[k] = item[k];
  }
  return key;
}

function stableKey(table, key) {
  return table + '\u0000' + JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]));
}

function validation(message) {
  return ddbError(NS_CORAL.replace('service', 'validate') + 'ValidationException', message);
}

const EXPR_FIELDS = ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];
function pick(obj, fields) {
  const out = {};
  for (const f of fields) if (obj[f] !== undefined) out[f] = obj[f];
  return out;
}

async function restore(table, key, snapshot) {
  if (snapshot) await ddbCall('PutItem', { TableName: table, Item: snapshot });
  else await ddbCall('DeleteItem', { TableName: table, Key: key });
}

// TransactWriteItems: all-or-nothing under the proxy's exclusive lock. Each action runs as the
// matching single-item call with its own condition (a ConditionCheck as a conditional delete
// that is always undone); if any condition fails, every applied action is undone from the
// snapshots taken first, and the answer is TransactionCanceledException with one reason per
// action, as AWS gives it. Items are distinct (AWS requires it), so running the actions one
// after another evaluates each condition against the state before the transaction.
async function transactWriteItems(data) {
  const items = data.TransactItems;
  if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
    return validation(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1`);
  }
  if (data.ClientRequestToken != null) {
    const now = Date.now();
    for (const [k, v] of txTokens) if (now - v.at > 10 * 60 * 1000) txTokens.delete(k);
    const hash = sha256Hex(JSON.stringify(items));
    const seen = txTokens.get(data.ClientRequestToken);
    if (seen) {
      if (seen.hash !== hash) {
        return ddbError(NS_DDB + 'IdempotentParameterMismatchException', 'Request parameters do not match the original request made with the same ClientRequestToken.');
      }
      if (seen.ok) return { status: 200, body: {} };
    }
  }
  const actions = [];
  const seenItems = new Set();
  const schemas = new Map();
  for (const [i, ti] of items.entries()) {
    const kinds = ['ConditionCheck', 'Put', 'Delete', 'Update'].filter((k) => ti && ti[k]);
    if (kinds.length !== 1) {
      return validation(`TransactItems[${i}] must specify exactly one of ConditionCheck, Put, Delete, Update`);
    }
    const kind = kinds[0];
    const a = ti[kind];
    if (!a.TableName) return validation(`TransactItems[${i}].${kind}.TableName is required`);
    if (!schemas.has(a.TableName)) {
      const s = await keySchema(a.TableName);
      if (s.error) return { status: s.error.status, body: s.error.json };
      schemas.set(a.TableName, s.keys);
    }
    const keys = schemas.get(a.TableName);
    const key = kind === 'Put' ? keyOf(keys, a.Item) : keyOf(keys, a.Key);
    if (!key) {
      return validation(`One or more parameter values were invalid: Missing the key ${keys.join(', ')} in the item`);
    }
    if (kind === 'ConditionCheck' && !a.ConditionExpression) {
      return validation('The ConditionExpression parameter is required for a ConditionCheck');
    }
    if (kind === 'Update' && !a.UpdateExpression) {
      return validation('The UpdateExpression parameter is required for an Update in a transaction');
    }
    const sk = stableKey(a.TableName, key);
    if (seenItems.has(sk)) return validation('Transaction request cannot include multiple operations on one item');
    seenItems.add(sk);
    actions.push({ kind, a, key, table: a.TableName });
  }

  for (const act of actions) {
    const g = await ddbCall('GetItem', { TableName: act.table, Key: act.key, ConsistentRead: true });
    if (g.status !== 200) return { status: g.status, body: g.json };
    act.snapshot = g.json.Item || null;
  }

  const reasons = [];
  let failed = false;
  for (const act of actions) {
    const { kind, a, key, table } = act;
    let r;
    if (kind === 'Put') r = await ddbCall('PutItem', { TableName: table, Item: a.Item, ...pick(a, EXPR_FIELDS) });
    else if (kind === 'Update') r = await ddbCall('UpdateItem', { TableName: table, Key: key, UpdateExpression: a.UpdateExpression, ...pick(a, EXPR_FIELDS) });
    else r = await ddbCall('DeleteItem', { TableName: table, Key: key, ...pick(a, EXPR_FIELDS) });
    if (r.status === 200) {
      act.applied = true;
      reasons.push({ Code: 'None' });
      continue;
    }
    failed = true;
    const name = errorName(r.json);
    if (name === 'ConditionalCheckFailedException') {
      const reason = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
      if (a.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && act.snapshot) reason.Item = act.snapshot;
      reasons.push(reason);
    } else if (name === 'ValidationException') {
      reasons.push({ Code: 'ValidationError', Message: r.json.message || r.json.Message || '' });
    } else {
      // something unexpected: undo and pass it on as is
      for (const done of actions) if (done.applied) await restore(done.table, done.key, done.snapshot);
      return { status: r.status, body: r.json };
    }
  }
  // ConditionChecks were conditional deletes: always put those items back. On failure, put back
  // everything that was applied.
  for (const act of actions) {
    if (act.applied && (failed || act.kind === 'ConditionCheck')) await restore(act.table, act.key, act.snapshot);
  }
  if (failed) {
    return ddbError(NS_DDB + 'TransactionCanceledException', null, 400, {
      CancellationReasons: reasons,
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    });
  }
  if (data.ClientRequestToken != null) {
    txTokens.set(data.ClientRequestToken, { hash: sha256Hex(JSON.stringify(items)), at: Date.now(), ok: true });
  }
  return { status: 200, body: {} };
}

async function transactGetItems(data) {
  const items = data.TransactItems;
  if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
    return validation(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1`);
  }
  const responses = [];
  for (const [i, ti] of items.entries()) {
    const g = ti && ti.Get;
    if (!g || !g.TableName || !g.Key) return validation(`TransactItems[${i}] must be {Get: {TableName, Key}}`);
    const r = await ddbCall('GetItem', { TableName: g.TableName, Key: g.Key, ConsistentRead: true, ...pick(g, ['ProjectionExpression', 'ExpressionAttributeNames']) });
    if (r.status !== 200) return { status: r.status, body: r.json };
    responses.push(r.json.Item ? { Item: r.json.Item } : {});
  }
  return { status: 200, body: { Responses: responses } };
}

async function updateTimeToLive(data) {
  const spec = data.TimeToLiveSpecification;
  if (!data.TableName || !spec || typeof spec.Enabled !== 'boolean' || !spec.AttributeName) {
    return validation('TableName and TimeToLiveSpecification {Enabled, AttributeName} are required');
  }
  const d = await ddbCall('DescribeTable', { TableName: data.TableName });
  if (d.status !== 200) return { status: d.status, body: d.json };
  const current = ttlByTable.get(data.TableName);
  if (spec.Enabled && current) return validation('TimeToLive is already enabled');
  if (!spec.Enabled && !current) return validation('TimeToLive is already disabled');
  if (spec.Enabled) ttlByTable.set(data.TableName, spec.AttributeName);
  else ttlByTable.delete(data.TableName);
  return { status: 200, body: { TimeToLiveSpecification: { Enabled: spec.Enabled, AttributeName: spec.AttributeName } } };
}

async function describeTimeToLive(data) {
  const d = await ddbCall('DescribeTimeToLive', data);
  if (d.status !== 200) return { status: d.status, body: d.json };
  const attr = ttlByTable.get(data.TableName);
  if (!attr) return { status: 200, body: d.json };
  return { status: 200, body: { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: attr } } };
}

// Deletes the items whose TTL attribute (a Number of epoch seconds) is at or before `now`, in
// every table with TTL enabled. AWS does this on its own, days late; tests call it explicitly.
async function ttlSweep(nowSeconds) {
  const deleted = {};
  for (const [table, attr] of ttlByTable) {
    const s = await keySchema(table);
    if (s.error) continue;
    deleted[table] = 0;
    let start;
    do {
      const r = await ddbCall('Scan', { TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) });
      if (r.status !== 200) break;
      for (const item of r.json.Items || []) {
        const v = item[attr];
        if (v && v.N != null && Number(v.N) <= nowSeconds) {
          await ddbCall('DeleteItem', { TableName: table, Key: keyOf(s.keys, item) });
          deleted[table] += 1;
        }
      }
      start = r.json.LastEvaluatedKey;
    } while (start);
  }
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// Faults

const FAULT_TYPES = ['throttle', 'error500', 'error503', 'delay', 'reset', 'unprocessed'];
const THROTTLE_SHAPES = {
  ProvisionedThroughputExceededException: [NS_DDB + 'ProvisionedThroughputExceededException',
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.'],
  ThrottlingException: ['com.amazon.coral.availability#ThrottlingException', 'Rate of requests exceeds the allowed throughput.'],
  RequestLimitExceeded: [NS_DDB + 'RequestLimitExceeded',
    'Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase'],
};

function normalizeFault(f) {
  const out = {};
  const ops = f.operations != null ? f.operations : f.operation != null ? [f.operation] : null;
  if (ops != null && (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string'))) {
    throw new Error('operation must be a string (or operations a list of strings)');
  }
  out.operations = ops;
  if (f.type === 'throttle') {
    const ex = f.exception || 'ProvisionedThroughputExceededException';
    if (!THROTTLE_SHAPES[ex]) throw new Error(`throttle exception must be one of ${Object.keys(THROTTLE_SHAPES).join(', ')}`);
    out.exception = ex;
  } else if (f.type === 'delay') {
    if (!Number.isInteger(f.ms) || f.ms < 0) throw new Error('delay needs "ms" (an integer >= 0)');
    out.then = f.then || 'forward';
    if (!['forward', 'reset'].includes(out.then)) throw new Error('delay "then" must be "forward" or "reset"');
  } else if (f.type === 'reset') {
    out.when = f.when || 'before';
    if (!['before', 'after'].includes(out.when)) throw new Error('reset "when" must be "before" or "after"');
  } else if (f.type === 'unprocessed') {
    if (f.items != null && (!Number.isInteger(f.items) || f.items < 1)) throw new Error('unprocessed "items" must be an integer >= 1');
    if (!out.operations) out.operations = ['BatchWriteItem', 'BatchGetItem'];
    if (out.operations.some((o) => o !== 'BatchWriteItem' && o !== 'BatchGetItem')) {
      throw new Error('unprocessed applies to BatchWriteItem and BatchGetItem only');
    }
  }
  return out;
}

function faultMatches(f, info) {
  return !f.operations || f.operations.includes(info.op);
}

function faultResponse(f) {
  if (f.type === 'throttle') {
    const [type, message] = THROTTLE_SHAPES[f.exception];
    return ddbError(f.__type || type, f.message || message, 400);
  }
  if (f.type === 'error500') {
    return ddbError(f.__type || NS_DDB + 'InternalServerError', f.message || 'Internal server error', 500);
  }
  if (f.type === 'error503') {
    return ddbError(f.__type || NS_DDB + 'ServiceUnavailable', f.message || 'Service Unavailable', 503);
  }
  return null;
}

// Splits a BatchWriteItem/BatchGetItem request: the last `hold` entries are kept back and
// returned as UnprocessedItems/UnprocessedKeys; the rest go to dynalite.
function splitBatch(op, data, want) {
  const entries = [];
  const ri = data.RequestItems || {};
  for (const table of Object.keys(ri)) {
    const list = op === 'BatchWriteItem' ? ri[table] : (ri[table] && ri[table].Keys) || [];
    for (const e of list) entries.push({ table, e });
  }
  const n = entries.length;
  const hold = Math.min(want == null ? Math.ceil(n / 2) : want, n);
  const send = entries.slice(0, n - hold);
  const kept = entries.slice(n - hold);
  const build = (list) => {
    const out = {};
    for (const { table, e } of list) {
      if (op === 'BatchWriteItem') (out[table] || (out[table] = [])).push(e);
      else {
        if (!out[table]) {
          const { Keys, ...rest } = ri[table];
          out[table] = { ...rest, Keys: [] };
        }
        out[table].Keys.push(e);
      }
    }
    return out;
  };
  return { n, hold, send: build(send), kept: build(kept) };
}

// ---------------------------------------------------------------------------------------------
// The request path

async function forwardOrEmulate(ctx) {
  const { op, data } = ctx;
  if (op === 'TransactWriteItems') return transactWriteItems(data);
  if (op === 'TransactGetItems') return transactGetItems(data);
  if (op === 'UpdateTimeToLive') return updateTimeToLive(data);
  if (op === 'DescribeTimeToLive') return describeTimeToLive(data);
  const r = await toDynalite(ctx.req.method, ctx.req.url, ctx.headers, ctx.forwardBody || ctx.body);
  if (op === 'DeleteTable' && r.status === 200 && data && data.TableName) ttlByTable.delete(data.TableName);
  // ReturnValuesOnConditionCheckFailure (2023) is not known to dynalite: add the item to the
  // ConditionalCheckFailedException as AWS does (the exclusive lock makes this atomic).
  if (data && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && r.status === 400 &&
      ['PutItem', 'UpdateItem', 'DeleteItem'].includes(op)) {
    let json;
    try { json = JSON.parse(r.body.toString('utf8')); } catch { json = null; }
    if (json && errorName(json) === 'ConditionalCheckFailedException') {
      let key = data.Key;
      if (op === 'PutItem') {
        const s = await keySchema(data.TableName);
        key = s.keys ? keyOf(s.keys, data.Item) : null;
      }
      if (key) {
        const g = await ddbCall('GetItem', { TableName: data.TableName, Key: key, ConsistentRead: true });
        if (g.status === 200 && g.json.Item) json.Item = g.json.Item;
      }
      return { status: 400, body: json, requestId: r.headers['x-amzn-requestid'] };
    }
  }
  return { raw: r };
}

function needsExclusive(op, data) {
  return op === 'TransactWriteItems' || op === 'TransactGetItems' ||
    !!(data && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
}

async function handle(ctx) {
  const { req, res, stats, faults } = ctx;
  const target = ctx.headers['x-amz-target'] || '';
  const op = target.includes('.') ? target.split('.').pop() : (target || '(none)');
  ctx.op = op;
  stats.bump(op, 'received');
  const entry = stats.record({ at: new Date().toISOString(), op, method: req.method, path: req.url });

  const auth = await authenticate(ctx);
  if (!auth.ok) {
    stats.bump(op, 'rejected');
    entry.outcome = 'rejected';
    entry.status = auth.error.status;
    entry.error = errorName(auth.error.body);
    entry.reason = auth.reason;
    log(NAME, `rejected ${op}: ${auth.reason}`);
    if (auth.canonicalRequest) debug(NAME, `expected canonical request:\n${auth.canonicalRequest}`);
    return sendDdb(ctx, auth.error.status, auth.error.body);
  }
  entry.access_key = auth.accessKey;
  try { ctx.data = ctx.body.length ? JSON.parse(ctx.body.toString('utf8')) : null; } catch { ctx.data = null; }

  const fault = faults.take({ op, label: `${op} #${entry.seq}` });
  if (fault) {
    entry.fault = fault.type;
    stats.bump(op, 'faulted');
    const canned = faultResponse(fault);
    if (canned) {
      entry.outcome = 'faulted';
      entry.status = canned.status;
      return sendDdb(ctx, canned.status, canned.body);
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
    if (fault.type === 'unprocessed' && ctx.data && (op === 'BatchWriteItem' || op === 'BatchGetItem')) {
      const split = splitBatch(op, ctx.data, fault.items);
      if (split.hold >= split.n) {
        // AWS: if nothing at all can be processed, the whole call is throttled
        const [type, message] = THROTTLE_SHAPES.ProvisionedThroughputExceededException;
        entry.outcome = 'faulted';
        entry.status = 400;
        return sendDdb(ctx, 400, { __type: type, message });
      }
      ctx.forwardBody = Buffer.from(JSON.stringify({ ...ctx.data, RequestItems: split.send }));
      ctx.unprocessed = split.kept;
    }
  }

  if (!DYNALITE_OPS.has(op) && !EMULATED_OPS.has(op)) {
    entry.outcome = 'rejected-by-service';
  }
  const release = await ctx.lock.acquire(needsExclusive(op, ctx.data));
  let result;
  try {
    result = await forwardOrEmulate(ctx);
  } finally {
    release();
  }
  stats.bump(op, 'forwarded');
  entry.outcome = entry.outcome || 'forwarded';

  if (fault && fault.type === 'reset' && fault.when === 'after') {
    entry.outcome = 'faulted';
    entry.status = 'reset';
    return resetSocket(req.socket);
  }
  if (result.raw) {
    const r = result.raw;
    entry.status = r.status;
    if (r.status >= 400) {
      try { entry.error = errorName(JSON.parse(r.body.toString('utf8'))); } catch { /* not JSON */ }
    }
    if (ctx.unprocessed && r.status === 200) {
      const json = JSON.parse(r.body.toString('utf8'));
      const field = op === 'BatchWriteItem' ? 'UnprocessedItems' : 'UnprocessedKeys';
      json[field] = { ...(json[field] || {}) };
      for (const [table, v] of Object.entries(ctx.unprocessed)) {
        if (op === 'BatchWriteItem') json[field][table] = [...(json[field][table] || []), ...v];
        else json[field][table] = json[field][table] ? { ...json[field][table], Keys: [...json[field][table].Keys, ...v.Keys] } : v;
      }
      return sendDdb(ctx, 200, json, r.headers['x-amzn-requestid']);
    }
    if (res.destroyed) return;
    // dynalite's answer, unchanged (status, body, crc32, request id), plus the proxy's Date
    const headers = {};
    for (const [k, v] of Object.entries(r.headers)) {
      if (['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)) continue;
      headers[k] = v;
    }
    if (!headers['x-amzn-requestid']) headers['x-amzn-RequestId'] = requestId();
    headers['content-length'] = String(r.body.length);
    headers.date = ctx.clock.httpDate();
    res.writeHead(r.status, headers);
    res.end(r.body);
    return;
  }
  entry.status = result.status;
  if (result.status >= 400) entry.error = errorName(result.body);
  return sendDdb(ctx, result.status, result.body, result.requestId);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  setVerbose(opts.verbose);
  const clock = new Clock();
  const creds = new Credentials(opts);
  const stats = new Stats();
  const faults = new Faults({ types: FAULT_TYPES, normalize: normalizeFault, matches: faultMatches });
  const lock = new RWLock();

  const dynalite = nodeRequire('dynalite');
  const dyn = dynalite({ createTableMs: opts.createTableMs, deleteTableMs: opts.deleteTableMs, updateTableMs: opts.updateTableMs });
  await new Promise((resolve, reject) => {
    dyn.once('error', reject);
    dyn.listen(0, '127.0.0.1', resolve);
  });
  dynalitePort = dyn.address().port;

  const extra = async ({ what, method, body }) => {
    if (what === 'ttl-sweep' && method === 'POST') {
      let now = Math.floor(clock.now() / 1000);
      const spec = body.length ? JSON.parse(body.toString('utf8')) : {};
      if (spec.now != null) now = Number(spec.now);
      return { body: { ok: true, now, deleted: await ttlSweep(now) } };
    }
    if (what === 'info' && method === 'GET') {
      return {
        body: {
          region: opts.region, dynalite_port: dynalitePort, max_skew_seconds: opts.maxSkewSeconds,
          auth_error_status: opts.authErrorStatus, dynalite_operations: [...DYNALITE_OPS].sort(),
          emulated_operations: [...EMULATED_OPS].sort(), ttl: Object.fromEntries(ttlByTable),
        },
      };
    }
    return null;
  };

  const server = http.createServer(async (req, res) => {
    const ctx = { req, res, opts, clock, creds, stats, faults, lock };
    res.on('error', () => {});
    req.socket.on('error', () => {});
    try {
      ctx.body = await readBody(req, MAX_BODY);
    } catch (e) {
      if (e.tooLarge) {
        res.writeHead(413, { 'Content-Length': 0, 'x-amzn-RequestId': requestId(), Date: clock.httpDate() });
        res.end();
      }
      return;
    }
    try {
      if (await handleControl({ req, res, body: ctx.body, stats, faults, clock, creds, extra })) return;
      const { rawPath, rawQuery } = splitUrl(req.url);
      ctx.rawPath = rawPath;
      ctx.query = parseQuery(rawQuery);
      ctx.headers = receivedHeaders(req);
      await handle(ctx);
    } catch (e) {
      log(NAME, `internal error: ${e && e.stack || e}`);
      sendDdb(ctx, 500, { __type: NS_DDB + 'InternalServerError', message: `ddb-proxy internal error: ${e && e.message}` });
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
      await new Promise((r) => dyn.close(() => r()));
    },
  });

  process.stdout.write(JSON.stringify({
    ready: true, port: server.address().port, dynalite_port: dynalitePort, host: opts.host,
    region: opts.region, pid: process.pid,
  }) + '\n');
}

main().catch((e) => {
  log(NAME, `failed to start: ${e && e.message || e}`);
  process.exit(2);
});
