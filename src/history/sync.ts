/**
 * Event history sync: reads CloudTrail's LookupEvents for each configured region and event source
 * (one EventSource lookup attribute per call: the API takes exactly one) and writes the records
 * into the trail folder in the S3 delivery layout (see slot-files.ts), so every engine, the
 * columnar store and the cache read them like a delivered trail.
 *
 * Each region and source walks [from, now) newest first, 50 events a page. After each page, the
 * slots wholly newer than the page's oldest event are complete and are written, and the state
 * records that [doneDownTo, to) is on disk; an interrupted walk resumes below doneDownTo and
 * repeats at most one slot. A finished walk moves `syncedTo`; the next run starts there minus an
 * overlap (Event history can show an event minutes late). Records met again are merged by eventID.
 * An event that cannot be written (no CloudTrailEvent, text that is not JSON, no account or time)
 * is kept in the state as left out, so answers over its time say they lack it.
 */
import { ACCOUNT_ID } from '../domain/aws';
import { EVENT_TIME_PATTERN } from '../query/fields';
import { CloudTrailClient, LookupEventsCommand, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { SLOT_MS, SlotRecord, mergeSlot, recordKey, slotStart } from './slot-files';
import { LeftOutEvent, PENDING_ACCOUNT, StateStore, SyncState } from './state';

const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;
/** How long Event history keeps an event. */
const KEPT_MS = 90 * DAY_MS;
/** How far above a resumed walk's `doneDownTo` it asks again (records met twice merge). */
const RESUME_OVERLAP_MS = 60_000;

export interface SyncOptions {
  readonly trailDir: string;
  readonly regions: readonly string[];
  /**
   * The account the credentials belong to (STS GetCallerIdentity): LookupEvents reads only its
   * events, so its state is the one a run continues, whoever synced into the folder before.
   */
  readonly account: string;
  /** Event sources to read, one walk each; `[]` reads every source (no lookup attribute). */
  readonly eventSources: readonly string[];
  /** How far back a first sync reaches (at most 90: what Event history keeps). */
  readonly days: number;
  readonly overlapMinutes: number;
  /** The (rate-limited) client of a region. */
  readonly client: (region: string) => CloudTrailClient;
  /** The clock (read when a walk starts and when it ends). */
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: SyncProgress) => void;
}

export interface SyncProgress {
  readonly region: string;
  readonly source: string;
  readonly pages: number;
  readonly events: number;
  readonly elapsedMs: number;
  /** Share of the walk's time span covered so far, 0..1. */
  readonly covered: number;
}

/** What one region and source did in a run. */
export interface SyncResult {
  readonly region: string;
  readonly source: string;
  /** The account the credentials belong to, whose events were read. */
  readonly account: string;
  readonly pages: number;
  /** Events LookupEvents returned. */
  readonly events: number;
  /** Records new to the folder (the rest were there already). */
  readonly written: number;
  /** Events left out: no CloudTrailEvent text, unreadable JSON, or no account to file them under (kept in the state, see LeftOutEvent). */
  readonly skipped: number;
  readonly from: string;
  readonly to: string;
}

/**
 * A run in which some regions or sources failed. The others ran to their end: their results are
 * here, and the failed ones continue from where they stopped on the next run.
 */
export class SyncFailedError extends Error {
  constructor(
    readonly results: readonly SyncResult[],
    readonly failures: readonly { readonly region: string; readonly source: string; readonly error: unknown }[],
  ) {
    super(failures.map((f) => `${f.region} ${f.source}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; '));
    this.name = 'SyncFailedError';
  }
}

/** Failures that would end every other walk the same way: the run stops at once. */
const STOPS_THE_RUN = new Set(['AbortError', 'CredentialsProviderError']);

/**
 * Walks each region and source in turn. One that fails (a region not enabled for the account, a
 * policy that denies it, throttling beyond the retries) does not keep the others from their walk:
 * the run ends with a {@link SyncFailedError} naming the failed ones, after the others.
 */
export async function syncEventHistory(options: SyncOptions): Promise<SyncResult[]> {
  const results: SyncResult[] = [];
  const failures: { region: string; source: string; error: unknown }[] = [];
  const sources = options.eventSources.length ? options.eventSources : ['*'];
  for (const region of options.regions) {
    for (const source of sources) {
      try {
        results.push(await syncOne(options, region, source));
      } catch (error) {
        if (options.signal?.aborted || (error instanceof Error && STOPS_THE_RUN.has(error.name))) throw error;
        failures.push({ region, source, error });
      }
    }
  }
  if (failures.length) throw new SyncFailedError(results, failures);
  return results;
}

/**
 * What a resumed walk has in its state already: the left-out events after `after`, and of those at
 * `after` itself, the ones whose EventIds are in `ids`.
 */
interface Recorded {
  readonly after: number;
  readonly ids: ReadonlySet<string>;
}

/** The lower of two "met down to" marks; at the same time, the EventIds of both. */
function lowest(a: Recorded, b: Recorded | undefined): Recorded {
  if (!b || b.after > a.after) return a;
  if (b.after < a.after) return b;
  return { after: a.after, ids: new Set([...a.ids, ...b.ids]) };
}

interface Tally {
  pages: number;
  events: number;
  written: number;
  skipped: number;
  /** Events left out since the state was last saved. */
  leftOut: LeftOutEvent[];
  /** EventIds the state keeps as left out, and those of them written whole since (a later run got their record, now on disk). */
  readonly knownLeftOut: Set<string>;
  readonly recovered: Set<string>;
}

async function syncOne(options: SyncOptions, region: string, source: string): Promise<SyncResult> {
  const store = new StateStore(options.trailDir);
  const loaded = store.load(region, source, options.account);
  const state: SyncState = loaded.state;
  const known = new Set((state.leftOut ?? []).flatMap((e) => (e.eventId === null ? [] : [e.eventId])));
  const tally: Tally = { pages: 0, events: 0, written: 0, skipped: 0, leftOut: [], knownLeftOut: known, recovered: new Set() };
  const clock = options.now ?? (() => new Date());
  const now = clock();
  const earliest = now.getTime() - options.days * DAY_MS;
  // Later runs ask again from the end of the last finished run minus the overlap: this run's start,
  // or the last one's end should this one not finish. Left-out events from then on stay one by
  // one (state.ts MAX_LEFT_OUT), so that each one met again is known by its EventId.
  const foldBefore = Math.min(state.syncedTo ? Date.parse(state.syncedTo) : Infinity, now.getTime()) - options.overlapMinutes * 60_000;
  // A state an earlier version kept under `_pending` goes with the first save (its left-out events kept).
  let previous = loaded.pending ? PENDING_ACCOUNT : undefined;
  const save = async () => {
    // Merged (each once, folded beyond the bound) by the store, with what is on disk.
    if (tally.leftOut.length) state.leftOut = [...(state.leftOut ?? []), ...tally.leftOut];
    tally.leftOut = [];
    await store.save(options.account, region, source, state, previous, tally.recovered, foldBefore);
    previous = undefined;
  };

  /** `recorded`: a resumed walk's left-out events already in the state (see Recorded). */
  const walk = async (from: number, endTime: number, to: number, recorded: Recorded = { after: Infinity, ids: new Set() }) => {
    // A resumed walk goes on from where the one before it had met: interrupted again, it still knows.
    const metOf = (met: Recorded | undefined) => (met && Number.isFinite(met.after) ? { metDownTo: iso(met.after), metIds: [...met.ids] } : {});
    state.walk = { from: iso(from), to: iso(to), doneDownTo: iso(Math.min(endTime, to)), ...metOf(recorded) };
    await save();
    await walkPages(options, region, source, from, endTime, tally, recorded, async (doneDownTo, met) => {
      state.walk = { from: iso(from), to: iso(to), doneDownTo: iso(Math.min(doneDownTo, Date.parse(state.walk!.doneDownTo))), ...metOf(lowest(recorded, met)) };
      await save();
    });
    // Newest first, a long walk reaches its oldest pages hours after it began: Event history no
    // longer held what had passed its 90 days by then, so the stretch begins no earlier than that.
    const start = Math.max(from, clock().getTime() - KEPT_MS);
    // A walk that does not reach back to the stretch already on disk (the first one, or one after
    // a pause longer than Event history keeps) starts the stretch again.
    if (state.syncedTo === null || start > Date.parse(state.syncedTo)) state.coveredFrom = iso(start);
    state.syncedTo = iso(to);
    state.walk = null;
    delete state.failedAt;
    await save();
  };
  const started = state.walk ? Math.max(earliest, Date.parse(state.walk.from)) : undefined;
  // Asked from the end of the last finished walk (the resumed one's, when there is one) less the overlap.
  let from = earliest;
  try {
    if (state.walk && started !== undefined && started < Date.parse(state.walk.doneDownTo)) {
      const { doneDownTo, metDownTo, metIds, to } = state.walk;
      // Every event after the oldest one met was saved with its page, left-out ones included; those
      // asked again (the overlap) may have been folded by day, where their EventIds no longer tell
      // them apart. Of the oldest one's very time, only the ones met are known.
      const recorded: Recorded = metDownTo ? { after: Date.parse(metDownTo), ids: new Set(metIds ?? []) } : { after: Date.parse(doneDownTo) - 1, ids: new Set() };
      await walk(started, Math.min(Date.parse(to), Date.parse(doneDownTo) + RESUME_OVERLAP_MS), Date.parse(to), recorded);
    }
    from = state.syncedTo ? Math.max(earliest, Date.parse(state.syncedTo) - options.overlapMinutes * 60_000) : earliest;
    await walk(from, now.getTime(), now.getTime());
  } catch (error) {
    // A failed run is written down: answers stop giving the newest minutes the benefit of the schedule.
    if (!options.signal?.aborted && !(error instanceof Error && error.name === 'AbortError')) {
      state.failedAt = clock().toISOString();
      await save().catch(() => undefined);
    }
    throw error;
  }
  return {
    region,
    source,
    account: options.account,
    pages: tally.pages,
    events: tally.events,
    written: tally.written,
    skipped: tally.skipped,
    from: started !== undefined ? iso(Math.min(started, from)) : iso(from),
    to: now.toISOString(),
  };
}

/** Pages one walk newest first, writing complete slots as it goes; `progress(doneDownTo)` after each page. */
async function walkPages(
  options: SyncOptions,
  region: string,
  source: string,
  from: number,
  endTime: number,
  tally: Tally,
  recorded: Recorded,
  /** After each page: how far down everything is on disk (a slot boundary), and the oldest time met with the EventIds met at it. */
  progress: (doneDownTo: number, met: Recorded | undefined) => Promise<void>,
): Promise<void> {
  const client = options.client(region);
  /** Slots being filled, and the EventIds of events left out before whose records they hold. */
  const buffer = new Map<string, { start: number; records: SlotRecord[]; recovered: string[] }>();
  const flush = async (newerThan: number) => {
    for (const [key, slot] of buffer) {
      if (slot.start <= newerThan) continue;
      tally.written += await mergeSlot(options.trailDir, region, slot.records);
      // Only once on disk is such an event no longer missing.
      for (const id of slot.recovered) tally.recovered.add(id);
      buffer.delete(key);
    }
  };
  const began = Date.now();
  let token: string | undefined;
  let oldest = endTime;
  let met: { after: number; ids: Set<string> } | undefined;
  const meet = (time: number, id: string | undefined) => {
    if (!met || time < met.after) met = { after: time, ids: new Set() };
    if (time === met.after && id) met.ids.add(id);
  };
  do {
    // Stopped (the service shutting down, Ctrl-C): no further request; what is on disk is kept.
    options.signal?.throwIfAborted();
    const input: LookupEventsCommandInput = {
      StartTime: new Date(from),
      EndTime: new Date(endTime),
      MaxResults: PAGE_SIZE,
      ...(source === '*' ? {} : { LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: source }] }),
      ...(token ? { NextToken: token } : {}),
    };
    const out = await client.send(new LookupEventsCommand(input), { abortSignal: options.signal });
    tally.pages += 1;
    for (const event of out.Events ?? []) {
      tally.events += 1;
      const record = placed(event.CloudTrailEvent);
      // How far the walk has come down is LookupEvents' own EventTime, the order it answers in: a
      // record whose text names another time is filed by that time, and moves no progress.
      const listed = event.EventTime && !Number.isNaN(event.EventTime.getTime()) ? event.EventTime.getTime() : undefined;
      if ('reason' in record) {
        tally.skipped += 1;
        const time = record.time ?? (listed !== undefined ? new Date(listed) : undefined);
        if (time) {
          const t = listed ?? time.getTime();
          // Newest first as well: the walk has come down to it, and the state records it with this page.
          oldest = Math.min(oldest, t);
          meet(t, event.EventId);
          if (t > recorded.after || (t === recorded.after && event.EventId && recorded.ids.has(event.EventId))) continue;
        }
        // Filed over its text's time and LookupEvents' for it, both: an answer over either says it
        // lacks the event. Without either, over the walk's span.
        const times = [record.time?.getTime(), listed].filter((x): x is number => x !== undefined);
        const [first, last] = times.length ? [Math.min(...times), Math.max(...times)] : [from, endTime];
        // Without an EventId it cannot be told from another: it counts each time a run meets it.
        tally.leftOut.push({ eventId: event.EventId ?? null, from: iso(first), to: iso(last), reason: record.reason });
        if (event.EventId) tally.knownLeftOut.add(event.EventId);
        continue;
      }
      const start = slotStart(record.time);
      const key = `${record.account}|${start}`;
      // Filed in a slot older than its EventTime's, which the walk would write only later: written
      // now, so the progress saved with this page holds it.
      const early = listed !== undefined && start < slotStart(new Date(listed));
      const slot = early ? { start, records: [], recovered: [] } : (buffer.get(key) ?? { start, records: [], recovered: [] });
      slot.records.push(record);
      // An event left out before whose record a run now gets whole.
      if (event.EventId && tally.knownLeftOut.has(event.EventId)) slot.recovered.push(event.EventId);
      if (early) {
        tally.written += await mergeSlot(options.trailDir, region, slot.records);
        for (const id of slot.recovered) tally.recovered.add(id);
      } else buffer.set(key, slot);
      const t = listed ?? record.time.getTime();
      oldest = Math.min(oldest, t);
      meet(t, event.EventId);
    }
    // Newest first: slots wholly newer than the oldest event seen get nothing more from this walk.
    const boundary = slotStart(new Date(oldest));
    await flush(boundary);
    await progress(Math.min(endTime, boundary + SLOT_MS), met);
    options.onProgress?.({
      region,
      source,
      pages: tally.pages,
      events: tally.events,
      elapsedMs: Date.now() - began,
      covered: endTime > from ? Math.min(1, (endTime - oldest) / (endTime - from)) : 1,
    });
    token = out.NextToken;
  } while (token);
  await flush(-Infinity);
  await progress(from, met);
}

/**
 * The record of an event, placed by account and time; why not when it cannot be filed. A record
 * that names no recipient account is left out: the caller's account (userIdentity) may be
 * another one's, and answers scoped to accounts read the record's own. So is one whose own
 * eventTime the engines cannot read: written, it would be in no window (an untimed record), while
 * LookupEvents knows when it happened; left out, an answer over that time says it lacks it.
 */
function placed(text: string | undefined): SlotRecord | { reason: string; time?: Date } {
  if (!text) return { reason: 'no CloudTrailEvent' };
  let record: { eventID?: unknown; eventTime?: unknown; recipientAccountId?: unknown };
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    return { reason: 'CloudTrailEvent is not JSON' };
  }
  if (typeof record !== 'object' || record === null) return { reason: 'CloudTrailEvent is not a record' };
  const account = typeof record.recipientAccountId === 'string' && ACCOUNT_ID.test(record.recipientAccountId) ? record.recipientAccountId : undefined;
  const time = recordTime(record.eventTime);
  if (!account) return { reason: 'no account', ...(time ? { time } : {}) };
  if (!time) return { reason: record.eventTime === undefined || record.eventTime === null ? 'no eventTime' : 'eventTime not readable' };
  return { eventId: recordKey(text, record), account, time, text };
}

/** The forms of eventTime every engine reads (fields.ts EVENT_TIME_PATTERN). */
const EVENT_TIME = new RegExp(EVENT_TIME_PATTERN);
/** Its parts: date, time of day, zone. */
const RECORD_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\S+?)(Z|[+-][\d:]+)?$/;

/**
 * A record's eventTime as the engines read it; undefined for any other text. A time without a
 * zone is UTC, as the engines read it (JavaScript alone would take the host's local time), and a
 * date that is not in the calendar is no time (JavaScript alone would roll 02-30 over to March).
 */
export function recordTime(value: unknown): Date | undefined {
  const m = typeof value === 'string' && EVENT_TIME.test(value) ? RECORD_TIME.exec(value) : null;
  if (!m) return undefined;
  const [, day, clock, zone = 'Z'] = m;
  if (Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) return undefined;
  const offset = zone === 'Z' ? zone : zone.length === 3 ? `${zone}:00` : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const time = new Date(`${day}T${clock}${offset}`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const iso = (ms: number) => new Date(ms).toISOString();
