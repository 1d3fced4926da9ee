/**
 * One fixture trail served three ways: DuckDB over its JSON files, DuckDB over the Parquet store
 * compacted from them, and the Athena dialect's SQL through the Athena-on-DuckDB shim, each over
 * its own copy of the fixture.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { athenaDialect } from '../../src/engines/athena/dialect';
import { compactTrail } from '../../src/engines/duckdb/compact';
import { AthenaSqlOnDuckDb } from './athena-on-duckdb';
import { TestServer, startServer } from './server';
import { tempDir } from './trails';

export type FixtureEngine = 'json' | 'parquet' | 'athena';

export interface FixtureServers {
  readonly servers: Record<FixtureEngine, TestServer>;
  /** Partitions the store was compacted into. */
  readonly compacted: readonly string[];
  close(): Promise<void>;
}

export async function serveFixture(fixture: string, env: Record<string, string>, now: () => Date): Promise<FixtureServers> {
  const dirs: string[] = [];
  const copy = () => {
    const dir = tempDir('trailql-fixture-');
    fs.cpSync(fixture, dir, { recursive: true });
    dirs.push(dir);
    return dir;
  };
  const json = await startServer(copy(), { ...env, PARQUET_ENABLED: 'false' }, { now });
  const stored = copy();
  const { compacted } = await compactTrail({ trailDir: stored, eventSources: [] });
  const parquet = await startServer(stored, env, { now });
  const shimDir = copy();
  const shim = await AthenaSqlOnDuckDb.create(shimDir, 'trailql', 'cloudtrail_logs');
  const athena = await startServer(shimDir, env, {
    now,
    engine: { engine: shim, dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }) },
  });
  const servers = { json, parquet, athena };
  return {
    servers,
    compacted,
    async close() {
      for (const s of Object.values(servers)) await s.close();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Where `serveRecords` writes: one account, region and day, read with "now" the next midnight. */
export const ONE_DAY_TRAIL = { account: '111122223333', region: 'eu-west-1', day: '2026-03-15', window: { from: '2026-03-15T00:00:00Z', to: '2026-03-16T00:00:00Z' } } as const;

/**
 * Hand-written records in one delivery file (named after `tag`) of ONE_DAY_TRAIL's day folder,
 * served three ways; closing removes the trail too.
 */
export async function serveRecords(tag: string, records: readonly object[], env: Record<string, string>): Promise<FixtureServers> {
  const { account, region, day } = ONE_DAY_TRAIL;
  const source = tempDir(`trailql-${tag}-`);
  const folder = path.join(source, 'AWSLogs', account, 'CloudTrail', region, ...day.split('-'));
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, `${account}_CloudTrail_${region}_${day.replace(/-/g, '')}T1005Z_${tag}.json`), JSON.stringify({ Records: records }));
  const fixture = await serveFixture(source, env, () => new Date(ONE_DAY_TRAIL.window.to));
  return {
    ...fixture,
    async close() {
      await fixture.close();
      fs.rmSync(source, { recursive: true, force: true });
    },
  };
}
