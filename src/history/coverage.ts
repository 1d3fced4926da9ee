/**
 * What Event history has put on disk, as answers need to know it. A trail folder filled by the
 * sync (src/history/sync.ts) holds, for each region and event source, the events of one stretch of
 * time: from where its first complete walk began (`coveredFrom`) to the last finished walk's end
 * (`syncedTo`), or while the first walk runs, what it has fetched so far (`[doneDownTo, to)`). A
 * question over time outside that stretch would be answered from nothing, and look like "no calls":
 * during the hours a first 90-day sync takes, when the sync keeps failing, or before the oldest
 * day it reached. Such an answer says so (`complete: false` and a HISTORY_NOT_SYNCED warning).
 *
 * The newest minutes are not counted as missing while the sync keeps to its schedule: Event
 * history itself shows events minutes late, as a trail delivers them, and the next run fetches
 * them. Only a sync that is behind by more than its interval (and the overlap a run asks again)
 * makes the newest part of a window a gap.
 *
 * Within the synced stretch, the events the sync met but could not write (state.ts LeftOutEvent)
 * are missing too: an answer over their time says so (`complete: false`, HISTORY_EVENTS_LEFT_OUT).
 */
import * as fs from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as path from 'node:path';
import { CompiledQuery, windowBoundMs } from '../query/engine';
import { IOT_EVENTS_DATA_SOURCE } from '../domain/iotevents-actions';
import { LeftOutEvent, STATE_FOLDER, SyncState, foldedEntry, isPending, leftOutIn, sourceFileName, timeIn } from './state';

/** Stable code of the warning an answer carries when part of its window was not synced. */
export const HISTORY_NOT_SYNCED = 'HISTORY_NOT_SYNCED';
/** Stable code of the warning an answer carries when events of its window could not be written by the sync. */
export const HISTORY_EVENTS_LEFT_OUT = 'HISTORY_EVENTS_LEFT_OUT';

/**
 * Events of one region and source, in an answer's window, that the sync could not write. Those of
 * a state not yet tied to an account, told to a statement for named accounts, may be another
 * account's: how many, when and why is not shown (null and none), only that there are some.
 */
export interface HistoryLeftOut {
  readonly region: string;
  readonly source: string;
  readonly count: number | null;
  /** The earliest and latest time they may have (ISO). */
  readonly from: string | null;
  readonly to: string | null;
  readonly reasons: readonly string[];
}

/** One region and source whose synced stretch does not cover a window of the answer. */
export interface HistoryGap {
  readonly region: string;
  /** The event source walked, or `*` for all of them. */
  readonly source: string;
  /** The synced stretch, ISO times; null where nothing is on disk yet. */
  readonly coveredFrom: string | null;
  readonly coveredTo: string | null;
  /**
   * Event history holds none of the source's calls at any time: data events (`source` a data-event
   * source, or `*` when every source is served). Only a trail that logs data events has them.
   */
  readonly neverInEventHistory?: true;
}

export interface CoverageSettings {
  readonly trailDir: string;
  /** The regions the service syncs (EVENT_HISTORY_REGIONS); regions with a state on disk count too. */
  readonly regions: readonly string[];
  /** The event sources walked one by one; `[]` for every source in one walk. */
  readonly eventSources: readonly string[];
  /** How late the newest synced time may be before it is a gap (the schedule's interval and overlap). */
  readonly graceMs: number;
  readonly now?: () => Date;
}

/** What coverage needs of a statement: its window, the partitions and the event sources it reads. */
type Statement = Pick<CompiledQuery, 'window' | 'partitions' | 'eventSources'>;

/**
 * Event sources whose calls are data events, which Event history never holds (a trail logging
 * data events does): IoT Events' data plane.
 */
const DATA_EVENT_SOURCES: readonly string[] = [IOT_EVENTS_DATA_SOURCE];

interface Stretch {
  readonly account: string;
  readonly region: string;
  readonly source: string;
  /** Null: not known (a state written before the start was kept), or nothing on disk. */
  readonly from: number | null;
  readonly to: number | null;
  /** A run failed since the last that finished: the newest minutes get no grace. */
  readonly failed: boolean;
  readonly leftOut: readonly LeftOutEvent[];
}

export class HistoryCoverage {
  /** State files as last read, by path: read again when their size or modification time changes. */
  private readonly read = new Map<string, { readonly version: string; readonly state: SyncState | undefined }>();
  private readonly now: () => Date;
  /** The states as a request found them when it began (`during`). */
  private readonly atStart = new AsyncLocalStorage<readonly Stretch[]>();

  constructor(private readonly settings: CoverageSettings) {
    this.now = settings.now ?? (() => new Date());
  }

  /**
   * Runs a request (`run` and what it starts) with the states as they are before it reads a file.
   * The sync writes a slot's files before the state that says it reached them: a state read after
   * the files (when the answer is sent) may claim time whose files were written after the request
   * read the folder. Within `run`, what an answer lacks is what the states said when it began or
   * say now, whichever lacks more (a state may also lose time: a walk starting again).
   */
  during<T>(run: () => T): T {
    return this.atStart.run(this.stretches(), run);
  }

  /**
   * What an answer over these statements lacks: the regions and sources whose synced stretch
   * leaves out part of a statement's window (each statement's regions, all synced ones when it
   * names none, and accounts, once each), and the events the sync could not write whose time falls
   * in a statement's window, per region and source. Within a request (`during`), as the states
   * were when it began or are now, whichever lacks more.
   */
  report(queries: readonly Statement[]): { gaps: HistoryGap[]; leftOut: HistoryLeftOut[] } {
    if (queries.length === 0) return { gaps: [], leftOut: [] };
    const now = this.stretches();
    const begun = this.atStart.getStore();
    const gaps = this.gapsIn(queries, now);
    const leftOut = this.leftOutIn(queries, now);
    if (!begun) return { gaps, leftOut };
    // Of each region and source, the reading that lacks something: the earlier one first.
    const place = (x: { region: string; source: string }) => `${x.region}\u0000${x.source}`;
    const gapsThen = this.gapsIn(queries, begun);
    const lacking = new Set(gapsThen.map(place));
    const leftOutNow = new Set(leftOut.map(place));
    return {
      gaps: [...gapsThen, ...gaps.filter((g) => !lacking.has(place(g)))],
      leftOut: [...leftOut, ...this.leftOutIn(queries, begun).filter((l) => !leftOutNow.has(place(l)))],
    };
  }

  /** The gaps `report` gives. */
  gaps(queries: readonly Statement[]): HistoryGap[] {
    return this.report(queries).gaps;
  }

  /** The events left out `report` gives. */
  leftOut(queries: readonly Statement[]): HistoryLeftOut[] {
    return this.report(queries).leftOut;
  }

  private gapsIn(queries: readonly Statement[], stretches: readonly Stretch[]): HistoryGap[] {
    const now = this.now().getTime();
    const regionsOf = (of: readonly Stretch[]) => [...new Set([...this.settings.regions, ...of.map((s) => s.region)])].sort();
    const regions = regionsOf(stretches);
    // Data events are never in Event history: their sources are not judged by what the sync wrote.
    const sources = this.settings.eventSources.length ? this.settings.eventSources.filter((s) => !DATA_EVENT_SOURCES.includes(s)) : ['*'];
    const historyFolder = this.settings.regions.length > 0 || stretches.length > 0;
    const found = new Map<string, HistoryGap>();
    for (const q of queries) {
      // The data-event sources the statement reads: none of their calls is on a folder Event history fills.
      const read = q.eventSources ?? this.settings.eventSources;
      const unrecorded = !historyFolder ? [] : read.length === 0 ? ['*'] : read.filter((s) => DATA_EVENT_SOURCES.includes(s));
      // The regions synced for the statement's accounts only: another account's are not its to learn.
      const named = q.partitions.accounts;
      const ownRegions = named.length === 0 ? regions : regionsOf(stretches.filter((s) => named.includes(s.account)));
      for (const region of q.partitions.regions.length ? q.partitions.regions : ownRegions) {
        for (const source of unrecorded) {
          const gap: HistoryGap = { region, source, coveredFrom: null, coveredTo: null, neverInEventHistory: true };
          found.set(JSON.stringify(gap), gap);
        }
      }
      // The bounds as the statement compares them.
      const from = windowBoundMs(q.window.from);
      // Nothing after now can be missing yet.
      const to = Math.min(windowBoundMs(q.window.to), now);
      if (to <= from) continue;
      // A region the statement names is asked about even when nothing of it is known: on a folder
      // Event history fills, nothing on disk is nothing synced.
      for (const region of q.partitions.regions.length ? q.partitions.regions : regions) {
        const synced = this.settings.regions.includes(region) || (q.partitions.regions.includes(region) && (this.settings.regions.length > 0 || stretches.length > 0));
        for (const source of sources) {
          const mine = stretches.filter((s) => s.region === region && s.source === source && (named.length === 0 || isPending(s.account) || named.includes(s.account)));
          // Several accounts' states (a folder synced with other credentials): each must cover the
          // window. A region synced (or asked for by name) with none has nothing on disk; one known
          // only from other accounts' states is not the statement's.
          const missing = mine.length === 0 ? (synced ? [undefined] : []) : mine.filter((s) => !covers(s, from, to, now - this.settings.graceMs));
          for (const s of missing) {
            // A state not yet tied to an account may be another's: a statement for named accounts
            // learns only that its own are not known to be synced.
            const shown = s && !(named.length > 0 && isPending(s.account)) ? s : undefined;
            const gap: HistoryGap = { region, source, coveredFrom: iso(shown?.from ?? null), coveredTo: iso(shown?.to ?? null) };
            found.set(JSON.stringify(gap), gap);
          }
        }
      }
    }
    return [...found.values()];
  }

  private leftOutIn(queries: readonly Statement[], all: readonly Stretch[]): HistoryLeftOut[] {
    const stretches = all.filter((s) => s.leftOut.length > 0);
    const found = new Map<string, { region: string; source: string; hidden: boolean; events: Map<string, LeftOutEvent> }>();
    for (const q of queries) {
      const [from, to] = [windowBoundMs(q.window.from), windowBoundMs(q.window.to)];
      const named = q.partitions.accounts;
      for (const s of stretches) {
        if (q.partitions.regions.length && !q.partitions.regions.includes(s.region)) continue;
        // A state not yet tied to an account may be the statement's: its events count for it, unshown.
        if (named.length && !isPending(s.account) && !named.includes(s.account)) continue;
        const hidden = named.length > 0 && isPending(s.account);
        for (const e of s.leftOut) {
          if (Date.parse(e.from) >= to || Date.parse(e.to) < from) continue;
          const key = `${s.region}\u0000${s.source}\u0000${hidden}`;
          const entry = found.get(key) ?? { region: s.region, source: s.source, hidden, events: new Map() };
          // Once each, though a state moving to its account may for a moment be on disk twice.
          entry.events.set(JSON.stringify([e.eventId, e.from, e.to, e.reason, e.count ?? 1, e.folded ?? false]), e);
          found.set(key, entry);
        }
      }
    }
    return [...found.values()]
      .map(({ region, source, hidden, events }): HistoryLeftOut => {
        if (hidden) return { region, source, count: null, from: null, to: null, reasons: [] };
        const all = foldedEntry([...events.values()]);
        return { region, source, count: all.count ?? 1, from: all.from, to: all.to, reasons: all.reason.split('; ') };
      })
      .sort((a, b) => (a.region === b.region ? (a.source === b.source ? (a.count === null ? 1 : -1) : a.source < b.source ? -1 : 1) : a.region < b.region ? -1 : 1));
  }

  /** Every state on disk now (a sync saves them as it goes: an answer sees the latest). */
  private stretches(): Stretch[] {
    const stretches: Stretch[] = [];
    const root = path.join(this.settings.trailDir, STATE_FOLDER);
    // Most trails are never synced: one check, no error thrown and caught, on every answer.
    if (!fs.existsSync(root)) return stretches;
    for (const account of children(root)) {
      for (const region of children(path.join(root, account))) {
        for (const source of this.settings.eventSources.length ? this.settings.eventSources : ['*']) {
          const state = this.state(path.join(root, account, region, sourceFileName(source)));
          if (state) stretches.push({ account, region, source, ...stretchOf(state), failed: state.failedAt !== undefined, leftOut: state.leftOut ?? [] });
        }
      }
    }
    return stretches;
  }

  private state(file: string): SyncState | undefined {
    let s: fs.Stats | undefined;
    try {
      s = fs.statSync(file, { throwIfNoEntry: false });
    } catch {
      // Not readable (permissions, a loop of links): no state, as a file that is not one.
      s = undefined;
    }
    if (!s) {
      this.read.delete(file);
      return undefined;
    }
    const version = `${s.size}:${s.mtimeMs}:${s.ino}`;
    const known = this.read.get(file);
    if (known?.version === version) return known.state;
    const state = readState(file);
    this.read.set(file, { version, state });
    return state;
  }
}

/** The synced stretch a state describes: the finished walks', else what the first walk has fetched. */
function stretchOf(state: SyncState): { from: number | null; to: number | null } {
  const syncedTo = state.syncedTo ? Date.parse(state.syncedTo) : null;
  const walk = state.walk ? { doneDownTo: Date.parse(state.walk.doneDownTo), to: Date.parse(state.walk.to) } : null;
  if (syncedTo === null) return walk && walk.doneDownTo < walk.to ? { from: walk.doneDownTo, to: walk.to } : { from: null, to: null };
  const from = state.coveredFrom ? Date.parse(state.coveredFrom) : null;
  // A later walk fetches newest first: it joins the stretch once it has come down to it.
  return { from, to: walk && walk.doneDownTo <= syncedTo ? Math.max(syncedTo, walk.to) : syncedTo };
}

/**
 * Whether the stretch holds [from, to): its end may lag `to` until `lateAfter` (the sync's
 * schedule), unless a run has failed since it was reached: the sync then no longer keeps to it.
 */
function covers(s: Stretch, from: number, to: number, lateAfter: number): boolean {
  if (s.to === null) return false;
  if (s.from !== null && from < s.from) return false;
  return to <= s.to || (!s.failed && s.to >= lateAfter);
}

function children(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * The state in a file, checked: one that cannot be read or holds something else is no state
 * (its region then counts as not synced), never a failure of the answer.
 */
function readState(file: string): SyncState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const syncedTo = timeIn(r.syncedTo);
  const coveredFrom = timeIn(r.coveredFrom);
  let walk: SyncState['walk'] = null;
  if (r.walk !== null && r.walk !== undefined) {
    const w = (typeof r.walk === 'object' ? r.walk : {}) as Record<string, unknown>;
    const [from, to, doneDownTo] = [timeIn(w.from), timeIn(w.to), timeIn(w.doneDownTo)];
    if (!from || !to || !doneDownTo) return undefined;
    walk = { from, to, doneDownTo };
  }
  if (syncedTo === undefined || coveredFrom === undefined) return undefined;
  const leftOut = leftOutIn(r.leftOut);
  if (leftOut === undefined) return undefined;
  // Any mark of a failed run counts, even one that is not a time: it only ever withholds the grace.
  const failed = r.failedAt !== undefined && r.failedAt !== null;
  return { syncedTo, walk, ...(coveredFrom === null ? {} : { coveredFrom }), ...(leftOut.length ? { leftOut } : {}), ...(failed ? { failedAt: String(r.failedAt) } : {}) };
}

/** The warning's message: which regions and what they hold. */
export function historyGapMessage(gaps: readonly HistoryGap[]): string {
  const held = (g: HistoryGap) => (g.coveredTo === null ? 'nothing yet' : `${g.coveredFrom ?? 'its first sync'} to ${g.coveredTo}`);
  const unsynced = gaps.filter((g) => !g.neverInEventHistory);
  const never = [...new Set(gaps.filter((g) => g.neverInEventHistory).map((g) => g.source))];
  return [
    ...(unsynced.length ? [`Event history has not been synced for all of the window: the answer holds what is on disk (${unsynced.map((g) => `${whereOf(g)}: ${held(g)}`).join('; ')}).`] : []),
    ...(never.length
      ? [`Event history holds no data events: ${never.map((s) => (s === '*' ? "any service's data events" : `${s} calls`)).join(' and ')} are not in this answer (a trail that logs data events has them).`]
      : []),
  ].join(' ');
}

/** A region, and its event source unless the folder serves every one. */
const whereOf = (r: { readonly region: string; readonly source: string }) => `${r.region}${r.source === '*' ? '' : ` ${r.source}`}`;

/** The warning's message: how many events, where and when, and why. */
export function historyLeftOutMessage(leftOut: readonly HistoryLeftOut[]): string {
  const each = leftOut.map((l) =>
    l.count === null ? `${whereOf(l)}: some not yet tied to an account` : `${whereOf(l)}: ${l.count} between ${l.from} and ${l.to} (${l.reasons.join(', ')})`,
  );
  return `Event history events of the window could not be written by the sync and are not in the answer (${each.join('; ')}).`;
}

/** How many left-out events the entries count; null when some are not shown. */
export function historyLeftOutCount(leftOut: readonly HistoryLeftOut[]): number | null {
  return leftOut.some((l) => l.count === null) ? null : leftOut.reduce((n, l) => n + (l.count ?? 0), 0);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
