/**
 * One fixture trail served three ways: DuckDB over its JSON files, DuckDB over the Parquet store
 * compacted from them, and the Athena dialect's SQL through the Athena-on-DuckDB shim, each over
 * its own copy of the fixture.
 */
import * as fs from 'node:fs';
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
