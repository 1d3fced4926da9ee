/**
 * Insights over less than they asked for say so in `complete`: a trail file of the window or of
 * the baseline left out as unreadable, or time Event history has not synced. A finding of
 * something "new" may otherwise rest on a baseline lacking the calls that made it usual.
 */
import * as fs from 'node:fs';
import { listRecordFiles } from './support/records';
import { TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const DAY = 86_400_000;
const WINDOW = { from: new Date(SAMPLE_END.getTime() - DAY).toISOString(), to: SAMPLE_END.toISOString() };
const Q = `query($f: ApiCallFilter) { insights(filter: $f, baselineDays: 2) { totalCount complete } }`;

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(3, { iotEventsPerDay: 20, otherEventsPerIotEvent: 0 });
  server = await startServer(dir, {}, { now: () => SAMPLE_END });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function insights(s: TestServer) {
  const r = await s.gql<{ insights: { totalCount: number; complete: boolean } }>(Q, { f: WINDOW });
  expect(r.errors).toBeUndefined();
  return { complete: r.data!.insights.complete, warnings: (r.extensions?.warnings ?? []).map((w: { code: string }) => w.code) };
}

/** A file of the day `daysBefore` the window's end, made unreadable until `restore` is called. */
function damage(daysBefore: number): () => void {
  const day = new Date(SAMPLE_END.getTime() - daysBefore * DAY - 3_600_000).toISOString().slice(0, 10).split('-').join('/');
  const file = listRecordFiles(dir).find((f) => f.includes(`/${day}/`))!;
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, 'not a log');
  return () => fs.writeFileSync(file, bytes);
}

test('whole: complete', async () => {
  expect(await insights(server)).toEqual({ complete: true, warnings: [] });
});

test.each([
  ['the baseline', 2],
  ['the window', 0],
])('a file of %s left out: not complete, and the warning says which', async (_where, daysBefore) => {
  const restore = damage(daysBefore);
  try {
    expect(await insights(server)).toEqual({ complete: false, warnings: ['FILES_UNREADABLE'] });
  } finally {
    restore();
  }
  expect(await insights(server)).toEqual({ complete: true, warnings: [] });
});

test('time Event history has not synced: not complete', async () => {
  const history = await startServer(dir, { EVENT_HISTORY_REGIONS: 'eu-west-1' }, { now: () => SAMPLE_END });
  try {
    expect(await insights(history)).toEqual({ complete: false, warnings: ['HISTORY_NOT_SYNCED'] });
  } finally {
    await history.close();
  }
});
