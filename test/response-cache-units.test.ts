/**
 * The response cache's own rules, without a server: keys per caller and body, the bound on what
 * it holds (bodies and the statements kept for their fingerprints), lifetimes, and the file-state
 * check on every hit.
 */
import { ResponseCache } from '../src/cache/response-cache';
import type { CompiledQuery } from '../src/query/engine';
import type { Scope } from '../src/query/guards';

const scope = (over: Partial<Scope> = {}): Scope => ({ accounts: [], regions: [], readPayloads: true, principal: 'k1', admin: false, ...over });
const query = (day: string, sql = 'SELECT 1'): CompiledQuery => ({
  sql,
  params: [day],
  partitions: { days: [day], regions: [], accounts: [] } as unknown as CompiledQuery['partitions'],
  window: { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-15T00:00:00Z') },
  label: 'apiCalls',
});
const entry = (data = 'x') => ({ head: `{"data":${JSON.stringify(data)},"extensions":{"requestId":`, tail: '}}\n', operationName: null, queries: 1, rows: 1 });

/** File states by day, as an engine's fingerprint would give them. */
function engine() {
  const states = new Map<string, string>();
  const asked: string[] = [];
  return {
    states,
    asked,
    fingerprint: async (q: CompiledQuery) => {
      const day = String(q.params[0]);
      asked.push(day);
      return states.get(day) ?? 'v1';
    },
  };
}

test('keys differ by every part of the scope, the principal and the body bytes', () => {
  const cache = new ResponseCache(engine(), { maxBytes: 1 << 20, maxEntryBytes: 1 << 16, maxTtlMs: 60_000, salt: 't' });
  const body = Buffer.from('{"query":"{ apiCalls { totalCount } }"}');
  const base = cache.keyOf(scope(), body);
  expect(cache.keyOf(scope(), Buffer.from(body))).toBe(base);
  for (const other of [
    cache.keyOf(scope({ principal: 'k2' }), body),
    cache.keyOf(scope({ accounts: ['111122223333'] }), body),
    cache.keyOf(scope({ regions: ['eu-west-1'] }), body),
    cache.keyOf(scope({ readPayloads: false }), body),
    cache.keyOf(scope({ admin: true }), body),
    cache.keyOf(scope(), Buffer.from('{"query":"{ apiCalls { totalCount } }" }')),
  ]) {
    expect(other).not.toBe(base);
  }
});

test('a hit checks each distinct file state once; a changed one drops the entry', async () => {
  const e = engine();
  const cache = new ResponseCache(e, { maxBytes: 1 << 20, maxEntryBytes: 1 << 16, maxTtlMs: 60_000 });
  const deps = [
    { query: query('2026/03/14'), fingerprint: 'v1' },
    { query: query('2026/03/14', 'SELECT count(*)'), fingerprint: 'v1' },
    { query: query('2026/03/15'), fingerprint: 'v1' },
  ];
  cache.set('k', entry(), { ttlMs: 60_000, dependencies: deps });
  expect(await cache.get('k')).toBeDefined();
  expect(e.asked.sort()).toEqual(['2026/03/14', '2026/03/15']);
  e.states.set('2026/03/15', 'v2');
  expect(await cache.get('k')).toBeUndefined();
  expect(cache.stats()).toMatchObject({ hits: 1, stale: 1, entries: 0 });
  // Gone for good: the state going back does not revive it.
  e.states.delete('2026/03/15');
  expect(await cache.get('k')).toBeUndefined();
});

test('a fingerprint that cannot be taken is a miss', async () => {
  const cache = new ResponseCache({ fingerprint: async () => { throw new Error('the trail folder does not exist'); } }, { maxBytes: 1 << 20, maxEntryBytes: 1 << 16, maxTtlMs: 60_000 });
  cache.set('k', entry(), { ttlMs: 60_000, dependencies: [{ query: query('2026/03/14'), fingerprint: 'v1' }] });
  expect(await cache.get('k')).toBeUndefined();
});

test('what is held is bounded, statements included; an entry larger than its share is not kept', async () => {
  const bigSql = 'S'.repeat(10_000);
  const cache = new ResponseCache(engine(), { maxBytes: 50_000, maxEntryBytes: 20_000, maxTtlMs: 60_000 });
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, entry(String(i)), { ttlMs: 60_000, dependencies: [{ query: query('2026/03/14', bigSql), fingerprint: 'v1' }] });
  // Each entry holds about 10 KB of statement: no more than five fit in 50 KB.
  expect(cache.stats().entries).toBeLessThanOrEqual(4);
  expect(cache.stats().bytes).toBeLessThanOrEqual(50_000);
  expect(await cache.get('k9')).toBeDefined();
  expect(await cache.get('k0')).toBeUndefined();
  cache.set('huge', entry('y'.repeat(30_000)), { ttlMs: 60_000, dependencies: [] });
  expect(cache.stats().tooLarge).toBe(1);
  expect(await cache.get('huge')).toBeUndefined();
});

test('no entry outlives the shortest of its statements\' lifetimes or the configured bound', async () => {
  let t = 1_000;
  const cache = new ResponseCache(engine(), { maxBytes: 1 << 20, maxEntryBytes: 1 << 16, maxTtlMs: 10_000, clock: { now: () => t } });
  cache.set('short', entry(), { ttlMs: 2_000, dependencies: [] });
  cache.set('long', entry(), { ttlMs: 86_400_000, dependencies: [] });
  t += 2_500;
  expect(await cache.get('short')).toBeUndefined();
  expect(await cache.get('long')).toBeDefined();
  t += 8_000;
  expect(await cache.get('long')).toBeUndefined();
});
