/**
 * The compiler without an engine: SQL text and parameters pinned separately for both dialects,
 * user values only ever in parameters, LIMIT an integer literal, Athena's partition predicates,
 * and the day folders a window needs.
 */
import { athenaDialect } from '../src/engines/athena/dialect';
import { JSON_SOURCE, duckdbDialect } from '../src/engines/duckdb/dialect';
import { BadInputError } from '../src/errors';
import { compile, windowBound } from '../src/query/compiler';
import { SourceIpKind, classifySourceIp } from '../src/domain/ip';
import { windowBoundMs } from '../src/query/engine';
import { branchOf } from '../src/services/narrowings';
import { ttlFor } from '../src/cache/cache';
import { EVENT_COLUMNS, EVENT_TIME_PATTERN, FIELDS } from '../src/query/fields';
import { partitionsFor } from '../src/query/partitions';
import { Scan } from '../src/query/plan';
import { DIALECTS, IOT_EVENT_SOURCES, apiCallsCountPlan, apiCallsPlan } from './support/plans';
import { checkTrinoStatement } from './support/trino-checks';

const athenaOrg = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true });
const athenaSingle = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: false });

const WINDOW = { from: new Date('2026-03-14T10:00:00Z'), to: new Date('2026-03-15T00:00:00Z') };
const FILTER = {
  actions: ['CreateInput', 'DeleteInput'],
  regions: ['eu-west-1'],
  accounts: ['111122223333'],
  errorsOnly: true,
  userAgentContains: 'aws-cli',
};

const DUCKDB_SOURCE = JSON_SOURCE;

/** The canonical UTC eventTime, computed by Athena from the record's text (DuckDB reads it from its source). */
const ATHENA_TIME = `CASE WHEN regexp_like("eventtime", '${EVENT_TIME_PATTERN}') THEN date_format(at_timezone(try(from_iso8601_timestamp(replace("eventtime", ' ', 'T'))), 'UTC'), '%Y-%m-%dT%H:%i:%sZ') END`;
/** The documented synthetic id: `synthetic-` + SHA-256 of these fields joined by newlines, NULL as ''. */
const SYNTHETIC_INPUT = [
  '"eventversion"', '"eventtime"', '"eventsource"', '"eventname"', '"awsregion"', '"recipientaccountid"', '"sourceipaddress"', '"useragent"',
  '"useridentity"."type"', '"useridentity"."principalid"', '"useridentity"."arn"', '"useridentity"."accountid"', '"useridentity"."accesskeyid"',
  '"useridentity"."username"', '"useridentity"."invokedby"', '"requestid"', '"errorcode"', '"errormessage"',
].map((c) => `COALESCE(${c}, '')`).join(" || '\n' || ");
const ATHENA_ID = `COALESCE(NULLIF("eventid", ''), ('synthetic-' || lower(to_hex(sha256(to_utf8((${SYNTHETIC_INPUT})))))))`;
const INSIGHTS = `COALESCE("eventtype", '') <> 'AwsCloudTrailInsight'`;
/** Where items written with DuckDB's column names, as the Athena dialect spells them. */
const athenaWhere = (items: string[]) => items.map((w) => w.replace(/"eventtime"/g, () => ATHENA_TIME).replace(/"eventid"/g, ATHENA_ID));

/** The delivery file of an Athena row, from its key on (what orders a call's copies). */
const ATHENA_FILE = `COALESCE(NULLIF(regexp_extract("$path", '.*/(AWSLogs/.*)$', 1), ''), "$path")`;

/**
 * The count over one row per eventId, the copy of the first delivery file: a window for Athena,
 * DISTINCT ON for DuckDB. Predicates on what copies may not share (`after`, over the columns
 * `inputs`) are tested on the copy kept.
 */
const countSql = (source: string, where: string[], after: { inputs: string[]; where: string[] }) => {
  const inputs = (source === DUCKDB_SOURCE ? after.inputs : athenaWhere(after.inputs)).map((e, i) => `${e} AS trailql_filter_${i}`);
  const rows =
    source === DUCKDB_SOURCE
      ? [
          `SELECT DISTINCT ON ("recipientaccountid", "awsregion", "eventid") ${(inputs.length ? inputs : ['1 AS trailql_one']).join(',\n    ')}`,
          `  FROM ${source}`,
          `  WHERE ${where.join('\n    AND ')}`,
          `  ORDER BY "recipientaccountid", "awsregion", "eventid", regexp_extract("sourcefile", '[^/]*$'), "sourcefile"`,
        ]
      : [
          'SELECT *',
          '  FROM (',
          '  SELECT k.*, row_number() OVER (PARTITION BY k.trailql_key0, k.trailql_key1, k.trailql_key2 ORDER BY k.trailql_prefer0, k.trailql_prefer1) AS trailql_rank',
          '  FROM (',
          `  SELECT ${[...inputs, '"recipientaccountid" AS trailql_key0', '"awsregion" AS trailql_key1', `${ATHENA_ID} AS trailql_key2`, `regexp_extract(${ATHENA_FILE}, '[^/]*$') AS trailql_prefer0`, `${ATHENA_FILE} AS trailql_prefer1`].join(',\n    ')}`,
          `  FROM ${source}`,
          `  WHERE ${athenaWhere(where).join('\n    AND ')}`,
          '  ) k',
          '  ) d',
          '  WHERE d.trailql_rank = 1',
        ];
  const calls = after.where.length ? ['SELECT *', '  FROM (', `  ${rows.join('\n')}`, '  ) c', `  WHERE ${after.where.join('\n    AND ')}`] : rows;
  return ['SELECT count(*) AS "calls"', 'FROM (', `  ${calls.join('\n')}`, ') t', 'LIMIT 1'].join('\n');
};

const FILTER_WHERE = [
  '"eventsource" IN (?, ?)',
  '"awsregion" = ?',
  '"recipientaccountid" = ?',
  INSIGHTS,
];
/** The filter's predicates on what copies of a call need not share: tested on the copy kept. */
const FILTER_AFTER = {
  inputs: ['"eventtime"', '"eventname"', '"errorcode"', '"useragent"'],
  where: ['"trailql_filter_0" >= ?', '"trailql_filter_0" < ?', '"trailql_filter_1" IN (?, ?)', '"trailql_filter_2" IS NOT NULL', 'strpos(lower("trailql_filter_3"), lower(?)) > 0'],
};
/** The window alone, tested on the copy kept. */
const WINDOW_AFTER = { inputs: ['"eventtime"'], where: ['"trailql_filter_0" >= ?', '"trailql_filter_0" < ?'] };
const FILTER_PARAMS = [
  'iotevents.amazonaws.com',
  'ioteventsdata.amazonaws.com',
  'eu-west-1',
  '111122223333',
  '2026-03-14T10:00:00Z',
  '2026-03-15T00:00:00Z',
  'CreateInput',
  'DeleteInput',
  'aws-cli',
];

/** Every string the caller chose, as it would appear in SQL if it were inlined. */
const userValues = (filter: Record<string, unknown>): string[] =>
  Object.values(filter).flatMap((v) => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : [])).map(String);

describe('apiCallsCount, pinned', () => {
  test('duckdb: the file list is the first parameter, then the window, sources, regions, accounts, filters', () => {
    const q = compile(duckdbDialect, apiCallsCountPlan(FILTER, WINDOW), 1);
    expect(q.sql).toBe(countSql(DUCKDB_SOURCE, FILTER_WHERE, FILTER_AFTER));
    expect(q.params).toEqual(FILTER_PARAMS);
    expect(q.partitions).toEqual({ days: ['2026/03/14', '2026/03/15'], regions: ['eu-west-1'], accounts: ['111122223333'] });
    expect(q.label).toBe('apiCallsCount');
    expect(q.window).toEqual(WINDOW);
    expect(Object.isFrozen(q)).toBe(true);
    expect(Object.isFrozen(q.params)).toBe(true);
  });

  test('athena, organization trail: timestamp, region and account partitions first', () => {
    const q = compile(athenaOrg, apiCallsCountPlan(FILTER, WINDOW), 1);
    expect(q.sql).toBe(countSql('"trailql"."cloudtrail_logs"', ['"timestamp" BETWEEN ? AND ?', '"region" IN (?)', '"account" IN (?)', ...FILTER_WHERE], FILTER_AFTER));
    expect(q.params).toEqual(['2026/03/14', '2026/03/15', 'eu-west-1', '111122223333', ...FILTER_PARAMS]);
  });

  test('athena, single-account trail: no account partition (the table has none)', () => {
    const q = compile(athenaSingle, apiCallsCountPlan(FILTER, WINDOW), 1);
    expect(q.sql).toBe(countSql('"trailql"."cloudtrail_logs"', ['"timestamp" BETWEEN ? AND ?', '"region" IN (?)', ...FILTER_WHERE], FILTER_AFTER));
    expect(q.params).toEqual(['2026/03/14', '2026/03/15', 'eu-west-1', ...FILTER_PARAMS]);
  });

  test('no region or account restriction: athena restricts the timestamp only', () => {
    const where = ['"eventsource" IN (?, ?)', INSIGHTS];
    const params = [...IOT_EVENT_SOURCES, '2026-03-14T10:00:00Z', '2026-03-15T00:00:00Z'];
    for (const dialect of [athenaOrg, athenaSingle]) {
      const q = compile(dialect, apiCallsCountPlan({}, WINDOW), 2);
      expect(q.sql).toBe(countSql('"trailql"."cloudtrail_logs"', ['"timestamp" BETWEEN ? AND ?', ...where], WINDOW_AFTER));
      expect(q.params).toEqual(['2026/03/14', '2026/03/16', ...params]);
    }
    const q = compile(duckdbDialect, apiCallsCountPlan({}, WINDOW), 2);
    expect(q.sql).toBe(countSql(DUCKDB_SOURCE, where, WINDOW_AFTER));
    expect(q.params).toEqual(params);
  });

  test('every event source served (EVENT_SOURCES=*): no event source predicate', () => {
    const q = compile(athenaOrg, apiCallsCountPlan({ accounts: ['111122223333', '444455556666'] }, WINDOW, []), 0);
    expect(q.sql).toBe(
      countSql('"trailql"."cloudtrail_logs"', ['"timestamp" BETWEEN ? AND ?', '"account" IN (?, ?)', '"recipientaccountid" IN (?, ?)', INSIGHTS], WINDOW_AFTER),
    );
    expect(q.params).toEqual(['2026/03/14', '2026/03/14', '111122223333', '444455556666', '111122223333', '444455556666', '2026-03-14T10:00:00Z', '2026-03-15T00:00:00Z']);
  });

  test('IPv4 and IPv6 blocks and a resource name bind numbers, hex and the suffix', () => {
    const filter = { sourceCidrs: ['203.0.113.0/24', '2001:db8::/32'], resourceName: 'boiler-temp' };
    for (const dialect of Object.values(DIALECTS)) {
      const q = compile(dialect, apiCallsCountPlan(filter, WINDOW), 1);
      // Athena tests IPv6 blocks with Trino's IP types (the block as text); DuckDB as a hex range.
      const ipv6 = dialect.ipv6InPrefix ? ['2001:db8::/32'] : ['20010db8000000000000000000000000', '20010db8ffffffffffffffffffffffff'];
      expect(q.params.slice(-13 - ipv6.length)).toEqual([
        3405803776, // 203.0.113.0
        3405804031, // 203.0.113.255
        ...ipv6,
        'boiler-temp', // detectorModelName
        'boiler-temp', // inputName
        'boiler-temp', // alarmModelName
        '/boiler-temp', // resourceArn ends with it
        ...Array(7).fill('boiler-temp'), // an entry of each batch call's array
      ]);
      for (const v of ['203.0.113.0', '2001:db8', 'boiler-temp']) expect(q.sql).not.toContain(v);
      expect(q.sql).toContain('BETWEEN ? AND ?');
      expect(q.sql).toContain(dialect === duckdbDialect ? 'ends_with(' : 'strpos(reverse(');
    }
  });
});

describe('apiCalls pages', () => {
  const CURSOR: [string, string, string] = ['2026-03-14T18:00:00Z', 'f0e1d2c3-0000-4000-8000-000000000000', 'a111122223333/reu-west-1'];

  test.each(Object.entries(DIALECTS))('%s: columns, keyset, order and LIMIT', (name, dialect) => {
    const q = compile(dialect, apiCallsPlan({ userNames: ['Admin'] }, WINDOW, { size: 50, cursor: CURSOR }), 1);
    for (const c of EVENT_COLUMNS) expect(q.sql).toContain(`t."${c.alias}"`);
    // DuckDB's source is pruned by its file list; Athena's partition predicates come first.
    const duck = [`${name === 'duckdb' ? '  WHERE' : '    AND'} "eventsource" IN (?, ?)`, `    AND ${INSIGHTS}`];
    const where = name === 'duckdb' ? [...duck, `  ORDER BY "recipientaccountid", "awsregion", "eventid", regexp_extract("sourcefile", '[^/]*$'), "sourcefile"`] : [...athenaWhere(duck), '  ) k', '  ) d', '  WHERE d.trailql_rank = 1'];
    // The window, the caller and the keyset are tested on the copy kept: copies of one call may differ in them.
    const after = [
      '  ) c',
      '  WHERE "trailql_filter_0" >= ?',
      '    AND "trailql_filter_0" < ?',
      '    AND "trailql_filter_1" = ?',
      // The same time and id, then the account and region: every call counted has a place of its own.
      '    AND ("trailql_filter_0" < ? OR ("trailql_filter_0" = ? AND ("trailql_filter_2" < ? OR ("trailql_filter_2" = ? AND "trailql_filter_3" < ?))))',
      ') t',
    ];
    expect(q.sql).toContain([...where, ...after, 'ORDER BY "event_time" DESC NULLS LAST, "event_id" DESC NULLS LAST, "call_tie" DESC NULLS LAST', 'LIMIT 51'].join('\n'));
    expect(q.sql).toContain('COALESCE("useridentity"."username", "useridentity"."sessioncontext"."sessionissuer"."username") AS trailql_filter_1');
    const escaped = (c: string) => `replace(replace("${c}", '\\', '\\\\'), '/', '\\/')`;
    expect(q.sql).toContain(`(COALESCE(('a' || ${escaped('recipientaccountid')}), '') || '/' || COALESCE(('r' || ${escaped('awsregion')}), '')) AS trailql_filter_3`);
    if (name === 'duckdb') expect(q.sql).toContain('SELECT DISTINCT ON ("recipientaccountid", "awsregion", "eventid") "eventid" AS "event_id"');
    else expect(q.sql).toContain(`${ATHENA_ID} AS "event_id"`);
    expect(q.sql.endsWith('\nLIMIT 51')).toBe(true);
    expect(q.params.slice(-6)).toEqual(['Admin', CURSOR[0], CURSOR[0], CURSOR[1], CURSOR[1], CURSOR[2]]);
    for (const v of ['Admin', ...CURSOR]) expect(q.sql).not.toContain(v);
  });

  test('the SQL text does not depend on the values, only on how many there are', () => {
    const a = apiCallsPlan({ actions: ['A1', 'A2'], userNames: ["O'Brien"], sourceIps: ['AWS Internal'] }, WINDOW, { cursor: CURSOR });
    const b = apiCallsPlan({ actions: ['Zz', 'Yy'], userNames: ['x--y/*z*/'], sourceIps: ['10.0.0.1'] }, { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') }, { cursor: ['x', 'y', 'z'] });
    for (const dialect of Object.values(DIALECTS)) {
      const qa = compile(dialect, a, 1);
      const qb = compile(dialect, b, 1);
      expect(qa.sql).toBe(qb.sql);
      expect(qa.params).not.toEqual(qb.params);
      expect(qa.params).toHaveLength(qb.params.length);
    }
  });
});

describe('user values are parameters, never SQL', () => {
  const HOSTILE = {
    actions: ['DescribeDetector'],
    userNames: ["admin' OR '1'='1", 'x"; DROP TABLE t; --', 'a?b', 'back\\slash', 'nul\u0000byte', 'üñî©ødé 🚀'],
    sourceIps: ["'; SELECT 1; --", '/* comment */'],
    callerArns: ["arn:aws:iam::111122223333:user/o'hara"],
    principalArns: ['arn:aws:iam::111122223333:role/x?y'],
    errorCodes: ['Access.Denied:x'],
    userAgentContains: "'; DELETE FROM x; --",
    resourceName: 'model:v1.2_x',
  };

  test.each(Object.entries(DIALECTS))('%s', (_name, dialect) => {
    for (const plan of [apiCallsPlan(HOSTILE, WINDOW), apiCallsCountPlan(HOSTILE, WINDOW)]) {
      const q = compile(dialect, plan, 1);
      for (const v of userValues(HOSTILE)) {
        expect(q.sql).not.toContain(v);
      }
      for (const v of [...HOSTILE.actions, ...HOSTILE.userNames, ...HOSTILE.sourceIps, ...HOSTILE.callerArns, ...HOSTILE.principalArns, ...HOSTILE.errorCodes, HOSTILE.userAgentContains, HOSTILE.resourceName]) {
        expect(q.params).toContain(v);
      }
      for (const p of q.params) {
        expect(['string', 'number', 'boolean']).toContain(typeof p);
        if (typeof p === 'string') expect(q.sql).not.toContain(p);
      }
      const placeholders = q.sql.match(/\?/g)?.length ?? 0;
      expect(placeholders).toBe(q.params.length + (dialect === duckdbDialect ? 1 : 0));
    }
  });
});

describe('LIMIT', () => {
  test.each([1, 2, 500, 100000])('%p is an integer literal', (limit) => {
    for (const dialect of Object.values(DIALECTS)) {
      const q = compile(dialect, { ...apiCallsCountPlan({}, WINDOW), limit }, 1);
      expect(q.sql).toMatch(new RegExp(`\\nLIMIT ${limit}$`));
      expect(q.params).not.toContain(limit);
    }
  });

  test.each([0, -1, 1.5, 100001, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('%p throws', (limit) => {
    for (const dialect of Object.values(DIALECTS)) {
      expect(() => compile(dialect, { ...apiCallsPlan({}, WINDOW), limit }, 1)).toThrow(/LIMIT/);
      expect(() => compile(dialect, { ...apiCallsCountPlan({}, WINDOW), limit }, 1)).toThrow(/LIMIT/);
    }
  });
});

describe('counts and per-parent cuts in the page statement', () => {
  const page = apiCallsPlan({}, WINDOW);
  const grouped = { ...apiCallsCountPlan({}, WINDOW), groupBy: [{ alias: 'parent_key', e: EVENT_COLUMNS[0]!.e }], orderBy: [{ alias: 'calls', dir: 'desc' as const }], limit: 10 };

  test.each(Object.entries(DIALECTS))('%s: a count over the whole set before ORDER BY and LIMIT', (_name, dialect) => {
    expect(compile(dialect, { ...page, withTotal: 'trailql_total' }, 1).sql).toContain('count(*) OVER () AS "trailql_total"');
    const cut = compile(dialect, { ...grouped, perGroup: { alias: 'parent_key', limit: 3 }, withTotal: 'trailql_total' }, 1).sql;
    expect(cut).toContain('row_number() OVER (PARTITION BY a0."parent_key" ORDER BY a0."calls" DESC NULLS LAST) AS trailql_group_rank');
    expect(cut).toContain('count(*) OVER (PARTITION BY a0."parent_key") AS "trailql_total"');
    expect(cut).toContain('WHERE a.trailql_group_rank <= 3');
  });

  test('a keyset page of calls cannot carry the count (it reads only up to its cursor)', () => {
    const after = apiCallsPlan({}, WINDOW, { cursor: ['2026-03-14T12:00:00Z', 'id'] });
    expect(() => compile(duckdbDialect, { ...after, withTotal: 'trailql_total' }, 1)).toThrow(/withTotal/);
  });

  test('a per-parent cut is for first pages, and cuts by a grouping column', () => {
    expect(() => compile(duckdbDialect, { ...grouped, perGroup: { alias: 'parent_key', limit: 3 }, after: [{ v: 1 }] }, 1)).toThrow(/perGroup/);
    expect(() => compile(duckdbDialect, { ...grouped, perGroup: { alias: 'calls', limit: 3 } }, 1)).toThrow(/not a grouping column/);
  });
});

describe('partitionsFor', () => {
  const scan = (from: string, to: string, extra: Partial<Scan> = {}): Scan => ({
    from: new Date(from),
    to: new Date(to),
    eventSources: [],
    regions: [],
    accounts: [],
    ...extra,
  });
  const days = (from: string, to: string, margin: number) => partitionsFor(scan(from, to), margin).days;

  test('a window within one day', () => {
    expect(days('2026-03-14T10:00:00Z', '2026-03-14T14:00:00Z', 0)).toEqual(['2026/03/14']);
    expect(days('2026-03-14T10:00:00Z', '2026-03-14T14:00:00Z', 1)).toEqual(['2026/03/14', '2026/03/15']);
    expect(days('2026-03-14T10:00:00Z', '2026-03-14T14:00:00Z', 2)).toEqual(['2026/03/14', '2026/03/15', '2026/03/16']);
  });

  test('a window across midnight', () => {
    expect(days('2026-03-14T22:00:00Z', '2026-03-15T02:00:00Z', 0)).toEqual(['2026/03/14', '2026/03/15']);
    expect(days('2026-03-14T22:00:00Z', '2026-03-15T02:00:00Z', 2)).toEqual(['2026/03/14', '2026/03/15', '2026/03/16', '2026/03/17']);
  });

  test('a window ending exactly at midnight does not need that day for itself', () => {
    expect(days('2026-03-14T10:00:00Z', '2026-03-15T00:00:00Z', 0)).toEqual(['2026/03/14']);
    expect(days('2026-03-14T00:00:00Z', '2026-03-15T00:00:00Z', 0)).toEqual(['2026/03/14']);
    expect(days('2026-03-14T00:00:00Z', '2026-03-15T00:00:00Z', 1)).toEqual(['2026/03/14', '2026/03/15']);
    expect(days('2026-03-14T00:00:00Z', '2026-03-15T00:00:00Z', 2)).toEqual(['2026/03/14', '2026/03/15', '2026/03/16']);
    expect(days('2026-03-14T00:00:00Z', '2026-03-15T00:00:00.001Z', 0)).toEqual(['2026/03/14', '2026/03/15']);
  });

  test('month, year and leap-day boundaries', () => {
    expect(days('2025-12-31T23:00:00Z', '2026-01-01T01:00:00Z', 1)).toEqual(['2025/12/31', '2026/01/01', '2026/01/02']);
    expect(days('2024-02-28T12:00:00Z', '2024-03-01T00:00:00Z', 0)).toEqual(['2024/02/28', '2024/02/29']);
    expect(days('2026-02-28T12:00:00Z', '2026-02-28T13:00:00Z', 1)).toEqual(['2026/02/28', '2026/03/01']);
  });

  test('regions and accounts come sorted', () => {
    const p = partitionsFor(scan('2026-03-14T00:00:00Z', '2026-03-14T01:00:00Z', { regions: ['us-east-1', 'eu-west-1'], accounts: ['444455556666', '111122223333'] }), 0);
    expect(p).toEqual({ days: ['2026/03/14'], regions: ['eu-west-1', 'us-east-1'], accounts: ['111122223333', '444455556666'] });
  });

  test('athena binds the first and last day of the list', () => {
    const plan = apiCallsCountPlan({}, { from: new Date('2026-03-14T22:00:00Z'), to: new Date('2026-03-15T02:00:00Z') });
    expect(compile(athenaOrg, plan, 0).params.slice(0, 2)).toEqual(['2026/03/14', '2026/03/15']);
    expect(compile(athenaOrg, plan, 2).params.slice(0, 2)).toEqual(['2026/03/14', '2026/03/17']);
    expect(compile(athenaOrg, plan, 2).partitions.days).toHaveLength(4);
  });
});

test('the filter refuses what would otherwise reach the compiler', () => {
  expect(() => apiCallsPlan({ regions: ["eu-west-1' OR '1'='1"] }, WINDOW)).toThrow(BadInputError);
  expect(() => apiCallsPlan({ eventSources: ['s3.amazonaws.com'] }, WINDOW)).toThrow(BadInputError);
});

describe('branches: many narrowings of one scan in one statement', () => {
  const window = { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-15T00:00:00Z') };
  const items = [
    { k: 'in', e: FIELDS.sourceIp, values: [{ v: '198.51.100.7' }] },
    { k: 'and', items: [{ k: 'in', e: FIELDS.eventName, values: [{ v: 'DeleteInput' }] }, { k: 'cond', cond: { k: 'isNull', e: FIELDS.errorCode } }] },
  ] as const;
  const events = () => ({ ...apiCallsPlan({ accounts: ['111122223333'] }, window, { size: 3 }), branches: { alias: 'trailql_branch', items, limit: 4 } });
  const counts = () => ({ ...apiCallsCountPlan({ accounts: ['111122223333'] }, window), branches: { alias: 'trailql_branch', items } });

  test.each(Object.entries(DIALECTS))('%s: branch values bound after the scan\'s, never in the text; Trino grammar accepts it', (name, dialect) => {
    for (const plan of [events(), counts()]) {
      const q = compile(dialect, plan as never, 1);
      expect(q.sql).not.toContain('198.51.100.7');
      expect(q.sql).not.toContain('DeleteInput');
      // The branch values are the last placeholders: the text's order is the params' order.
      expect(q.params.slice(-2)).toEqual(['198.51.100.7', 'DeleteInput']);
      expect(q.sql).toMatch(/CROSS JOIN \(VALUES \(0\), \(1\)\) AS b \("trailql_branch"\)/);
      if (name.startsWith('athena')) checkTrinoStatement(q.sql);
    }
  });
});

describe('untimed records', () => {
  const scan: Scan = { ...WINDOW, eventSources: IOT_EVENT_SOURCES, regions: [], accounts: ['111122223333'] };
  const plan = (untimed: boolean) =>
    compile(
      duckdbDialect,
      { kind: 'aggregate', label: 'u', scan, where: [], groupBy: [{ alias: 'source_file', e: { k: 'sourceFile' } }], measures: [], orderBy: [{ alias: 'source_file', dir: 'asc' }], limit: 2, untimed },
      1,
    );
  const athena = (untimed: boolean) =>
    compile(
      athenaOrg,
      { kind: 'aggregate', label: 'u', scan, where: [], groupBy: [{ alias: 'source_file', e: { k: 'sourceFile' } }], measures: [], orderBy: [{ alias: 'source_file', dir: 'asc' }], limit: 2, untimed },
      1,
    );

  test('of the copies of an untimed record, the one in the first delivery file is kept (its file is the same in every answer)', () => {
    expect(plan(true).sql).toContain(`ORDER BY "recipientaccountid", "awsregion", "eventid", regexp_extract("sourcefile", '[^/]*$'), "sourcefile"`);
    expect(athena(true).sql).toContain(`"$path"`);
    expect(athena(true).sql).toMatch(/row_number\(\) OVER \(PARTITION BY k\.trailql_key0, k\.trailql_key1, k\.trailql_key2 ORDER BY k\.trailql_prefer0, k\.trailql_prefer1\)/);
    expect(athena(true).sql).toContain(`COALESCE(NULLIF(regexp_extract("$path", '.*/(AWSLogs/.*)$', 1), ''), "$path") AS trailql_prefer1`);
  });

  test('timed statements keep the same copy', () => {
    expect(plan(false).sql).toContain(`ORDER BY "recipientaccountid", "awsregion", "eventid", regexp_extract("sourcefile", '[^/]*$'), "sourcefile"`);
    expect(athena(false).sql).toContain('ORDER BY k.trailql_prefer0, k.trailql_prefer1');
  });

  test('untimed statements read the records whose canonical time is NULL, with the scope bound', () => {
    const q = plan(true);
    expect(q.sql).toContain('"eventtime" AS trailql_filter_0');
    expect(q.sql).toContain('"trailql_filter_0" IS NULL');
    expect(q.sql).not.toContain('111122223333');
    expect(q.params).toContain('111122223333');
  });
});

describe('window bounds within a second', () => {
  const at = (iso: string) => new Date(iso);
  test('a bound within a second is the next whole second; a whole second stays; never past year 9999', () => {
    expect(windowBoundMs(at('2026-03-15T12:00:00.000Z'))).toBe(Date.parse('2026-03-15T12:00:00Z'));
    expect(windowBoundMs(at('2026-03-15T12:00:00.001Z'))).toBe(Date.parse('2026-03-15T12:00:01Z'));
    expect(windowBoundMs(at('2026-03-15T12:00:00.999Z'))).toBe(Date.parse('2026-03-15T12:00:01Z'));
    expect(windowBound(at('9999-12-31T23:59:59.500Z'))).toBe('9999-12-31T23:59:59Z');
  });

  test('the statement, a narrowing and the cache lifetime all take the bound so', () => {
    const from = at('2026-03-15T10:00:00.500Z');
    const to = at('2026-03-15T12:00:00.500Z');
    const q = compile(duckdbDialect, apiCallsPlan({}, { from, to }), 1);
    expect(q.params).toEqual(expect.arrayContaining(['2026-03-15T10:00:01Z', '2026-03-15T12:00:01Z']));
    const branch = branchOf({ name: 'n', key: 'k', filter: {} as never, window: { from, to }, where: [] });
    expect(JSON.stringify(branch)).toContain('"2026-03-15T10:00:01Z"');
    expect(JSON.stringify(branch)).toContain('"2026-03-15T12:00:01Z"');
    const policy = { deliveryLagMs: 0, closedTtlMs: 2, openTtlMs: 1 };
    // Calls of 12:00:00 are still in the window until 12:00:01.
    expect(ttlFor({ to }, at('2026-03-15T12:00:00.700Z'), policy, true).closed).toBe(false);
    expect(ttlFor({ to }, at('2026-03-15T12:00:01.000Z'), policy, true).closed).toBe(true);
  });
});

describe('IPv6 blocks on Athena', () => {
  test('text with a zone or an embedded IPv4 address is in no block, as the address kinds say', () => {
    const w = { from: new Date('2026-03-15T00:00:00Z'), to: new Date('2026-03-15T12:00:00Z') };
    const q = compile(athenaOrg, apiCallsPlan({ sourceCidrs: ['fe80::/10'] }, w), 1);
    expect(q.sql).toContain(`strpos("trailql_filter_1", '.') = 0 AND strpos("trailql_filter_1", '%') = 0 AND contains(CAST(? AS IPPREFIX), TRY_CAST("trailql_filter_1" AS IPADDRESS))`);
    expect(q.sql).toContain('"sourceipaddress" AS trailql_filter_1');
    for (const text of ['fe80::1%eth0', '::ffff:10.0.0.1']) expect(classifySourceIp(text)).toBe(SourceIpKind.OTHER);
  });
});
