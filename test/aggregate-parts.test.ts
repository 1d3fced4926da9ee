/**
 * Several grouped questions over one scan answered by one statement (compileAggregates): each
 * part's rows are exactly the rows its own statement returns, in its order and cut at its limit,
 * over JSON files with repeated deliveries, over the Parquet store, and as Athena's SQL (through
 * the Athena-on-DuckDB shim, parsed with a Trino grammar); placeholders stay in text order when
 * the scan and the parts both bind values; and the files are read once, not once per part.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { athenaDialect } from '../src/engines/athena/dialect';
import { compactTrail } from '../src/engines/duckdb/compact';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { Dialect, compile, compileAggregates, partRows } from '../src/query/compiler';
import { Engine, Row } from '../src/query/engine';
import { FIELDS } from '../src/query/fields';
import { AggregatePart, AggregatesQuery, Expr, Measure, OrderItem, Pred, Projection, Scan, val } from '../src/query/plan';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { IOT_SOURCES } from './support/records';
import { SAMPLE_END, sampleTrail } from './support/trails';

const MARGIN = 1;
const SCAN: Scan = {
  from: new Date(SAMPLE_END.getTime() - 40 * 3_600_000),
  to: SAMPLE_END,
  eventSources: IOT_SOURCES,
  regions: [],
  accounts: [],
};

const GROUPS: readonly Projection[] = [
  { alias: 'principal', e: FIELDS.principal },
  { alias: 'action', e: FIELDS.eventName },
  { alias: 'source_ip', e: FIELDS.sourceIp },
  { alias: 'bucket', e: { k: 'minuteBucket', minutes: 15, of: FIELDS.eventTime } },
  { alias: 'day', e: { k: 'bucket', interval: 'day', of: FIELDS.eventTime } },
  { alias: 'error_code', e: FIELDS.errorCode },
];

const MEASURES: readonly { alias: string; m: Measure }[] = [
  { alias: 'calls', m: { k: 'count' } },
  { alias: 'errors', m: { k: 'countErrors' } },
  { alias: 'first_seen', m: { k: 'min', e: FIELDS.eventTime } },
  { alias: 'last_seen', m: { k: 'max', e: FIELDS.eventTime } },
  { alias: 'last_ip', m: { k: 'latest', e: FIELDS.sourceIp } },
  { alias: 'actions', m: { k: 'countDistinct', e: FIELDS.eventName } },
  { alias: 'action_list', m: { k: 'distinctValues', e: FIELDS.eventName, limit: 3 } },
];

const cond = (c: Pred & { k: 'cond' }) => c;
/** Part predicates: constants written here, and values bound as parameters. */
const WHERES: readonly Pred[] = [
  cond({ k: 'cond', cond: { k: 'isNull', e: FIELDS.errorCode } }),
  cond({ k: 'cond', cond: { k: 'notNull', e: FIELDS.errorCode } }),
  cond({ k: 'cond', cond: { k: 'eqConst', e: FIELDS.rawIdentityType, value: 'AssumedRole' } }),
  cond({ k: 'cond', cond: { k: 'inConst', e: FIELDS.eventName, values: ['DescribeDetectorModel', 'ListInputs', 'DeleteInput'] } }),
  { k: 'in', e: FIELDS.region, values: [val('us-east-1')] },
  { k: 'cmp', e: FIELDS.eventTime, op: '>=', value: val(new Date(SAMPLE_END.getTime() - 12 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')) },
];

/** Scan predicates the whole statement shares (a filter's, bound). */
const SCAN_WHERES: readonly (readonly Pred[])[] = [[], [{ k: 'in', e: FIELDS.account, values: [val('111122223333'), val('444455556666')] }]];

/** A part whose order is total (the measure, then every grouping column), so its cut is one set of rows. */
const part: fc.Arbitrary<AggregatePart> = fc
  .record({
    groups: fc.subarray([...GROUPS], { minLength: 0, maxLength: 2 }),
    measures: fc.subarray([...MEASURES], { minLength: 1, maxLength: 4 }),
    where: fc.subarray([...WHERES], { minLength: 0, maxLength: 2 }),
    dir: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
    limit: fc.integer({ min: 1, max: 25 }),
  })
  .map(({ groups, measures, where, dir, limit }) => ({
    where,
    groupBy: groups,
    measures,
    orderBy: [{ alias: measures[0].alias, dir }, ...groups.map((g): OrderItem => ({ alias: g.alias, dir: 'asc' }))],
    limit,
  }));

const question: fc.Arbitrary<AggregatesQuery> = fc.record({
  label: fc.constant('parts'),
  scan: fc.constant(SCAN),
  where: fc.constantFrom(...SCAN_WHERES),
  parts: fc.array(part, { minLength: 2, maxLength: 4 }),
});

/** What a part's own statement returns. */
async function alone(engine: Engine, dialect: Dialect, q: AggregatesQuery, p: AggregatePart): Promise<Row[]> {
  const compiled = compile(dialect, { kind: 'aggregate', label: 'alone', scan: q.scan, ...p, where: [...q.where, ...p.where] }, MARGIN);
  return (await engine.execute(compiled)).rows;
}

/** Rows as comparable text: numbers as numbers, whatever width the engine returned them in. */
const text = (rows: readonly Row[]) => rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));

let dir: string;
let storeDir: string;
const engines: { name: string; engine: Engine; dialect: Dialect }[] = [];

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 120, deliveryMinutes: 60 });
  storeDir = await sampleTrail(2, { iotEventsPerDay: 120, deliveryMinutes: 60 });
  await compactTrail({ trailDir: storeDir, eventSources: IOT_SOURCES, lookbackDays: 3 });
  engines.push(
    { name: 'JSON files', engine: await DuckDbEngine.create({ trailDir: dir, threads: 2, eventSources: IOT_SOURCES, sharedScanMaxBytes: 0 }), dialect: duckdbDialect },
    {
      name: 'Parquet store',
      engine: await DuckDbEngine.create({ trailDir: storeDir, threads: 2, parquetDir: defaultStoreDir(storeDir), eventSources: IOT_SOURCES, deliveryMarginDays: MARGIN }),
      dialect: duckdbDialect,
    },
    {
      name: 'Athena SQL',
      engine: await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs'),
      dialect: athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }),
    },
  );
}, 120_000);

afterAll(async () => {
  for (const { engine } of engines) await (engine as unknown as { close(): Promise<void> }).close();
  for (const d of [dir, storeDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe.each(['JSON files', 'Parquet store', 'Athena SQL'])('%s', (name) => {
  const target = () => engines.find((e) => e.name === name)!;

  test('every part answers as its own statement would, row for row and in order', async () => {
    const { engine, dialect } = target();
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(question, async (q) => {
        const together = partRows(q, (await engine.execute(compileAggregates(dialect, q, MARGIN))).rows);
        expect(together).toHaveLength(q.parts.length);
        for (const [i, p] of q.parts.entries()) {
          const own = await alone(engine, dialect, q, p);
          expect(text(together[i])).toEqual(text(own));
          if (own.length > 0) nonEmpty += 1;
        }
      }),
      { numRuns: 25, seed: 20261130 },
    );
    // The property saw answers, not only empty parts.
    expect(nonEmpty).toBeGreaterThan(20);
  }, 120_000);
});

test('a part with no rows, and a part with no grouping (one row), keep their places', async () => {
  const { engine, dialect } = engines[0];
  const none: AggregatePart = { where: [{ k: 'in', e: FIELDS.eventName, values: [val('NoSuchAction')] }], groupBy: [GROUPS[1]], measures: [MEASURES[0]], orderBy: [{ alias: 'calls', dir: 'desc' }], limit: 10 };
  const total: AggregatePart = { where: [], groupBy: [], measures: [MEASURES[0], MEASURES[1]], orderBy: [], limit: 1 };
  const q: AggregatesQuery = { label: 'parts', scan: SCAN, where: [], parts: [none, total, none] };
  const rows = partRows(q, (await engine.execute(compileAggregates(dialect, q, MARGIN))).rows);
  expect(rows[0]).toEqual([]);
  expect(rows[2]).toEqual([]);
  expect(text(rows[1])).toEqual(text(await alone(engine, dialect, q, total)));
  expect(Number(rows[1][0].calls)).toBeGreaterThan(0);
});

test('the events are read once for all the parts', async () => {
  const { dialect } = engines[0];
  const q: AggregatesQuery = {
    label: 'parts',
    scan: SCAN,
    where: [],
    parts: [0, 1, 2, 3].map((i) => ({ where: [WHERES[i]], groupBy: [GROUPS[i]], measures: [MEASURES[0]], orderBy: [{ alias: 'calls', dir: 'desc' }], limit: 5 })),
  };
  const compiled = compileAggregates(dialect, q, MARGIN);
  // One source in the text: the driver swaps it for the files (a statement naming it twice would read them twice).
  expect(compiled.sql.split('read_json(').length - 1).toBe(1);
  const statement = await (engines[0].engine as DuckDbEngine).statement(compiled);
  const profile = await explainAnalyze(engines[0].engine as DuckDbEngine, compiled);
  // DuckDB scans the files once: one reader operator, whatever the number of parts.
  expect(statement.split('read_json(').length - 1).toBe(1);
  expect(profile.match(/Function: READ_JSON/g)?.length ?? 0).toBe(1);
  // ...and each part reads the events it needs from that one reading.
  expect(profile.match(/CTE_SCAN/g)?.length ?? 0).toBe(q.parts.length);
});

async function explainAnalyze(engine: DuckDbEngine, compiled: ReturnType<typeof compileAggregates>): Promise<string> {
  const rows = (await engine.execute({ ...compiled, sql: `EXPLAIN ANALYZE ${compiled.sql}` })).rows;
  return rows.map((r) => Object.values(r).join('\n')).join('\n');
}
