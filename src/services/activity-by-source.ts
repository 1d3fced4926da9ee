/**
 * Activity by AS number or country: what the offline databases say of a source address, and the
 * folding of per-address activity buckets into per-key sums.
 */
import { ActivityBucketRecord } from '../domain/graph';
import { AddressEnrichment } from '../enrichment';

/** Most (bucket, source address) rows activity by AS number or country folds. */
export const MAX_ADDRESS_BUCKETS = 50_000;

/** What the databases say of a source address that activity may be split by. */
export type SourceKey = 'ASN' | 'COUNTRY';

/** The AS number (as text) or country of an address; null when the databases do not place it. */
export function sourceKeyOf(enrichment: AddressEnrichment, key: SourceKey): (address: string | null) => string | null {
  return (address) => {
    if (address === null) return null;
    const info = enrichment.info(address);
    return key === 'ASN' ? (info.asn ? String(info.asn.number) : null) : info.country;
  };
}

/** Keys in order, null last: AS numbers by value, countries by text. */
export const byNumber = (a: string, b: string) => Number(a) - Number(b);
export const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sums per-address buckets per (bucket, key of the address); ordered by bucket, then key (null last). */
export function foldBuckets(perAddress: readonly ActivityBucketRecord[], keyOf: (address: string | null) => string | null, order: (a: string, b: string) => number): ActivityBucketRecord[] {
  const out = new Map<string, ActivityBucketRecord>();
  for (const b of perAddress) {
    const key = keyOf(b.key);
    const id = `${b.start.getTime()}\u0000${key ?? ''}\u0000${key === null ? 0 : 1}`;
    const sum = out.get(id);
    if (sum) {
      sum.calls += b.calls;
      sum.errors += b.errors;
    } else out.set(id, { start: b.start, key, calls: b.calls, errors: b.errors });
  }
  return [...out.values()].sort(
    (a, b) => a.start.getTime() - b.start.getTime() || (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : order(a.key, b.key)),
  );
}
