/**
 * The console's filter bar -> an ApiCallFilter. No DOM: also used by the tests.
 */

export const WINDOWS: Record<string, { label: string; hours: number; interval: 'HOUR' | 'DAY' }> = {
  '1h': { label: 'Last hour', hours: 1, interval: 'HOUR' },
  '6h': { label: 'Last 6 hours', hours: 6, interval: 'HOUR' },
  '24h': { label: 'Last 24 hours', hours: 24, interval: 'HOUR' },
  '7d': { label: 'Last 7 days', hours: 168, interval: 'HOUR' },
  '30d': { label: 'Last 30 days', hours: 720, interval: 'DAY' },
};
/** The chart's groupings: '' for calls and errors, then every ActivityGroupBy. */
export const GROUPS = ['', 'ACTION', 'CATEGORY', 'CALLER', 'PRINCIPAL', 'IDENTITY_TYPE', 'SOURCE_IP', 'ASN', 'COUNTRY', 'ERROR_CODE', 'EVENT_SOURCE', 'REGION', 'ACCOUNT'];

export interface ConsoleInputs {
  window: string;
  end: string;
  action: string;
  caller: string;
  address: string;
  errors: boolean;
  group: string;
}

/** The preset a window name (from a link) names; the last 24 hours for any other text, `__proto__` included. */
export function windowPreset(name: string): (typeof WINDOWS)[string] {
  return Object.hasOwn(WINDOWS, name) ? WINDOWS[name]! : WINDOWS['24h']!;
}

/** A time of day given without a zone after it: `…T12:00`, `… 12:00:00.5`. */
const WITHOUT_ZONE = /[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * A time typed into the bar, read in UTC (as the bar says) unless it names its zone: JavaScript
 * alone reads a date and time without one as the browser's local time.
 */
export function utcTime(text: string): Date {
  const t = text.trim();
  return new Date(WITHOUT_ZONE.test(t) ? `${t.replace(' ', 'T')}Z` : t);
}

/** The ApiCallFilter the filter bar describes; `now` ends the window when no end is given. */
export function filterFrom(inputs: ConsoleInputs, now: Date): Record<string, unknown> {
  const preset = windowPreset(inputs.window);
  const end = inputs.end ? utcTime(inputs.end) : now;
  const to = Number.isNaN(end.getTime()) ? inputs.end : end.toISOString();
  const from = Number.isNaN(end.getTime()) ? inputs.end : new Date(end.getTime() - preset.hours * 3_600_000).toISOString();
  const filter: Record<string, unknown> = { from, to };
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  if (inputs.action.trim()) filter.actions = list(inputs.action);
  if (inputs.caller.trim()) filter.callerArns = list(inputs.caller);
  const addresses = list(inputs.address);
  if (addresses.some((a) => a.includes('/'))) filter.sourceCidrs = addresses;
  else if (addresses.length) filter.sourceIps = addresses;
  if (inputs.errors) filter.errorsOnly = true;
  return filter;
}

