/**
 * The trail's upper folders (AWSLogs/, accounts, regions) are listed again only when their times
 * change: a new account or region is seen at once, an unchanged folder is not listed again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FolderListings, dayFolders } from '../src/engines/duckdb/trail-files';

const PARTITIONS = { accounts: [], regions: [], days: ['2026/03/14'] };
const SETTLED = new Date('2026-01-01T00:00:00Z');

let root: string;
const accountDir = (account: string) => path.join(root, 'AWSLogs', account, 'CloudTrail');

function makeRegion(account: string, region: string): void {
  fs.mkdirSync(path.join(accountDir(account), region, '2026', '03', '14'), { recursive: true });
}

/** Puts every folder's time in the past, as on a trail that is not being written to. */
function settle(): void {
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
    fs.utimesSync(dir, SETTLED, SETTLED);
  };
  walk(root);
}

const regionsOf = async (listings: FolderListings) => (await dayFolders(root, PARTITIONS, listings)).map((f) => `${f.account}/${f.region}`).sort();

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-listing-'));
  makeRegion('111122223333', 'us-east-1');
  settle();
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('a listing is kept while the folder time is unchanged', async () => {
  const listings = new FolderListings();
  expect(await regionsOf(listings)).toEqual(['111122223333/us-east-1']);
  // A region added with the folder's time put back: only a kept listing misses it.
  makeRegion('111122223333', 'eu-west-1');
  fs.utimesSync(accountDir('111122223333'), SETTLED, SETTLED);
  expect(await regionsOf(listings)).toEqual(['111122223333/us-east-1']);
  // Without the memo the folder is listed afresh.
  expect((await dayFolders(root, PARTITIONS)).map((f) => f.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
});

test('a new region or account is seen at once: its parent folder changed', async () => {
  const listings = new FolderListings();
  expect(await regionsOf(listings)).toEqual(['111122223333/us-east-1']);
  makeRegion('111122223333', 'eu-west-1');
  expect(await regionsOf(listings)).toEqual(['111122223333/eu-west-1', '111122223333/us-east-1']);
  settle();
  expect(await regionsOf(listings)).toEqual(['111122223333/eu-west-1', '111122223333/us-east-1']);
  makeRegion('444455556666', 'us-east-1');
  expect(await regionsOf(listings)).toEqual(['111122223333/eu-west-1', '111122223333/us-east-1', '444455556666/us-east-1']);
});

test('a region removed is gone at once, and a vanished folder lists nothing', async () => {
  const listings = new FolderListings();
  makeRegion('111122223333', 'eu-west-1');
  settle();
  expect(await regionsOf(listings)).toHaveLength(2);
  fs.rmSync(path.join(accountDir('111122223333'), 'eu-west-1'), { recursive: true });
  expect(await regionsOf(listings)).toEqual(['111122223333/us-east-1']);
  fs.rmSync(path.join(root, 'AWSLogs'), { recursive: true });
  expect(await regionsOf(listings)).toEqual([]);
});

test('a folder changed within the settle time is not kept (a change in the same clock tick would not move its time)', async () => {
  const listings = new FolderListings(100, 60_000);
  const now = new Date();
  fs.utimesSync(accountDir('111122223333'), now, now);
  expect(await regionsOf(listings)).toEqual(['111122223333/us-east-1']);
  makeRegion('111122223333', 'eu-west-1');
  fs.utimesSync(accountDir('111122223333'), now, now);
  expect(await regionsOf(listings)).toEqual(['111122223333/eu-west-1', '111122223333/us-east-1']);
});

test('each day folder is the path of its account, region and day, on plain and organization trails', async () => {
  const orgAccount = path.join(root, 'AWSLogs', 'o-a1b2c3d4e5', '777788889999', 'CloudTrail');
  fs.mkdirSync(path.join(orgAccount, 'eu-west-1', '2026', '03', '13'), { recursive: true });
  const days = ['2026/03/13', '2026/03/14'];
  const folders = await dayFolders(root, { accounts: [], regions: [], days }, new FolderListings());
  const expected = [
    ...days.map((day) => ({ account: '111122223333', region: 'us-east-1', day, dir: path.join(accountDir('111122223333'), 'us-east-1', ...day.split('/')) })),
    ...days.map((day) => ({ account: '777788889999', region: 'eu-west-1', day, dir: path.join(orgAccount, 'eu-west-1', ...day.split('/')) })),
  ];
  expect([...folders].sort((a, b) => a.dir.localeCompare(b.dir))).toEqual(expected.sort((a, b) => a.dir.localeCompare(b.dir)));
  expect(folders.filter((f) => fs.existsSync(f.dir)).map((f) => `${f.account} ${f.day}`).sort()).toEqual(['111122223333 2026/03/14', '777788889999 2026/03/13']);
});
