/**
 * `npm run sync`: copies CloudTrail Event history (LookupEvents) for EVENT_HISTORY_REGIONS and the
 * configured event sources into TRAIL_DIR, in the S3 delivery layout `npm start` serves. Uses the
 * default AWS credential chain (`aws configure`, AWS_PROFILE, environment variables, SSO, ...).
 * Run it again to fetch only what is new; an interrupted run continues where it stopped.
 */
import { ConfigError, loadStorageConfig } from '../config';
import { runSync } from './run';
import { SyncFailedError, SyncResult } from './sync';

async function main(): Promise<void> {
  let config;
  try {
    config = loadStorageConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sync: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const problems: string[] = [];
  if (!config.trailDir) problems.push('TRAIL_DIR: the folder to write Event history into (it is then served with TRAIL_DIR=... npm start)');
  if (!config.eventHistory.regions.length) problems.push('EVENT_HISTORY_REGIONS: the regions to read, e.g. us-east-1,eu-west-1');
  if (problems.length || !config.trailDir) {
    process.stderr.write(`sync: ${problems.join('\n  ')}\n`);
    process.exit(2);
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  let results: readonly SyncResult[];
  let failed: SyncFailedError | undefined;
  try {
    results = await runSync({ trailDir: config.trailDir, eventSources: config.eventSources, settings: config.eventHistory, signal: abort.signal, progress: true });
  } catch (err) {
    if (!(err instanceof SyncFailedError)) throw err;
    ({ results } = err);
    failed = err;
  }
  for (const r of results) {
    process.stdout.write(
      `${r.region} ${r.source}: ${r.events} events in ${r.pages} pages, ${r.written} new, ${r.skipped} left out${r.skipped ? ' (no usable record; answers over their time say so)' : ''}` +
        ` (account ${r.account}), ${r.from} .. ${r.to}\n`,
    );
  }
  if (failed) {
    for (const f of failed.failures) process.stderr.write(`sync: ${f.region} ${f.source} failed: ${f.error instanceof Error ? f.error.message : String(f.error)}; the next run continues from where it stopped\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  const name = err instanceof Error ? err.name : '';
  if (name === 'AbortError') {
    process.stderr.write('sync: interrupted; what was fetched is kept, the next run continues from there\n');
    process.exit(130);
  }
  if (name === 'CredentialsProviderError') process.stderr.write('sync: no AWS credentials found: run `aws configure` or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)\n');
  else process.stderr.write(`sync: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
