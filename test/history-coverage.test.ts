/**
 * Which part of a window Event history has put on disk, from the sync's state files: nothing yet,
 * a first walk part way down, finished walks up to their end, a sync that fell behind its
 * schedule, states of other accounts and regions, and states written before their start was kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HistoryCoverage } from '../src/history/coverage';
import { STATE_FOLDER, SyncState } from '../src/history/state';
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
