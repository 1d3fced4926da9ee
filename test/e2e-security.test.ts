/**
 * Access control over HTTP: who gets in, what each key or token may see through every query path,
 * and the limits that refuse a request before any engine query runs.
 */
import { createHash } from 'node:crypto';
import * as jose from 'jose';
import { Authenticator, hashKey } from '../src/auth/authenticate';
import { loadConfig } from '../src/config';
import { followPages } from './support/api-calls';
import { IOT_SOURCES, RawRecord, callerKeyOf, dedupe, inWindow, readRecords } from './support/records';
import { TEST_KEY, TEST_KEYS, TestServer, startServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const A = '111122223333';
const FROM = new Date(SAMPLE_END.getTime() - 20 * 3_600_000);
const W = { from: FROM.toISOString(), to: SAMPLE_END.toISOString() };
const KEY_A = 'key-for-account-a-only-0123456789';
const KEY_EU = 'key-for-eu-west-1-only-0123456789';
const SECRET = 'a-shared-secret-of-at-least-32-characters!';

let dir: string;
let server: TestServer;
let all: RawRecord[];

const keys = [
  ...TEST_KEYS,
  { id: 'a', sha256: hashKey(KEY_A), accounts: [A], regions: [], payloads: false, admin: false },
  { id: 'eu', sha256: hashKey(KEY_EU), accounts: ['*'], regions: ['eu-west-1'], payloads: true, admin: false },
];

const sample = useSampleServer(1, { iotEventsPerDay: 80, deliveryMinutes: 15 }, { env: { API_KEYS: JSON.stringify(keys), JWT_SECRET: SECRET, JWT_ISSUER: 'https://idp.example.com', JWT_AUDIENCE: 'trailql', MAX_QUERY_DEPTH: '8', MAX_ALIASES: '5', CORS_ORIGINS: 'https://portal.example.com' } });

beforeAll(() => {
  dir = sample.dir;
  server = sample.server;
  all = dedupe(readRecords(dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, SAMPLE_END));
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** The HTTP status every refusal with that code must carry. */
const STATUS: Record<string, number> = { BAD_USER_INPUT: 400, QUERY_TOO_COMPLEX: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403 };

/** Refused with `code` and its status, no data, and no engine query (none run, none reported). */
async function expectRefused(query: string, variables: Record<string, unknown>, headers: Record<string, string>, code: string) {
  server.engine.reset();
  const res = await server.gql(query, variables, headers);
  expect(res.errors?.[0]?.extensions?.code).toBe(code);
  expect(res.status).toBe(STATUS[code]);
  expect(res.data ?? null).toBeNull();
  expect(server.engine.executed).toHaveLength(0);
  expect(res.extensions?.cost?.queries ?? []).toEqual([]);
  return res;
}

async function ok(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await server.gql(query, variables, headers);
  expect(res.errors).toBeUndefined();
  return res.data;
}

async function pageAll(headers: Record<string, string>, filter: Record<string, unknown> = {}): Promise<{ eventId: string; account: string; requestParameters: unknown }[]> {
  const pages = await followPages(async (after) => {
    const data = await ok(
      `query($f: ApiCallFilter, $a: String) { apiCalls(filter: $f, first: 500, after: $a) { pageInfo { hasNextPage endCursor } edges { node { eventId account requestParameters } } } }`,
      { f: { ...W, ...filter }, a: after },
      headers,
    );
    return data.apiCalls;
  });
  return pages.flatMap((conn) => conn.edges.map((e: { node: { eventId: string; account: string; requestParameters: unknown } }) => e.node));
}

describe('authentication', () => {
  test('no credentials: 401 UNAUTHENTICATED, no engine query', async () => {
    const res = await expectRefused('{ apiCalls { edges { node { eventId } } } }', {}, { authorization: '' }, 'UNAUTHENTICATED');
    expect(res.status).toBe(401);
  });
  test('an unknown key, a malformed header', async () => {
    await expectRefused('{ apiCalls { edges { node { eventId } } } }', {}, as('not-a-key'), 'UNAUTHENTICATED');
    await expectRefused('{ apiCalls { edges { node { eventId } } } }', {}, { authorization: 'Basic dXNlcjpwYXNz' }, 'UNAUTHENTICATED');
  });

  const sign = (claims: Record<string, unknown>, opts: { exp?: string; aud?: string; iss?: string; secret?: string } = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice@example.com')
      .setIssuer(opts.iss ?? 'https://idp.example.com')
      .setAudience(opts.aud ?? 'trailql')
      .setExpirationTime(opts.exp ?? '10m')
      .sign(new TextEncoder().encode(opts.secret ?? SECRET));

  test('a JWT with a scope claim is accepted and scoped', async () => {
    const token = await sign({ trailql: { accounts: [A] } });
    const rows = await pageAll(as(token));
    expect(rows.length).toBe(all.filter((r) => r.recipientAccountId === A).length);
    expect(rows.every((r) => r.account === A)).toBe(true);
  });

  test('expired, wrong audience, wrong issuer, wrong signature, bad scope claim', async () => {
    const q = '{ apiCalls { edges { node { eventId } } } }';
    await expectRefused(q, {}, as(await sign({ trailql: {} }, { exp: '-1m' })), 'UNAUTHENTICATED');
    await expectRefused(q, {}, as(await sign({ trailql: {} }, { aud: 'other' })), 'UNAUTHENTICATED');
    await expectRefused(q, {}, as(await sign({ trailql: {} }, { iss: 'https://evil.example.com' })), 'UNAUTHENTICATED');
    await expectRefused(q, {}, as(await sign({ trailql: {} }, { secret: 'another-secret-of-at-least-32-characters' })), 'UNAUTHENTICATED');
    await expectRefused(q, {}, as(await sign({ trailql: { accounts: ['not-an-account'] } })), 'UNAUTHENTICATED');
  });

  test('a token without the scope claim, with an empty one, or naming no accounts: 401, no data', async () => {
    const q = '{ apiCalls { edges { node { eventId } } } }';
    for (const claims of [{}, { trailql: {} }, { trailql: { accounts: [] } }, { trailql: null }, { trailql: { regions: ['eu-west-1'], payloads: true } }]) {
      await expectRefused(q, {}, as(await sign(claims)), 'UNAUTHENTICATED');
    }
  });

  test('an unsigned token (alg none) is refused, even with an all-accounts claim', async () => {
    const unsigned = new jose.UnsecuredJWT({ trailql: { accounts: ['*'], admin: true } })
      .setSubject('mallory')
      .setIssuer('https://idp.example.com')
      .setAudience('trailql')
      .setExpirationTime('10m')
      .encode();
    await expectRefused('{ apiCalls { edges { node { eventId } } } }', {}, as(unsigned), 'UNAUTHENTICATED');
  });

  test('an explicit all-accounts claim sees every account', async () => {
    for (const claim of [{ accounts: ['*'] }, { admin: true }]) {
      const rows = await pageAll(as(await sign({ trailql: claim })));
      expect(rows.length).toBe(all.length);
      expect(new Set(rows.map((r) => r.account)).size).toBeGreaterThan(1);
    }
  });

  test('a key entry naming no accounts stops start-up', () => {
    const entry = { id: 'empty', sha256: hashKey('x'), regions: [], payloads: false, admin: false };
    expect(() => loadConfig({ TRAIL_DIR: dir, API_KEYS: JSON.stringify([{ ...entry, accounts: [] }]) })).toThrow(/accounts: name the accounts/);
    expect(() => loadConfig({ TRAIL_DIR: dir, API_KEYS: JSON.stringify([entry]) })).toThrow(/accounts/);
    expect(loadConfig({ TRAIL_DIR: dir, API_KEYS: JSON.stringify([{ ...entry, accounts: ['*'] }]) }).security.auth.apiKeys).toHaveLength(1);
  });

  test('dev mode is refused on a real trail, and some way to authenticate is required', () => {
    expect(() => loadConfig({ TRAIL_DIR: dir, AUTH_DEV_MODE: 'true' })).toThrow(/AUTH_DEV_MODE/);
    expect(() => loadConfig({ TRAIL_DIR: dir })).toThrow(/no way to authenticate/);
    expect(loadConfig({}).security.auth.devMode).toBe(true);
  });
});

describe('a key scoped to account A sees nothing of other accounts, by any path', () => {
  const aRecords = () => all.filter((r) => r.recipientAccountId === A);
  const bRecords = () => all.filter((r) => r.recipientAccountId !== A);

  test('apiCalls: every page, only A, and payloads withheld', async () => {
    const rows = await pageAll(as(KEY_A));
    expect(new Set(rows.map((r) => r.eventId))).toEqual(new Set(aRecords().map((r) => r.eventID)));
    expect(rows.every((r) => r.requestParameters === null)).toBe(true);
    expect((await pageAll(as(TEST_KEY))).some((r) => r.requestParameters !== null)).toBe(true);
  });

  test('errorMessage is payload: withheld without payloads', async () => {
    const q = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 500) { edges { node { errorCode errorMessage } } } }`;
    const failed = (data: { apiCalls: { edges: { node: { errorCode: string | null; errorMessage: string | null } }[] } }) => data.apiCalls.edges.map((e) => e.node).filter((n) => n.errorCode !== null);
    const withPayloads = failed(await ok(q, { f: { ...W, accounts: [A], errorsOnly: true } }, as(TEST_KEY)));
    expect(withPayloads.some((n) => n.errorMessage !== null)).toBe(true);
    const withheld = failed(await ok(q, { f: { ...W, errorsOnly: true } }, as(KEY_A)));
    expect(withheld.length).toBe(withPayloads.length);
    expect(withheld.every((n) => n.errorMessage === null)).toBe(true);
  });

  test('asking for account B is FORBIDDEN, not empty', async () => {
    await expectRefused('query($f: ApiCallFilter) { apiCalls(filter: $f) { edges { node { eventId } } } }', { f: { ...W, accounts: ['444455556666'] } }, as(KEY_A), 'FORBIDDEN');
    await expectRefused('query($f: ApiCallFilter) { callers(filter: $f) { nodes { key } } }', { f: { ...W, accounts: ['777788889999'] } }, as(KEY_A), 'FORBIDDEN');
    await expectRefused('query($f: ApiCallFilter) { activity(filter: $f, interval: DAY) { buckets { calls } } }', { f: { ...W, regions: ['us-east-1'] } }, as(KEY_EU), 'FORBIDDEN');
  });

  test('callers, sourceIps, actions and activity count only A', async () => {
    const data = await ok(
      `query($f: ApiCallFilter) {
        callers(filter: $f, first: 300) { pageInfo { hasNextPage } nodes { key stats { calls } calls(first: 10) { edges { node { account } } } } }
        sourceIps(filter: $f, first: 300) { pageInfo { hasNextPage } nodes { address stats { calls } calls(first: 10) { edges { node { account } } } callers(first: 20) { nodes { caller { key } calls } } } }
        actions(filter: $f) { calls }
        activity(filter: $f, interval: DAY) { buckets { calls } }
      }`,
      { f: W },
      as(KEY_A),
    );
    expect(data.callers.pageInfo.hasNextPage).toBe(false);
    expect(data.sourceIps.pageInfo.hasNextPage).toBe(false);
    const total = aRecords().length;
    const sum = (xs: { calls: number }[]) => xs.reduce((a, x) => a + x.calls, 0);
    expect(sum(data.callers.nodes.map((n: { stats: { calls: number } }) => n.stats))).toBe(total);
    expect(sum(data.sourceIps.nodes.map((n: { stats: { calls: number } }) => n.stats))).toBe(total);
    expect(sum(data.actions)).toBe(total);
    expect(sum(data.activity.buckets)).toBe(total);
    const nestedAccounts = [
      ...data.callers.nodes.flatMap((n: { calls: { edges: { node: { account: string } }[] } }) => n.calls.edges.map((e) => e.node.account)),
      ...data.sourceIps.nodes.flatMap((n: { calls: { edges: { node: { account: string } }[] } }) => n.calls.edges.map((e) => e.node.account)),
    ];
    expect(new Set(nestedAccounts)).toEqual(new Set([A]));
    const onlyA = new Set(aRecords().map(callerKeyOf));
    for (const ip of data.sourceIps.nodes) for (const c of ip.callers.nodes) expect(onlyA.has(c.caller.key)).toBe(true);
  });

  test('lookups of B\'s caller, address and event return nothing', async () => {
    const aKeys = new Set(aRecords().map(callerKeyOf));
    const bOnlyCaller = bRecords().map(callerKeyOf).find((k) => !aKeys.has(k))!;
    const aIps = new Set(aRecords().map((r) => r.sourceIPAddress));
    const bOnlyIp = bRecords().map((r) => r.sourceIPAddress).find((ip) => !aIps.has(ip))!;
    const bEvent = bRecords()[0].eventID;
    const data = await ok(
      `query($f: ApiCallFilter, $c: String!, $ip: String!, $e: ID!, $from: DateTime, $to: DateTime) {
        caller(arn: $c, filter: $f) { key } sourceIp(address: $ip, filter: $f) { address } apiCall(eventId: $e, from: $from, to: $to) { eventId }
      }`,
      { f: W, c: bOnlyCaller, ip: bOnlyIp, e: bEvent, from: W.from, to: W.to },
      as(KEY_A),
    );
    expect(data).toEqual({ caller: null, sourceIp: null, apiCall: null });
    const full = await ok(`query($e: ID!, $from: DateTime, $to: DateTime) { apiCall(eventId: $e, from: $from, to: $to) { eventId } }`, { e: bEvent, from: W.from, to: W.to }, as(TEST_KEY));
    expect(full.apiCall.eventId).toBe(bEvent);
  });

  test('a cursor made for a wider scope cannot be replayed by a narrower key', async () => {
    const first = await ok(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { pageInfo { endCursor } } }`, { f: W }, as(TEST_KEY));
    await expectRefused(
      `query($f: ApiCallFilter, $a: String) { apiCalls(filter: $f, first: 5, after: $a) { edges { node { eventId } } } }`,
      { f: W, a: first.apiCalls.pageInfo.endCursor },
      as(KEY_A),
      'BAD_USER_INPUT',
    );
  });
});

describe('limits', () => {
  test('too deep: QUERY_TOO_COMPLEX before any engine query, whatever the complexity', async () => {
    // Depth 10 over MAX_QUERY_DEPTH 8, with every page of size 1: complexity alone lets it through.
    const res = await expectRefused(
      `{ callers(first: 1) { nodes { calls(first: 1) { edges { node { caller { calls(first: 1) { edges { node { eventId } } } } } } } } } }`,
      {},
      as(TEST_KEY),
      'QUERY_TOO_COMPLEX',
    );
    expect(res.errors?.[0]?.message).toBe('query depth 10 is over the limit of 8');
    // One level less is run.
    const shallower = await server.gql(`{ callers(first: 1) { nodes { calls(first: 1) { edges { node { caller { key } } } } } } }`, {}, as(TEST_KEY));
    expect(shallower.errors).toBeUndefined();
  });
  test('too costly: nested connection sizes multiply', async () => {
    const res = await expectRefused(
      `{ apiCalls(first: 500) { edges { node { caller { calls(first: 500) { edges { node { eventId action region } } } } } } } }`,
      {},
      as(TEST_KEY),
      'QUERY_TOO_COMPLEX',
    );
    expect(res.errors?.[0]?.message).toMatch(/^query complexity \d+ is over the limit/);
  });
  test('too many aliases', async () => {
    const fields = Array.from({ length: 6 }, (_, i) => `a${i}: actions { calls }`).join(' ');
    const res = await expectRefused(`{ ${fields} }`, {}, as(TEST_KEY), 'QUERY_TOO_COMPLEX');
    expect(res.errors?.[0]?.message).toBe('6 aliases is over the limit of 5');
  });
  test('malformed persisted queries: 400 with a stable code, no engine query', async () => {
    const post = async (body: unknown) => {
      server.engine.reset();
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...as(TEST_KEY) }, body: JSON.stringify(body) });
      const json = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(server.engine.executed).toHaveLength(0);
      return { status: res.status, code: json.errors?.[0]?.extensions?.code };
    };
    const query = '{ actions { calls } }';
    expect(await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } })).toEqual({ status: 400, code: 'PERSISTED_QUERY_HASH_MISMATCH' });
    expect(await post({ query, extensions: { persistedQuery: { version: 2, sha256Hash: '0'.repeat(64) } } })).toEqual({ status: 400, code: 'PERSISTED_QUERY_VERSION_UNSUPPORTED' });
    expect(await post({ query, extensions: { persistedQuery: 'yes' } })).toEqual({ status: 400, code: 'PERSISTED_QUERY_VERSION_UNSUPPORTED' });
    expect(await post({ query, extensions: 'persisted' })).toEqual({ status: 400, code: 'BAD_REQUEST' });
    // Not malformed: the persisted-query protocol's request to send the query text (Apollo answers 200).
    expect(await post({ extensions: { persistedQuery: { version: 1, sha256Hash: '1'.repeat(64) } } })).toEqual({ status: 200, code: 'PERSISTED_QUERY_NOT_FOUND' });
  });
  test("a persisted query is known only to the caller that registered it", async () => {
    const send = async (key: string, body: Record<string, unknown>, method: 'POST' | 'GET' = 'POST') => {
      const res =
        method === 'POST'
          ? await fetch(server.url, { method, headers: { 'content-type': 'application/json', ...as(key) }, body: JSON.stringify(body) })
          : await fetch(`${server.url}?extensions=${encodeURIComponent(JSON.stringify(body.extensions))}`, { headers: { 'apollo-require-preflight': 'true', ...as(key) } });
      const json = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      return { status: res.status, code: json.errors?.[0]?.extensions?.code, data: json.data };
    };
    // Another caller's question, about an account key A may not read.
    const query = '{ caller(key: "arn:aws:iam::444455556666:user/mallory") { key } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    expect((await send(TEST_KEY, { query, extensions })).code).toBeUndefined();
    expect(await send(TEST_KEY, { extensions })).toMatchObject({ status: 200, code: undefined });
    expect(await send(TEST_KEY, { extensions }, 'GET')).toMatchObject({ status: 200, code: undefined });
    // Key A never sent it: by hash alone it is unknown, by POST or GET.
    expect(await send(KEY_A, { extensions })).toEqual({ status: 200, code: 'PERSISTED_QUERY_NOT_FOUND', data: undefined });
    expect(await send(KEY_A, { extensions }, 'GET')).toEqual({ status: 200, code: 'PERSISTED_QUERY_NOT_FOUND', data: undefined });
    // Once A sends the text itself, A's own hash is known to A.
    expect((await send(KEY_A, { query, extensions })).code).toBeUndefined();
    expect((await send(KEY_A, { extensions })).code).toBeUndefined();
  });
  test('nested arguments are checked before the first engine query', async () => {
    const nested = (args: string) => `{ callers(first: 5) { nodes { key calls(${args}) { edges { node { eventId } } } } } }`;
    await expectRefused(nested(`filter: { accounts: ["444455556666"] }`), {}, as(KEY_A), 'FORBIDDEN');
    await expectRefused(nested(`first: 100000`), {}, as(TEST_KEY), 'BAD_USER_INPUT');
    await expectRefused(nested(`filter: { actions: ["Not An Action"] }`), {}, as(TEST_KEY), 'BAD_USER_INPUT');
    await expectRefused(`{ sourceIps(first: 2) { nodes { callers(first: 501) { nodes { calls } } } } }`, {}, as(TEST_KEY), 'BAD_USER_INPUT');
    await expectRefused(
      `query($f: ApiCallFilter) { callers(first: 2) { nodes { ...C } } } fragment C on Caller { sourceIps(filter: $f) { nodes { calls } } }`,
      { f: { regions: ['us-east-1'] } },
      as(KEY_EU),
      'FORBIDDEN',
    );
  });
  test('batched operations are refused', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(TEST_KEY) },
      body: JSON.stringify([{ query: '{ actions { calls } }' }, { query: '{ actions { calls } }' }]),
    });
    expect(res.status).toBe(400);
  });
  test('page size over the maximum', async () => {
    await expectRefused('{ apiCalls(first: 501) { edges { node { eventId } } } }', {}, as(TEST_KEY), 'BAD_USER_INPUT');
  });
});

describe('browser access', () => {
  test('CORS: the allowed portal origin only', async () => {
    const pre = (origin: string) =>
      fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    expect((await pre('https://portal.example.com')).headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
    expect((await pre('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });

  test('introspection and the landing page can be switched off', async () => {
    const locked = await startServer(dir, { GRAPHQL_INTROSPECTION: 'false', SANDBOX: 'false' });
    try {
      const res = await locked.gql('{ __schema { types { name } } }');
      expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const page = await fetch(locked.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/sandbox/i);
    } finally {
      await locked.close();
    }
  });
});

describe('JWT with a PEM public key', () => {
  test('tokens are verified with the key, and JWT_ALGORITHM is the only algorithm accepted', async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('RS256');
    const pem = await jose.exportSPKI(publicKey);
    const token = (alg: string) => new jose.SignJWT({ trailql: { accounts: [A] } }).setProtectedHeader({ alg }).setSubject('bob').setExpirationTime('10m').sign(privateKey);
    const withAlg = (algorithm?: string, key = pem) =>
      new Authenticator(loadConfig({ TRAIL_DIR: '/tmp', JWT_PUBLIC_KEY: key, ...(algorithm ? { JWT_ALGORITHM: algorithm } : {}) }).security.auth);
    await expect(withAlg().authenticate(`Bearer ${await token('RS256')}`)).resolves.toMatchObject({ accounts: [A], principal: 'jwt:bob' });
    await expect(withAlg('RS256').authenticate(`Bearer ${await token('RS256')}`)).resolves.toMatchObject({ accounts: [A] });
    await expect(withAlg('PS256').authenticate(`Bearer ${await token('RS256')}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    // Signed by another key: refused.
    const other = await jose.exportSPKI((await jose.generateKeyPair('RS256')).publicKey);
    await expect(withAlg(undefined, other).authenticate(`Bearer ${await token('RS256')}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});
