/**
 * Which part of a window Event history has put on disk, from the sync's state files: nothing yet,
 * a first walk part way down, finished walks up to their end, a sync that fell behind its
 * schedule, states of other accounts and regions, and states written before their start was kept;
 * and the events a sync met but could not write, within the stretch it synced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HistoryCoverage } from '../src/history/coverage';
import { LeftOutEvent, MAX_LEFT_OUT, STATE_FOLDER, SyncState, withLeftOut } from '../src/history/state';
import { tempDir } from './support/trails';

const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;
const at = (hoursBefore: number) => new Date(NOW.getTime() - hoursBefore * HOUR);
const iso = (hoursBefore: number) => at(hoursBefore).toISOString();
const SOURCE = 'iotevents.amazonaws.com';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function state(account: string, region: string, s: SyncState): void {
  const file = path.join(dir, STATE_FOLDER, account, region, `${SOURCE}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(s));
}

function coverage(regions: string[] = ['eu-west-1'], graceHours = 1): HistoryCoverage {
  return new HistoryCoverage({ trailDir: dir, regions, eventSources: [SOURCE], graceMs: graceHours * HOUR, now: () => NOW });
}

const query = (fromHours: number, toHours: number, partitions: { regions?: string[]; accounts?: string[] } = {}) => ({
  window: { from: at(fromHours), to: at(toHours) },
  partitions: { regions: partitions.regions ?? [], accounts: partitions.accounts ?? [], days: [] },
});

test('a configured region with nothing synced yet leaves every window out', () => {
  expect(coverage().gaps([query(2, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
});

test('a first walk part way down covers what it fetched, newest first', () => {
  state('111122223333', 'eu-west-1', { syncedTo: null, walk: { from: iso(90 * 24), to: iso(0.1), doneDownTo: iso(10) } });
  const c = coverage();
  expect(c.gaps([query(9, 0)])).toEqual([]);
  expect(c.gaps([query(12, 8)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: iso(10), coveredTo: iso(0.1) }]);
});

test('finished walks cover their stretch; the newest minutes count only once the sync is behind its schedule', () => {
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: null, coveredFrom: iso(90 * 24) });
  expect(coverage().gaps([query(48, 0)])).toEqual([]);
  expect(coverage().gaps([query(91 * 24, 90 * 24 - 1)])).toHaveLength(1);
  // Three hours behind with a one-hour schedule: the last three hours are not there.
  fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true });
  state('111122223333', 'eu-west-1', { syncedTo: iso(3), walk: null, coveredFrom: iso(90 * 24) });
  const behind = coverage();
  expect(behind.gaps([query(5, 3)])).toEqual([]);
  expect(behind.gaps([query(5, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: iso(90 * 24), coveredTo: iso(3) }]);
  // A later walk joins the stretch once it has come down to its end.
  fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true });
  state('111122223333', 'eu-west-1', { syncedTo: iso(3), walk: { from: iso(3.5), to: iso(0.1), doneDownTo: iso(2) }, coveredFrom: iso(90 * 24) });
  expect(coverage().gaps([query(5, 0)])).toHaveLength(1);
  fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true });
  state('111122223333', 'eu-west-1', { syncedTo: iso(3), walk: { from: iso(3.5), to: iso(0.1), doneDownTo: iso(3.2) }, coveredFrom: iso(90 * 24) });
  expect(coverage().gaps([query(5, 0)])).toEqual([]);
});

test('once a run has failed since the stretch was reached, its newest minutes count as missing: the sync is off its schedule', () => {
  // Reached half an hour ago, with a one-hour schedule: within it, unless a run failed since.
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: { from: iso(1), to: iso(0.25), doneDownTo: iso(0.25) }, coveredFrom: iso(90 * 24), failedAt: iso(0.25) });
  expect(coverage().gaps([query(2, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: iso(90 * 24), coveredTo: iso(0.5) }]);
  // What it reached is still whole.
  expect(coverage().gaps([query(2, 0.5)])).toEqual([]);
  fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true });
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: { from: iso(1), to: iso(0.25), doneDownTo: iso(0.25) }, coveredFrom: iso(90 * 24) });
  expect(coverage().gaps([query(2, 0)])).toEqual([]);
});

test('a state written before the start was kept is not held against old windows', () => {
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: null });
  expect(coverage().gaps([query(89 * 24, 88 * 24)])).toEqual([]);
});

test('only the regions and accounts a statement reads; regions synced from the command line count too', () => {
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: null, coveredFrom: iso(24) });
  state('444455556666', 'us-east-1', { syncedTo: null, walk: null });
  const c = coverage([]);
  expect(c.gaps([query(2, 0, { regions: ['eu-west-1'] })])).toEqual([]);
  expect(c.gaps([query(2, 0)])).toEqual([{ region: 'us-east-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
  expect(c.gaps([query(2, 0, { accounts: ['111122223333'] })])).toEqual([]);
  expect(c.gaps([query(30, 0, { accounts: ['111122223333'] })])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: iso(24), coveredTo: iso(0.5) }]);
});

test('data events are said missing in the regions of the statement\'s own accounts, never in another account\'s', () => {
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.1), walk: null, coveredFrom: iso(90 * 24) });
  state('444455556666', 'ap-south-1', { syncedTo: iso(0.1), walk: null, coveredFrom: iso(90 * 24) });
  const DATA = 'ioteventsdata.amazonaws.com';
  const c = new HistoryCoverage({ trailDir: dir, regions: [], eventSources: [SOURCE, DATA], graceMs: HOUR, now: () => NOW });
  const regionsOf = (accounts: string[]) => c.gaps([{ ...query(2, 0, { accounts }), eventSources: [DATA] }]).map((g) => g.region);
  expect(regionsOf(['111122223333'])).toEqual(['eu-west-1']);
  expect(regionsOf(['444455556666'])).toEqual(['ap-south-1']);
  expect(regionsOf([])).toEqual(['ap-south-1', 'eu-west-1']);
});

test('a trail folder no sync has written to has no gaps', () => {
  expect(coverage([]).gaps([query(48, 0)])).toEqual([]);
});

test('a state that is not one (bad times, not an object) counts as nothing synced, and never fails the answer', () => {
  for (const bad of ['{"syncedTo":"x","walk":null}', 'null', '[1]', '{"syncedTo":null,"walk":{"from":"2026-01-01T00:00:00Z"}}', '{oops']) {
    fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true, force: true });
    const file = path.join(dir, STATE_FOLDER, '111122223333', 'eu-west-1', `${SOURCE}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bad);
    expect(coverage().gaps([query(2, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
  }
});

test('on a folder Event history fills, a region asked for by name with nothing on disk is not synced', () => {
  state('111122223333', 'eu-west-1', { syncedTo: iso(0.5), walk: null, coveredFrom: iso(24) });
  expect(coverage([]).gaps([query(2, 0, { regions: ['ap-south-1'] })])).toEqual([{ region: 'ap-south-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
});

test('a state not yet tied to an account shows its times only to statements of every account', () => {
  state('_pending', 'eu-west-1', { syncedTo: null, walk: { from: iso(90 * 24), to: iso(0.1), doneDownTo: iso(10) } });
  expect(coverage().gaps([query(12, 8)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: iso(10), coveredTo: iso(0.1) }]);
  expect(coverage().gaps([query(12, 8, { accounts: ['111122223333'] })])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
});

describe('events the sync could not write', () => {
  const synced = (leftOut: LeftOutEvent[]): SyncState => ({ syncedTo: iso(0.5), walk: null, coveredFrom: iso(90 * 24), leftOut });
  const one = (id: string, hoursBefore: number, reason = 'no account'): LeftOutEvent => ({ eventId: id, from: iso(hoursBefore), to: iso(hoursBefore), reason });
  const total = (list: readonly LeftOutEvent[]) => list.reduce((n, e) => n + (e.count ?? 1), 0);

  test('are told to the windows holding their time, counted once however many statements read it', () => {
    state('111122223333', 'eu-west-1', synced([one('a', 5), one('b', 6, 'CloudTrailEvent is not JSON'), one('c', 30)]));
    const c = coverage();
    expect(c.gaps([query(8, 0)])).toEqual([]);
    expect(c.leftOut([query(8, 0), query(7, 4)])).toEqual([
      { region: 'eu-west-1', source: SOURCE, count: 2, from: iso(6), to: iso(5), reasons: ['CloudTrailEvent is not JSON', 'no account'] },
    ]);
    // The window ends before their time, or starts after it.
    expect(c.leftOut([query(4, 0)])).toEqual([]);
    expect(c.leftOut([query(29, 7)])).toEqual([]);
    // A window's end is not in it; its start is.
    expect(c.leftOut([query(5.5, 5)])).toEqual([]);
    expect(c.leftOut([query(5, 4)])).toEqual([{ region: 'eu-west-1', source: SOURCE, count: 1, from: iso(5), to: iso(5), reasons: ['no account'] }]);
  });

  test('only to statements of their region and account; a state not yet tied to an account tells others only that there are some', () => {
    state('111122223333', 'eu-west-1', synced([one('a', 5)]));
    const c = coverage();
    expect(c.leftOut([query(8, 0, { regions: ['us-east-1'] })])).toEqual([]);
    expect(c.leftOut([query(8, 0, { accounts: ['444455556666'] })])).toEqual([]);
    expect(c.leftOut([query(8, 0, { accounts: ['111122223333'], regions: ['eu-west-1'] })])).toHaveLength(1);
    fs.rmSync(path.join(dir, STATE_FOLDER), { recursive: true });
    state('_pending', 'eu-west-1', synced([one('a', 5)]));
    expect(c.leftOut([query(8, 0, { accounts: ['444455556666'] })])).toEqual([{ region: 'eu-west-1', source: SOURCE, count: null, from: null, to: null, reasons: [] }]);
    expect(c.leftOut([query(8, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, count: 1, from: iso(5), to: iso(5), reasons: ['no account'] }]);
  });

  test('a state whose left-out list is not one counts as nothing synced', () => {
    for (const bad of [{ leftOut: {} }, { leftOut: [{ eventId: 'a', from: 'x', to: iso(1), reason: 'r' }] }, { leftOut: [{ eventId: 1, from: iso(1), to: iso(1), reason: 'r' }] }, { leftOut: [{ ...one('a', 1), count: 0 }] }]) {
      state('111122223333', 'eu-west-1', { ...synced([]), ...bad } as unknown as SyncState);
      expect(coverage().gaps([query(2, 0)])).toEqual([{ region: 'eu-west-1', source: SOURCE, coveredFrom: null, coveredTo: null }]);
      expect(coverage().leftOut([query(2, 0)])).toEqual([]);
    }
  });

  test('a state keeps each event once, drops those written since, and folds the oldest by day without telling any day less', () => {
    // Two days of events, one every ten minutes; the newest last.
    const many = Array.from({ length: MAX_LEFT_OUT + 100 }, (_, i) => one(`e${i}`, (MAX_LEFT_OUT + 100 - i) / 6));
    const kept = withLeftOut(withLeftOut(undefined, many), many.slice(-5))!;
    expect(total(kept)).toBe(MAX_LEFT_OUT + 100);
    expect(kept.filter((e) => !e.folded)).toHaveLength(MAX_LEFT_OUT);
    const folded = kept.filter((e) => e.folded);
    // The 100 oldest, folded by their UTC day, each spanning only its own events.
    expect(total(folded)).toBe(100);
    for (const f of folded) expect(f.from.slice(0, 10)).toBe(f.to.slice(0, 10));
    // The same state on disk and in memory, merged, is not counted twice; an event written since is dropped.
    const merged = withLeftOut(kept, kept, new Set(['e599']))!;
    expect(total(merged)).toBe(MAX_LEFT_OUT + 99);
    expect(merged.find((e) => e.eventId === 'e599')).toBeUndefined();
    // Every window is told at least the events of its time, and a window without any is told none.
    state('111122223333', 'eu-west-1', synced(merged));
    const c = coverage();
    for (const [from, to] of [[(MAX_LEFT_OUT + 100) / 6 + 1, 0], [90, 80], [60, 59], [200, 150]] as const) {
      const inWindow = many.filter((e) => e.eventId !== 'e599' && Date.parse(e.from) >= at(from).getTime() && Date.parse(e.from) < at(to).getTime()).length;
      const told = c.leftOut([query(from, to)])[0]?.count ?? 0;
      expect(told).toBeGreaterThanOrEqual(inWindow);
      if (inWindow === 0) expect(told).toBe(0);
    }
  });
});

test('a window bound within a second reaches the next whole second, as the statement compares it', () => {
  // Synced to 09:00:00.600, three hours behind a one-hour schedule: calls of 09:00:00.700 are not
  // there, and a window ending at 09:00:00.500 asks for every call of 09:00:00.
  state('111122223333', 'eu-west-1', { syncedTo: '2026-03-15T09:00:00.600Z', walk: null, coveredFrom: iso(90 * 24) });
  const window = (to: string) => ({ window: { from: at(5), to: new Date(to) }, partitions: { regions: [], accounts: [], days: [] } });
  expect(coverage().gaps([window('2026-03-15T09:00:00.000Z')])).toEqual([]);
  expect(coverage().gaps([window('2026-03-15T09:00:00.500Z')])).toHaveLength(1);
});

describe('data events, which Event history never holds', () => {
  const DATA = 'ioteventsdata.amazonaws.com';
  const both = (regions: string[] = ['eu-west-1']) => new HistoryCoverage({ trailDir: dir, regions, eventSources: [SOURCE, DATA], graceMs: HOUR, now: () => NOW });
  const reading = (sources: string[] | undefined) => ({ ...query(2, 0), ...(sources ? { eventSources: sources } : {}) });

  test('a statement reading the data plane lacks its calls however far the sync got', () => {
    state('111122223333', 'eu-west-1', { syncedTo: iso(0.1), walk: null, coveredFrom: iso(90 * 24) });
    const c = both();
    expect(c.gaps([reading([SOURCE, DATA])])).toEqual([{ region: 'eu-west-1', source: DATA, coveredFrom: null, coveredTo: null, neverInEventHistory: true }]);
    expect(c.gaps([reading([DATA])])).toHaveLength(1);
    // A statement of the configured sources is judged the same.
    expect(c.gaps([reading(undefined)])).toHaveLength(1);
  });

  test('one reading only the control plane lacks nothing', () => {
    state('111122223333', 'eu-west-1', { syncedTo: iso(0.1), walk: null, coveredFrom: iso(90 * 24) });
    expect(both().gaps([reading([SOURCE])])).toEqual([]);
  });

  test('a folder no sync fills (a trail) lacks nothing of them', () => {
    expect(both([]).gaps([reading([SOURCE, DATA])])).toEqual([]);
  });

  test('every source served: any data event may be missing', () => {
    state('111122223333', 'eu-west-1', { syncedTo: iso(0.1), walk: null, coveredFrom: iso(90 * 24) });
    const all = new HistoryCoverage({ trailDir: dir, regions: ['eu-west-1'], eventSources: [], graceMs: HOUR, now: () => NOW });
    expect(all.gaps([reading([])])).toEqual(expect.arrayContaining([{ region: 'eu-west-1', source: '*', coveredFrom: null, coveredTo: null, neverInEventHistory: true }]));
  });
});
