/**
 * /metrics: the named series exist and move after GraphQL queries; label values stay bounded
 * whatever operation names clients send; each app has its own registry.
 */
import * as fs from 'node:fs';
import { createCache } from '../src/cache';
import { loadConfig } from '../src/config';
import { Engine } from '../src/query/engine';
import { EngineError } from '../src/errors';
import { OperationLabels, createMetrics } from '../src/ops/metrics';
import { OpsApp, captureLogs, metricSum, parseMetrics, scrape, startOpsApp } from './support/ops';
import { SAMPLE_END, sampleTrail } from './support/trails';

const WINDOW = { from: new Date(SAMPLE_END.getTime() - 12 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const QUERY = `query RecentCalls($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 3) { totalCount untimedRecords edges { node { eventId } } } }`;

let dir: string;
let s: OpsApp;

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 30 });
  s = await startOpsApp({ trailDir: dir, cache: createCache(loadConfig({}), captureLogs().logger) });
});

afterAll(async () => {
  await s?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const NAMED_SERIES = [
  'trailql_graphql_requests_total',
  'trailql_graphql_request_duration_seconds',
  'trailql_engine_queries_total',
  'trailql_engine_query_duration_seconds',
  'trailql_engine_bytes_scanned_total',
  'trailql_cache_hits_total',
  'trailql_cache_misses_total',
  'trailql_cache_errors_total',
  'trailql_engine_queries_in_flight',
  'trailql_http_requests_in_flight',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
];

test('/metrics serves the text format with every named series declared', async () => {
  const res = await fetch(`${s.origin}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const name of NAMED_SERIES) expect(text).toContain(`# TYPE ${name} `);
  expect(text).toContain('# TYPE trailql_graphql_request_duration_seconds histogram');
  expect(text).toContain('# TYPE trailql_engine_queries_in_flight gauge');
  expect(text).toContain('# TYPE trailql_cache_hits_total counter');
});

test('a query moves the request, engine and cache series', async () => {
  const before = await scrape(s.origin);
  const first = await s.gql(QUERY, { filter: WINDOW });
  expect(first.status).toBe(200);
  expect(first.body.errors).toBeUndefined();
  const cost = first.body.extensions.cost;
  expect(cost.totals.engineQueries).toBe(2);

  const mid = await scrape(s.origin);
  const delta = (name: string, labels: Record<string, string> = {}) => metricSum(mid, name, labels) - metricSum(before, name, labels);
  const op = { operation: 'RecentCalls', outcome: 'ok' };
  expect(delta('trailql_graphql_requests_total', op)).toBe(1);
  expect(delta('trailql_graphql_request_duration_seconds_count', op)).toBe(1);
  expect(delta('trailql_graphql_request_duration_seconds_sum', op)).toBeGreaterThan(0);
  expect(delta('trailql_engine_queries_total', { engine: 'duckdb', label: 'apiCalls', outcome: 'ok' })).toBe(1);
  expect(delta('trailql_engine_queries_total', { engine: 'duckdb', label: 'untimedCount', outcome: 'ok' })).toBe(1);
  expect(delta('trailql_engine_query_duration_seconds_count', { engine: 'duckdb' })).toBe(2);
  expect(delta('trailql_engine_bytes_scanned_total', { engine: 'duckdb' })).toBe(cost.totals.bytesScanned);
  expect(cost.totals.bytesScanned).toBeGreaterThan(0);
  expect(delta('trailql_cache_misses_total')).toBe(2);
  expect(delta('trailql_cache_hits_total')).toBe(0);
  expect(metricSum(mid, 'trailql_engine_queries_in_flight', { engine: 'duckdb' })).toBe(0);
  expect(metricSum(mid, 'trailql_cache_up', { backend: 'memory' })).toBe(1);
  // The scrape itself is in flight while it is collected.
  expect(metricSum(mid, 'trailql_http_requests_in_flight')).toBe(1);

  // The same request again is answered whole from the response cache: its series moves, the engine's and the statements' do not.
  const second = await s.gql(QUERY, { filter: WINDOW });
  expect(second.body.extensions.cost.totals.cacheHits).toBe(2);
  expect(second.body.extensions.cost.answeredAgain).toBe(true);
  const after = await scrape(s.origin);
  expect(metricSum(after, 'trailql_response_cache_hits_total') - metricSum(mid, 'trailql_response_cache_hits_total')).toBe(1);
  expect(metricSum(after, 'trailql_cache_hits_total')).toBe(metricSum(mid, 'trailql_cache_hits_total'));
  expect(metricSum(after, 'trailql_engine_queries_total')).toBe(metricSum(mid, 'trailql_engine_queries_total'));
  expect(metricSum(after, 'trailql_graphql_requests_total', op)).toBe(metricSum(mid, 'trailql_graphql_requests_total', op) + 1);

  // Another request asking the same statements (here the same query with one more space) finds them in the statements' cache.
  const third = await s.gql(`${QUERY} `, { filter: WINDOW });
  expect(third.body.extensions.cost.totals.cacheHits).toBe(2);
  expect(third.body.extensions.cost.answeredAgain).toBeUndefined();
  const last = await scrape(s.origin);
  expect(metricSum(last, 'trailql_cache_hits_total') - metricSum(after, 'trailql_cache_hits_total')).toBe(2);
  expect(metricSum(last, 'trailql_engine_queries_total')).toBe(metricSum(mid, 'trailql_engine_queries_total'));
});

test('refused requests are counted by their error code; unnamed operations as "anonymous"', async () => {
  const before = await scrape(s.origin);
  const bad = await s.gql(`{ apiCalls(first: 0) { edges { cursor } } }`);
  expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  const invalid = await s.gql(`query Broken { noSuchField }`);
  expect(invalid.status).toBe(400);
  const after = await scrape(s.origin);
  const delta = (labels: Record<string, string>) =>
    metricSum(after, 'trailql_graphql_requests_total', labels) - metricSum(before, 'trailql_graphql_requests_total', labels);
  expect(delta({ operation: 'anonymous', outcome: 'BAD_USER_INPUT' })).toBe(1);
  expect(delta({ operation: 'Broken', outcome: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
});

test('requests refused before their operation starts are counted as operation "unknown"', async () => {
  const before = await scrape(s.origin);
  const res = await s.gql(`query Secret { __typename }`, {}, { authorization: 'Bearer not-a-valid-key-0000000000000000' });
  expect(res.status).toBe(401);
  const missing = await fetch(`${s.origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: '{}' });
  expect(missing.status).toBeGreaterThanOrEqual(400);
  const after = await scrape(s.origin);
  const delta = (labels: Record<string, string>) =>
    metricSum(after, 'trailql_graphql_requests_total', labels) - metricSum(before, 'trailql_graphql_requests_total', labels);
  expect(delta({ operation: 'unknown', outcome: 'UNAUTHENTICATED' })).toBeGreaterThanOrEqual(1);
  expect(delta({ operation: 'Secret' })).toBe(0);
});

test('engine failures are counted with their outcome', async () => {
  const logs = captureLogs();
  const failing = (real: Engine): Engine => ({
    name: real.name,
    capabilities: real.capabilities,
    sourceId: real.sourceId,
    execute: async () => {
      throw new EngineError('disk on fire', real.name);
    },
    ping: () => real.ping(),
    close: () => real.close(),
  });
  const f = await startOpsApp({ trailDir: dir, engine: failing, logger: logs.logger });
  try {
    const res = await f.gql(`query Failing { apiCalls(first: 1) { totalCount } }`);
    expect(res.body.errors[0].extensions.code).toBe('ENGINE_ERROR');
    const m = await scrape(f.origin);
    expect(metricSum(m, 'trailql_engine_queries_total', { engine: 'duckdb', outcome: 'error' })).toBeGreaterThanOrEqual(1);
    expect(metricSum(m, 'trailql_engine_queries_total', { outcome: 'ok' })).toBe(0);
    expect(metricSum(m, 'trailql_graphql_requests_total', { operation: 'Failing', outcome: 'ENGINE_ERROR' })).toBe(1);
    expect(metricSum(m, 'trailql_engine_queries_in_flight', { engine: 'duckdb' })).toBe(0);
  } finally {
    await f.close();
  }
});

test('operation names cannot explode the label set', async () => {
  const metrics = createMetrics({ maxOperationNames: 3, processMetrics: false });
  const b = await startOpsApp({ trailDir: dir, metrics });
  try {
    for (let i = 0; i < 6; i++) await b.gql(`query Op${i} { __typename }`);
    await b.gql(`query Op0 { __typename }`);
    const m = await scrape(b.origin);
    const ops = new Set(m.filter((x) => x.name === 'trailql_graphql_requests_total').map((x) => x.labels.operation));
    expect([...ops].sort()).toEqual(['Op0', 'Op1', 'Op2', 'other']);
    expect(metricSum(m, 'trailql_graphql_requests_total', { operation: 'Op0' })).toBe(2);
    expect(metricSum(m, 'trailql_graphql_requests_total', { operation: 'other' })).toBe(3);
    // No process metrics were asked for this registry.
    expect(m.some((x) => x.name.startsWith('process_'))).toBe(false);
  } finally {
    await b.close();
  }
});

test('OperationLabels: anonymous, well-formed names up to the bound, "other" for the rest', () => {
  const labels = new OperationLabels(2);
  expect(labels.label(undefined)).toBe('anonymous');
  expect(labels.label(null)).toBe('anonymous');
  expect(labels.label('')).toBe('anonymous');
  expect(labels.label('has space')).toBe('other');
  expect(labels.label('x'.repeat(65))).toBe('other');
  expect(labels.label('a"b')).toBe('other');
  expect(labels.label('other')).toBe('other');
  expect(labels.label('First')).toBe('First');
  expect(labels.label('Second')).toBe('Second');
  expect(labels.label('Third')).toBe('other');
  expect(labels.label('First')).toBe('First');
});

test('METRICS_ENABLED=false: no /metrics route', async () => {
  const off = await startOpsApp({ trailDir: dir, env: { METRICS_ENABLED: 'false' } });
  try {
    expect((await fetch(`${off.origin}/metrics`)).status).toBe(404);
    expect((await fetch(`${off.origin}/healthz`)).status).toBe(200);
  } finally {
    await off.close();
  }
});

test('parseMetrics reads labels with escaped quotes', () => {
  expect(parseMetrics('a_total{x="1",y="q\\"z"} 3\n# HELP b x\nb 4.5\n')).toEqual([
    { name: 'a_total', labels: { x: '1', y: 'q\\"z' }, value: 3 },
    { name: 'b', labels: {}, value: 4.5 },
  ]);
});
