/**
 * The answer cache against a real redis-server (started here on a free port), over HTTP:
 * hits and misses in the cost report, TTLs per window, isolation between data sources, single
 * flight in one process and across instances, expiry without a stampede, and faults: garbage
 * entries, a Redis that hangs, dies, comes back, or was never there.
 */
import * as fs from 'node:fs';
import Redis from 'ioredis';
import { QueryCache, createCache } from '../src/cache';
import { encodeEntry } from '../src/cache/codec';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { INFLATE_BOMB } from './support/inflate-bomb';
import { TestRedis, freePort, hasRedisServer, startRedis } from './support/redis';
import { hashKey } from '../src/auth/authenticate';
import { GqlResponse, TEST_KEYS, TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const logger = createLogger('silent');
const HOUR = 3_600_000;
const CLOSED = { from: new Date(SAMPLE_END.getTime() - 36 * HOUR).toISOString(), to: new Date(SAMPLE_END.getTime() - 12 * HOUR).toISOString() };
const QUERY = `query($filter: ApiCallFilter, $first: Int) {
  apiCalls(filter: $filter, first: $first) { edges { node { eventId eventTime action region } } }
}`;
/** Tests that stop or pause Redis need one of their own. */
const managedIt = hasRedisServer() ? it : it.skip;

interface Node {
  eventId: string;
}
interface CachedServer {
  server: TestServer;
  cache: QueryCache;
  close(): Promise<void>;
}

let redis: TestRedis;
let inspect: Redis;
let dirA: string;
let dirB: string;
const servers: CachedServer[] = [];

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A server over `dir` whose cache lives in the Redis at `url` (clock fixed at the sample's end).
 * A Redis command slower than `commandTimeoutMs` marks the cache down: a second where an outage is
 * the point (a busy machine's slow reply before it must not look like one), generous where sharing
 * is.
 */
async function cachedServer(dir: string, url: string, env: Record<string, string> = {}, waitConnected = true, commandTimeoutMs = 1000): Promise<CachedServer> {
  const config = loadConfig({ REDIS_URL: url, ...env });
  const cache = createCache(config, logger, { now: () => SAMPLE_END, commandTimeoutMs, probeIntervalMs: 100 });
  if (waitConnected) await waitUntil('the cache is connected', () => cache.stats().connected);
  // These requests exercise the shared store: no in-process response cache answers a repeated one before it.
  const server = await startServer(dir, { ...env, RESPONSE_CACHE_ENABLED: 'false' }, { cache, now: () => SAMPLE_END });
  const entry = {
    server,
    cache,
    close: async () => {
      await server.close();
      await cache.close();
    },
  };
  servers.push(entry);
  return entry;
}

/** apiCalls over the closed or the open (last 24 h up to "now") window; `first` varies the query. */
async function ask(server: TestServer, first: number, window: 'closed' | 'open' = 'closed', headers: Record<string, string> = {}): Promise<GqlResponse> {
  const res = await server.gql(QUERY, { first, filter: window === 'closed' ? CLOSED : {} }, headers);
  expect(res.errors).toBeUndefined();
  return res;
}

const ids = (res: GqlResponse): string[] => res.data.apiCalls.edges.map((e: { node: Node }) => e.node.eventId);
const cachedFlags = (res: GqlResponse): boolean[] => res.extensions?.cost.queries.map((q: { cached: boolean }) => q.cached);
/** The store key of the last engine query: with the engine's fingerprint of the files it read, as the cache computes it. */
const lastKey = async (s: CachedServer) => {
  const q = s.server.engine.executed[s.server.engine.executed.length - 1];
  return s.cache.keyFor(s.server.engine, q, (await s.server.engine.fingerprint?.(q)) ?? undefined, 'key:tests');
};

beforeAll(async () => {
  [redis, dirA, dirB] = await Promise.all([startRedis(), sampleTrail(1, { iotEventsPerDay: 60 }), sampleTrail(1, { iotEventsPerDay: 40 })]);
  inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  inspect.on('error', () => undefined);
});

async function closeServers(): Promise<void> {
  for (const s of servers.splice(0)) await s.close().catch(() => undefined);
}

afterAll(async () => {
  await closeServers();
  inspect?.disconnect();
  await redis?.stop();
  for (const d of [dirA, dirB]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('with Redis up', () => {
  let a1: CachedServer;
  let a2: CachedServer;
  let b: CachedServer;

  beforeAll(async () => {
    // Waiters wait for the one engine query however slow the machine is.
    const patient = { CACHE_LOCK_WAIT_MS: '60000' };
    a1 = await cachedServer(dirA, redis.url, patient, true, 5000);
    a2 = await cachedServer(dirA, redis.url, patient, true, 5000);
    b = await cachedServer(dirB, redis.url, patient, true, 5000);
  });

  it('misses, then hits, and the cost report says so', async () => {
    const before = a1.server.engine.executed.length;
    const miss = await ask(a1.server, 10);
    expect(cachedFlags(miss)).toEqual([false]);
    expect(miss.extensions?.cost.totals).toMatchObject({ queries: 1, engineQueries: 1, cacheHits: 0 });
    const hit = await ask(a1.server, 10);
    expect(cachedFlags(hit)).toEqual([true]);
    expect(hit.extensions?.cost.totals).toMatchObject({ queries: 1, engineQueries: 0, cacheHits: 1, bytesScanned: 0, engineMs: 0, rows: 10 + 1 });
    expect(hit.extensions?.cost.queries[0]).toMatchObject({ label: 'apiCalls', engine: 'duckdb', cached: true, rows: 11 });
    expect(ids(hit)).toEqual(ids(miss));
    expect(ids(hit)).toHaveLength(10);
    expect(a1.server.engine.executed.length - before).toBe(1);
    // Another instance reads the same entry.
    expect(cachedFlags(await ask(a2.server, 10))).toEqual([true]);
  });

  it('bypasses the cache with x-trailql-no-cache: 1', async () => {
    await ask(a1.server, 11);
    const before = a1.server.engine.executed.length;
    const fresh = await ask(a1.server, 11, 'closed', { 'x-trailql-no-cache': '1' });
    expect(cachedFlags(fresh)).toEqual([false]);
    expect(a1.server.engine.executed.length - before).toBe(1);
  });

  it('keeps answers for a day: DuckDB answers are keyed on the files read, so even a window touching the present stays right', async () => {
    await ask(a1.server, 12, 'closed');
    const closedTtl = Number(await inspect.pttl(await lastKey(a1)));
    expect(closedTtl).toBeGreaterThan(86_400_000 - 60_000);
    expect(closedTtl).toBeLessThanOrEqual(86_400_000);
    await ask(a1.server, 12, 'open');
    // Engines without a file fingerprint (Athena) keep such answers a minute: see ttlFor in cache.test.ts.
    const openTtl = Number(await inspect.pttl(await lastKey(a1)));
    expect(openTtl).toBeGreaterThan(86_400_000 - 60_000);
    expect(openTtl).toBeLessThanOrEqual(86_400_000);
  });

  it('never shares answers between data sources', async () => {
    const fromA = await ask(a1.server, 13);
    const fromB = await ask(b.server, 13);
    expect(cachedFlags(fromB)).toEqual([false]);
    expect(ids(fromB)).not.toEqual(ids(fromA));
    expect(await lastKey(b)).not.toBe(await lastKey(a1));
    const again = await ask(b.server, 13);
    expect(cachedFlags(again)).toEqual([true]);
    expect(ids(again)).toEqual(ids(fromB));
  });

  it('runs 50 identical concurrent requests as one engine query', async () => {
    const before = a1.server.engine.executed.length;
    const responses = await Promise.all(Array.from({ length: 50 }, () => ask(a1.server, 14)));
    expect(a1.server.engine.executed.length - before).toBe(1);
    const expected = ids(responses[0]);
    for (const r of responses) expect(ids(r)).toEqual(expected);
    expect(responses.flatMap(cachedFlags).filter((c) => !c)).toHaveLength(1);
  });

  it('runs identical concurrent requests to two instances as one engine query', async () => {
    const before = a1.server.engine.executed.length + a2.server.engine.executed.length;
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(i % 2 ? a2.server : a1.server, 15)));
    expect(a1.server.engine.executed.length + a2.server.engine.executed.length - before).toBe(1);
    for (const r of responses) expect(ids(r)).toEqual(ids(responses[0]));
  });

  it('does not stampede when an entry expires under load', async () => {
    await ask(a1.server, 16);
    const key = await lastKey(a1);
    const before = a1.server.engine.executed.length + a2.server.engine.executed.length;
    await inspect.pexpire(key, 150);
    // Requests keep arriving on both instances before, during and after the expiry.
    const inFlight: Promise<GqlResponse>[] = [];
    for (let i = 0; i < 30; i += 1) {
      inFlight.push(ask(i % 2 ? a2.server : a1.server, 16));
      await new Promise((r) => setTimeout(r, 10));
    }
    const responses = await Promise.all(inFlight);
    const after = a1.server.engine.executed.length + a2.server.engine.executed.length;
    expect(after - before).toBeLessThanOrEqual(1);
    if (after - before === 0) {
      // The burst ended before the entry expired: one more burst, now that it has.
      await waitUntil('the entry has expired', async () => (await inspect.exists(key)) === 0, 5000);
      await Promise.all(Array.from({ length: 30 }, (_, i) => ask(i % 2 ? a2.server : a1.server, 16)));
      expect(a1.server.engine.executed.length + a2.server.engine.executed.length - before).toBe(1);
    }
    for (const r of responses) expect(ids(r)).toEqual(ids(responses[0]));
  });

  it('treats garbage and wrong-type entries as misses, answers correctly and repairs the entry', async () => {
    const good = await ask(a1.server, 17);
    const key = await lastKey(a1);
    const invalidBefore = a1.cache.stats().invalid;
    await inspect.set(key, 'garbage');
    const afterGarbage = await ask(a1.server, 17);
    expect(ids(afterGarbage)).toEqual(ids(good));
    expect(cachedFlags(afterGarbage)).toEqual([false]);
    expect(a1.cache.stats().invalid).toBe(invalidBefore + 1);
    expect(cachedFlags(await ask(a1.server, 17))).toEqual([true]);

    const errorsBefore = a1.cache.stats().errors;
    await inspect.del(key);
    await inspect.lpush(key, 'x');
    const afterWrongType = await ask(a1.server, 17);
    expect(ids(afterWrongType)).toEqual(ids(good));
    expect(a1.cache.stats().errors).toBeGreaterThan(errorsBefore);
    expect(cachedFlags(await ask(a1.server, 17))).toEqual([true]);
  });
  it('serves no forged entry: right key and rows, wrong MAC, or an inflate bomb, is a counted miss', async () => {
    const good = await ask(a1.server, 8);
    const key = await lastKey(a1);
    const forgedRows = [{ event_id: 'forged', event_time: '2020-01-01T00:00:00Z', event_name: 'DeleteDetectorModel', aws_region: 'us-east-1' }];
    const forged = await encodeEntry(key, { rows: forgedRows, storedAt: Date.now() }, 'a-guessed-secret-that-is-32-chars-long');
    const bomb = Buffer.concat([Buffer.from([0x54, 0x51, 2, 1, 0, 0, 0, 64]), Buffer.alloc(32), INFLATE_BOMB]);
    for (const entry of [forged, bomb]) {
      const invalidBefore = a1.cache.stats().invalid;
      await inspect.set(key, entry);
      const res = await ask(a1.server, 8);
      expect(ids(res)).toEqual(ids(good));
      expect(cachedFlags(res)).toEqual([false]);
      expect(a1.cache.stats().invalid).toBe(invalidBefore + 1);
    }
    expect(cachedFlags(await ask(a1.server, 8))).toEqual([true]);
  });
});

describe('between callers', () => {
  // A second key that sees what the tests' key sees: the same statements, asked by another caller.
  const OTHER_KEY = 'another-key-with-full-scope-987654321';
  const keys = JSON.stringify([...TEST_KEYS, { id: 'other', sha256: hashKey(OTHER_KEY), accounts: ['*'], regions: [], payloads: true, admin: false }]);
  const asOther = { authorization: `Bearer ${OTHER_KEY}` };

  it('answers kept for one caller are not given to another (that would tell it what the first asked)', async () => {
    const s1 = await cachedServer(dirA, redis.url, { API_KEYS: keys }, true, 5000);
    const s2 = await cachedServer(dirA, redis.url, { API_KEYS: keys }, true, 5000);
    expect(cachedFlags(await ask(s1.server, 31))).toEqual([false]);
    // The other caller, on either instance, asks the engine: nothing shows the first one asked.
    expect(cachedFlags(await ask(s2.server, 31, 'closed', asOther))).toEqual([false]);
    // Each finds its own answer again, on either instance.
    expect(cachedFlags(await ask(s1.server, 31, 'closed', asOther))).toEqual([true]);
    expect(cachedFlags(await ask(s2.server, 31))).toEqual([true]);
    expect(ids(await ask(s2.server, 31, 'closed', asOther))).toEqual(ids(await ask(s1.server, 31)));
  });

  it('are shared between callers whose scopes ask the same statements with CACHE_SHARED_ACROSS_CALLERS=true', async () => {
    const env = { API_KEYS: keys, CACHE_SHARED_ACROSS_CALLERS: 'true' };
    const s1 = await cachedServer(dirA, redis.url, env, true, 5000);
    const s2 = await cachedServer(dirA, redis.url, env, true, 5000);
    expect(cachedFlags(await ask(s1.server, 32))).toEqual([false]);
    expect(cachedFlags(await ask(s2.server, 32, 'closed', asOther))).toEqual([true]);
  });
});

describe('with Redis failing', () => {
  let own: TestRedis;
  let reference: TestServer;

  beforeAll(async () => {
    own = await startRedis();
    reference = await startServer(dirA, {}, { now: () => SAMPLE_END });
  });
  afterAll(async () => {
    await closeServers();
    await reference?.close();
    await own?.stop();
  });

  managedIt('answers correctly while Redis is dead, and caches again once it is back', async () => {
    const f = await cachedServer(dirA, own.url);
    const expected = ids(await ask(reference, 20));
    const expectedOpen = ids(await ask(reference, 21, 'open'));
    expect(ids(await ask(f.server, 20))).toEqual(expected);
    expect(cachedFlags(await ask(f.server, 20))).toEqual([true]);

    await own.kill();
    const errorsBefore = f.cache.stats().errors;
    const before = f.server.engine.executed.length;
    for (let i = 0; i < 3; i += 1) {
      const res = await ask(f.server, 20);
      expect(ids(res)).toEqual(expected);
      expect(cachedFlags(res)).toEqual([false]);
      expect(ids(await ask(f.server, 21, 'open'))).toEqual(expectedOpen);
    }
    expect(f.server.engine.executed.length - before).toBe(6);
    expect(f.cache.stats().errors).toBeGreaterThanOrEqual(errorsBefore + 6);
    expect(f.cache.stats().connected).toBe(false);

    await own.restart();
    await waitUntil('the cache has reconnected', () => f.cache.stats().connected);
    expect(cachedFlags(await ask(f.server, 20))).toEqual([false]);
    const hit = await ask(f.server, 20);
    expect(cachedFlags(hit)).toEqual([true]);
    expect(ids(hit)).toEqual(expected);
  });

  managedIt('answers correctly while Redis hangs', async () => {
    const f = await cachedServer(dirA, own.url);
    const expected = ids(await ask(reference, 22));
    await ask(f.server, 22);
    const origin = new URL(f.server.url).origin;
    const cacheCheck = async () => ((await (await fetch(`${origin}/readyz`)).json()) as { checks: { cache: { status: string } } }).checks.cache.status;
    const cacheUp = async () => /trailql_cache_up\{backend="redis"\} (\d)/.exec(await (await fetch(`${origin}/metrics`)).text())?.[1];
    expect(await cacheCheck()).toBe('ok');
    expect(await cacheUp()).toBe('1');
    own.pause();
    try {
      const errorsBefore = f.cache.stats().errors;
      const res = await ask(f.server, 22);
      expect(ids(res)).toEqual(expected);
      expect(cachedFlags(res)).toEqual([false]);
      expect(f.cache.stats().errors).toBeGreaterThan(errorsBefore);
      // The first timeout marks the cache down, and probes, metrics and later requests see it.
      expect(f.cache.stats().connected).toBe(false);
      expect(await cacheCheck()).toBe('down');
      expect(await cacheUp()).toBe('0');
      const engineBefore = f.server.engine.executed.length;
      for (let i = 0; i < 3; i += 1) expect(ids(await ask(f.server, 22))).toEqual(expected);
      expect(f.server.engine.executed.length - engineBefore).toBe(3);
      expect(f.cache.stats().connected).toBe(false);
    } finally {
      own.resume();
    }
    await waitUntil('the cache is marked up again', () => f.cache.stats().connected);
    expect(await cacheCheck()).toBe('ok');
    await waitUntil('the cache answers again', async () => cachedFlags(await ask(f.server, 22))[0] === true);
  });

  it('answers correctly when Redis was never there', async () => {
    const port = await freePort();
    const f = await cachedServer(dirA, `redis://127.0.0.1:${port}`, {}, false);
    const expected = ids(await ask(reference, 23));
    for (let i = 0; i < 3; i += 1) {
      const res = await ask(f.server, 23);
      expect(ids(res)).toEqual(expected);
      expect(cachedFlags(res)).toEqual([false]);
    }
    expect(f.server.engine.executed).toHaveLength(3);
    const stats = f.cache.stats();
    expect(stats).toMatchObject({ backend: 'redis', connected: false, hits: 0, misses: 3 });
    expect(stats.errors).toBeGreaterThanOrEqual(3);
  });
});
