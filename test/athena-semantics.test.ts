/**
 * The Athena compiler's SQL, run on a real engine: each GraphQL query is answered twice over the
 * same files, once by the DuckDB compiler on DuckDB, once by the Athena compiler's Trino SQL (with
 * its parameters substituted as Athena would) on DuckDB through a view with the Athena table's
 * columns and partitions. The answers must be identical. Every Athena statement must also parse
 * with a third-party Trino grammar.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FILTER_CASES, GRAPH_QUERY as GRAPH } from './support/filter-cases';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { forGrammar } from './support/trino-checks';
import { DialectPair, startDialectPair } from './support/dialect-pair';
import { RecordingEngine, TestServer, startServer } from './support/server';
import { athenaDialect } from '../src/engines/athena/dialect';
import { SAMPLE_END, sampleTrail } from './support/trails';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser } = require('node-sql-parser/build/trino') as { Parser: new () => { astify(sql: string, opt: object): unknown } };

const FROM = new Date(SAMPLE_END.getTime() - 36 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();

let pair: DialectPair;
let duck: TestServer;
let athena: TestServer;
let athenaEngine: AthenaSqlOnDuckDb;
let dir: string;

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 120, deliveryMinutes: 60 });
  pair = await startDialectPair(dir);
  ({ duck, athena, athenaEngine } = pair);
}, 180_000);

afterAll(async () => {
  await pair?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const CALLS = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      eventId eventTime eventVersion action eventSource region account sourceIpAddress userAgent errorCode errorMessage success
      readOnly eventType eventCategory managementEvent requestId apiVersion sharedEventId vpcEndpointId vpcEndpointAccountId
      sessionCredentialFromConsole requestParameters responseElements additionalEventData serviceEventDetails edgeDeviceDetails
      addendum onBehalfOf webIdFederationData ec2RoleDelivery
      tls { version cipherSuite clientProvidedHostHeader }
      resources { arn accountId type }
      sourceIp { address kind }
      caller { key arn principal identityType rawType category temporaryCredentials mfaAuthenticated invokedBy accountId userName
        principalId accessKeyId sessionCreated sessionIssuer { type principalId arn accountId userName } }
    } }
  }
}`;

async function both(query: string, variables: Record<string, unknown>) {
  const [a, b] = await Promise.all([duck.gql(query, variables), athena.gql(query, variables)]);
  expect(a.errors).toBeUndefined();
  expect(b.errors).toBeUndefined();
  return [a.data, b.data];
}

describe('Athena SQL gives the DuckDB compiler\'s answers', () => {
  test.each(Object.entries(FILTER_CASES))('apiCalls, filter %s, two pages', async (_name, filter) => {
    const vars = { filter: { from: FROM, to: TO, ...filter }, first: 40 };
    const [a, b] = await both(CALLS, vars);
    expect(b).toEqual(a);
    expect(a.apiCalls.totalCount).toBeGreaterThan(0);
    if (a.apiCalls.pageInfo.hasNextPage) {
      const [a2, b2] = await both(CALLS, { ...vars, after: a.apiCalls.pageInfo.endCursor });
      expect(b2).toEqual(a2);
    }
  });


  test.each(Object.entries(FILTER_CASES))('callers, sourceIps, actions and activity, filter %s', async (_name, filter) => {
    const [a, b] = await both(GRAPH, { filter: { from: FROM, to: TO, ...filter } });
    expect(b).toEqual(a);
  });

  test('nested fields through loaders, and resource history', async () => {
    const q = `query($filter: ApiCallFilter) {
      apiCalls(filter: $filter, first: 30) { edges { node { eventId iotEventsResources { kind name }
        caller { key stats { calls errors accessKeyIds } sourceIps(first: 3) { totalCount nodes { sourceIp { address kind } calls errors firstSeen lastSeen } }
          actions(first: 3) { nodes { action eventSource calls } } calls(first: 2) { totalCount edges { node { eventId } } pageInfo { hasNextPage } } }
        sourceIp { address stats { calls distinctCallers } callers(first: 2) { totalCount nodes { caller { key identityType } calls } }
          calls(first: 2) { totalCount edges { node { eventId } } } } } } }
      principals: callers(filter: $filter, first: 5, groupBy: PRINCIPAL) { totalCount nodes { key calls(first: 3) { edges { node { eventId } } } actions(first: 2) { nodes { action calls } } } }
      resource(name: "boiler-temp", filter: $filter) { name changes { eventId action } created { eventId } lastUpdated { eventId } deleted { eventId } }
    }`;
    const [a, b] = await both(q, { filter: { from: FROM, to: TO } });
    expect(b).toEqual(a);
    expect(a.apiCalls.edges.length).toBe(30);
  });

  const ORDERS = ['CALLS_DESC', 'ERRORS_DESC', 'LAST_SEEN_DESC', 'KEY_ASC'];

  test.each(ORDERS)('grouped pages after a cursor, ordered by %s: the second pages of callers, sourceIps and Caller.actions, and actions', async (orderBy) => {
    const stats = 'calls errors firstSeen lastSeen';
    const q = `query($filter: ApiCallFilter, $callers: String, $ips: String) {
      callers(filter: $filter, first: 4, after: $callers, orderBy: ${orderBy}) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { key principal stats { ${stats} } } } }
      sourceIps(filter: $filter, first: 4, after: $ips, orderBy: ${orderBy}) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { address kind stats { ${stats} } } } }
      actions(filter: $filter, orderBy: ${orderBy}) { action eventSource ${stats} distinctCallers distinctSourceIps }
    }`;
    const filter = { from: FROM, to: TO };
    const [first] = await both(q, { filter });
    expect(first.callers.pageInfo.hasNextPage && first.sourceIps.pageInfo.hasNextPage).toBe(true);
    const [a, b] = await both(q, { filter, callers: first.callers.pageInfo.endCursor, ips: first.sourceIps.pageInfo.endCursor });
    expect(b).toEqual(a);
    expect(a.callers.pageInfo.hasPreviousPage).toBe(true);
    expect(a.callers.edges.length).toBe(4);
    expect(a.callers.edges[0].node.key).not.toBe(first.callers.edges[0].node.key);

    // The caller with the most actions, its actions one at a time: the second page on both.
    const nested = `query($k: String!, $filter: ApiCallFilter, $after: String) { caller(key: $k, filter: $filter) {
      actions(first: 1, after: $after, orderBy: ${orderBy}) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { action eventSource ${stats} } } } } }`;
    const counted = (await duck.gql(`query($filter: ApiCallFilter) { callers(filter: $filter, first: 100) { nodes { key actions(first: 1) { totalCount } } } }`, { filter })).data.callers.nodes as { key: string; actions: { totalCount: number } }[];
    const busiest = counted.reduce((a, b) => (b.actions.totalCount > a.actions.totalCount ? b : a)).key;
    const [one] = await both(nested, { k: busiest, filter });
    expect(one.caller.actions.pageInfo.hasNextPage).toBe(true);
    const [c, d] = await both(nested, { k: busiest, filter, after: one.caller.actions.pageInfo.endCursor });
    expect(d).toEqual(c);
    expect(c.caller.actions.edges[0].node.action).not.toBe(one.caller.actions.edges[0].node.action);
  });

  test('objects by global id: nodes(ids:) gives the same objects on both', async () => {
    const list = `query($filter: ApiCallFilter) {
      apiCalls(filter: $filter, first: 5) { edges { node { id } } }
      callers(filter: $filter, first: 3) { nodes { id } }
      sourceIps(filter: $filter, first: 3) { nodes { id } }
      actions(filter: $filter) { id } }`;
    const d = (await duck.gql(list, { filter: { from: FROM, to: TO, outcome: 'SUCCESS' } })).data;
    const ids = [...d.apiCalls.edges.map((e: { node: { id: string } }) => e.node), ...d.callers.nodes, ...d.sourceIps.nodes, ...d.actions.slice(0, 3)].map((n: { id: string }) => n.id);
    const q = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on ApiCall { eventId eventTime action caller { id key } }
      ... on Caller { key stats { calls errors lastSeen } }
      ... on SourceIp { address stats { calls distinctCallers } }
      ... on ActionSummary { summaryAction: action calls distinctCallers } } }`;
    const [a, b] = await both(q, { ids });
    expect(b).toEqual(a);
    expect(a.nodes.map((n: { id: string }) => n.id)).toEqual(ids);
  });

  test('calls by global id on a table read only for named accounts: the accounts the ids carry are named', async () => {
    const d = (await duck.gql(`query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 5) { edges { node { id } } } }`, { filter: { from: FROM, to: TO } })).data;
    const ids = d.apiCalls.edges.map((e: { node: { id: string } }) => e.node.id);
    const injected = await startServer(dir, { CURSOR_SECRET: 'the-same-secret-for-both-servers' }, {
      now: () => SAMPLE_END,
      // The pair's engine, left open when this server closes.
      engine: { engine: Object.assign(new RecordingEngine(athenaEngine), { close: async () => undefined }), dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true, accountProjection: 'injected' }) },
    });
    try {
      const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ApiCall { eventId eventTime account region } } }`;
      const [a, b] = await Promise.all([duck.gql(q, { ids }), injected.gql(q, { ids })]);
      expect(b.errors).toBeUndefined();
      expect(b.data).toEqual(a.data);
      expect(a.data.nodes.every((n: { id: string } | null) => n !== null)).toBe(true);
      // An id without an account, asked beside them, is not found there; the others still are.
      const parts = JSON.parse(Buffer.from(ids[0], 'base64url').toString('utf8')) as unknown[];
      expect(parts[0]).toBe('ApiCall');
      parts[3] = null;
      const noAccount = Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
      const mixed = await injected.gql(q, { ids: [...ids, noAccount] });
      expect(mixed.errors).toBeUndefined();
      expect(mixed.data.nodes).toEqual([...a.data.nodes, null]);
    } finally {
      await injected.close();
    }
  });

  test('a region the table does not project is refused before any statement, not answered "no calls"', async () => {
    const projected = await startServer(dir, { CURSOR_SECRET: 'the-same-secret-for-both-servers' }, {
      now: () => SAMPLE_END,
      engine: { engine: Object.assign(new RecordingEngine(athenaEngine), { close: async () => undefined }), dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true, regions: ['us-east-1', 'eu-west-1'] }) },
    });
    try {
      const q = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } actions(filter: $f) { action calls } }`;
      const asked = athenaEngine.statements.length;
      const refused = await projected.gql(q, { f: { from: FROM, to: TO, regions: ['ap-southeast-4'] } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.regions' });
      expect(refused.errors?.[0]?.message).toMatch(/reads only us-east-1, eu-west-1; not ap-southeast-4/);
      expect(athenaEngine.statements.length).toBe(asked);
      // The projected regions, named or not, are answered as DuckDB answers them.
      for (const f of [{ from: FROM, to: TO, regions: ['eu-west-1'] }, { from: FROM, to: TO }]) {
        const [a, b] = await Promise.all([duck.gql(q, { f }), projected.gql(q, { f })]);
        expect(b.errors).toBeUndefined();
        expect(b.data).toEqual(a.data);
      }
    } finally {
      await projected.close();
    }
  });

  test('an account the table does not list, or a day before its first, is refused before any statement, not answered "no calls"', async () => {
    const accounts = [...new Set((await duck.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 500) { edges { node { account } } } }`, { f: { from: FROM, to: TO } })).data.apiCalls.edges.map((e: { node: { account: string } }) => e.node.account))].sort() as string[];
    const firstDay = FROM.slice(0, 10).replace(/-/g, '/');
    const listed = await startServer(dir, { CURSOR_SECRET: 'the-same-secret-for-both-servers' }, {
      now: () => SAMPLE_END,
      engine: { engine: Object.assign(new RecordingEngine(athenaEngine), { close: async () => undefined }), dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true, accounts, startDate: firstDay }) },
    });
    try {
      const q = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } actions(filter: $f) { action calls } }`;
      const asked = athenaEngine.statements.length;
      const other = await listed.gql(q, { f: { from: FROM, to: TO, accounts: ['999999999999'] } });
      expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.accounts' });
      expect(other.errors?.[0]?.message).toContain(`reads only ${accounts.join(', ')}; not 999999999999`);
      const before = await listed.gql(q, { f: { from: new Date(Date.parse(FROM) - 86_400_000).toISOString(), to: TO } });
      expect(before.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.from' });
      expect(before.errors?.[0]?.message).toContain(`begins on ${firstDay}`);
      expect(athenaEngine.statements.length).toBe(asked);
      // Listed accounts, named or not, from the first day on, are answered as DuckDB answers them.
      for (const f of [{ from: FROM, to: TO, accounts: [accounts[0]] }, { from: FROM, to: TO }]) {
        const [a, b] = await Promise.all([duck.gql(q, { f }), listed.gql(q, { f })]);
        expect(b.errors).toBeUndefined();
        expect(b.data).toEqual(a.data);
      }
    } finally {
      await listed.close();
    }
  });

  test('resources by global id: many names of one filter in one statement, the same objects on both', async () => {
    const names = ['boiler-temp', 'pump-pressure', 'boiler_telemetry', 'freezer-temp-high', 'test-model'];
    const list = `query($filter: ApiCallFilter) { ${names.map((n, i) => `r${i}: resource(name: "${n}", filter: $filter) { id changes { eventId } instances { id } }`).join(' ')} }`;
    const d = (await duck.gql(list, { filter: { from: FROM, to: TO } })).data;
    const histories = names.map((_, i) => d[`r${i}`]).filter((h: { changes: unknown[] }) => h.changes.length > 0);
    expect(histories.length).toBeGreaterThanOrEqual(2);
    const ids: string[] = [...histories.map((h: { id: string }) => h.id), ...histories.flatMap((h: { instances: { id: string }[] }) => h.instances.map((i) => i.id))];
    const q = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on ResourceHistory { name changes { eventId action } created { eventId } deleted { eventId } }
      ... on ResourceInstance { kind name account region created { eventId } lastUpdated { eventId } deleted { eventId } failedAttempts { eventId } } } }`;
    const before = athena.engine.executed.length;
    const [a, b] = await both(q, { ids });
    expect(b).toEqual(a);
    expect(a.nodes.map((n: { id: string }) => n.id)).toEqual(ids);
    // One statement for every name (the resource name IN bound values).
    const mine = athena.engine.executed.slice(before);
    expect(mine).toHaveLength(1);
    for (const n of names) expect(mine[0].sql).not.toContain(n);
  });

  test('apiCall lookups by eventId', async () => {
    const page = await duck.gql(`{ apiCalls(filter: { from: "${FROM}", to: "${TO}" }, first: 3) { edges { node { eventId } } } }`);
    const ids: string[] = page.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId);
    const q = `query($a: ID!, $b: ID!, $c: ID!, $from: DateTime, $to: DateTime) {
      a: apiCall(eventId: $a, from: $from, to: $to) { eventId action caller { arn } }
      b: apiCall(eventId: $b, from: $from, to: $to) { eventId action caller { arn } }
      c: apiCall(eventId: $c, from: $from, to: $to) { eventId action caller { arn } }
    }`;
    const [a, b] = await both(q, { a: ids[0], b: ids[1], c: ids[2], from: FROM, to: TO });
    expect(b).toEqual(a);
    expect(a.a.eventId).toBe(ids[0]);
  });
});

describe('a caller\'s identity is that of its newest call naming an identity type, on both engines', () => {
  test('a newer call without identity type, userName or MFA flag keeps those of an older one', async () => {
    const trail = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-newest-values-'));
    const account = '111122223333';
    const arn = `arn:aws:iam::${account}:user/ops`;
    const at = (h: number) => new Date(SAMPLE_END.getTime() - h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const call = (id: string, time: string, identity: Record<string, unknown>) => ({
      eventVersion: '1.08',
      userIdentity: { arn, accountId: account, principalId: 'AIDAEXAMPLE', ...identity },
      eventTime: time,
      eventSource: 'iotevents.amazonaws.com',
      eventName: 'ListDetectorModels',
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.7',
      eventID: id,
      readOnly: true,
      eventType: 'AwsApiCall',
      recipientAccountId: account,
    });
    const records = [
      call('00000000-0000-4000-8000-000000000001', at(3), { type: 'IAMUser', userName: 'ops', accessKeyId: 'AKIAOLDEXAMPLE', sessionContext: { attributes: { mfaAuthenticated: 'true' } } }),
      // The newest call's record names none of them (as some service-made records do).
      call('00000000-0000-4000-8000-000000000002', at(2), {}),
    ];
    const folder = path.join(trail, 'AWSLogs', account, 'CloudTrail', 'us-east-1', ...at(2).slice(0, 10).split('-'));
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${account}_CloudTrail_us-east-1_${at(2).slice(0, 16).replace(/[-:]/g, '')}Z_NewestValues01.json.gz`), gzipSync(JSON.stringify({ Records: records })));
    const local = await startDialectPair(trail);
    try {
      const query = `query($filter: ApiCallFilter) { callers(filter: $filter) { nodes { key identityType userName principalId mfaAuthenticated stats { calls } } } }`;
      const variables = { filter: { from: at(24), to: SAMPLE_END.toISOString() } };
      const [a, b] = await Promise.all([local.duck.gql(query, variables), local.athena.gql(query, variables)]);
      expect(a.errors).toBeUndefined();
      expect(b.errors).toBeUndefined();
      expect(a.data.callers.nodes).toEqual([{ key: arn, identityType: 'IAM_USER', userName: 'ops', principalId: 'AIDAEXAMPLE', mfaAuthenticated: true, stats: { calls: 2 } }]);
      expect(b.data).toEqual(a.data);
    } finally {
      await local.close();
      fs.rmSync(trail, { recursive: true, force: true });
    }
  });
});

describe('Athena statements', () => {
  test('every statement the suite produced parses with a Trino grammar', () => {
    const statements = athena.engine.executed;
    expect(statements.length).toBeGreaterThan(20);
    const parser = new Parser();
    for (const q of statements) expect(q.sql).toContain('"timestamp" BETWEEN ? AND ?');
    // Each text once: its values are parameters, so many statements are one text.
    const texts = new Set(statements.map((q) => forGrammar(q.sql)));
    for (const text of texts) expect(() => parser.astify(text, { database: 'trino' })).not.toThrow();
  });

  test('the grammar is a real check: broken SQL does not parse', () => {
    const parser = new Parser();
    expect(() => parser.astify('SELECT FROM WHERE (', { database: 'trino' })).toThrow();
  });
});
