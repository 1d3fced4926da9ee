/**
 * How far a sync got, one small JSON file per account, region and event source under
 * `<trail folder>/.trailql-history/<account>/<region>/<source>.json`:
 *
 *   syncedTo     every event before this time (back to coveredFrom) is on disk
 *   coveredFrom  where that stretch begins
 *   walk         a walk in progress: [from, to) asked, everything in [doneDownTo, to) on disk,
 *                every event after metDownTo met (and those of metIds at it)
 *   leftOut      events Event history gave that could not be written as records (see LeftOutEvent)
 *   failedAt     when a run last failed, until one finishes: the sync no longer keeps to its
 *                interval, so the newest minutes after syncedTo count as missing (coverage.ts)
 *
 * The account is the credentials' own, asked before the walk (STS GetCallerIdentity): a folder
 * synced with several accounts' credentials keeps a state for each, and no run continues
 * another's. Earlier versions learnt it from the records and kept a state under `_pending` until
 * the first one; such a file is still read by answers (coverage.ts) until a run replaces it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asideName, replaceDurably } from './durable';
import { withFileLock } from './file-lock';

export interface SyncState {
  syncedTo: string | null;
  /**
   * `metDownTo`: the time of the oldest event this walk has met (every event after it is on disk
   * or kept as left out), and `metIds` the EventIds met at that very time.
   */
  walk: { from: string; to: string; doneDownTo: string; metDownTo?: string; metIds?: string[] } | null;
  /**
   * Where the events on disk begin: the start of the first finished walk, or of the last one that
   * could not join the earlier ones (the sync stopped for longer than Event history keeps).
   * Absent in states written before it was kept.
   */
  coveredFrom?: string | null;
  /** Events the sync met but could not write; absent when there were none. */
  leftOut?: LeftOutEvent[];
  /** When a run last failed, since the last one that finished; absent when none has. */
  failedAt?: string;
}

/**
 * Event history events that are not on disk although their time is synced: LookupEvents gave no
 * CloudTrailEvent, or one that is not JSON, or one without an account or time to file it under.
 * An answer over their time lacks them and says so (src/history/coverage.ts).
 */
export interface LeftOutEvent {
  /** LookupEvents' EventId; null for entries folded together (and for an event without one). */
  readonly eventId: string | null;
  /**
   * When: from the earlier to the later of its record's time and LookupEvents' time for it (one
   * instant when they agree or only one is known), or the span of the walk that met it with neither.
   */
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  /** How many events the entry stands for (entries folded together); 1 when absent. */
  readonly count?: number;
  /** Several events of one UTC day folded into one entry (see MAX_LEFT_OUT). */
  readonly folded?: true;
}

/** What tells one left-out event from another: its EventId, else its time and reason. */
const eventKey = (e: LeftOutEvent) => e.eventId ?? `${e.from}\u0000${e.to}\u0000${e.reason}`;

/**
 * Left-out events a state keeps one by one. Beyond that, the oldest are folded into one entry per
 * UTC day (no EventId, their count, the span of their times): an answer over a day is told no
 * less than before, and only the days that had such events. Only events no later run asks for
 * again are folded (runs ask from their last end minus the overlap: `withLeftOut`'s `foldBefore`),
 * so an event met again is always known by its EventId and counted once; those a later run may
 * meet again are kept one by one, however many.
 */
export const MAX_LEFT_OUT = 500;

const DAY_MS = 86_400_000;
const dayOf = (time: string) => Math.floor(Date.parse(time) / DAY_MS);

/**
 * `known` with `met` added and the events written since (`written`, EventIds) taken out: an event
 * met again (same EventId) is kept once; at most MAX_LEFT_OUT entries one by one, the older folded
 * by day, except events at or after `foldBefore` (a later run may ask for them again).
 */
export function withLeftOut(
  known: readonly LeftOutEvent[] | undefined,
  met: readonly LeftOutEvent[],
  written: ReadonlySet<string> = new Set(),
  foldBefore = Infinity,
): LeftOutEvent[] | undefined {
  const seen = new Set<string>();
  const single: LeftOutEvent[] = [];
  // A day's folded entry met twice (the state on disk and the same state in memory) is one.
  const folded = new Map<number, LeftOutEvent>();
  for (const e of [...(known ?? []), ...met]) {
    if (e.folded) {
      const day = dayOf(e.to);
      const other = folded.get(day);
      folded.set(day, other ? { ...foldedEntry([other, e]), count: Math.max(other.count ?? 1, e.count ?? 1) } : e);
    } else if (!seen.has(eventKey(e)) && !(e.eventId !== null && written.has(e.eventId))) {
      seen.add(eventKey(e));
      single.push(e);
    }
  }
  if (single.length + folded.size === 0) return known === undefined ? undefined : [];
  // The oldest of those no later run asks for again go into their day's folded entry.
  const foldable = single.filter((e) => Date.parse(e.to) < foldBefore).sort((a, b) => Date.parse(a.to) - Date.parse(b.to));
  const folding = new Set(foldable.slice(0, Math.max(0, single.length - MAX_LEFT_OUT)));
  const keep = single.filter((e) => !folding.has(e));
  for (const e of folding) {
    const day = dayOf(e.to);
    const other = folded.get(day);
    folded.set(day, foldedEntry(other ? [other, e] : [e]));
  }
  return [...[...folded.entries()].sort(([a], [b]) => a - b).map(([, e]) => e), ...keep];
}

/** Several left-out events as one entry: their count, the span of their times, their reasons. */
export function foldedEntry(list: readonly LeftOutEvent[]): LeftOutEvent {
  return {
    eventId: null,
    from: list.reduce((m, e) => (Date.parse(e.from) < Date.parse(m) ? e.from : m), list[0]!.from),
    to: list.reduce((m, e) => (Date.parse(e.to) > Date.parse(m) ? e.to : m), list[0]!.to),
    reason: [...new Set(list.flatMap((e) => e.reason.split('; ')))].sort().join('; '),
    count: list.reduce((n, e) => n + (e.count ?? 1), 0),
    folded: true,
  };
}

/** A time a state names: null when absent, undefined when it is not a time (the state is then unusable). */
export function timeIn(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' && Number.isFinite(Date.parse(value)) ? value : undefined;
}

/**
 * A state's left-out events, checked: undefined when they are not such a list, or (unless
 * `skipBad`: the sync keeps the good ones rather than lose them all) when one entry is not one.
 */
export function leftOutIn(value: unknown, skipBad = false): LeftOutEvent[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return skipBad ? [] : undefined;
  const out: LeftOutEvent[] = [];
  for (const v of value as unknown[]) {
    const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    const [from, to] = [timeIn(e.from), timeIn(e.to)];
    const count = e.count === undefined ? 1 : e.count;
    const eventId = e.eventId;
    if (
      from && to && typeof e.reason === 'string' && (eventId === null || typeof eventId === 'string') &&
      typeof count === 'number' && Number.isInteger(count) && count >= 1 && (e.folded === undefined || e.folded === true)
    ) {
      out.push({ eventId, from, to, reason: e.reason, ...(count === 1 ? {} : { count }), ...(e.folded ? { folded: true as const } : {}) });
    } else if (!skipBad) return undefined;
  }
  return out;
}

export const STATE_FOLDER = '.trailql-history';
/** Where earlier versions kept a state before they knew its account. */
export const PENDING_ACCOUNT = '_pending';

/** The state file's name of a source: `*` (every source) is stored as `all-sources`. */
export function sourceFileName(source: string): string {
  return `${source === '*' ? 'all-sources' : source}.json`;
}

export class StateStore {
  constructor(private readonly trailDir: string) {}

  private file(account: string, region: string, source: string): string {
    return path.join(this.trailDir, STATE_FOLDER, account, region, sourceFileName(source));
  }

  /**
   * The state of `account` (the credentials' own: all LookupEvents reads) for a region and source,
   * else a fresh one; never another account's. `pending`: a state an earlier version kept before it
   * knew the account is on disk (its left-out events move to this account's state when it is saved,
   * and the file goes; its progress is not taken, as it may be another account's).
   */
  load(region: string, source: string, account: string): { state: SyncState; pending: boolean } {
    const pending = fs.existsSync(this.file(PENDING_ACCOUNT, region, source));
    const f = this.file(account, region, source);
    if (!fs.existsSync(f)) return { state: { syncedTo: null, walk: null }, pending };
    const state = readableState(f);
    // A state that cannot be read is kept aside for inspection, and the sync starts again: a first
    // walk, whose records merge with those on disk (answers meanwhile say what is not synced).
    if (!state) {
      fs.renameSync(f, asideName(f, 'unreadable-'));
      return { state: { syncedTo: null, walk: null }, pending };
    }
    // A list that is not one would fail every save: its entries cannot be told apart.
    const leftOut = leftOutIn(state.leftOut, true);
    if (leftOut?.length) state.leftOut = leftOut;
    else delete state.leftOut;
    return { state, pending };
  }

  /**
   * Writes atomically, under the file's lock; an earlier file (`previousAccount`: `_pending`) goes.
   * The left-out events on disk are kept beside `state`'s: another sync of the same folder (the
   * service's and `npm run sync`) may have added some since this one read the file. Left-out
   * events before `foldBefore` may be folded (withLeftOut).
   */
  async save(account: string, region: string, source: string, state: SyncState, previousAccount?: string, written?: ReadonlySet<string>, foldBefore?: number): Promise<void> {
    const f = this.file(account, region, source);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const previous = previousAccount && previousAccount !== account ? this.file(previousAccount, region, source) : undefined;
    const write = () => {
      const onDisk = [f, ...(previous ? [previous] : [])].flatMap((file) => leftOutOf(file));
      const leftOut = withLeftOut(onDisk, state.leftOut ?? [], written, foldBefore);
      if (leftOut?.length) state.leftOut = leftOut;
      else delete state.leftOut;
      replaceDurably(f, JSON.stringify(state, null, 2));
      // Moved: the earlier file goes while both are locked, so no save to it is lost in between.
      if (previous) fs.rmSync(previous, { force: true });
    };
    await withFileLock(f, () => (previous ? withFileLock(previous, write) : write()));
  }
}

/** The state a file holds; undefined when it is not JSON of an object with the times a state has. */
function readableState(file: string): SyncState | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as SyncState | null;
    if (typeof state !== 'object' || state === null || timeIn(state.syncedTo) === undefined) return undefined;
    const walk = state.walk ?? null;
    const walkOk = walk === null || (typeof walk === 'object' && [walk.from, walk.to, walk.doneDownTo].every((t) => timeIn(t)));
    return walkOk ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The left-out events a state file holds now; none when it is missing or not a state. */
function leftOutOf(file: string): LeftOutEvent[] {
  try {
    return leftOutIn((JSON.parse(fs.readFileSync(file, 'utf8')) as { leftOut?: unknown }).leftOut, true) ?? [];
  } catch {
    return [];
  }
}

export const isPending = (account: string) => account === PENDING_ACCOUNT;
