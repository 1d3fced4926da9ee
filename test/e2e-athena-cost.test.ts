/**
 * What a request costs on an engine billed by bytes scanned, over HTTP with the Athena dialect run
 * on the Athena-on-DuckDB shim (which counts the bytes of the partitions each statement reads):
 * the estimate in extensions.cost, the per-request bytes budget, and the admin-only preview.
 */
import * as fs from 'node:fs';
import { hashKey } from '../src/auth/authenticate';
import { athenaDialect } from '../src/engines/athena/dialect';
import { MIN_BILLED_BYTES } from '../src/query/scan-budget';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { TEST_KEYS, TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const READER_KEY = 'reader-key-without-admin-0123456789';
const KEYS = JSON.stringify([...TEST_KEYS, { id: 'reader', sha256: hashKey(READER_KEY), accounts: ['*'], regions: [], payloads: false, admin: false }]);
const FROM = new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();
const DIALECT = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true });
const QUERY = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount edges { node { eventId caller { key stats { calls } } } } } }`;

let dir: string;
let open: TestServer;
let budgeted: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 20, otherEventsPerIotEvent: 1 });
  const engine = (): Promise<AthenaSqlOnDuckDb> => AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
  open = await startServer(dir, { API_KEYS: KEYS, CACHE_ENABLED: 'false', SCAN_PRICE_PER_TB_USD: '5' }, { now: () => SAMPLE_END, engine: { engine: await engine(), dialect: DIALECT } });
  budgeted = await startServer(dir, { API_KEYS: KEYS, CACHE_ENABLED: 'false', SCAN_BUDGET_BYTES: '1' }, { now: () => SAMPLE_END, engine: { engine: await engine(), dialect: DIALECT } });
}, 180_000);

afterAll(async () => {
  await open?.close();
  await budgeted?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('extensions.cost estimates the price: billed bytes (10 MB minimum a query) x price per TB', async () => {
  const res = await open.gql(QUERY, { f: { from: FROM, to: TO } });
  expect(res.errors).toBeUndefined();
  const cost = res.extensions!.cost;
  expect(cost.totals.engineQueries).toBeGreaterThan(1);
  expect(cost.totals.bytesScanned).toBeGreaterThan(0);
  // The sample's files are far below 10 MB: every query is billed the minimum.
  expect(cost.estimate.billedBytes).toBe(cost.totals.engineQueries * MIN_BILLED_BYTES);
  expect(cost.estimate.usd).toBeCloseTo((cost.totals.engineQueries * MIN_BILLED_BYTES * 5) / 2 ** 40, 6);
});

test('past its bytes budget a request fails with a code and starts no further query', async () => {
  const before = budgeted.engine.executed.length;
  const res = await budgeted.gql(QUERY, { f: { from: FROM, to: TO } });
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', budget: 'bytesScanned', limitBytes: 1 });
  const ran = budgeted.engine.executed.length - before;
  const unlimited = await open.gql(QUERY, { f: { from: FROM, to: TO } });
  expect(ran).toBeLessThan(unlimited.extensions!.cost.totals.engineQueries);
});

test('an admin key previews statements with x-trailql-explain: nothing runs', async () => {
  const before = open.engine.executed.length;
  const res = await open.gql(QUERY, { f: { from: FROM, to: TO, sourceCidrs: ['2600:1f18::/32'] } }, { 'x-trailql-explain': '1' });
  expect(res.errors).toBeUndefined();
  expect(open.engine.executed.length).toBe(before);
  const statements = res.extensions!.explain.statements as Array<{ sql: string; params: unknown[]; partitions: { days: string[] } }>;
  expect(statements.length).toBeGreaterThan(0);
  expect(statements[0]!.sql).toContain('contains(CAST(? AS IPPREFIX)');
  expect(statements[0]!.params).toContain('2600:1f18::/32');
  expect(statements[0]!.partitions.days.length).toBeGreaterThan(0);
  // Its data are placeholders, and the answer says so: not complete, nothing run, nothing read.
  expect(res.extensions!.complete).toBe(false);
  expect(res.extensions!.warnings.map((w: { code: string }) => w.code)).toEqual(['PREVIEW_NOT_RUN']);
  expect(res.extensions!.cost.totals).toMatchObject({ engineQueries: 0, cacheHits: 0, engineMs: 0, bytesScanned: 0 });
  expect(res.extensions!.cost.estimate).toMatchObject({ billedBytes: 0, usd: 0 });
  expect(res.extensions!.cost.queries.map((q: { outcome: string }) => q.outcome)).toEqual(statements.map(() => 'not-run'));
});

test('a key without admin may not ask for a preview', async () => {
  const before = open.engine.executed.length;
  const res = await open.gql(QUERY, { f: { from: FROM, to: TO } }, { 'x-trailql-explain': '1', authorization: `Bearer ${READER_KEY}` });
  expect(res.status).toBe(403);
  expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(open.engine.executed.length).toBe(before);
});
