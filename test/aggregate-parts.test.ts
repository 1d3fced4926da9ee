/**
 * Questions answered together by one statement, over JSON files with repeated deliveries, over the
 * Parquet store, and as Athena's SQL (through the Athena-on-DuckDB shim, parsed with a Trino
 * grammar), with placeholders in text order when several parts bind values:
 * - several grouped questions over one scan (compileAggregates): each part's rows are exactly the
 *   rows its own statement returns, in its order and cut at its limit; the files are read once;
 * - a page of groups with each group's newest events (compileGroupsWithEvents): the page is the
 *   aggregate's own (keyset, count of groups included) and each group's events are those the
 *   batched nested statement returns for the page's groups.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { athenaDialect } from '../src/engines/athena/dialect';
import { compactTrail } from '../src/engines/duckdb/compact';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { Dialect, GroupsWithEvents, compile, compileAggregates, compileGroupsWithEvents, groupsWithEventsColumns, partRows, taggedRows } from '../src/query/compiler';
import { Engine, Row } from '../src/query/engine';
import { EVENT_COLUMNS, FIELDS } from '../src/query/fields';
import { NEWEST_FIRST, TOTAL } from '../src/query/builders';
import { parentIn, parentOf } from '../src/services/nested-batches';
import { AggregatePart, AggregateQuery, AggregatesQuery, Measure, OrderItem, Pred, Projection, Scan, Value, val } from '../src/query/plan';
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

/** Group keys: never null (callers, principals, actions), or null for some calls (source addresses, error codes). */
const GROUP_KEYS: readonly Projection[] = [
  { alias: 'group_key', e: FIELDS.callerKey },
  { alias: 'group_key', e: FIELDS.principal },
  { alias: 'group_key', e: FIELDS.sourceIp },
  { alias: 'group_key', e: FIELDS.eventName },
  { alias: 'group_key', e: FIELDS.errorCode },
];

const pageQuestion = fc.record({
  key: fc.constantFrom(...GROUP_KEYS),
  measures: fc.subarray(MEASURES.filter((m) => m.alias !== 'calls'), { minLength: 0, maxLength: 3 }),
  byErrors: fc.boolean(),
  where: fc.constantFrom(...SCAN_WHERES, [WHERES[4]]),
  size: fc.integer({ min: 1, max: 6 }),
  groupTotal: fc.boolean(),
  /** Start after the n-th row of the first page (none: the first page). */
  after: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  perGroup: fc.integer({ min: 1, max: 4 }),
  eventTotal: fc.boolean(),
  columns: fc.subarray(EVENT_COLUMNS.map((c) => c.alias).filter((a) => a !== 'event_id' && a !== 'event_time'), { maxLength: 6 }),
  /** The groups are the whole list, and the page a cut of it (as when answers are kept). */
  wholeList: fc.boolean(),
});

/** The page's own statement: what the combined statement's groups must be. */
const groupsOf = (g: { key: Projection; measures: typeof MEASURES; byErrors: boolean; where: readonly Pred[]; size: number; groupTotal: boolean }): AggregateQuery => ({
  kind: 'aggregate',
  label: 'groups',
  scan: SCAN,
  where: g.where,
  groupBy: [g.key],
  measures: [MEASURES[0], ...g.measures],
  orderBy: [{ alias: g.byErrors && g.measures.some((m) => m.alias === 'errors') ? 'errors' : 'calls', dir: 'desc' }, { alias: 'group_key', dir: 'asc' }],
  limit: g.size + 1,
  ...(g.groupTotal ? { withTotal: TOTAL } : {}),
});

describe.each(['JSON files', 'Parquet store', 'Athena SQL'])('groups with their events, %s', (name) => {
  test('the page is the aggregate\'s own, and each group\'s events are the batched nested statement\'s', async () => {
    const { engine, dialect } = engines.find((e) => e.name === name)!;
    let withEvents = 0;
    let withNull = 0;
    await fc.assert(
      fc.asyncProperty(pageQuestion, async (g) => {
        let groups = groupsOf(g);
        if (g.after !== undefined) {
          const first = (await engine.execute(compile(dialect, groups, MARGIN))).rows;
          const at = first[Math.min(g.after, first.length - 1)];
          if (!at) return;
          groups = { ...groups, withTotal: undefined, after: groups.orderBy.map((o): Value | null => (at[o.alias] === null ? null : val(typeof at[o.alias] === 'bigint' ? Number(at[o.alias]) : (at[o.alias] as string | number)))) };
        }
        const select = EVENT_COLUMNS.filter((c) => ['event_id', 'event_time', ...g.columns].includes(c.alias));
        const events = { select, orderBy: NEWEST_FIRST, perGroup: g.perGroup, parentAlias: 'parent_key', ...(g.eventTotal ? { withTotal: TOTAL } : {}) };
        const list: AggregateQuery = { ...groups, after: undefined, limit: 1000 };
        const q: GroupsWithEvents = g.wholeList
          ? { groups: list, events: { ...events, page: { ...(groups.after ? { after: groups.after } : {}), limit: groups.limit } } }
          : { groups, events };
        const [groupRows, eventRows] = taggedRows(groupsWithEventsColumns(q), (await engine.execute(compileGroupsWithEvents(dialect, q, MARGIN))).rows);
        expect(text(groupRows)).toEqual(text((await engine.execute(compile(dialect, q.groups, MARGIN))).rows));
        // The groups whose events are read: the page's.
        const ownPage = (await engine.execute(compile(dialect, groups, MARGIN))).rows;
        if (ownPage.length === 0) return expect(eventRows).toEqual([]);
        const keys = ownPage.map((r) => parentOf({ parent_key: r.group_key }));
        const own = (
          await engine.execute(
            compile(
              dialect,
              {
                kind: 'events',
                label: 'nested',
                scan: SCAN,
                where: [...g.where, parentIn(g.key.e, keys)],
                select,
                orderBy: NEWEST_FIRST,
                limit: keys.length * g.perGroup,
                perGroup: { alias: 'parent_key', e: g.key.e, limit: g.perGroup },
                ...(g.eventTotal ? { withTotal: TOTAL } : {}),
              },
              MARGIN,
            ),
          )
        ).rows;
        // Per group, in the events' order (the batched statement orders by time across groups).
        const byParent = (rows: readonly Row[]) => keys.map((k) => text(rows.filter((r) => parentOf(r) === k)));
        expect(byParent(eventRows)).toEqual(byParent(own));
        expect(eventRows).toHaveLength(own.length);
        withEvents += 1;
        if (keys.includes('\u0000')) withNull += 1;
      }),
      { numRuns: 25, seed: 20261130 },
    );
    expect(withEvents).toBeGreaterThan(15);
    // The group without a key (calls without an error code) was on pages, and got its events.
    expect(withNull).toBeGreaterThan(0);
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
