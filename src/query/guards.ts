/**
 * Guards: the rules every query obeys, applied to the plan's inputs before it is compiled, so no
 * resolver can forget one. The caller's scope narrows accounts and regions (asking for more is
 * FORBIDDEN, not an empty answer); the window is bounded; page sizes are bounded.
 */
import { BadInputError, ForbiddenError } from '../errors';
import { parseDeliveryKey } from '../trail/layout';
import { Scan } from './plan';

/** What one API key or token may see. Empty lists mean no restriction on that axis. */
export interface Scope {
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** May read the payload fields (PAYLOAD_FIELDS in src/domain/api-call.ts). */
  readonly readPayloads: boolean;
  /** Who this is, for logs (never a secret). */
  readonly principal: string;
  /** May bypass the answer cache (`x-trailql-no-cache`). */
  readonly admin: boolean;
}

export const FULL_SCOPE: Scope = Object.freeze({ accounts: [], regions: [], readPayloads: true, principal: 'anonymous', admin: false });

export interface WindowRules {
  readonly defaultHours: number;
  readonly maxDays: number;
}

export interface Window {
  readonly from: Date;
  readonly to: Date;
}

const HOUR_MS = 3_600_000;

/** One window bound on its own: a real date-time from 2005 (before CloudTrail) to 9999. */
export function checkBound(name: 'from' | 'to', d: Date | null | undefined): void {
  if (!d) return;
  if (Number.isNaN(d.getTime())) throw new BadInputError(`filter.${name}: not a valid date-time`, `filter.${name}`);
  if (d.getUTCFullYear() < 2005 || d.getUTCFullYear() > 9999) throw new BadInputError(`filter.${name}: out of range`, `filter.${name}`);
}

/**
 * The window a query reads: explicit bounds first, then the bounds a cursor carries, then the
 * default (the last `defaultHours` up to now). Rejects inverted, empty or over-long windows.
 */
export function resolveWindow(
  input: { from?: Date | null; to?: Date | null },
  rules: WindowRules,
  now: Date,
  fromCursor?: Window,
  path = 'filter',
): Window {
  checkBound('from', input.from);
  checkBound('to', input.to);
  const to = input.to ?? fromCursor?.to ?? now;
  const from = input.from ?? fromCursor?.from ?? new Date(to.getTime() - rules.defaultHours * HOUR_MS);
  if (from.getTime() >= to.getTime()) {
    throw new BadInputError(`filter: "from" (${from.toISOString()}) must be before "to" (${to.toISOString()})`, 'filter.from');
  }
  if (to.getTime() - from.getTime() > rules.maxDays * 24 * HOUR_MS) {
    // Name the bound the user set: with only one given, the other came from a default.
    const field = `${path ? `${path}.` : ''}${input.from || !input.to ? 'from' : 'to'}`;
    throw new BadInputError(`${field}: the window may span at most ${rules.maxDays} days`, field);
  }
  return { from, to };
}

/** Narrows the scan to the caller's scope; explicit out-of-scope accounts or regions are refused. */
export function applyScope(scan: Scan, scope: Scope): Scan {
  const narrow = (name: 'accounts' | 'regions', asked: readonly string[], allowed: readonly string[]): readonly string[] => {
    if (allowed.length === 0) return asked;
    const outside = asked.filter((a) => !allowed.includes(a));
    if (outside.length) throw new ForbiddenError(`filter.${name}: not permitted for this key: ${outside.join(', ')}`);
    return asked.length ? asked : allowed;
  };
  return { ...scan, accounts: narrow('accounts', scan.accounts, scope.accounts), regions: narrow('regions', scan.regions, scope.regions) };
}

/** A store file's partition folders: `account=<account>/region=<region>/`. */
const STORE_PARTITION = /(?:^|\/)account=(\d{12})\/region=([a-z0-9-]+)\//;

/**
 * Whether a trail file (its path relative to the trail folder: a delivered log file or a store
 * file) lies within the scope. A scope that names accounts or regions sees only files whose path
 * names one of each; a file whose path names neither is outside every such scope.
 */
export function fileInScope(relPath: string, scope: Pick<Scope, 'accounts' | 'regions'>): boolean {
  if (scope.accounts.length === 0 && scope.regions.length === 0) return true;
  const unix = relPath.replace(/\\/g, '/');
  const delivered = parseDeliveryKey(unix);
  const stored = delivered ? undefined : STORE_PARTITION.exec(unix);
  const account = delivered?.account ?? stored?.[1];
  const region = delivered?.region ?? stored?.[2];
  if (account === undefined || region === undefined) return false;
  return (scope.accounts.length === 0 || scope.accounts.includes(account)) && (scope.regions.length === 0 || scope.regions.includes(region));
}

/** A caller's key (or its old name, `arn`) as a lookup takes it. */
export function checkCallerKey(key: string, argument: 'key' | 'arn' = 'key'): void {
  // "" is a key as CloudTrail wrote it (an ARN or principal written empty): its group is listed, so it is found.
  if (key.length > 2048) throw new BadInputError(`caller: ${argument} must be at most 2048 characters`, argument);
}

/** The key a `caller` lookup is given: as `key` or as `arn` (its old name), exactly one of them. */
export function lookedUpCallerKey(key: string | null | undefined, arn: string | null | undefined): string {
  if ((key === null || key === undefined) === (arn === null || arn === undefined)) throw new BadInputError('caller: give exactly one of `key` and `arn`', 'key');
  return (key ?? arn)!;
}

/** A source address as a lookup takes it (null: the calls whose record names none). */
export function checkSourceAddress(address: string | null): void {
  // "" is an address as CloudTrail wrote it: its group is listed, so it is found.
  if (address !== null && address.length > 256) throw new BadInputError('sourceIp: address must be at most 256 characters', 'address');
}

/** Longest eventID a lookup takes: CloudTrail writes UUIDs and a synthetic id is 74 characters. */
export const MAX_EVENT_ID_LENGTH = 1024;

/** C0 and C1 control characters and DEL. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Whether a text can be an eventID the service serves: a call is served with whatever eventID its
 * record holds (or a synthetic one), so any text is taken back but an empty one (the synthetic id
 * stands in for it), an over-long one or one holding control characters. It is bound as a value,
 * so this is about sanity, not about what SQL could take.
 */
export function isEventId(eventId: string): boolean {
  return eventId.length >= 1 && eventId.length <= MAX_EVENT_ID_LENGTH && !CONTROL_CHARACTER.test(eventId);
}

/** An eventID as a lookup takes it (isEventId). */
export function checkEventId(eventId: string): void {
  if (!isEventId(eventId)) throw new BadInputError(`eventId: not an event id (1 to ${MAX_EVENT_ID_LENGTH} characters, no control characters)`, 'eventId');
}

/**
 * Levels of objects and lists an input value may nest: GraphQL variables (the variables object is
 * one), a download's filter, a literal in a query. A filter needs 3 (itself, its `not`, a list in
 * it), the variables holding it one more; what is deeper asks for nothing a filter can say.
 */
export const MAX_INPUT_DEPTH = 16;

/**
 * Refuses a value nested deeper than `max` levels of objects and lists, before anything walks it
 * by recursion: graphql's coercion and type-graphql's conversion take a stack frame or more per
 * level, and a value thousands deep (a few kilobytes of `{"not":`) overflows the stack. Walks with
 * a stack of its own, so it cannot overflow itself.
 */
export function checkInputDepth(value: unknown, path: string, max = MAX_INPUT_DEPTH): void {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) throw new BadInputError(`${path}: nested deeper than ${max} levels of objects and lists`, path);
    for (const child of Array.isArray(v) ? v : Object.values(v)) pending.push([child, depth + 1]);
  }
}

/** The days of an insights baseline: whole days, at most a window's longest. */
export function checkBaselineDays(days: number, maxDays: number): void {
  if (!Number.isInteger(days) || days < 1 || days > maxDays) throw new BadInputError(`baselineDays: must be from 1 to ${maxDays}`, 'baselineDays');
}

export function checkPageSize(first: number | null | undefined, defaultSize: number, maxSize: number): number {
  if (first === undefined || first === null) return defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > maxSize) {
    throw new BadInputError(`first: must be from 1 to ${maxSize}`, 'first');
  }
  return first;
}
