/**
 * The store of grouped walks' lists: kept for their time, within their memory, and a digest that
 * tells two lists apart whenever a walk cut from one could differ from a walk cut from the other;
 * and the pages cut from a kept list, each found at its cursor without going through the list again.
 */
import fc from 'fast-check';
import { CompiledQuery } from '../src/query/engine';
import { KeptList, WalkStore, listDigest, pageAfter, positionOf } from '../src/query/walks';
import { OrderItem } from '../src/query/plan';

const QUERY = { label: 'callers:ARN', sql: 'SELECT 1', params: [] } as unknown as CompiledQuery;
const list = (n: number, text = 'arn:aws:iam::111122223333:user/u'): KeptList => ({
  rows: Array.from({ length: n }, (_, i) => ({ group_key: `${text}${i}`, calls: n - i })),
  measures: ['calls'],
  query: QUERY,
});

test('a list is kept for its time, then gone', () => {
  let now = 50_000;
  const store = new WalkStore({ keepMs: 1000, maxBytes: 1024 * 1024, clock: { now: () => now } });
  store.set('a', list(3));
  now += 999;
  expect(store.get('a')?.rows).toHaveLength(3);
  now += 2;
  expect(store.get('a')).toBeUndefined();
});

test('the store keeps within its bytes: the least recently used go first, a list larger than the store is not kept', () => {
  const store = new WalkStore({ keepMs: 60_000, maxBytes: 75_000 });
  store.set('a', list(100));
  store.set('b', list(100));
  expect(store.get('a')).toBeDefined();
  store.set('c', list(100));
  // 'b' was used least recently.
  expect(store.get('b')).toBeUndefined();
  expect(store.get('a')).toBeDefined();
  expect(store.size.bytes).toBeLessThanOrEqual(75_000);
  store.set('huge', list(2000));
  expect(store.get('huge')).toBeUndefined();
});

test('a kept list cannot be changed through what was given or taken', () => {
  const store = new WalkStore({ keepMs: 60_000, maxBytes: 1024 * 1024 });
  const given = list(3);
  store.set('a', given);
  (given.rows as unknown[]).pop();
  const taken = store.get('a')!;
  expect(taken.rows).toHaveLength(3);
  expect(() => (taken.rows as unknown[]).push({})).toThrow();
});

test('the digest tells lists apart by their groups, their order and their order values', () => {
  const position = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom('a', 'b', 'c', 'd'));
  fc.assert(
    fc.property(fc.array(position, { maxLength: 6 }), fc.array(position, { maxLength: 6 }), (x, y) => {
      expect(listDigest(x) === listDigest(y)).toBe(JSON.stringify(x) === JSON.stringify(y));
    }),
  );
  // Values that print alike are still apart.
  expect(listDigest([[1, 'a']])).not.toBe(listDigest([['1', 'a']]));
  expect(listDigest([[null, 'a']])).not.toBe(listDigest([['null', 'a']]));
});

test('a list counts its statement (text and values) and every value of its rows against the bound', () => {
  const store = new WalkStore({ keepMs: 60_000, maxBytes: 1024 * 1024 });
  const values = Array.from({ length: 200 }, (_, i) => `arn:aws:iam::111122223333:user/${'x'.repeat(900)}${i}`);
  for (let i = 0; i < 50; i++) store.set(`walk${i}`, { ...list(2), query: { ...QUERY, sql: 'SELECT 1', params: values } as unknown as CompiledQuery });
  // About 370 kB each: two fit in 1 MiB, whatever the few rows.
  expect(store.size.lists).toBeLessThanOrEqual(2);
  expect(store.size.bytes).toBeLessThanOrEqual(1024 * 1024);
  const keys = new WalkStore({ keepMs: 60_000, maxBytes: 1024 * 1024 });
  const withKeys = { ...list(2), rows: [{ group_key: 'a', calls: 1, access_key_ids: JSON.stringify(values) }] };
  for (let i = 0; i < 50; i++) keys.set(`walk${i}`, withKeys);
  expect(keys.size.lists).toBeLessThanOrEqual(2);
});

test('a list whose statement is not whole is not kept, and one no longer whole is not given', () => {
  let whole = false;
  const store = new WalkStore({ keepMs: 60_000, maxBytes: 1024 * 1024, whole: () => whole });
  store.set('a', list(3));
  expect(store.size.lists).toBe(0);
  whole = true;
  store.set('a', list(3));
  expect(store.get('a')).toBeDefined();
  whole = false;
  expect(store.get('a')).toBeUndefined();
});

describe('pages cut from a kept list', () => {
  const ORDER: OrderItem[] = [
    { alias: 'calls', dir: 'desc' },
    { alias: 'group_key', dir: 'asc' },
  ];

  test('a walk meets every group once, and finds each cursor without reading the list again', () => {
    const n = 2000;
    const plain = list(n).rows;
    // Rows counting how often their values are read.
    let reads = 0;
    const rows = plain.map((r) => {
      const counted: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) Object.defineProperty(counted, k, { enumerable: true, get: () => (reads++, v) });
      return counted as typeof r;
    });
    const met: unknown[] = [];
    let after: (string | number | null)[] | undefined;
    let pages = 0;
    for (;;) {
      const page = pageAfter(rows, 50, after, ORDER)!;
      pages++;
      const shown = page.slice(0, 50);
      met.push(...shown.map((r) => plain[rows.indexOf(r)]!.group_key));
      if (page.length <= 50) break;
      after = positionOf(plain[rows.indexOf(shown.at(-1)!)]!, ORDER);
    }
    expect(pages).toBe(40);
    expect(met).toEqual(plain.map((r) => r.group_key));
    // The list's positions are read once (two values a row), not once per page up to the cursor.
    expect(reads).toBe(n * ORDER.length);
  });

  test('a cursor from another list finds no page; of two rows at one position the first is the one', () => {
    const rows = [{ group_key: 'a', calls: 2 }, { group_key: 'b', calls: 1 }, { group_key: 'b', calls: 1 }, { group_key: 'c', calls: 1 }];
    expect(pageAfter(rows, 1, ['9', 'z'], ORDER)).toBeUndefined();
    expect(pageAfter(rows, 1, [1, 'b'], ORDER)).toEqual([rows[2], rows[3]]);
    expect(pageAfter(rows, 1, undefined, ORDER)).toEqual([rows[0], rows[1]]);
  });
});
