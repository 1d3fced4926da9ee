/**
 * Partition pruning over HTTP on a 30-day sample trail: a query opens the day folders of its
 * window (plus the delivery margin), only the regions and accounts it filters on, and never a
 * digest or Insights file; what it answers still equals an independent reading of the files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchAllPages } from './support/api-calls';
import { IOT_SOURCES, dedupe, inWindow, listRecordFiles, readRecords } from './support/records';
import { useSampleServer } from './support/sample-server';

const ctx = useSampleServer(30, { iotEventsPerDay: 20, otherEventsPerIotEvent: 1, deliveryMinutes: 60 });
/** Every record file on disk (digests and Insights excluded), with its place in the layout. */
let onDisk: FileSlot[];
/** Every file any query of this suite opened. */
const opened: string[] = [];

interface FileSlot {
  file: string;
  org: string | undefined;
  account: string;
  region: string;
  day: string;
}

const SLOT = /[\\/]AWSLogs[\\/](?:(o-[a-z0-9]+)[\\/])?(\d{12})[\\/]CloudTrail[\\/]([a-z0-9-]+)[\\/](\d{4})[\\/](\d{2})[\\/](\d{2})[\\/][^\\/]+$/;

function slotOf(file: string): FileSlot {
  const m = SLOT.exec(file);
  if (!m) throw new Error(`not a record file of the layout: ${file}`);
  return { file, org: m[1], account: m[2], region: m[3], day: `${m[4]}/${m[5]}/${m[6]}` };
}

/** Runs apiCalls (all pages, with totalCount) and returns the files each engine query opened. */
async function filesFor(filter: Record<string, unknown>) {
  const before = ctx.server.engine.filesRead.length;
  const result = await fetchAllPages(ctx.server, filter);
  const perQuery = ctx.server.engine.filesRead.slice(before);
  expect(perQuery.length).toBeGreaterThanOrEqual(1); // the first page carries the count
  for (const files of perQuery) opened.push(...files);
  return { result, perQuery };
}

function expectOpened(perQuery: string[][], expected: FileSlot[]) {
  expect(expected.length).toBeGreaterThan(0);
  const want = expected.map((s) => s.file).sort();
  for (const files of perQuery) {
    expect(files).toHaveLength(want.length);
    expect([...files].sort()).toEqual(want);
  }
}

beforeAll(() => {
  onDisk = listRecordFiles(ctx.dir).map(slotOf);
});

const iso = (s: string) => new Date(s);

test('the sample trail has 30 days, two regions, plain and organization accounts, digests and Insights', () => {
  expect(new Set(onDisk.map((s) => s.day)).size).toBeGreaterThanOrEqual(30);
  expect(new Set(onDisk.map((s) => s.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
  expect(onDisk.some((s) => s.org !== undefined)).toBe(true);
  const all: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else all.push(path.join(d, e.name));
    }
  };
  walk(ctx.dir);
  expect(all.some((f) => f.includes(`${path.sep}CloudTrail-Digest${path.sep}`) && f.includes('2026/02/28'.split('/').join(path.sep)))).toBe(true);
  expect(all.some((f) => f.includes(`${path.sep}CloudTrail-Insight${path.sep}`) && f.includes('2026/02/28'.split('/').join(path.sep)))).toBe(true);
});

describe('a one-day window (the day holding the Insights file)', () => {
  const FROM = '2026-02-28T00:00:00Z';
  const TO = '2026-03-01T00:00:00Z';

  test('opens that day and the delivery-margin day, every file of them, nothing else', async () => {
    const { perQuery } = await filesFor({ from: FROM, to: TO });
    const days = ['2026/02/28', '2026/03/01'];
    for (const files of perQuery) for (const f of files) expect(days).toContain(slotOf(f).day);
    expectOpened(perQuery, onDisk.filter((s) => days.includes(s.day)));
  });

  test('answers what an independent reading of every file answers', async () => {
    const expected = dedupe(readRecords(ctx.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, iso(FROM), iso(TO)));
    expect(expected.length).toBeGreaterThan(20);
    const { result } = await filesFor({ from: FROM, to: TO });
    expect(result.total).toBe(expected.length);
    expect(result.nodes.map((n) => n.eventId).sort()).toEqual(expected.map((r) => r.eventID).sort());
  });
});

test('a window not aligned to midnight opens each day it touches plus the margin', async () => {
  const { perQuery } = await filesFor({ from: '2026-03-03T10:00:00Z', to: '2026-03-04T02:00:00Z' });
  const days = ['2026/03/03', '2026/03/04', '2026/03/05'];
  expectOpened(perQuery, onDisk.filter((s) => days.includes(s.day)));
});

test('a region filter opens only that region\'s folders', async () => {
  const { perQuery } = await filesFor({ from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z', regions: ['eu-west-1'] });
  for (const files of perQuery) for (const f of files) expect(f).toContain(`${path.sep}CloudTrail${path.sep}eu-west-1${path.sep}`);
  expectOpened(perQuery, onDisk.filter((s) => ['2026/03/02', '2026/03/03'].includes(s.day) && s.region === 'eu-west-1'));
});

describe('an account filter opens only that account\'s folders', () => {
  const FROM = '2026-03-09T00:00:00Z';
  const TO = '2026-03-10T00:00:00Z';
  const days = ['2026/03/09', '2026/03/10'];

  test('a single-account trail', async () => {
    const { perQuery } = await filesFor({ from: FROM, to: TO, accounts: ['111122223333'] });
    for (const files of perQuery) for (const f of files) expect(f).toContain(['AWSLogs', '111122223333', 'CloudTrail', ''].join(path.sep));
    expectOpened(perQuery, onDisk.filter((s) => days.includes(s.day) && s.account === '111122223333'));
  });

  test('the organization trail\'s member account under AWSLogs/o-.../', async () => {
    const org = onDisk.find((s) => s.org !== undefined)!;
    const { perQuery, result } = await filesFor({ from: FROM, to: TO, accounts: [org.account] });
    for (const files of perQuery) for (const f of files) expect(f).toContain(['AWSLogs', org.org, org.account, 'CloudTrail', ''].join(path.sep));
    expectOpened(perQuery, onDisk.filter((s) => days.includes(s.day) && s.account === org.account));
    expect(result.nodes.length).toBeGreaterThan(0);
    for (const n of result.nodes) expect(n.account).toBe(org.account);
  });

  test('account and region together', async () => {
    const { perQuery } = await filesFor({ from: FROM, to: TO, accounts: ['444455556666'], regions: ['us-east-1'] });
    expectOpened(perQuery, onDisk.filter((s) => days.includes(s.day) && s.account === '444455556666' && s.region === 'us-east-1'));
  });
});

test('digest and Insights folders are never opened', () => {
  expect(opened.length).toBeGreaterThan(0);
  for (const f of opened) {
    expect(f).not.toContain('CloudTrail-Digest');
    expect(f).not.toContain('CloudTrail-Insight');
    expect(f).toContain(`${path.sep}CloudTrail${path.sep}`);
  }
});
