/**
 * Activity buckets -> the aligned series a chart draws. No DOM: also used by the tests.
 */

export interface ActivityBucket {
  start: string;
  key: string | null;
  calls: number;
  errors: number;
}
/** Groups beyond this many are drawn as one "other" series. */
const MAX_SERIES = 10;
const STEP_SECONDS = { HOUR: 3600, DAY: 86_400, WEEK: 604_800 } as const;

/** What the chart draws: bucket starts (seconds) and one value list per series. */
export interface ChartSeries {
  readonly x: number[];
  readonly series: { readonly label: string; readonly values: number[] }[];
}

/** Turns buckets into aligned series; a bucket with no calls (absent from the answer) is 0. */
export function toSeries(buckets: readonly ActivityBucket[], grouped: boolean, interval: keyof typeof STEP_SECONDS): ChartSeries {
  const starts = [...new Set(buckets.map((b) => Date.parse(b.start) / 1000))].sort((a, b) => a - b);
  const x: number[] = [];
  const step = STEP_SECONDS[interval];
  for (let i = 0; i < starts.length; i++) {
    x.push(starts[i]!);
    // Fill gaps with zero buckets so a quiet hour draws as zero, not as a line across it.
    for (let t = starts[i]! + step; i + 1 < starts.length && t < starts[i + 1]! && x.length < 5000; t += step) x.push(t);
  }
  const index = new Map(x.map((t, i) => [t, i]));
  if (!grouped) {
    const calls = x.map(() => 0);
    const errors = x.map(() => 0);
    for (const b of buckets) {
      const i = index.get(Date.parse(b.start) / 1000)!;
      calls[i]! += b.calls;
      errors[i]! += b.errors;
    }
    return { x, series: [{ label: 'calls', values: calls }, { label: 'errors', values: errors }] };
  }
  const totals = new Map<string, number>();
  for (const b of buckets) totals.set(b.key ?? '(none)', (totals.get(b.key ?? '(none)') ?? 0) + b.calls);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const labels = ranked.length > shown.length ? [...shown, 'other'] : shown;
  const values = new Map(labels.map((l) => [l, x.map(() => 0)]));
  for (const b of buckets) {
    const label = shown.includes(b.key ?? '(none)') ? (b.key ?? '(none)') : 'other';
    values.get(label)![index.get(Date.parse(b.start) / 1000)!]! += b.calls;
  }
  return { x, series: labels.map((label) => ({ label, values: values.get(label)! })) };
}

