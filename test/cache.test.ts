/**
 * The answer cache without Redis: keys, the TTL policy, the stored format, the in-process LRU,
 * single flight, bypass, and what happens when the store fails or returns garbage.
 */
import { randomBytes } from 'node:crypto';
import { CacheStore, MemoryStore, QueryCache, cacheKey, createCache, ttlFor, wantsNoCache } from '../src/cache';
import { lockKeyOf } from '../src/cache/cache';
import { COMPRESS_THRESHOLD_BYTES, InvalidEntryError, SYNC_INFLATE_MAX_BYTES, decodeEntry as decodeWith, encodeEntry as encodeWith, sealBody } from '../src/cache/codec';
import { loadConfig } from '../src/config';
import { INFLATE_BOMB } from './support/inflate-bomb';
import { CompiledQuery, Engine, Row } from '../src/query/engine';
import { createLogger } from '../src/logger';
import { QueryReport, QueryRunner } from '../src/query/runner';
import { BudgetExhaustedError } from '../src/errors';
import { ScanBudget, ScanBudgetError } from '../src/query/scan-budget';

const logger = createLogger('silent');
const SECRET = 'cache-test-secret-of-at-least-32-chars';
const encodeEntry = (key: string, entry: { rows: Row[]; storedAt: number }) => encodeWith(key, entry, SECRET);
const decodeEntry = (key: string, raw: Buffer) => decodeWith(key, raw, SECRET);
const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;
const POLICY = { deliveryLagMs: 20 * 60_000, closedTtlMs: 86_400_000, openTtlMs: 60_000 };

const engine = (sourceId = 'duckdb:/trail/a', name = 'duckdb'): Engine => ({
  name,
  sourceId,
  capabilities: { billedByScan: false, cancellable: true },
  execute: async () => ({ rows: [], stats: { engineMs: 0, bytesScanned: 0 } }),
  ping: async () => undefined,
  close: async () => undefined,
});

function query(over: Partial<CompiledQuery> = {}): CompiledQuery {
  return {
    sql: 'SELECT event_id FROM t WHERE event_time >= ? AND event_time < ?',
    params: ['2026-03-14T00:00:00Z', '2026-03-15T00:00:00Z'],
    partitions: { days: ['2026/03/14'], regions: [], accounts: [] },
    window: { from: new Date(NOW.getTime() - 36 * HOUR), to: new Date(NOW.getTime() - 12 * HOUR) },
    label: 'apiCalls',
    ...over,
  };
}

const sampleRows = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ event_id: `e-${i}`, event_time: `2026-03-14T10:${String(i % 60).padStart(2, '0')}:00Z`, error_code: i % 7 ? null : 'AccessDenied', read_only: i % 2 === 0, n: i }));

/** An engine stand-in counting executions; resolves when `release` is called (or at once). */
function fakeExec(rows: Row[], options: { gate?: Promise<void>; signal?: AbortSignal } = {}) {
  const state = { calls: 0 };
  const exec = async (): Promise<{ rows: Row[]; report: QueryReport }> => {
    state.calls += 1;
    await options.gate;
    if (options.signal?.aborted) throw new Error('aborted');
    return { rows, report: { label: 'apiCalls', engine: 'duckdb', cached: false, rows: rows.length, bytesScanned: 1234, engineMs: 7 } };
  };
  return { exec, state };
}

function memoryCache(over: { store?: CacheStore; now?: () => Date } = {}) {
  const store = over.store ?? new MemoryStore({ maxEntries: 100 });
  return { store, cache: new QueryCache({ store, policy: POLICY, lockWaitMs: 1000, secret: SECRET, logger, now: over.now ?? (() => NOW), salt: 'test' }) };
}

describe('cache keys', () => {
  const base = cacheKey(engine(), query(), 's');

  it('are prefixed sha256 digests, stable for the same input', () => {
    expect(base).toMatch(/^trailql:v1:q:[0-9a-f]{64}$/);
    expect(cacheKey(engine(), query(), 's')).toBe(base);
    expect(lockKeyOf(base)).toBe(base.replace(':q:', ':lock:'));
  });

  it('differ by engine, data source, SQL, parameters (with their types), window, salt and partition', () => {
    const variants = [
      cacheKey(engine('duckdb:/trail/b'), query(), 's'),
      cacheKey(engine('duckdb:/trail/a', 'athena'), query(), 's'),
      cacheKey(engine(), query({ sql: query().sql + ' LIMIT 51' }), 's'),
      cacheKey(engine(), query({ params: ['2026-03-14T00:00:00Z', '2026-03-15T00:00:01Z'] }), 's'),
      cacheKey(engine(), query({ params: [...query().params, 1] }), 's'),
      cacheKey(engine(), query({ params: [...query().params, '1'] }), 's'),
      cacheKey(engine(), query({ window: { from: query().window.from, to: new Date(query().window.to.getTime() + 1) } }), 's'),
      cacheKey(engine(), query(), 's2'),
      cacheKey(engine(), query(), 's', undefined, 'key:a'),
      cacheKey(engine(), query(), 's', undefined, 'key:b'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('do not depend on the label', () => {
    expect(cacheKey(engine(), query({ label: 'other' }), 's')).toBe(base);
  });

  it('carry the package version and schema version by default', () => {
    expect(cacheKey(engine(), query())).not.toBe(cacheKey(engine(), query(), 'x'));
    expect(cacheKey(engine(), query())).toBe(cacheKey(engine(), query()));
  });
});

describe('TTL policy', () => {
  const at = (minutesBeforeNow: number) => ({ to: new Date(NOW.getTime() - minutesBeforeNow * 60_000) });

  it('keeps answers over complete windows long', () => {
    expect(ttlFor(at(12 * 60), NOW, POLICY)).toEqual({ ttlMs: 86_400_000, closed: true });
    expect(ttlFor(at(20), NOW, POLICY)).toEqual({ ttlMs: 86_400_000, closed: true });
  });

  it('keeps answers over windows within the delivery lag, or reaching now or later, briefly', () => {
    expect(ttlFor(at(19), NOW, POLICY)).toEqual({ ttlMs: 60_000, closed: false });
    expect(ttlFor(at(0), NOW, POLICY)).toEqual({ ttlMs: 60_000, closed: false });
    expect(ttlFor(at(-60), NOW, POLICY)).toEqual({ ttlMs: 60_000, closed: false });
  });

  it('follows the configured lag', () => {
    expect(ttlFor(at(19), NOW, { ...POLICY, deliveryLagMs: 10 * 60_000 }).closed).toBe(true);
  });
});

describe('stored format', () => {
  it('round-trips small answers uncompressed', async () => {
    const rows = sampleRows(3);
    const raw = await encodeEntry('k', { rows, storedAt: 5 });
    expect(raw[3]).toBe(0);
    expect(await decodeEntry('k', raw)).toEqual({ rows, storedAt: 5 });
  });

  it('compresses large answers and round-trips them', async () => {
    const rows = sampleRows(2000);
    expect(JSON.stringify(rows).length).toBeGreaterThan(COMPRESS_THRESHOLD_BYTES);
    const raw = await encodeEntry('k', { rows, storedAt: 5 });
    expect(raw[3]).toBe(1);
    expect(raw.length).toBeLessThan(JSON.stringify(rows).length / 4);
    expect((await decodeEntry('k', raw)).rows).toEqual(rows);
  });

  it('round-trips large answers that stay large once compressed', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ i, id: randomBytes(48).toString('hex') }));
    const raw = await encodeEntry('k', { rows, storedAt: 5 });
    expect(raw[3]).toBe(1);
    expect(raw.length).toBeGreaterThan(SYNC_INFLATE_MAX_BYTES);
    expect((await decodeEntry('k', raw)).rows).toEqual(rows);
    await expect(decodeEntry('k', raw.subarray(0, raw.length - 100))).rejects.toBeInstanceOf(InvalidEntryError);
  });

  it('rejects anything that is not an entry written for this key', async () => {
    const good = await encodeEntry('k', { rows: sampleRows(2), storedAt: 5 });
    const big = await encodeEntry('k', { rows: sampleRows(2000), storedAt: 5 });
    const sealed = (body: string) => sealBody('k', Buffer.from(body), SECRET);
    const bad: Buffer[] = [
      Buffer.from('garbage'),
      Buffer.alloc(0),
      good.subarray(0, 10),
      Buffer.concat([Buffer.from([0x54, 0x51, 9, 0]), good.subarray(4)]),
      big.subarray(0, big.length - 20),
      await sealed(JSON.stringify({ k: 'k', t: 1, rows: [{ a: { nested: true } }] })),
      await sealed(JSON.stringify({ k: 'k', t: 1, rows: [[1, 2]] })),
      await sealed(JSON.stringify({ k: 'k', t: 1, rows: 'x' })),
      await sealed(JSON.stringify({ k: 'k', rows: [] })),
      await sealed('null'),
      await sealed('{not json'),
    ];
    for (const raw of bad) await expect(decodeEntry('k', raw)).rejects.toBeInstanceOf(InvalidEntryError);
    await expect(decodeEntry('other', good)).rejects.toThrow(/MAC/);
    // Authentic bytes whose body names another key (a MAC over the wrong key material) are refused too.
    await expect(decodeEntry('k', await sealBody('k', Buffer.from(JSON.stringify({ k: 'other', t: 1, rows: [] })), SECRET))).rejects.toThrow(/another key/);
    const unknownCompression = Buffer.from(good);
    unknownCompression[3] = 7;
    await expect(decodeEntry('k', unknownCompression)).rejects.toThrow(/MAC/);
    await expect(decodeEntry('k', await sealBody('k', Buffer.from('{"k":"k"}'), SECRET))).rejects.toThrow(/no timestamp/);
  });

  it('rejects a forged entry: right key and body, MAC from another secret or altered bytes', async () => {
    const rows = sampleRows(3);
    const forged = await encodeWith('k', { rows, storedAt: 5 }, 'an-attacker-guessed-secret-of-32-chars');
    await expect(decodeEntry('k', forged)).rejects.toThrow(/MAC does not match/);
    const good = await encodeEntry('k', { rows, storedAt: 5 });
    for (const at of [3, 4, 12, good.length - 2]) {
      const altered = Buffer.from(good);
      altered[at] ^= 1;
      await expect(decodeEntry('k', altered)).rejects.toBeInstanceOf(InvalidEntryError);
    }
  });

  it('refuses an inflate bomb before inflating it, and bounds what an authentic header declares', async () => {
    const bomb = INFLATE_BOMB;
    expect(bomb.length).toBeLessThan(1024);
    // Forged: the MAC is checked before anything is inflated.
    const forgedHeader = Buffer.from([0x54, 0x51, 2, 1, 0, 0, 0, 16]);
    await expect(decodeEntry('k', Buffer.concat([forgedHeader, Buffer.alloc(32), bomb]))).rejects.toThrow(/MAC/);
    // Authentic (a holder of the secret) but lying about its length: inflation stops at the declared size.
    const sealed = await sealBody('k', Buffer.from('{"k":"k","t":1,"rows":[]}'), SECRET, true);
    const liar = Buffer.concat([sealed.subarray(0, 40), bomb]);
    const { createHmac } = await import('node:crypto');
    createHmac('sha256', SECRET).update('k').update(Buffer.from([0])).update(liar.subarray(0, 8)).update(bomb).digest().copy(liar, 8);
    await expect(decodeEntry('k', liar)).rejects.toThrow(/cannot decompress/);
  });
});

describe('in-process LRU', () => {
  it('expires entries after their TTL', async () => {
    let t = 1000;
    const store = new MemoryStore({ maxEntries: 10, clock: { now: () => t } });
    await store.set('a', Buffer.from('1'), 500);
    expect(await store.get('a')).toEqual(Buffer.from('1'));
    t += 499;
    expect(await store.get('a')).toBeDefined();
    t += 2;
    expect(await store.get('a')).toBeUndefined();
  });

  it('is bounded by entries, evicting the least recently used', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await store.set(k, Buffer.from(k), 60_000);
    await store.get('a');
    await store.set('d', Buffer.from('d'), 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(store.size.entries).toBe(3);
  });

  it('is bounded by bytes', async () => {
    const store = new MemoryStore({ maxEntries: 100, maxBytes: 1000 });
    for (let i = 0; i < 10; i += 1) await store.set(`k${i}`, Buffer.alloc(300), 60_000);
    expect(store.size.bytes).toBeLessThanOrEqual(1000);
    expect(await store.get('k9')).toBeDefined();
    expect(await store.get('k0')).toBeUndefined();
  });
});

describe('QueryCache over the in-process store', () => {
  it('misses, then hits with a cost report that costs nothing', async () => {
    const { cache } = memoryCache();
    const rows = sampleRows(5);
    const { exec, state } = fakeExec(rows);
    const first = await cache.run(engine(), query(), exec);
    expect(first.report).toMatchObject({ cached: false, rows: 5, bytesScanned: 1234, engineMs: 7 });
    const second = await cache.run(engine(), query(), exec);
    expect(second.rows).toEqual(rows);
    expect(second.report).toEqual({ label: 'apiCalls', engine: 'duckdb', cached: true, rows: 5, bytesScanned: 0, engineMs: 0 });
    expect(state.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ backend: 'memory', connected: true, hits: 1, misses: 1, stores: 1, errors: 0 });
  });

  it('keeps data sources apart', async () => {
    const { cache } = memoryCache();
    const a = fakeExec(sampleRows(1));
    const b = fakeExec(sampleRows(2));
    await cache.run(engine('duckdb:/a'), query(), a.exec);
    const fromB = await cache.run(engine('duckdb:/b'), query(), b.exec);
    expect(fromB.rows).toHaveLength(2);
    expect((await cache.run(engine('duckdb:/a'), query(), b.exec)).rows).toHaveLength(1);
    expect(a.state.calls + b.state.calls).toBe(2);
  });

  it('runs 50 identical concurrent queries once', async () => {
    const { cache } = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { exec, state } = fakeExec(sampleRows(4), { gate });
    const all = Array.from({ length: 50 }, () => cache.run(engine(), query(), exec));
    release();
    const results = await Promise.all(all);
    expect(state.calls).toBe(1);
    expect(results.every((r) => r.rows.length === 4)).toBe(true);
    expect(results.filter((r) => !r.report.cached)).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 49 });
  });

  it('shares a failure with the queries waiting on it, and does not cache it', async () => {
    const { cache } = memoryCache();
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('engine down');
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.run(engine(), query(), failing)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    const { exec } = fakeExec(sampleRows(1));
    expect((await cache.run(engine(), query(), exec)).report.cached).toBe(false);
  });

  it('reruns for a waiter when the request that started the query was abandoned', async () => {
    const { cache } = memoryCache();
    const abandoned = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = fakeExec(sampleRows(2), { gate, signal: abandoned.signal });
    const second = fakeExec(sampleRows(2));
    const leader = cache.run(engine(), query(), first.exec, { signal: abandoned.signal });
    const waiter = cache.run(engine(), query(), second.exec, { signal: new AbortController().signal });
    abandoned.abort();
    release();
    await expect(leader).rejects.toThrow('aborted');
    expect((await waiter).rows).toHaveLength(2);
    expect(second.state.calls).toBe(1);
  });

  it.each([
    ['engine time', () => new BudgetExhaustedError('engineMs', 2000, 2004)],
    ['bytes scanned', () => new ScanBudgetError(1000, 1200)],
  ])("reruns for a waiter when the request that started the query ran out of its own budget (%s)", async (_what, refusal) => {
    const { cache } = memoryCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const spent = async (): Promise<never> => {
      await gate;
      throw refusal();
    };
    const second = fakeExec(sampleRows(2));
    const leader = cache.run(engine(), query(), spent);
    const waiter = cache.run(engine(), query(), second.exec, { signal: new AbortController().signal });
    release();
    await expect(leader).rejects.toThrow(/budget|scanned/);
    expect((await waiter).rows).toHaveLength(2);
    expect(second.state.calls).toBe(1);
  });

  it('bypasses stored answers on request and stores the fresh one', async () => {
    const { cache } = memoryCache();
    const old = fakeExec(sampleRows(1));
    await cache.run(engine(), query(), old.exec);
    const fresh = fakeExec(sampleRows(3));
    const bypass = await cache.run(engine(), query(), fresh.exec, { noCache: true });
    expect(bypass.report.cached).toBe(false);
    expect(fresh.state.calls).toBe(1);
    const after = await cache.run(engine(), query(), old.exec);
    expect(after.report.cached).toBe(true);
    expect(after.rows).toHaveLength(3);
    expect(cache.stats().bypassed).toBe(1);
  });

  it('stores open windows briefly and complete windows long', async () => {
    let t = 1000;
    const store = new MemoryStore({ maxEntries: 10, clock: { now: () => t } });
    const { cache } = memoryCache({ store });
    const open = query({ window: { from: new Date(NOW.getTime() - HOUR), to: NOW } });
    const { exec, state } = fakeExec(sampleRows(1));
    await cache.run(engine(), open, exec);
    await cache.run(engine(), query(), exec);
    t += 61_000;
    await cache.run(engine(), open, exec);
    await cache.run(engine(), query(), exec);
    expect(state.calls).toBe(3);
  });

  it('over files changing now, identical statements running together share one run, and nothing is kept', async () => {
    const { cache, store } = memoryCache();
    const changing: Engine = { ...engine(), fingerprint: async () => null };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { exec, state } = fakeExec(sampleRows(2), { gate });
    const runs = Array.from({ length: 5 }, () => cache.run(changing, query(), exec));
    release();
    const answers = await Promise.all(runs);
    expect(state.calls).toBe(1);
    expect(answers.every((a) => a.rows.length === 2 && a.reuse === undefined)).toBe(true);
    // Nothing kept: the next ask runs again.
    await cache.run(changing, query(), exec);
    expect(state.calls).toBe(2);
    expect(await store.get(cache.keyFor(changing, query()))).toBeUndefined();
  });

  it("a statement that succeeded but spent its request's scan budget is shared, not run again", async () => {
    let executions = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const billed: Engine = {
      ...engine(),
      capabilities: { billedByScan: true, cancellable: true },
      execute: async () => {
        executions += 1;
        await gate;
        return { rows: [{ n: 1 }], stats: { engineMs: 5, bytesScanned: 50_000_000 } };
      },
      ping: async () => undefined,
      close: async () => undefined,
    };
    const { cache } = memoryCache();
    const leader = new QueryRunner(billed, { cache, scanBudget: new ScanBudget(10_000_000), signal: new AbortController().signal });
    const waiter = new QueryRunner(billed, { cache, signal: new AbortController().signal });
    const a = leader.run(query());
    const b = waiter.run(query());
    release();
    // The leader's request is refused for its budget; the other has the rows, scanned once.
    await expect(a).rejects.toBeInstanceOf(ScanBudgetError);
    await expect(b).resolves.toEqual([{ n: 1 }]);
    expect(executions).toBe(1);
  });

  it("the wait for another instance's answer ends with the request", async () => {
    const inner = new MemoryStore({ maxEntries: 10 });
    // Another instance holds the lock and never answers.
    const store: CacheStore = { ...inner, kind: 'redis', get: (k) => inner.get(k), set: (k, v, t) => inner.set(k, v, t), delete: (k) => inner.delete(k), connected: () => true, close: () => inner.close(), lock: async () => undefined, unlock: async () => undefined, isLocked: async () => true };
    const cache = new QueryCache({ store, policy: POLICY, lockWaitMs: 10_000, secret: SECRET, logger, now: () => NOW, salt: 'test' });
    const gone = new AbortController();
    const { exec } = fakeExec(sampleRows(1), { signal: gone.signal });
    setTimeout(() => gone.abort(), 50);
    const started = Date.now();
    await expect(cache.run(engine(), query(), exec, { signal: gone.signal })).rejects.toThrow('aborted');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('instances with different secrets over one store keep their entries apart (a rotation under way)', async () => {
    const store = new MemoryStore({ maxEntries: 100 });
    const old = new QueryCache({ store, policy: POLICY, lockWaitMs: 1000, secret: SECRET, logger, now: () => NOW, salt: 'test' });
    const rotated = new QueryCache({ store, policy: POLICY, lockWaitMs: 1000, secret: `${SECRET}-rotated`, logger, now: () => NOW, salt: 'test' });
    const { exec, state } = fakeExec(sampleRows(2));
    for (let i = 0; i < 3; i += 1) for (const cache of [old, rotated]) await cache.run(engine(), query(), exec);
    // Each computed once and found twice after; neither took the other's entry for a forgery.
    expect(state.calls).toBe(2);
    expect([old.stats(), rotated.stats()].map((s) => [s.hits, s.invalid])).toEqual([[2, 0], [2, 0]]);
  });

  it('answers from the engine when the store fails, hangs or returns garbage, and counts it', async () => {
    const broken: CacheStore = {
      kind: 'memory',
      get: async () => {
        throw new Error('boom');
      },
      set: async () => {
        throw new Error('boom');
      },
      delete: async () => undefined,
      connected: () => true,
      close: async () => undefined,
    };
    const hanging: CacheStore = { ...broken, get: () => new Promise(() => undefined), set: () => new Promise(() => undefined) };
    const deleted: string[] = [];
    const written: string[] = [];
    const garbage: CacheStore = { ...broken, get: async () => Buffer.from('not an entry'), set: async (k) => void written.push(k), delete: async (k) => void deleted.push(k) };
    for (const store of [broken, hanging, garbage]) {
      const cache = new QueryCache({ store, policy: POLICY, lockWaitMs: 1000, secret: SECRET, logger, now: () => NOW, opTimeoutMs: 50 });
      const { exec, state } = fakeExec(sampleRows(2));
      const result = await cache.run(engine(), query(), exec);
      expect(result.rows).toHaveLength(2);
      expect(state.calls).toBe(1);
      const stats = cache.stats();
      expect(stats.errors + stats.invalid).toBeGreaterThan(0);
    }
    // The refused entry stays until the answer computed instead is stored over it.
    expect([deleted, written.length]).toEqual([[], 1]);
  });

  describe('decoded entries', () => {
    /** A store whose entries can be swapped behind the cache's back, counting its reads. */
    function swappable() {
      const inner = new MemoryStore({ maxEntries: 10 });
      const state = { gets: 0 };
      const store: CacheStore = {
        kind: 'memory',
        get: async (k) => {
          state.gets += 1;
          return inner.get(k);
        },
        set: (k, v, ttl) => inner.set(k, v, ttl),
        delete: (k) => inner.delete(k),
        connected: () => true,
        close: () => inner.close(),
      };
      return { store, state };
    }

    it('a hit on the very bytes decoded before is not decoded again, and its caller may reorder its rows', async () => {
      const { cache } = memoryCache();
      const { exec } = fakeExec(sampleRows(5));
      await cache.run(engine(), query(), exec);
      const codec = jest.requireActual<typeof import('../src/cache/codec')>('../src/cache/codec');
      const spy = jest.spyOn(codec, 'decodeEntry');
      try {
        const first = await cache.run(engine(), query(), exec);
        first.rows.reverse();
        const second = await cache.run(engine(), query(), exec);
        expect(second.rows).toEqual(sampleRows(5));
        expect(second.report.cached).toBe(true);
        second.rows.splice(0, 3);
        expect((await cache.run(engine(), query(), exec)).rows).toEqual(sampleRows(5));
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
    });

    it('bytes rewritten under the key are decoded again: a new answer is served, a forged one refused', async () => {
      const { store, state } = swappable();
      const { cache } = memoryCache({ store });
      const { exec, state: engineRuns } = fakeExec(sampleRows(2));
      await cache.run(engine(), query(), exec);
      expect((await cache.run(engine(), query(), exec)).rows).toHaveLength(2);
      const key = cache.keyFor(engine(), query());
      // Another instance stored a newer answer under the same key.
      await store.set(key, await encodeEntry(key, { rows: sampleRows(3), storedAt: 1 }), 60_000);
      expect((await cache.run(engine(), query(), exec)).rows).toEqual(sampleRows(3));
      // Bytes not written by this service: refused, and the engine answers.
      await store.set(key, await encodeWith(key, { rows: sampleRows(9), storedAt: 2 }, 'another-secret-of-at-least-32-chars!!'), 60_000);
      const refused = await cache.run(engine(), query(), exec);
      expect(refused.report.cached).toBe(false);
      expect(refused.rows).toHaveLength(2);
      expect(cache.stats().invalid).toBe(1);
      expect(engineRuns.calls).toBe(2);
      expect(state.gets).toBeGreaterThanOrEqual(4);
    });
  });

  it('answers from the engine when no key can be made', async () => {
    const { cache } = memoryCache();
    const { exec, state } = fakeExec(sampleRows(1));
    const broken = query({ window: { from: new Date(NaN), to: new Date(NaN) } });
    expect((await cache.run(engine(), broken, exec)).rows).toHaveLength(1);
    expect(state.calls).toBe(1);
    expect(cache.stats().errors).toBe(1);
  });

  it('is a pass-through when disabled', async () => {
    const cache = createCache(loadConfig({ CACHE_ENABLED: 'false' }), logger);
    const { exec, state } = fakeExec(sampleRows(1));
    await cache.run(engine(), query(), exec);
    await cache.run(engine(), query(), exec);
    expect(state.calls).toBe(2);
    expect(cache.stats().backend).toBe('off');
  });
});

describe('configuration', () => {
  it('has defaults', () => {
    expect(loadConfig({}).cache).toEqual({
      enabled: true,
      redisUrl: undefined,
      deliveryLagMinutes: 1440,
      closedTtlSeconds: 86_400,
      openTtlSeconds: 60,
      maxEntries: 1000,
      lockWaitMs: 5000,
      sharedAcrossCallers: false,
      groupListMax: 2000,
      walks: { keepSeconds: 900, maxBytes: 64 * 1024 * 1024 },
      responses: { enabled: true, maxBytes: 64 * 1024 * 1024, ttlSeconds: 300 },
      secret: expect.any(String),
    });
    expect(createCache(loadConfig({}), logger).backend).toBe('memory');
  });

  it('reads the variables and rejects bad ones', () => {
    const c = loadConfig({ REDIS_URL: 'rediss://:pw@cache.internal:6380/2', CACHE_DELIVERY_LAG_MINUTES: '1500', CACHE_OPEN_TTL_SECONDS: '30', CACHE_LOCK_WAIT_MS: '0' });
    expect(c.cache).toMatchObject({ redisUrl: 'rediss://:pw@cache.internal:6380/2', deliveryLagMinutes: 1500, openTtlSeconds: 30, lockWaitMs: 0 });
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ CACHE_CLOSED_TTL_SECONDS: '0' })).toThrow(/CACHE_CLOSED_TTL_SECONDS/);
    expect(() => loadConfig({ CACHE_ENABLED: 'maybe' })).toThrow(/CACHE_ENABLED/);
  });

  it('requires CACHE_SECRET with Redis outside dev mode', () => {
    const real = { TRAIL_DIR: '/tmp', API_KEYS: JSON.stringify([{ id: 'a', sha256: 'a'.repeat(64), accounts: ['*'] }]), REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(() => loadConfig(real)).toThrow(/CACHE_SECRET: required with REDIS_URL/);
    expect(() => loadConfig({ ...real, CACHE_SECRET: 'short' })).toThrow(/CACHE_SECRET: must be at least 32/);
    expect(loadConfig({ ...real, CACHE_SECRET: 's'.repeat(32) }).cache.secret).toBe('s'.repeat(32));
    expect(() => loadConfig({ ...real, REDIS_URL: undefined })).not.toThrow();
  });
});

describe('wantsNoCache', () => {
  it('reads x-trailql-no-cache', () => {
    expect(wantsNoCache({ headers: { 'x-trailql-no-cache': '1' } })).toBe(true);
    expect(wantsNoCache({ headers: { 'x-trailql-no-cache': 'true' } })).toBe(true);
    expect(wantsNoCache({ headers: { 'x-trailql-no-cache': '0' } })).toBe(false);
    expect(wantsNoCache({ headers: {} })).toBe(false);
  });
});
