/**
 * Opt-in test against real Amazon Athena (costs a query's worth of scanning, see athena/README.md):
 *
 *   TRAILQL_LIVE_ATHENA=1 npm test -- test/athena-live.test.ts
 *
 * It reads the same ATHENA_* and TRAIL_* variables as `npm run athena:setup`, uses the default
 * AWS credential chain, and expects the table to exist. Without TRAILQL_LIVE_ATHENA=1 jest does not
 * run this file at all (jest.config.js): nothing is checked against Athena, so nothing is counted.
 */
import { AthenaEngine } from '../src/engines/athena/driver';
import { athenaSettingsFromEnv } from '../src/engines/athena/env';
import { isOrganizationTrail } from '../src/engines/athena/settings';
import type { CompiledQuery, SqlValue } from '../src/query/engine';

describe('Athena (live)', () => {
  const settings = athenaSettingsFromEnv(process.env);
  const engine = new AthenaEngine(settings);

  afterAll(async () => {
    await engine.close();
  });

  test('ping reaches the workgroup', async () => {
    await expect(engine.ping()).resolves.toBeUndefined();
  });

  test('counts one day of one region through partition projection', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '/');
    const org = isOrganizationTrail(settings);
    const params: SqlValue[] = [yesterday, settings.regions[0]!];
    if (org) params.push(settings.accounts[0]!);
    const query: CompiledQuery = {
      sql:
        `SELECT count(*) AS records, count(DISTINCT eventsource) AS sources FROM "${settings.database}"."${settings.table}" ` +
        `WHERE "timestamp" = ? AND region = ?${org ? ' AND account = ?' : ''}`,
      params,
      partitions: { days: [yesterday], regions: [settings.regions[0]!], accounts: org ? [settings.accounts[0]!] : [] },
      window: { from: new Date(Date.now() - 2 * 86_400_000), to: new Date() },
      label: 'liveCount',
    };

    const result = await engine.execute(query, { timeoutMs: 170_000 });

    expect(result.rows).toHaveLength(1);
    expect(typeof result.rows[0]!.records).toBe('number');
    expect(typeof result.rows[0]!.sources).toBe('number');
    expect(result.stats.queryId).toEqual(expect.any(String));
    expect(result.stats.bytesScanned).toBeGreaterThanOrEqual(0);
    console.log(
      `Athena live: ${String(result.rows[0]!.records)} records on ${yesterday} in ${settings.regions[0]}, ` +
        `${result.stats.bytesScanned} bytes scanned, ${result.stats.engineMs} ms (query ${result.stats.queryId})`,
    );
  }, 180_000);
});
