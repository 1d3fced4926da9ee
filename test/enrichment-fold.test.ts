/**
 * Folding per-address counts by what the databases say of each address (activity by AS number or
 * country, insights by source): sums are kept exactly and the order is total and deterministic.
 */
import fc from 'fast-check';
import { ActivityBucketRecord } from '../src/domain/graph';
import { foldBuckets } from '../src/services/activity-by-source';

const ADDRESSES = ['a', 'b', 'c', 'd', 'e', null] as const;
const bucket = fc.record({
  start: fc.integer({ min: 0, max: 5 }).map((h) => new Date(Date.UTC(2026, 0, 1, h))),
  key: fc.constantFrom(...ADDRESSES),
  calls: fc.integer({ min: 1, max: 1000 }),
  errors: fc.integer({ min: 0, max: 1000 }),
});
/** One row per (bucket, address), as the engine's GROUP BY gives them. */
const rows = fc.uniqueArray(bucket, { selector: (b) => `${b.start.getTime()}|${b.key}` });
const keyOf = fc.func(fc.constantFrom('1', '2', '10', null));

test('fold keeps every bucket total and each (bucket, key) sum, ordered by bucket then key, null last', () => {
  fc.assert(
    fc.property(rows, keyOf, fc.boolean(), (input: ActivityBucketRecord[], f, numeric) => {
      const keyFn = (a: string | null) => f(a);
      const order = numeric ? (a: string, b: string) => Number(a) - Number(b) : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      const out = foldBuckets(input, keyFn, order);
      const sum = (bs: readonly ActivityBucketRecord[], pick: (b: ActivityBucketRecord) => boolean) =>
        bs.filter(pick).reduce((a, b) => [a[0] + b.calls, a[1] + b.errors], [0, 0]);
      for (const o of out) {
        expect(sum([o], () => true)).toEqual(sum(input, (b) => b.start.getTime() === o.start.getTime() && keyFn(b.key) === o.key));
      }
      expect(sum(out, () => true)).toEqual(sum(input, () => true));
      expect(new Set(out.map((o) => `${o.start.getTime()}|${o.key}`)).size).toBe(out.length);
      for (let i = 1; i < out.length; i++) {
        const [p, c] = [out[i - 1], out[i]];
        const later = p.start < c.start || (p.start.getTime() === c.start.getTime() && p.key !== null && (c.key === null || order(p.key, c.key) < 0));
        expect(later).toBe(true);
      }
      // The same rows in another order fold to the same answer.
      expect(foldBuckets([...input].reverse(), keyFn, order)).toEqual(out);
    }),
  );
});
