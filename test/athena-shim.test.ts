/**
 * The Athena-on-DuckDB shim is only a proof when it refuses what Athena refuses and computes
 * what Trino computes: its IP emulation against the service's own CIDR code, Trino's split_part,
 * the length limit, the grammar, implicit casts, regular expressions, and the bytes it counts.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { cidrContains, formatAddress, parseCidr } from '../src/domain/ip';
import { CompiledQuery, SqlValue } from '../src/query/engine';
import { TrailqlError } from '../src/errors';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { listRecordFiles } from './support/records';
import { checkTrinoStatement, unportableRegex } from './support/trino-checks';
import { sampleTrail } from './support/trails';

let dir: string;
let shim: AthenaSqlOnDuckDb;
const DAYS = ['2026/03/14', '2026/03/15'];

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 5, otherEventsPerIotEvent: 1 });
  shim = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
});
afterAll(async () => {
  await shim?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function q(sql: string, params: SqlValue[] = [], days = DAYS): CompiledQuery {
  return { sql, params, partitions: { days, regions: [], accounts: [] }, window: { from: new Date(0), to: new Date(1) }, label: 't' };
}
const one = async (sql: string, params: SqlValue[] = []) => (await shim.execute(q(sql, params))).rows[0]!.x;

describe('Trino functions as Trino computes them', () => {
  test('split_part past the last field is NULL, within it the field', async () => {
    expect(await one(`SELECT split_part('a.b', '.', 3) AS x`)).toBeNull();
    expect(await one(`SELECT split_part('a.b', '.', 2) AS x`)).toBe('b');
  });

  test('TRY_CAST of text that is no address makes contains NULL, not an error', async () => {
    expect(await one(`SELECT contains(CAST(? AS IPPREFIX), TRY_CAST(? AS IPADDRESS)) AS x`, ['2600::/16', 'AWS Internal'])).toBeNull();
  });

  const v6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => g.reduce((n, x) => (n << 16n) | BigInt(x), 0n));
  test('contains(IPPREFIX, IPADDRESS) agrees with the service\'s own CIDR test', async () => {
    await fc.assert(
      fc.asyncProperty(v6, v6, fc.integer({ min: 0, max: 128 }), fc.boolean(), async (net, addr, length, inside) => {
        const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(128 - length);
        const first = net & mask;
        // Half the cases put the address inside the block, so both answers are exercised.
        const a = inside ? first | (addr & ~mask & ((1n << 128n) - 1n)) : addr;
        const cidr = `${formatAddress(first, 6)}/${length}`;
        const text = formatAddress(a, 6);
        const got = await one(`SELECT contains(CAST(? AS IPPREFIX), TRY_CAST(? AS IPADDRESS)) AS x`, [cidr, text]);
        expect(got).toBe(cidrContains(parseCidr(cidr), text));
      }),
      { numRuns: 20 },
    );
  });
});

describe('what Athena refuses, the shim refuses', () => {
  test('a statement over Athena\'s length limit', async () => {
    await expect(shim.execute(q(`SELECT 1 AS x /* ${'y'.repeat(262_144)} */`))).rejects.toBeInstanceOf(TrailqlError);
  });

  test('SQL the Trino grammar does not parse', async () => {
    await expect(shim.execute(q('SELECT 1 AS x FROM WHERE ('))).rejects.toThrow(/not Trino SQL/);
  });

  test('a backslash in a text is a character, as in Trino, not an escape', async () => {
    expect(() => checkTrinoStatement(`SELECT 1 FROM t WHERE strpos("errormessage", 'a\\') > 0 AND "eventname" = 'b'`)).not.toThrow();
    expect(await one(`SELECT strpos('x\\y', ?) AS x`, ['\\'])).toBe(2);
    expect(await one(`SELECT length('\\') + length(?) AS x`, ['it\'s'])).toBe(5);
  });

  test('implicit casts between text columns and numbers', async () => {
    const table = '"trailql"."cloudtrail_logs"';
    await expect(shim.execute(q(`SELECT count(*) AS x FROM ${table} WHERE "eventversion" = ?`, [1]))).rejects.toThrow(/implicit cast/);
    await expect(shim.execute(q(`SELECT count(*) AS x FROM ${table} WHERE "eventtime" BETWEEN ? AND ?`, ['2026', 5]))).rejects.toThrow(/implicit cast/);
    await expect(shim.execute(q(`SELECT ("eventname" || 1) AS x FROM ${table}`))).rejects.toThrow(/concatenate/);
    expect(await one(`SELECT count(*) AS x FROM ${table} WHERE "eventversion" = ?`, ['1.08'])).toBeGreaterThanOrEqual(0);
    expect(() => checkTrinoStatement(`SELECT 1 FROM t WHERE length("eventname") > 3 AND TRY_CAST("readonly" AS BIGINT) = 1`)).not.toThrow();
  });

  test('regular expressions Java and RE2 read differently', async () => {
    expect(unportableRegex('^[0-9]{1,3}\\.[0-9]{1,3}$')).toBeUndefined();
    for (const p of ['(?=a)b', '(a)\\1', 'a*+', '[[:alpha:]]', '\\p{L}', '(?<n>a)', '\\Qa\\E']) expect(unportableRegex(p)).toBeDefined();
    await expect(shim.execute(q(`SELECT regexp_like('ab', '(?!a)b') AS x`))).rejects.toThrow(/lookaround/);
    expect(await one(`SELECT regexp_like('ab', '^a') AS x`)).toBe(true);
  });
});

describe('bytes scanned', () => {
  test('a statement counts the files of the partitions it reads, whole', async () => {
    const files = listRecordFiles(dir);
    const day = '2026/03/15';
    const expected = files.filter((f) => f.includes(`/${day}/`)).reduce((s, f) => s + fs.statSync(f).size, 0);
    expect(expected).toBeGreaterThan(0);
    const result = await shim.execute(q('SELECT 1 AS x', [], [day]));
    expect(result.stats.bytesScanned).toBe(expected);
    expect((await shim.execute(q('SELECT 1 AS x', [], ['2001/01/01']))).stats.bytesScanned).toBe(0);
  });
});
