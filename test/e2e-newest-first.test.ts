/**
 * Newest-first pages over windows longer than two days: the newest day is asked first and is the
 * page when it fills it; otherwise the whole window is asked. Checked against an independent
 * reading of the files, with the queries and day folders each page used. Also: one row per eventId
 * (duplicates once, records without an eventId each once).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { NEWEST_FIRST_MS } from '../src/services/trail.service';
import { RawRecord, IOT_SOURCES, byTimeDesc, dedupe, inWindow, readRecords } from './support/records';
import { TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const DAY = 86_400_000;
const TO = SAMPLE_END;
const FROM = new Date(TO.getTime() - 4 * DAY);

let server: TestServer;
let dir: string;
let all: RawRecord[];

const QUERY = `query($filter: ApiCallFilter, $first: Int, $after: String, $withTotal: Boolean = false) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    pageInfo { hasNextPage endCursor }
    edges { node { eventId eventTime action } }
  }
}`;

interface Page {
  ids: string[];
  times: string[];
  total: number;
  hasNextPage: boolean;
  endCursor: string | null;
  /** Day folders (yyyy/MM/dd) of each engine query of the page itself, in order (the count excluded). */
  days: string[][];
  /** The window each of those queries' answer belongs to (how long it may be cached), as `to` instants. */
  answerEnds: number[];
}

async function page(filter: Record<string, unknown>, first: number, after: string | null = null): Promise<Page> {
  server.engine.reset();
  const res = await server.gql(QUERY, { filter: { from: FROM, to: TO, ...filter }, first, after, withTotal: after === null });
  expect(res.errors).toBeUndefined();
  const conn = res.data.apiCalls;
  const nodes = conn.edges.map((e: { node: { eventId: string; eventTime: string } }) => e.node);
  return {
    ids: nodes.map((n: { eventId: string }) => n.eventId),
    times: nodes.map((n: { eventTime: string }) => n.eventTime),
    total: conn.totalCount,
    hasNextPage: conn.pageInfo.hasNextPage,
    endCursor: conn.pageInfo.endCursor,
    days: server.engine.executed.filter((q) => q.label === 'apiCalls').map((q) => [...q.partitions.days]),
    answerEnds: server.engine.executed.filter((q) => q.label === 'apiCalls').map((q) => q.window.to.getTime()),
  };
}

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '/');
const newestCut = TO.getTime() - NEWEST_FIRST_MS;

const sample = useSampleServer(5, { deliveryMinutes: 60 });

beforeAll(() => {
  dir = sample.dir;
  server = sample.server;
  all = dedupe(readRecords(dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, TO)).sort(byTimeDesc);
  expect(all.filter((r) => Date.parse(r.eventTime) >= newestCut).length).toBeGreaterThan(100);
});

describe('newest-first pages', () => {
  test('a page the newest day fills is one query over the newest day and the delivery margin', async () => {
    const p = await page({}, 50);
    expect(p.ids).toEqual(all.slice(0, 50).map((r) => r.eventID));
    expect(p.total).toBe(all.length);
    expect(p.hasNextPage).toBe(true);
    expect(p.days).toEqual([[dayOf(newestCut), dayOf(TO.getTime() - 1), dayOf(TO.getTime() - 1 + DAY)].filter((d, i, a) => a.indexOf(d) === i)]);
  });

  test('a page the newest day cannot fill asks the whole window next, with the same answer', async () => {
    const newestCount = (action: string) => all.filter((r) => r.eventName === action && Date.parse(r.eventTime) >= newestCut).length;
    const counts = new Map<string, number>();
    for (const r of all) counts.set(r.eventName, (counts.get(r.eventName) ?? 0) + 1);
    // An action with calls both in the newest day and before it, more than a page of them in all.
    const [action] = [...counts].find(([a, n]) => newestCount(a) > 0 && n > newestCount(a) + 1 && newestCount(a) <= 500) ?? [];
    expect(action).toBeDefined();
    const expected = all.filter((r) => r.eventName === action);
    const first = newestCount(action!);
    const p = await page({ actions: [action] }, first);
    expect(p.ids).toEqual(expected.slice(0, first).map((r) => r.eventID));
    expect(p.hasNextPage).toBe(true);
    expect(p.days).toHaveLength(2);
    expect(p.days[1]![0]).toBe(dayOf(FROM.getTime()));
  });

  test('following cursors walks the window once, each page reading the window\'s folders', async () => {
    const ids: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const p: Page = await page({}, 500, after);
      pages += 1;
      ids.push(...p.ids);
      if (after !== null) {
        // The folders are the window's up to its end plus the margin, whatever the cursor: a call
        // before the cursor may have been delivered in a later folder.
        for (const days of p.days) expect(days.at(-1)).toBe(dayOf(TO.getTime() - 1 + DAY));
        // The answer still belongs to the whole window: it is cached as long as that window allows.
        expect(new Set(p.answerEnds)).toEqual(new Set([TO.getTime()]));
      }
      if (!p.hasNextPage) break;
      after = p.endCursor;
    }
    expect(pages).toBe(Math.ceil(all.length / 500));
    expect(ids).toEqual(all.map((r) => r.eventID));
  });
});

describe('cursors on calls whose time is not in CloudTrail\'s usual format', () => {
  test('the next page still holds every call before the cursor', async () => {
    // Calls are ordered on their canonical time (UTC, whole seconds: "11:00:00+01:00" and
    // "10:00:00.250Z" are both 10:00:00Z), then on eventId; a cursor on any of them must still
    // find every call before it, the one at 10:00:30 included. (A time that cannot be read is in
    // no window: see record-variants.)
    const sample = readRecords(dir).find((f) => f.record.eventID === all[0].eventID)!;
    const base = { ...sample.record, eventName: 'ListInputs' };
    const odd = [
      { ...base, eventID: '00000000-0000-4000-8000-0000000000a1', eventTime: '2026-03-15T11:00:00+01:00' },
      { ...base, eventID: '00000000-0000-4000-8000-0000000000a2', eventTime: '2026-03-15T10:00:30Z' },
      { ...base, eventID: '00000000-0000-4000-8000-0000000000a3', eventTime: '2026-03-15T10:00:00.250Z' },
    ];
    const extra = path.join(path.dirname(sample.file), `odd_${Date.now()}.json.gz`);
    fs.writeFileSync(extra, gzipSync(JSON.stringify({ Records: odd })));
    try {
      const filter = { actions: ['ListInputs'] };
      const canonical = (r: RawRecord): RawRecord => ({ ...r, eventTime: new Date(Date.parse(r.eventTime)).toISOString().replace(/\.\d{3}Z$/, 'Z') });
      const expected = [...all.filter((r) => r.eventName === 'ListInputs'), ...odd].sort((a, b) => byTimeDesc(canonical(a), canonical(b))).map((r) => r.eventID);
      for (const id of odd.map((r) => r.eventID)) {
        const at = expected.indexOf(id);
        const first: Page = await page(filter, at + 1);
        expect(first.ids.at(-1)).toBe(id);
        const next = await page(filter, 20, first.endCursor);
        expect(next.ids).toEqual(expected.slice(at + 1, at + 21));
      }
    } finally {
      fs.rmSync(extra);
    }
  });
});

describe('one row per eventId', () => {
  test('a record delivered twice counts once; records without an eventId count each', async () => {
    const t = new Date(TO.getTime() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const base = { ...all[0], eventTime: t, eventName: 'ListDetectorModels', errorCode: 'ThrottlingException' };
    const twice = { ...base, eventID: '00000000-0000-4000-8000-00000000d0d0' };
    const noId = (n: number) => {
      const r: RawRecord = { ...base, requestID: `no-id-${n}` };
      delete r.eventID;
      return r;
    };
    // Both copies in another file of the same day folder as a record of the sample, plus two without an id.
    const sample = readRecords(dir).find((f) => f.record.eventID === all[0].eventID)!.file;
    const extra = path.join(path.dirname(sample), `extra_${Date.now()}.json.gz`);
    fs.writeFileSync(extra, gzipSync(JSON.stringify({ Records: [twice, noId(1), twice, noId(2)] })));
    try {
      const q = `query($f: ApiCallFilter) {
        apiCalls(filter: $f, first: 10) { totalCount edges { node { eventId requestId } } }
        actions(filter: $f) { action calls errors }
      }`;
      const res = await server.gql(q, { f: { from: FROM, to: TO, actions: ['ListDetectorModels'], errorCodes: ['ThrottlingException'] } }, { 'x-trailql-no-cache': '1' });
      expect(res.errors).toBeUndefined();
      const before = all.filter((r) => r.eventName === 'ListDetectorModels' && r.errorCode === 'ThrottlingException').length;
      expect(res.data.apiCalls.totalCount).toBe(before + 3);
      const nodes = res.data.apiCalls.edges.map((e: { node: { eventId: string | null; requestId: string } }) => e.node);
      expect(nodes.filter((n: { eventId: string | null }) => n.eventId === twice.eventID)).toHaveLength(1);
      // A record without an eventID has a synthetic one, its own.
      const synthetic = nodes.filter((n: { eventId: string | null }) => n.eventId?.startsWith('synthetic-'));
      expect(synthetic.map((n: { requestId: string }) => n.requestId).sort()).toEqual(['no-id-1', 'no-id-2']);
      expect(new Set(synthetic.map((n: { eventId: string }) => n.eventId)).size).toBe(2);
      expect(res.data.actions).toEqual([{ action: 'ListDetectorModels', calls: before + 3, errors: before + 3 }]);
    } finally {
      fs.rmSync(extra);
    }
  });
});
