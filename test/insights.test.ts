/**
 * Insights on the sample trail's planted scenarios: each rule fires on its scenario and not on
 * the benign look-alike beside it, on DuckDB and through the Athena dialect (run on DuckDB by the
 * shim); every evidence call is one `apiCall` finds; scoped keys see only their accounts.
 */
import * as fs from 'node:fs';
import { athenaDialect } from '../src/engines/athena/dialect';
import { hashKey } from '../src/auth/authenticate';
import { AddressEnrichment } from '../src/enrichment';
import { InsightKind } from '../src/insights/rules';
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
const SECRET = { CURSOR_SECRET: 'the-same-secret-for-both-servers', API_KEYS: JSON.stringify(KEYS) };

let dir: string;
const walked = new Map<string, InsightNode[]>();
let duck: TestServer;
let athena: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(6, { iotEventsPerDay: 40, otherEventsPerIotEvent: 0, deliveryMinutes: 60 });
  duck = await startServer(dir, SECRET, { now: () => SAMPLE_END });
  const shim = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
  athena = await startServer(dir, SECRET, {
    now: () => SAMPLE_END,
    engine: { engine: shim, dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }) },
  });
}, 180_000);

afterAll(async () => {
  await duck?.close();
  await athena?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const INSIGHTS = `query($filter: ApiCallFilter, $kinds: [InsightKind!], $first: Int, $after: String) {
  insights(filter: $filter, kinds: $kinds, first: $first, after: $after) {
    totalCount complete
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id kind severity title summary action firstSeen lastSeen count attack
      principal { key }
      sourceIp { address kind }
      evidence(first: 50) { totalCount edges { node { eventId eventTime account caller { principal } sourceIpAddress action errorCode } } }
    } }
  }
}`;

interface InsightNode {
  id: string;
  kind: string;
  severity: string;
  summary: string;
  action: string | null;
  count: number;
  attack: string[];
  principal: { key: string } | null;
  sourceIp: { address: string } | null;
  evidence: { totalCount: number; edges: { node: { eventId: string; eventTime: string; account: string; caller: { principal: string }; sourceIpAddress: string; action: string; errorCode: string | null } }[] };
}

const role = (name: string) => `arn:aws:iam::${HOME}:role/${name}`;
const filter = { regions: [REGION], accounts: [HOME] };

async function all(server: TestServer, kinds?: string[], headers?: Record<string, string>, f: object = filter): Promise<InsightNode[]> {
  const out: InsightNode[] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const res: { errors?: unknown; data?: any } = await server.gql(INSIGHTS, { filter: f, kinds, first: 20, after }, headers); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(res.errors).toBeUndefined();
    const c: { edges: { node: InsightNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string }; totalCount: number; complete: boolean } = res.data?.insights;
    out.push(...c.edges.map((e) => e.node));
    if (!c.pageInfo.hasNextPage) {
      expect(out).toHaveLength(c.totalCount);
      expect(c.complete).toBe(true);
      return out;
    }
    after = c.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe.each([
  ['duckdb', () => duck],
  ['athena dialect', () => athena],
])('insights on %s', (_name, server) => {
  let found: InsightNode[];
  beforeAll(async () => {
    found = await all(server());
    walked.set(_name, found);
  }, 120_000);
  const of = (kind: string) => found.filter((i) => i.kind === kind);

  test('pages walk every insight once, and every evidence count is the finding count', () => {
    expect(new Set(found.map((i) => i.id)).size).toBe(found.length);
    for (const i of found) {
      expect(i.evidence.totalCount).toBe(i.count);
      expect(i.attack.length).toBeGreaterThan(0);
      for (const e of i.evidence.edges) expect(e.node.account).toBe(HOME);
    }
  });

  test('ROOT_ACTIVITY: the planted root call', () => {
    const hit = of('ROOT_ACTIVITY').find((i) => i.sourceIp?.address === SCENARIO.rootIp);
    expect(hit?.principal?.key).toBe(`arn:aws:iam::${HOME}:root`);
    expect(hit?.severity).toBe('HIGH');
    for (const i of of('ROOT_ACTIVITY')) expect(i.principal?.key).toMatch(/:root$/);
  });

  test('LONG_TERM_KEY_FROM_PUBLIC_ADDRESS: the AKIA key from a public address, not from a private one or a session key', () => {
    const hits = of('LONG_TERM_KEY_FROM_PUBLIC_ADDRESS').filter((i) => i.principal?.key === `arn:aws:iam::${HOME}:user/${SCENARIO.legacyUser}`);
    expect(hits.map((i) => i.sourceIp?.address)).toEqual([SCENARIO.legacyIp]);
    expect(hits[0].count).toBe(3);
    expect(of('LONG_TERM_KEY_FROM_PUBLIC_ADDRESS').some((i) => i.sourceIp?.address === '89.160.20.113')).toBe(false);
  });

  test('NO_MFA_SESSION: the console session without MFA, not the one with it', () => {
    const principals = of('NO_MFA_SESSION').map((i) => i.principal?.key);
    expect(principals).toContain(role(SCENARIO.consoleNoMfa));
    expect(principals).not.toContain(role(SCENARIO.consoleMfa));
  });

  test('ACCESS_DENIED_BURST: the burst, not the trickle', () => {
    const hits = of('ACCESS_DENIED_BURST').filter((i) => i.principal?.key === role(SCENARIO.scanner));
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(8);
    expect(hits[0].evidence.edges.every((e) => e.node.errorCode === 'AccessDeniedException')).toBe(true);
    expect(of('ACCESS_DENIED_BURST').some((i) => i.principal?.key === role(SCENARIO.flaky))).toBe(false);
  });

  test('DESTRUCTIVE_CHANGE: the successful deletion and logging change, not the refused deletion', () => {
    const mine = of('DESTRUCTIVE_CHANGE').filter((i) => i.principal?.key === role(SCENARIO.cleanup));
    expect(mine.map((i) => i.action).sort()).toEqual(['DeleteDetectorModel', 'PutLoggingOptions']);
    expect(of('DESTRUCTIVE_CHANGE').some((i) => i.principal?.key === role(SCENARIO.intern))).toBe(false);
    for (const i of of('DESTRUCTIVE_CHANGE')) for (const e of i.evidence.edges) expect(e.node.errorCode).toBeNull();
  });

  test('NEW_SOURCE_FOR_PRINCIPAL: the new public address, not the usual one', () => {
    const mine = of('NEW_SOURCE_FOR_PRINCIPAL').filter((i) => i.principal?.key === role(SCENARIO.etl));
    expect(mine.map((i) => i.sourceIp?.address)).toEqual([SCENARIO.etlNewIp]);
    expect(mine[0].severity).toBe('MEDIUM');
  });

  test('NEW_SOURCE_FOR_PRINCIPAL: a new address in a known AS is LOW, a new AS of a known country MEDIUM, a new country HIGH', () => {
    const mine = of('NEW_SOURCE_FOR_PRINCIPAL').filter((i) => i.principal?.key === role(SCENARIO.roamer));
    const by = new Map(mine.map((i) => [i.sourceIp?.address, i]));
    expect([...by.keys()].sort()).toEqual([SCENARIO.roamerSameAsIp, SCENARIO.roamerSameCountryIp, SCENARIO.roamerNewCountryIp].sort());
    expect(by.get(SCENARIO.roamerSameAsIp)?.severity).toBe('LOW');
    expect(by.get(SCENARIO.roamerSameAsIp)?.summary).toContain('AS20712');
    expect(by.get(SCENARIO.roamerSameCountryIp)?.severity).toBe('MEDIUM');
    expect(by.get(SCENARIO.roamerSameCountryIp)?.summary).toMatch(/AS5607.*GB.*a new network in a country/);
    expect(by.get(SCENARIO.roamerNewCountryIp)?.severity).toBe('HIGH');
    expect(by.get(SCENARIO.roamerNewCountryIp)?.summary).toMatch(/AS29518.*SE.*did not call from in the baseline \(GB\)/);
    expect(by.get(SCENARIO.roamerNewCountryIp)?.count).toBe(2);
  });

  test('FIRST_USE_OF_ACTION: the first DeleteInput, not the usual DescribeDetectorModel', () => {
    const mine = of('FIRST_USE_OF_ACTION').filter((i) => i.principal?.key === role(SCENARIO.etl));
    expect(mine.map((i) => i.action)).toContain('DeleteInput');
    expect(mine.map((i) => i.action)).not.toContain('DescribeDetectorModel');
    expect(mine.find((i) => i.action === 'DeleteInput')?.severity).toBe('HIGH');
  });

  test('ERROR_SPIKE: the spiking action, not the one failing at its usual rate', () => {
    const actions = of('ERROR_SPIKE').map((i) => i.action);
    expect(actions).toContain(SCENARIO.spikeAction);
    expect(actions).not.toContain(SCENARIO.steadyAction);
    const spike = of('ERROR_SPIKE').find((i) => i.action === SCENARIO.spikeAction)!;
    expect(spike.count).toBe(10);
  });

  test('every evidence call is found by apiCall', async () => {
    const ids = found.flatMap((i) => i.evidence.edges.slice(0, 2).map((e) => e.node));
    expect(ids.length).toBeGreaterThan(8);
    const q = `query($id: ID!, $from: DateTime, $to: DateTime) { apiCall(eventId: $id, from: $from, to: $to) { eventId } }`;
    for (const e of ids.slice(0, 12)) {
      const t = new Date(e.eventTime).getTime();
      const res = await server().gql(q, { id: e.eventId, from: new Date(t - 1000).toISOString(), to: new Date(t + 1000).toISOString() });
      expect(res.data.apiCall?.eventId).toBe(e.eventId);
    }
  });
});

test('both dialects find the same insights', () => {
  const a = walked.get('duckdb')!;
  const b = walked.get('athena dialect')!;
  expect(a.length).toBeGreaterThan(0);
  const key = (i: InsightNode) => `${i.kind}|${i.principal?.key}|${i.sourceIp?.address}|${i.action}|${i.count}`;
  expect(b.map(key).sort()).toEqual(a.map(key).sort());
});

test('only the asked kinds, and a scoped key sees only its own accounts', async () => {
  const roots = await all(duck, ['ROOT_ACTIVITY'], undefined, { regions: [REGION] });
  expect(new Set(roots.map((i) => i.kind))).toEqual(new Set(['ROOT_ACTIVITY']));
  expect(roots.some((i) => i.principal?.key === `arn:aws:iam::${HOME}:root`)).toBe(true);

  const scoped = await all(duck, undefined, { authorization: `Bearer ${SCOPED_KEY}` }, { regions: [REGION] });
  expect(scoped.length).toBeGreaterThan(0);
  for (const i of scoped) {
    expect(i.principal?.key ?? '').not.toContain(HOME);
    for (const e of i.evidence.edges) expect(e.node.account).toBe(OTHER);
  }
  const forbidden = await duck.gql(INSIGHTS, { filter: { accounts: [HOME] } }, { authorization: `Bearer ${SCOPED_KEY}` });
  expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

test('the rules asked are one statement over the window and one over the baseline, and find what each finds alone', async () => {
  const ASK = `query($filter: ApiCallFilter, $kinds: [InsightKind!]) { insights(filter: $filter, kinds: $kinds, first: 500) { totalCount complete nodes { id kind count firstSeen lastSeen } } }`;
  // A filter no other test asks insights with: its statements are not in the answer cache.
  const f = { accounts: [HOME] };
  duck.engine.reset();
  const together = await duck.gql(ASK, { filter: f });
  expect(together.errors).toBeUndefined();
  const statements = duck.engine.executed.filter((s) => s.label.startsWith('insight:'));
  expect(statements).toHaveLength(2);
  // On Athena (Trino reads a WITH subquery again at each use) each rule is a statement of its own,
  // each reading the window once: the same answer.
  athena.engine.reset();
  const apart = await athena.gql(ASK, { filter: f });
  const perRule = athena.engine.executed.filter((s) => s.label.startsWith('insight:'));
  expect(perRule.length).toBeGreaterThan(2);
  for (const s of perRule) expect(s.sql.match(/trailql_events/g) ?? []).toHaveLength(0);
  expect(apart.data).toEqual(together.data);
  const found = (nodes: { id: string; kind: string; count: number; firstSeen: string; lastSeen: string }[]) => nodes.map((n) => JSON.stringify(n)).sort();
  const alone: string[] = [];
  for (const kind of Object.values(InsightKind)) {
    const res = await duck.gql(ASK, { filter: f, kinds: [kind] });
    expect(res.errors).toBeUndefined();
    alone.push(...found(res.data.insights.nodes));
  }
  expect(new Set(found(together.data.insights.nodes).map((n) => JSON.parse(n).kind)).size).toBeGreaterThan(3);
  expect(found(together.data.insights.nodes)).toEqual(alone.sort());
}, 60_000);

test('bad arguments are refused before any engine query', async () => {
  duck.engine.reset();
  const res = await duck.gql(`{ insights(baselineDays: 0) { totalCount } }`);
  expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  const forged = await duck.gql(`{ insights(after: "bm90LWEtY3Vyc29y.c2ln") { totalCount } }`);
  expect(forged.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(duck.engine.executed).toHaveLength(0);
});

test('source addresses of findings carry their AS and country from the offline databases', async () => {
  const res = await duck.gql(`query($f: ApiCallFilter) { insights(filter: $f, kinds: [ROOT_ACTIVITY]) { nodes { sourceIp { address asn { number organization } country awsRange { service } } } } }`, {
    f: filter,
  });
  const ip = res.data.insights.nodes.map((n: { sourceIp: unknown }) => n.sourceIp).find((s: { address: string }) => s.address === SCENARIO.rootIp);
  expect(ip).toEqual({ address: SCENARIO.rootIp, asn: { number: 20712, organization: expect.any(String) }, country: 'GB', awsRange: null });
}, 60_000);

test('evidence of all insights on a page takes the same number of statements, whatever the page size', async () => {
  const q = `query($filter: ApiCallFilter, $first: Int) { insights(filter: $filter, first: $first) { nodes { id count evidence(first: 3) { totalCount edges { node { eventId } } } } } }`;
  const evidenceStatements = async (first: number) => {
    duck.engine.reset();
    const res = await duck.gql(q, { filter, first });
    expect(res.errors).toBeUndefined();
    const nodes: { count: number; evidence: { totalCount: number; edges: unknown[] } }[] = res.data.insights.nodes;
    expect(nodes).toHaveLength(first);
    for (const n of nodes) {
      expect(n.evidence.totalCount).toBe(n.count);
      expect(n.evidence.edges).toHaveLength(Math.min(3, n.count));
    }
    // Every statement but the rules' own (which the second request may find in the answer cache).
    return duck.engine.executed.filter((s) => !s.label.startsWith('insight:')).length;
  };
  const few = await evidenceStatements(2);
  const many = await evidenceStatements(12);
  expect(few).toBe(2);
  expect(many).toBe(few);
}, 60_000);

test('a batched first evidence page hands on to the next page with its cursor', async () => {
  const q = `query($filter: ApiCallFilter, $after: String) { insights(filter: $filter, kinds: [ACCESS_DENIED_BURST]) { nodes { count evidence(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { eventId } } } } } }`;
  const f = { ...filter, principalArns: [role(SCENARIO.scanner)] };
  const first = await duck.gql(q, { filter: f });
  expect(first.errors).toBeUndefined();
  const [burst] = first.data.insights.nodes;
  expect(burst.count).toBe(8);
  expect(burst.evidence.pageInfo.hasNextPage).toBe(true);
  const next = await duck.gql(q, { filter: f, after: burst.evidence.pageInfo.endCursor });
  expect(next.errors).toBeUndefined();
  const page2 = next.data.insights.nodes[0].evidence;
  const ids = [...burst.evidence.edges, ...page2.edges].map((e: { node: { eventId: string } }) => e.node.eventId);
  expect(page2.edges).toHaveLength(3);
  expect(new Set(ids).size).toBe(6);
}, 60_000);

test('bySource: every insight of the answer folded per country and AS of its address, exact and in order', async () => {
  const found = await all(duck);
  const enrichment = AddressEnrichment.create();
  for (const [groupBy, keyOf] of [
    ['COUNTRY', (a: string) => enrichment.info(a).country],
    ['ASN', (a: string) => (enrichment.info(a).asn ? String(enrichment.info(a).asn!.number) : null)],
  ] as const) {
    const res = await duck.gql(`query($f: ApiCallFilter, $g: InsightSourceGrouping!) { insights(filter: $f, first: 1) { totalCount bySource(groupBy: $g) { key insights calls severity } } }`, { f: filter, g: groupBy });
    expect(res.errors).toBeUndefined();
    const groups: { key: string | null; insights: number; calls: number; severity: string }[] = res.data.insights.bySource;
    const expected = new Map<string | null, { insights: number; calls: number }>();
    for (const i of found) {
      const key = i.sourceIp ? keyOf(i.sourceIp.address) : null;
      const e = expected.get(key) ?? { insights: 0, calls: 0 };
      expected.set(key, { insights: e.insights + 1, calls: e.calls + i.count });
    }
    expect(new Map(groups.map((g) => [g.key, { insights: g.insights, calls: g.calls }]))).toEqual(expected);
    expect(groups.reduce((a, g) => a + g.insights, 0)).toBe(res.data.insights.totalCount);
    for (let i = 1; i < groups.length; i++) expect(groups[i - 1].insights).toBeGreaterThanOrEqual(groups[i].insights);
  }
  const byCountry = (await duck.gql(`query($f: ApiCallFilter) { insights(filter: $f) { bySource(groupBy: COUNTRY) { key severity } } }`, { f: filter })).data.insights.bySource;
  expect(byCountry.find((g: { key: string | null }) => g.key === 'SE')?.severity).toBe('HIGH');
}, 60_000);
