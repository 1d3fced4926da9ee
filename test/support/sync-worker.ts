/**
 * A second process syncing Event history into the same trail folder, as `npm run sync` does
 * (runSync), with LookupEvents mocked (aws-sdk-client-mock) to answer this process's own records.
 * Used by test/history-concurrent.test.ts:
 *
 *   node -r ts-node/register/transpile-only test/support/sync-worker.ts <trailDir> <options JSON>
 *
 * Prints "ready", waits for a line on stdin, then runs `rounds` syncs (and more until the file
 * `untilFile` exists), each after adding new records to its Event history; prints "done <rounds>".
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { runSync } from '../../src/history/run';
import { ConcurrentSyncOptions, concurrentSyncs } from './concurrent-sync';
import { mockCredentialsAccount } from './event-history';

async function main(): Promise<void> {
  const [trailDir, json] = process.argv.slice(2);
  const options = JSON.parse(json!) as ConcurrentSyncOptions & { untilFile: string };
  const { history, rounds } = concurrentSyncs(options);
  mockClient(CloudTrailClient).on(LookupEventsCommand).callsFake((input) => history.answer(input));
  mockCredentialsAccount(options.account);
  process.stdout.write('ready\n');
  const stdin = readline.createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => stdin.once('line', () => resolve()));
  // Nothing more to read: an open stdin would keep the process alive.
  stdin.close();
  process.stdin.destroy();
  let done = 0;
  for (const round of rounds()) {
    if (done >= options.rounds && fs.existsSync(options.untilFile)) break;
    round();
    await runSync({ trailDir: trailDir!, eventSources: [options.source], settings: options.settings });
    done += 1;
  }
  process.stdout.write(`done ${done}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
