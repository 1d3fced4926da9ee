/**
 * Request logs: one JSON line per GraphQL operation with its request id, name, outcome and cost;
 * never the variables, the query text, the credentials or the SQL parameters, including when an
 * engine quotes a value in its error, and when the body is not even JSON.
 */
import * as fs from 'node:fs';
import { createCache } from '../src/cache';
import { loadConfig } from '../src/config';
import { Engine } from '../src/query/engine';
import { EngineError } from '../src/errors';
import { errorForLog, scrubForLog } from '../src/ops/request-log';
import { CapturedLogs, OpsApp, captureLogs, startOpsApp } from './support/ops';
import { TEST_KEY } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

/** Values a client sends that must never reach a log. */
const SECRET_PRINCIPAL = 'arn:aws:iam::111122223333:role/SecretRoleName-7f3a';
const SECRET_ACTION = 'DescribeSecretDetectorQx9';
const SECRET_ERROR = 'SecretErrorCodeZz';
const FROM = new Date(SAMPLE_END.getTime() - 9 * 3_600_000).toISOString();
const QUERY = `query FindCalls($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 5) { totalCount untimedRecords edges { node { eventId } } } }`;
const VARIABLES = { filter: { from: FROM, to: SAMPLE_END.toISOString(), principalArns: [SECRET_PRINCIPAL], actions: [SECRET_ACTION], errorCodes: [SECRET_ERROR] } };

let dir: string;
let logs: CapturedLogs;
let s: OpsApp;

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 30 });
  logs = captureLogs();
  s = await startOpsApp({ trailDir: dir, logger: logs.logger, cache: createCache(loadConfig({}), logs.logger) });
});

afterAll(async () => {
  await s?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const requestLines = (requestId: string) => logs.lines().filter((l) => l.requestId === requestId);

const expectNoSecrets = (text: string) => {
  for (const secret of [SECRET_PRINCIPAL, 'SecretRoleName', SECRET_ACTION, SECRET_ERROR, TEST_KEY, FROM, 'apiCalls(filter']) expect(text).not.toContain(secret);
};

test('one line per operation with its id, name, outcome and cost, and none of its parameters', async () => {
  const res = await s.gql(QUERY, VARIABLES, { 'x-request-id': 'log-test-1' });
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
  const lines = requestLines('log-test-1');
  expect(lines).toHaveLength(1);
  const cost = res.body.extensions.cost.totals;
  expect(lines[0]).toEqual({
    level: 30,
    time: expect.any(String),
    service: 'trailql',
    msg: 'graphql request',
    requestId: 'log-test-1',
    operationName: 'FindCalls',
    operationType: 'query',
    status: 200,
    durationMs: expect.any(Number),
    outcome: 'ok',
    queries: cost.queries,
    engineQueries: cost.engineQueries,
    cacheHits: cost.cacheHits,
    rows: cost.rows,
    bytesScanned: cost.bytesScanned,
    engineMs: cost.engineMs,
  });
  expect(cost.engineQueries).toBe(2);
  expectNoSecrets(logs.text());
});

test('a repeated operation logs its cache hits', async () => {
  await s.gql(QUERY, VARIABLES, { 'x-request-id': 'log-test-2' });
  const [line] = requestLines('log-test-2');
  expect(line).toMatchObject({ queries: 2, engineQueries: 0, cacheHits: 2, bytesScanned: 0, engineMs: 0, outcome: 'ok' });
});

test('a generated request id is logged like a given one', async () => {
  const res = await s.gql('{ __typename }');
  const id = res.headers.get('x-request-id')!;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(requestLines(id)).toEqual([expect.objectContaining({ msg: 'graphql request', operationName: null, outcome: 'ok', queries: 0 })]);
});

test('a refused operation logs its error codes, not the offending value', async () => {
  const res = await s.gql(`query Bad($n: Int) { apiCalls(first: $n) { totalCount } }`, { n: 987654 }, { 'x-request-id': 'log-test-3' });
  expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  const [line] = requestLines('log-test-3');
  expect(line).toMatchObject({ operationName: 'Bad', outcome: 'BAD_USER_INPUT', errorCodes: ['BAD_USER_INPUT'], queries: 0 });
  expect(logs.text()).not.toContain('987654');
});

test('a refused credential is logged as refused, without the credential', async () => {
  const bad = 'Bearer wrong-key-SECRET-1234567890abcdef';
  const res = await s.gql(QUERY, VARIABLES, { authorization: bad, 'x-request-id': 'log-test-6' });
  expect(res.status).toBe(401);
  expect(logs.lines().filter((l) => l.msg === 'graphql request refused')).toContainEqual(expect.objectContaining({ stage: 'context', outcome: 'UNAUTHENTICATED' }));
  expect(logs.text()).not.toContain('wrong-key-SECRET');
  expectNoSecrets(logs.text());
});

test('a body that is not JSON: JSON error with a request id, and the body stays out of the logs', async () => {
  const res = await fetch(`${s.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, 'x-request-id': 'log-test-4' },
    body: `{"query":"{ __typename }","variables":{"p":"${SECRET_PRINCIPAL}"} oops`,
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('x-request-id')).toBe('log-test-4');
  const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors[0]).toEqual({ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } });
  expect(JSON.stringify(body)).not.toContain('node_modules');
  expect(requestLines('log-test-4')).toEqual([expect.objectContaining({ msg: 'http request refused', status: 400, type: 'entity.parse.failed' })]);
  expectNoSecrets(logs.text());
});

test('an engine error quoting a parameter is logged with the request id and without the value', async () => {
  const own = captureLogs();
  const thrown: string[] = [];
  const quoting = (real: Engine): Engine => ({
    name: real.name,
    capabilities: real.capabilities,
    sourceId: real.sourceId,
    execute: async (query) => {
      const value = query.params.find((p) => typeof p === 'string' && p.includes('SecretRoleName'));
      const message = `Conversion Error: Could not convert string '${String(value)}' to INT32 near "principal"; parameter ${String(value)}`;
      thrown.push(message);
      throw new EngineError(message, real.name);
    },
    ping: () => real.ping(),
    close: () => real.close(),
  });
  const f = await startOpsApp({ trailDir: dir, engine: quoting, logger: own.logger });
  try {
    const res = await f.gql(QUERY, VARIABLES, { 'x-request-id': 'log-test-5' });
    expect(res.body.errors[0].extensions.code).toBe('ENGINE_ERROR');
    expect(thrown.length).toBeGreaterThan(0);
    for (const m of thrown) expect(m).toContain('SecretRoleName');
    const lines = own.lines().filter((l) => l.requestId === 'log-test-5');
    const failure = lines.find((l) => l.msg === 'request failed');
    expect(failure).toBeDefined();
    expect(failure!.err).toMatchObject({ name: 'EngineError', message: expect.stringContaining('Could not convert string') });
    expect(lines.find((l) => l.msg === 'graphql request')).toMatchObject({ outcome: 'ENGINE_ERROR', errorCodes: ['ENGINE_ERROR'] });
    expectNoSecrets(own.text());
  } finally {
    await f.close();
  }
});

describe('scrubForLog', () => {
  const compiled = [{ params: ['alice-secret', 'ab', 7, true, 'x'] as const }];
  test('replaces bound string values and quoted literals, keeps identifiers and numbers', () => {
    expect(scrubForLog(`Could not convert string 'zzz' to INT32; value alice-secret in "eventname", LINE 7`, compiled)).toBe(
      `Could not convert string '?' to INT32; value [param] in "eventname", LINE 7`,
    );
    // Two-character values are replaced; one-character ones would wreck the message.
    expect(scrubForLog('ab x', compiled)).toBe('[param] x');
    expect(scrubForLog(`Value 'O''Brien' is not a timestamp`, [])).toBe(`Value '?' is not a timestamp`);
  });

  test('errorForLog keeps the name and the engine query id', () => {
    const err = new EngineError(`Athena query q-1 failed (user error): cannot cast 'alice-secret'`, 'athena', { queryId: 'q-1' });
    const out = errorForLog(err, compiled) as Record<string, string>;
    expect(out.name).toBe('EngineError');
    expect(out.queryId).toBe('q-1');
    expect(out.message).toBe(`Athena query q-1 failed (user error): cannot cast '?'`);
    expect(out.stack).not.toContain('alice-secret');
  });
});
