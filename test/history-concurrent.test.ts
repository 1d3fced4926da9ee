/**
 * `npm run sync` in another process and the service's own sync, both writing Event history into
 * one trail folder at the same moment: every round of either adds records to the same few slot
 * files. The slot files' lock between processes keeps every record of both; without it, one
 * process's read-merge-replace of a file drops what the other wrote in between.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { EventHistoryConfig } from '../src/config';
import { runSync } from '../src/history/run';
import { SLOT_MS, mergeSlot } from '../src/history/slot-files';
import { ConcurrentSyncOptions, concurrentSyncs, roundIds } from './support/concurrent-sync';
import { iotEventsRecord, mockCredentialsAccount } from './support/event-history';
import { readRecords } from './support/records';
import { tempDir } from './support/trails';

const ROOT = path.resolve(__dirname, '..');
const REGION = 'eu-west-1';
// Records stay inside the window of every run however slow the machine: a wide overlap.
const SEED = 10_000;
const SETTINGS: EventHistoryConfig = { regions: [REGION], intervalMinutes: 0, days: 1, overlapMinutes: 0, requestsPerSecond: 2, maxAttempts: 1 };

/**
 * SEED records in the current slot and the next (the test may run into it), written before the
 * syncs start: large files, as after a busy day, so each read-merge-replace takes a while.
 */
async function seedSlots(dir: string, account: string): Promise<string[]> {
  const top = Math.floor(Date.now() / SLOT_MS) * SLOT_MS;
  const ids: string[] = [];
  for (const start of [top, top + SLOT_MS]) {
    const records = Array.from({ length: SEED }, (_, k) => iotEventsRecord(`seed-${start}-${k}`, new Date(start + k * 10), account, REGION, 'iot.amazonaws.com'));
    await mergeSlot(dir, REGION, records.map((r) => ({ eventId: r.eventID as string, account, time: new Date(r.eventTime as string), text: JSON.stringify(r) })));
    ids.push(...records.map((r) => r.eventID as string));
  }
  return ids;
}

test('a sync in another process and one in this process, writing the same slot files at once, lose no record', async () => {
  const dir = tempDir();
  const control = tempDir();
  const common = { perRound: 10, rounds: 20, maxRounds: 1000, account: '123456789012', region: REGION, settings: SETTINGS };
  // Two event sources: each sync has its own state; their records share the slot files.
  const cli: ConcurrentSyncOptions = { ...common, name: 'cli', source: 'iotevents.amazonaws.com' };
  const service: ConcurrentSyncOptions = { ...common, name: 'service', source: 'iotevents-data.amazonaws.com' };
  const serviceDone = path.join(control, 'service-done');
  const seeded = await seedSlots(dir, common.account);

  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/support/sync-worker.ts', dir, JSON.stringify({ ...cli, untilFile: serviceDone })], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((gone = true), resolve(code))));
  const lines = readline.createInterface({ input: child.stdout });
  const nextLine = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then((code) => reject(new Error(`sync worker exited (${code}): ${stderr}`)));
  });
  const mock = mockClient(CloudTrailClient);
  const sts = mockCredentialsAccount(common.account);
  try {
    expect(await nextLine()).toBe('ready');
    const { history, rounds } = concurrentSyncs(service);
    mock.on(LookupEventsCommand).callsFake((input) => history.answer(input));
    let cliRounds: number | undefined;
    const cliDone = nextLine().then(
      (line) => (cliRounds = Number(/^done (\d+)$/.exec(line)?.[1])),
      (err: unknown) => err,
    );
    child.stdin.write('go\n');

    // Both start together; each keeps going until it has done its rounds and the other has too.
    let done = 0;
    for (const round of rounds()) {
      if ((done >= service.rounds && cliRounds !== undefined) || gone) break;
      round();
      await runSync({ trailDir: dir, eventSources: [service.source], settings: SETTINGS });
      done += 1;
      if (done === service.rounds) fs.writeFileSync(serviceDone, '');
    }
    expect(await cliDone).toBe(cliRounds);
    const code = await exited;
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

    const expected = [
      seeded,
      ...Array.from({ length: cliRounds! }, (_, r) => roundIds(cli, r)),
      ...Array.from({ length: done }, (_, r) => roundIds(service, r)),
    ].flat();
    const found = readRecords(dir).map((f) => f.record.eventID as string);
    const missing = expected.filter((id) => !found.includes(id));
    expect({ missing: missing.length, of: expected.length }).toEqual({ missing: 0, of: expected.length });
    expect(found.sort()).toEqual(expected.sort());
    // Both really wrote into the shared files: no other file holds their records.
    expect(new Set(readRecords(dir).map((f) => f.file)).size).toBeLessThanOrEqual(2);
  } finally {
    mock.restore();
    sts.restore();
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(control, { recursive: true, force: true });
  }
}, 600_000);
