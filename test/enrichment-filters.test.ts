/**
 * Filters and groupings by what the offline databases say of a source address (AS number,
 * country), end to end over HTTP on the sample trail, on DuckDB and through the Athena dialect:
 * the matching addresses are bound as values, never ranges in SQL; bad values are refused before
 * any engine statement; the addresses looked up are only those the key may see; and the number of
 * addresses is bounded.
 */
import * as fs from 'node:fs';
import { hashKey } from '../src/auth/authenticate';
import { AddressEnrichment } from '../src/enrichment';
import { athenaDialect } from '../src/engines/athena/dialect';
import { SCENARIO } from '../src/trail/sample-scenarios';
import { SAMPLE_DEFAULT_ACCOUNTS, SAMPLE_DEFAULT_REGIONS } from '../src/trail/sample';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { TEST_KEYS, TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const HOME = SAMPLE_DEFAULT_ACCOUNTS[0];
const OTHER = SAMPLE_DEFAULT_ACCOUNTS[1];
const REGION = SAMPLE_DEFAULT_REGIONS[0];
const SCOPED_KEY = 'scoped-key-for-the-other-account-0123';
const KEYS = [...TEST_KEYS, { id: 'scoped', sha256: hashKey(SCOPED_KEY), accounts: [OTHER], regions: [], payloads: false, admin: false }];
const ENV = { CURSOR_SECRET: 'the-same-secret-for-both-servers', API_KEYS: JSON.stringify(KEYS) };
const SCOPED = { authorization: `Bearer ${SCOPED_KEY}` };

let dir: string;
let duck: TestServer;
let athena: TestServer;
const enrichment = AddressEnrichment.create();

beforeAll(async () => {
  dir = await sampleTrail(6, { iotEventsPerDay: 40, otherEventsPerIotEvent: 0, deliveryMinutes: 60 });
  duck = await startServer(dir, ENV, { now: () => SAMPLE_END });
  const shim = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
  athena = await startServer(dir, ENV, {
    now: () => SAMPLE_END,
    engine: { engine: shim, dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }) },
  });
}, 180_000);

afterAll(async () => {
  await duck?.close();
  await athena?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const CALLS = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 500) { totalCount pageInfo { hasNextPage } edges { node { eventId account sourceIpAddress } } } }`;
const ACTIVITY = `query($f: ApiCallFilter, $g: ActivityGroupBy) { activity(filter: $f, interval: HOUR, groupBy: $g) { buckets { start key calls errors } } }`;

interface Call {
  eventId: string;
  account: string;
  sourceIpAddress: string | null;
}
interface Bucket {
  start: string;
  key: string | null;
  calls: number;
  errors: number;
}

const base = { accounts: [HOME], regions: [REGION] };

async function calls(server: TestServer, f: object, headers?: Record<string, string>): Promise<Call[]> {
  const res = await server.gql(CALLS, { f }, headers);
  expect(res.errors).toBeUndefined();
  expect(res.data.apiCalls.pageInfo.hasNextPage).toBe(false);
  expect(res.data.apiCalls.totalCount).toBe(res.data.apiCalls.edges.length);
  return res.data.apiCalls.edges.map((e: { node: Call }) => e.node);
}

const addresses = (cs: readonly Call[]) => [...new Set(cs.map((c) => c.sourceIpAddress))].sort();

describe.each([
  ['duckdb', () => duck],
  ['athena dialect', () => athena],
])('on %s', (_name, server) => {
  let all: Call[];
  beforeAll(async () => {
    all = await calls(server(), base);
  }, 120_000);

  /** The calls of the unfiltered page whose address the databases place as `test` says: the expected answer. */
  const expected = (test: (a: string) => boolean) => all.filter((c) => c.sourceIpAddress !== null && test(c.sourceIpAddress)).map((c) => c.eventId).sort();

  test('asns: exactly the calls from addresses in those AS numbers', async () => {
    const got = await calls(server(), { ...base, asns: [20712] });
    expect(addresses(got)).toEqual([SCENARIO.rootIp, SCENARIO.roamerUsualIp, SCENARIO.roamerSameAsIp].sort());
    expect(got.map((c) => c.eventId).sort()).toEqual(expected((a) => enrichment.info(a).asn?.number === 20712));
  });

  test('countries, alone and with asns (both must hold), IPv6 included', async () => {
    const gb = await calls(server(), { ...base, countries: ['GB'] });
    expect(addresses(gb)).toEqual([SCENARIO.rootIp, SCENARIO.roamerUsualIp, SCENARIO.roamerSameAsIp, SCENARIO.roamerSameCountryIp].sort());
    expect(gb.map((c) => c.eventId).sort()).toEqual(expected((a) => enrichment.info(a).country === 'GB'));
    const sky = await calls(server(), { ...base, countries: ['GB'], asns: [5607, 29518] });
    expect(addresses(sky)).toEqual([SCENARIO.roamerSameCountryIp]);
  });

  test('not: leaves those calls out; a country no address is in matches nothing', async () => {
    const rest = await calls(server(), { ...base, not: { countries: ['GB', 'SE'] } });
    expect(rest.map((c) => c.eventId).sort()).toEqual(expected((a) => !['GB', 'SE'].includes(enrichment.info(a).country ?? '')).concat(all.filter((c) => c.sourceIpAddress === null).map((c) => c.eventId)).sort());
    expect(await calls(server(), { ...base, countries: ['AQ'] })).toEqual([]);
  });

  test('insights take the filter too: only findings about addresses of that country, or about no address', async () => {
    const q = `query($f: ApiCallFilter) { insights(filter: $f, first: 100) { nodes { kind sourceIp { address country } evidence(first: 50) { edges { node { sourceIpAddress } } } } } }`;
    const res = await server().gql(q, { f: { ...base, countries: ['SE'] } });
    expect(res.errors).toBeUndefined();
    const nodes: { kind: string; sourceIp: { address: string; country: string } | null; evidence: { edges: { node: { sourceIpAddress: string } }[] } }[] = res.data.insights.nodes;
    expect(nodes.some((n) => n.kind === 'LONG_TERM_KEY_FROM_PUBLIC_ADDRESS' && n.sourceIp?.address === SCENARIO.legacyIp)).toBe(true);
    for (const n of nodes) {
      if (n.sourceIp) expect(n.sourceIp.country).toBe('SE');
      for (const e of n.evidence.edges) expect(enrichment.info(e.node.sourceIpAddress).country).toBe('SE');
    }
  });

  test('activity by COUNTRY and ASN: per-address counts folded exactly, keys in order, null last', async () => {
    const plain = (await server().gql(ACTIVITY, { f: base })).data.activity.buckets as Bucket[];
    const total = plain.reduce((a, b) => a + b.calls, 0);
    for (const g of ['COUNTRY', 'ASN']) {
      const res = await server().gql(ACTIVITY, { f: base, g });
      expect(res.errors).toBeUndefined();
      const buckets = res.data.activity.buckets as Bucket[];
      expect(buckets.reduce((a, b) => a + b.calls, 0)).toBe(total);
      expect(buckets.reduce((a, b) => a + b.errors, 0)).toBe(plain.reduce((a, b) => a + b.errors, 0));
      for (let i = 1; i < buckets.length; i++) {
        const [p, b] = [buckets[i - 1], buckets[i]];
        const later = p.start < b.start || (p.start === b.start && p.key !== null && (b.key === null || (g === 'ASN' ? Number(p.key) < Number(b.key) : p.key < b.key)));
        expect(later).toBe(true);
      }
    }
    const byCountry = (await server().gql(ACTIVITY, { f: base, g: 'COUNTRY' })).data.activity.buckets as Bucket[];
    const gb = byCountry.filter((b) => b.key === 'GB').reduce((a, b) => a + b.calls, 0);
    expect(gb).toBe(expected((a) => enrichment.info(a).country === 'GB').length);
    const byAsn = (await server().gql(ACTIVITY, { f: base, g: 'ASN' })).data.activity.buckets as Bucket[];
    expect(byAsn.filter((b) => b.key === '20712').reduce((a, b) => a + b.calls, 0)).toBe(3);
  });
});

test('both dialects answer activity by ASN alike', async () => {
  const [a, b] = await Promise.all([duck, athena].map((s) => s.gql(ACTIVITY, { f: base, g: 'ASN' })));
  expect(b.data.activity.buckets).toEqual(a.data.activity.buckets);
});

test('the matching addresses are bound as values: no range or address in the statement text', async () => {
  duck.engine.reset();
  await calls(duck, { ...base, countries: ['GB'] });
  const [resolve, main] = duck.engine.executed;
  expect(resolve.label).toBe('sourceAddresses');
  expect(main.params).toEqual(expect.arrayContaining([SCENARIO.rootIp, SCENARIO.roamerSameCountryIp]));
  for (const q of duck.engine.executed) expect(q.sql).not.toMatch(/81\.2\.69|2a02|GB/);
});

describe('bad values are refused with 400 before any engine statement', () => {
  test.each([
    ['asns: 0', { asns: [0] }],
    ['asns: negative', { asns: [-15169] }],
    ['countries: lower case', { countries: ['gb'] }],
    ['countries: alpha-3', { countries: ['GBR'] }],
    ['countries: in not', { not: { countries: ['G1'] } }],
    ['asns: too many', { asns: Array.from({ length: 101 }, (_, i) => i + 1) }],
  ])('%s', async (_name, f) => {
    duck.engine.reset();
    const res = await duck.gql(CALLS, { f: { ...base, ...f } });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.status).toBe(400);
    const act = await duck.gql(ACTIVITY, { f: { ...base, ...f }, g: 'COUNTRY' });
    expect(act.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(duck.engine.executed).toHaveLength(0);
  });

  test('a float is no AS number (GraphQL Int), refused before any statement', async () => {
    duck.engine.reset();
    const res = await duck.gql(CALLS, { f: { ...base, asns: [1.5] } });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(duck.engine.executed).toHaveLength(0);
  });
});

test('a scoped key looks up only the addresses of its own accounts', async () => {
  duck.engine.reset();
  // The home account's scenario addresses are in GB; a key for the other account asks for GB.
  const got = await calls(duck, { regions: [REGION], countries: ['GB'] }, SCOPED);
  for (const c of got) expect(c.account).toBe(OTHER);
  const resolve = duck.engine.executed.find((q) => q.label === 'sourceAddresses')!;
  expect(resolve.params).toContain(OTHER);
  expect(resolve.params).not.toContain(HOME);
  for (const q of duck.engine.executed) expect(q.params).not.toContain(SCENARIO.roamerSameCountryIp);
});

test('too many addresses to look up, or too many matching, is QUERY_TOO_COMPLEX before the main statement', async () => {
  const strict = await startServer(dir, { ...ENV, ENRICHMENT_MAX_ADDRESSES: '3' }, { now: () => SAMPLE_END });
  try {
    const res = await strict.gql(CALLS, { f: { ...base, countries: ['GB'] } });
    expect(res.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(res.status).toBe(400);
    expect(strict.engine.executed.map((q) => q.label)).toEqual(['sourceAddresses']);
  } finally {
    await strict.close();
  }
  const few = await startServer(dir, { ...ENV, ENRICHMENT_MAX_MATCHED: '2' }, { now: () => SAMPLE_END });
  try {
    const res = await few.gql(CALLS, { f: { ...base, countries: ['GB'] } });
    expect(res.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(few.engine.executed.map((q) => q.label)).toEqual(['sourceAddresses']);
    expect((await few.gql(CALLS, { f: { ...base, asns: [5607] } })).errors).toBeUndefined();
  } finally {
    await few.close();
  }
}, 60_000);
