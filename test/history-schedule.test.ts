/**
 * The service's own Event history sync schedule (EVENT_HISTORY_SYNC_INTERVAL_MINUTES) on a fake
 * clock, with LookupEvents mocked for every CloudTrail client (aws-sdk-client-mock): a run at
 * start and one at each interval, never two at once, and nothing more after stop(). Every check
 * counts requests and log lines; none measures time.
 */
import * as fs from 'node:fs';
import { CloudTrailClient, LookupEventsCommand, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { EventHistoryConfig } from '../src/config';
import { scheduleSync } from '../src/history/schedule';
import { createLogger } from '../src/logger';
import { FakeEventHistory, eventOf, iotEventsRecord, mockCredentialsAccount } from './support/event-history';
import { RawRecord, readRecords } from './support/records';
import { tempDir } from './support/trails';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const SOURCE = 'iotevents.amazonaws.com';
const NOW = new Date('2026-03-15T12:00:00Z');
const MINUTE = 60_000;
const SETTINGS: EventHistoryConfig = { regions: [REGION], intervalMinutes: 1, days: 90, overlapMinutes: 30, requestsPerSecond: 2, maxAttempts: 1 };

const record = (i: number, time: Date): RawRecord => iotEventsRecord(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, time, ACCOUNT, REGION, SOURCE);

/** `n` records, one every 10 seconds before `end`. */
const records = (n: number, end: Date, first = 0) => Array.from({ length: n }, (_, k) => record(first + k, new Date(end.getTime() - (k + 1) * 10_000)));

/** A gate a fake LookupEvents answer waits at until the test opens it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

interface Harness {
  readonly dir: string;
  readonly history: FakeEventHistory;
  /** Requests started, and the most that were ever in flight at once. */
  readonly requests: { started: number; active: number; maxActive: number };
  /** Requests whose answer waits at a gate (by request number, from 1). */
  readonly gates: Map<number, ReturnType<typeof gate>>;
  readonly logs: Record<string, unknown>[];
  messages(msg: string): number;
  restore(): void;
}

function harness(initial: RawRecord[]): Harness {
  const dir = tempDir();
  const history = new FakeEventHistory(initial.map(eventOf));
  const requests = { started: 0, active: 0, maxActive: 0 };
  const gates = new Map<number, ReturnType<typeof gate>>();
  // Every CloudTrailClient instance, as the schedule makes its own.
  const mock = mockClient(CloudTrailClient);
  const sts = mockCredentialsAccount(ACCOUNT);
  mock.on(LookupEventsCommand).callsFake(async (input: LookupEventsCommandInput) => {
    requests.started += 1;
    requests.active += 1;
    requests.maxActive = Math.max(requests.maxActive, requests.active);
    try {
      await gates.get(requests.started)?.opened;
      return history.answer(input);
    } finally {
      requests.active -= 1;
    }
  });
  const logs: Record<string, unknown>[] = [];
  return {
    dir,
    history,
    requests,
    gates,
    logs,
    messages: (msg) => logs.filter((l) => l.msg === msg).length,
    restore: () => {
      mock.restore();
      sts.restore();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function start(h: Harness) {
  const logger = createLogger('info', { write: (line: string) => void h.logs.push(JSON.parse(line) as Record<string, unknown>) });
  return scheduleSync({ trailDir: h.dir, eventSources: [SOURCE], settings: SETTINGS, logger });
}

/** Lets the fake clock run in small steps until `done()` holds (a bounded number of steps, far below an interval). */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await jest.advanceTimersByTimeAsync(100);
  expect(done()).toBe(true);
}

/** Stops the schedule (opening any gate still shut, so a failed check does not hang it) and cleans up. */
async function finish(h: Harness, schedule: { stop(): Promise<void> }): Promise<void> {
  for (const g of h.gates.values()) g.open();
  let stopped = false;
  const stopping = schedule.stop().then(() => (stopped = true));
  try {
    await settle(() => stopped);
    await stopping;
  } finally {
    h.restore();
  }
}

const SYNCED = 'event history synced';
const SKIPPED = 'event history sync still running; this interval is skipped';

beforeEach(() => jest.useFakeTimers({ now: NOW }));
afterEach(() => jest.useRealTimers());

test('a run at start, then one at every interval, each fetching from where the last one got to', async () => {
  const h = harness(records(70, NOW));
  const schedule = start(h);
  try {
    await settle(() => h.messages(SYNCED) === 1);
    // 70 events: two pages of 50.
    expect(h.requests.started).toBe(2);
    expect(readRecords(h.dir)).toHaveLength(70);

    const later = new Date(NOW.getTime() + MINUTE);
    h.history.add(records(5, later, 1000).map(eventOf));
    await jest.advanceTimersByTimeAsync(MINUTE);
    await settle(() => h.messages(SYNCED) === 2);
    // From the first run's end minus the overlap: the 70 events again (merged, not repeated) and the 5 new ones, two pages.
    expect(h.requests.started).toBe(4);
    expect(h.history.calls[2].StartTime!.getTime()).toBe(h.history.calls[0].EndTime!.getTime() - SETTINGS.overlapMinutes * MINUTE);
    expect(readRecords(h.dir)).toHaveLength(75);

    await jest.advanceTimersByTimeAsync(MINUTE);
    await settle(() => h.messages(SYNCED) === 3);
    expect(h.requests.maxActive).toBe(1);
    expect(h.messages('event history sync failed; the next run continues from where it stopped')).toBe(0);
  } finally {
    await finish(h, schedule);
  }
});

test('a run longer than the interval: the intervals ending meanwhile are skipped, never a second run beside it', async () => {
  const h = harness(records(10, NOW));
  const slow = gate();
  h.gates.set(1, slow);
  const schedule = start(h);
  try {
    await settle(() => h.requests.started === 1);
    await jest.advanceTimersByTimeAsync(3 * MINUTE);
    expect(h.requests.started).toBe(1);
    expect(h.messages(SKIPPED)).toBe(3);
    expect(h.messages(SYNCED)).toBe(0);

    slow.open();
    await settle(() => h.messages(SYNCED) === 1);
    // Skipped intervals are not made up in a burst: nothing runs until the next interval ends.
    for (let i = 0; i < 20; i++) await jest.advanceTimersByTimeAsync(0);
    expect(h.requests.started).toBe(1);
    await jest.advanceTimersByTimeAsync(MINUTE);
    await settle(() => h.messages(SYNCED) === 2);
    expect(h.requests.started).toBe(2);
    expect(h.requests.maxActive).toBe(1);
  } finally {
    await finish(h, schedule);
  }
});

test('stop() during a run: no further request, stop waits for the run, and no run after it', async () => {
  // Two pages: stopped while the first is in flight, the second is never asked for.
  const h = harness(records(70, NOW));
  const held = gate();
  h.gates.set(1, held);
  const schedule = start(h);
  await settle(() => h.requests.started === 1);
  let stopped = false;
  const stopping = schedule.stop().then(() => (stopped = true));
  for (let i = 0; i < 20; i++) await jest.advanceTimersByTimeAsync(0);
  expect(stopped).toBe(false);

  held.open();
  await settle(() => stopped);
  await stopping;
  expect(h.requests.started).toBe(1);
  // What the answered page completed is kept (the slot from 11:55, the first page reaching below
  // it: 30 records); an aborted run is not an error.
  expect(readRecords(h.dir)).toHaveLength(30);
  expect(h.messages('event history sync failed; the next run continues from where it stopped')).toBe(0);

  // The interval timer is gone: nothing is left to fire.
  expect(jest.getTimerCount()).toBe(0);
  await jest.advanceTimersByTimeAsync(10 * SETTINGS.intervalMinutes * MINUTE);
  expect(h.requests.started).toBe(1);
  expect(h.messages(SKIPPED)).toBe(0);
  h.restore();
});
