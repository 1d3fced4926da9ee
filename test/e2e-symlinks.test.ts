/**
 * Trails laid out with symbolic links (a synced folder linked in, a file linked to its copy) are
 * read through them; a link to nothing (or to itself), a link to something that is no file, or a
 * folder named like a record file, is reported unreadable without being read: no record file is
 * passed over without a word. (A linked account, region or day folder that leads nowhere is
 * skipped as a missing folder would be.)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IOT_SOURCES, dedupe, inWindow, listRecordFiles, readRecords } from './support/records';
import { TestServer, startServer } from './support/server';
import { sampleTrail, tempDir } from './support/trails';

const FROM = '2026-03-13T00:00:00Z';
const TO = '2026-03-15T00:00:00Z';
const COUNT = `query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 1) { totalCount } }`;

let dir: string;
let elsewhere: string;
let server: TestServer;
/** Calls in the window per account, counted from the files before any was linked. */
let expected: Map<string, number>;
let total: number;
let accounts: string[];
let dangling: string;
let folderNamedLikeAFile: string;
let pipeNamedLikeAFile: string;

beforeAll(async () => {
  dir = await sampleTrail(3, { iotEventsPerDay: 40, otherEventsPerIotEvent: 1 });
  elsewhere = tempDir('trailql-linked-');
  const calls = dedupe(readRecords(dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(FROM), new Date(TO)));
  expected = new Map();
  for (const r of calls) expected.set(r.recipientAccountId, (expected.get(r.recipientAccountId) ?? 0) + 1);
  total = calls.length;
  accounts = [...expected.keys()].sort();
  const files = listRecordFiles(dir);
  // The first account's folder lives elsewhere, linked in (as a mounted or synced folder would be).
  const accountDir = path.join(dir, 'AWSLogs', accounts[0]!);
  fs.renameSync(accountDir, path.join(elsewhere, accounts[0]!));
  fs.symlinkSync(path.join(elsewhere, accounts[0]!), accountDir);
  // One file of another account is a link to its copy elsewhere.
  const file = files.find((f) => f.includes(`${path.sep}${accounts[1]}${path.sep}`) && f.includes(path.join('2026', '03', '14')))!;
  fs.copyFileSync(file, path.join(elsewhere, path.basename(file)));
  fs.rmSync(file);
  fs.symlinkSync(path.join(elsewhere, path.basename(file)), file);
  // In that file's folder: a link to nothing, and a folder named like a record file.
  dangling = path.join(path.dirname(file), `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_LinkToNothing001.json.gz`);
  fs.symlinkSync(path.join(elsewhere, 'gone.json.gz'), dangling);
  folderNamedLikeAFile = path.join(path.dirname(file), `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_AFolderNotFile01.json.gz`);
  fs.mkdirSync(folderNamedLikeAFile);
  pipeNamedLikeAFile = path.join(path.dirname(file), `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_APipeNotAFile001.json.gz`);
  execFileSync('mkfifo', [pipeNamedLikeAFile]);
  server = await startServer(dir, { CACHE_ENABLED: 'false' });
});

afterAll(async () => {
  await server?.close();
  for (const d of [dir, elsewhere]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('calls under linked folders and files are counted; what cannot be read is named', async () => {
  const all = await server.gql(COUNT, { filter: { from: FROM, to: TO } });
  expect(all.errors).toBeUndefined();
  expect(all.data.apiCalls.totalCount).toBe(total);
  expect(all.extensions?.complete).toBe(false);
  const reasons = Object.fromEntries(all.extensions?.warnings[0].files.map((f: { path: string; reason: string }) => [path.basename(f.path), f.reason]));
  expect(reasons).toEqual({ [path.basename(dangling)]: 'a link to nothing', [path.basename(folderNamedLikeAFile)]: 'not a file', [path.basename(pipeNamedLikeAFile)]: 'not a file' });
  // Health lists them as the answers name them, and counts each once however often it is read.
  await server.gql(COUNT, { filter: { from: FROM, to: TO } });
  const health = await server.gql(`{ trailHealth { unreadableFileCount unreadableFilesFound unreadableFiles { path reason } } }`, {});
  expect(Object.fromEntries(health.data.trailHealth.unreadableFiles.map((f: { path: string; reason: string }) => [path.basename(f.path), f.reason]))).toEqual(reasons);
  expect(health.data.trailHealth.unreadableFileCount).toBe(3);
  expect(health.data.trailHealth.unreadableFilesFound).toBe(3);
});

test('an account whose folder is a link answers its own calls', async () => {
  const linked = await server.gql(COUNT, { filter: { from: FROM, to: TO, accounts: [accounts[0]] } });
  expect(linked.errors).toBeUndefined();
  expect(linked.data.apiCalls.totalCount).toBe(expected.get(accounts[0]!));
  expect(linked.data.apiCalls.totalCount).toBeGreaterThan(0);
  expect(linked.extensions?.complete).toBe(true);
});

test('a link looping on itself is named unreadable; a link whose file became a pipe is never opened', async () => {
  const folder = path.dirname(dangling);
  const loop = path.join(folder, `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_LinkToItself001.json.gz`);
  fs.symlinkSync(loop, loop);
  // A link to a copy elsewhere, listed while it leads to a file; the folder's listing is then kept.
  const copy = path.join(elsewhere, 'becomes-a-pipe.json.gz');
  fs.copyFileSync(listRecordFiles(path.join(dir, 'AWSLogs', accounts[1]!)).find((f) => path.dirname(f) === folder && !f.includes('Link'))!, copy);
  const piped = path.join(folder, `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_BecomesAPipe01.json.gz`);
  fs.symlinkSync(copy, piped);
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(folder, past, past);
  try {
    const before = await server.gql(COUNT, { filter: { from: FROM, to: TO } });
    expect(before.errors).toBeUndefined();
    const named = (res: typeof before) => Object.fromEntries(res.extensions?.warnings[0].files.map((f: { path: string; reason: string }) => [path.basename(f.path), f.reason]));
    expect(named(before)[path.basename(loop)]).toBe('a link to nothing');
    // What the link leads to becomes a pipe; its folder does not change, so its listing stands.
    fs.rmSync(copy);
    execFileSync('mkfifo', [copy]);
    const after = await server.gql(COUNT, { filter: { from: FROM, to: TO } });
    expect(after.errors).toBeUndefined();
    expect(named(after)[path.basename(piped)]).toBe('not a file');
    // The copy repeats calls of its folder (counted once): the counts stand.
    expect(before.data.apiCalls.totalCount).toBe(total);
    expect(after.data.apiCalls.totalCount).toBe(total);
  } finally {
    // Were a read blocked on the pipe, opening its other end lets it go.
    try {
      fs.closeSync(fs.openSync(copy, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // no reader: nothing was blocked
    }
    for (const f of [loop, piped, copy]) fs.rmSync(f, { force: true });
  }
});

test('many links to nothing are each named, without a read each (a failed read names one path)', async () => {
  const folder = path.dirname(dangling);
  const links = Array.from({ length: 12 }, (_, i) => path.join(folder, `${accounts[1]}_CloudTrail_us-east-1_20260314T0000Z_Nowhere${String(i).padStart(8, '0')}.json.gz`));
  for (const l of links) fs.symlinkSync(path.join(elsewhere, `missing-${path.basename(l)}`), l);
  try {
    const res = await server.gql(COUNT, { filter: { from: FROM, to: TO } });
    expect(res.errors).toBeUndefined();
    expect(res.data.apiCalls.totalCount).toBe(total);
    const named = new Set(res.extensions?.warnings[0].files.map((f: { path: string }) => path.basename(f.path)));
    for (const l of links) expect(named.has(path.basename(l))).toBe(true);
  } finally {
    for (const l of links) fs.rmSync(l, { force: true });
  }
});
