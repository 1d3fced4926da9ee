/**
 * Activity buckets -> the aligned series a chart draws. No DOM: also used by the tests.
 */

export interface ActivityBucket {
  start: string;
  key: string | null;
  calls: number;
  errors: number;
}
/** Groups beyond this many are drawn as one series of the rest. */
const MAX_SERIES = 10;
/** The most bucket starts drawn: beyond, only the gaps between buckets with calls are filled. */
const MAX_POINTS = 5000;
/** Each interval's length in seconds. */
export const STEP_SECONDS = { HOUR: 3600, DAY: 86_400, WEEK: 604_800 } as const;
/** Weeks start on Mondays, as the service's buckets do: 1970-01-05, in seconds. */
const FIRST_MONDAY = 4 * 86_400;

/**
 * What a series is: calls or errors (ungrouped), one group's calls, the calls of the group without
 * a value (a null key), or the calls of the groups beyond the first nine. Only `group` series carry
 * a key as their label: the others' labels are the chart's own words, and a group's key, however it
 * reads, is never counted with them.
 */
export type SeriesKind = 'calls' | 'errors' | 'group' | 'none' | 'rest';

/** What the chart draws: bucket starts (seconds) and one value list per series. */
export interface ChartSeries {
  readonly x: number[];
  readonly series: { readonly label: string; readonly kind: SeriesKind; readonly values: number[] }[];
}

/** The label of the series of groups without a value. */
export const NO_VALUE_LABEL = '(no value)';

/** The label of the series holding the groups beyond the first nine. */
export const restLabel = (groups: number): string => `${groups} other groups`;

/** The start (seconds) of the bucket of `interval` holding the time `t` (seconds), in UTC. */
function bucketStart(t: number, step: number): number {
  const origin = step === STEP_SECONDS.WEEK ? FIRST_MONDAY : 0;
  return Math.floor((t - origin) / step) * step + origin;
}

/**
 * Turns buckets into aligned series over `window` (the answer's `[from, to)`): every bucket of
 * the window is drawn, one without calls (absent from the answer) as 0.
 */
export function toSeries(
  buckets: readonly ActivityBucket[],
  grouped: boolean,
  interval: keyof typeof STEP_SECONDS,
  window?: { readonly from: string; readonly to: string },
): ChartSeries {
  const step = STEP_SECONDS[interval];
  const starts = new Set(buckets.map((b) => Date.parse(b.start) / 1000));
  const [from, to] = window ? [Date.parse(window.from) / 1000, Date.parse(window.to) / 1000] : [NaN, NaN];
  if (to > from && (to - from) / step <= MAX_POINTS) for (let t = bucketStart(from, step); t < to; t += step) starts.add(t);
  const sorted = [...starts].sort((a, b) => a - b);
  const x: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    x.push(sorted[i]!);
    // Fill gaps with zero buckets so a quiet hour draws as zero, not as a line across it.
    for (let t = sorted[i]! + step; i + 1 < sorted.length && t < sorted[i + 1]! && x.length < MAX_POINTS; t += step) x.push(t);
  }
  const index = new Map(x.map((t, i) => [t, i]));
  const at = (b: ActivityBucket) => index.get(Date.parse(b.start) / 1000)!;
  if (!grouped) {
    const calls = x.map(() => 0);
    const errors = x.map(() => 0);
    for (const b of buckets) {
      calls[at(b)]! += b.calls;
      errors[at(b)]! += b.errors;
    }
    return {
      x,
      series: [
        { label: 'calls', kind: 'calls', values: calls },
        { label: 'errors', kind: 'errors', values: errors },
      ],
    };
  }
  // Groups by their key itself (null apart from any text), most calls first.
  const totals = new Map<string | null, number>();
  for (const b of buckets) totals.set(b.key, (totals.get(b.key) ?? 0) + b.calls);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] ?? '').localeCompare(b[0] ?? '') || (a[0] === null ? -1 : 1)).map(([k]) => k);
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const place = new Map(shown.map((k, i) => [k, i]));
  const rest = ranked.length - shown.length;
  const values = Array.from({ length: shown.length + (rest ? 1 : 0) }, () => x.map(() => 0));
  for (const b of buckets) values[place.get(b.key) ?? shown.length]![at(b)]! += b.calls;
  const series: ChartSeries['series'][number][] = shown.map((k, i) => (k === null ? { label: NO_VALUE_LABEL, kind: 'none', values: values[i]! } : { label: k, kind: 'group', values: values[i]! }));
  if (rest) series.push({ label: restLabel(rest), kind: 'rest', values: values[shown.length]! });
  return { x, series };
}
