/**
 * Property tests of the road from a filter value to SQL: whatever a client sends, validateFilter
 * refuses it with BAD_USER_INPUT or the compiled statement (both dialects) carries it as a
 * parameter only, and the SQL text does not change with it. Athena's parameter encoding, run on
 * DuckDB, gives back exactly the string it was given.
 */
import fc from 'fast-check';
import { encodeExecutionParameter } from '../src/engines/athena/driver';
import { parseCidr } from '../src/domain/ip';
import { BadInputError } from '../src/errors';
import { compile } from '../src/query/compiler';
import { CallFilter } from '../src/query/filter';
import { substituteParameters } from './support/athena-on-duckdb';
import { useMemoryDuckDb } from './support/memory-duckdb';
import { DIALECTS, IOT_EVENT_SOURCES, apiCallsPlan } from './support/plans';

const WINDOW = { from: new Date('2026-03-14T10:00:00Z'), to: new Date('2026-03-15T00:00:00Z') };
const RUNS = 150;

// ---------------------------------------------------------------------------------------------
// Values

const NASTY = [
  "'",
  "''",
  "' OR '1'='1",
  "x'; DROP TABLE cloudtrail_logs; --",
  '"; SELECT 1; --',
  '\\',
  "\\'",
  '?',
  '??',
  '$1',
  '--',
  '/*',
  '*/',
  '/* x */',
  'NULL',
  'AND TRUE',
  ') OR (1=1',
  '\u0000',
  'a\u0000b',
  '\n\r\t',
  'üñî©ødé',
  '🚀🛰️',
  '\u202e\u200b\ufeff',
  '"eventtime"',
  'LIMIT 1',
];

/** Strings built from the characters that matter to SQL, any Unicode, and long ones. */
const nasty: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ unit: fc.constantFrom("'", '"', '\\', '?', '-', '/', '*', ';', ' ', '(', ')', 'a', 'Z', '0', '.', ':', 'é', '🚀', '\u0000', '\n'), maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constant('a'.repeat(1025)),
  fc.string({ unit: 'binary-ascii', minLength: 1025, maxLength: 1025 }),
  fc.string({ unit: 'binary-ascii', minLength: 1024, maxLength: 1024 }),
);

const matching = (re: RegExp) => fc.stringMatching(re);
const hostileSuffix = (valid: fc.Arbitrary<string>) => fc.tuple(valid, fc.constantFrom(...NASTY)).map(([a, b]) => a + b);

const v4Cidr = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, prefix]) => {
  const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const masked = prefix === 0 ? 0 : Math.floor(n / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${prefix}`;
});
const v6Cidr = fc.ipV6().map((ip) => `${ip}/128`);

interface FieldSpec {
  /** Values that may pass validation. */
  valid: fc.Arbitrary<string>;
  /** The i-th of some distinct values that pass validation, shaped like `like`. */
  canonical: (i: number, like: string) => string;
  list: boolean;
}

const FIELDS: Record<string, FieldSpec> = {
  actions: { valid: matching(/^[A-Za-z0-9]{1,128}$/), canonical: (i) => `Action${i}`, list: true },
  eventSources: { valid: fc.oneof(matching(/^[a-z0-9.-]{1,40}\.amazonaws\.com$/), fc.constantFrom(...IOT_EVENT_SOURCES)), canonical: (i) => `svc${i}.amazonaws.com`, list: true },
  accounts: { valid: matching(/^\d{12}$/), canonical: (i) => String(100000000000 + i), list: true },
  regions: { valid: matching(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/), canonical: (i) => `xx-test-${i}`, list: true },
  callerArns: { valid: matching(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:[^\s]{1,60}$/), canonical: (i) => `arn:aws:iam::111122223333:user/u${i}`, list: true },
  principalArns: {
    valid: fc.oneof(matching(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:[^\s]{1,60}$/), matching(/^[a-z0-9.-]{1,40}\.amazonaws\.com(\.cn)?$/)),
    canonical: (i) => `arn:aws:iam::111122223333:role/r${i}`,
    list: true,
  },
  userNames: { valid: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), canonical: (i) => `user${i}`, list: true },
  accessKeyIds: { valid: matching(/^[A-Z0-9]{16,40}$/), canonical: (i) => `AKIA${String(i).padStart(16, '0')}`, list: true },
  sourceIps: { valid: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), canonical: (i) => `10.0.0.${i}`, list: true },
  sourceCidrs: { valid: fc.oneof(v4Cidr, v6Cidr), canonical: (i, like) => (parseCidr(like).version === 4 ? `10.${i}.0.0/16` : `2001:db8:${i.toString(16)}::/48`), list: true },
  errorCodes: { valid: matching(/^[A-Za-z0-9._:-]{1,128}$/), canonical: (i) => `Error${i}`, list: true },
  resourceName: { valid: matching(/^[A-Za-z0-9_.:-]{1,256}$/), canonical: () => 'model-1', list: false },
  userAgentContains: { valid: fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }), canonical: () => 'aws-cli', list: false },
};

const valueOf = (spec: FieldSpec) => fc.oneof({ weight: 3, arbitrary: spec.valid }, { weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: hostileSuffix(spec.valid) });
const valuesOf = (spec: FieldSpec) =>
  fc.oneof({ weight: 12, arbitrary: fc.array(valueOf(spec), { maxLength: 5 }) }, { weight: 1, arbitrary: fc.array(spec.valid, { minLength: 99, maxLength: 102 }) });

// ---------------------------------------------------------------------------------------------
// The property

/** Refused as bad input, or compiled with every value a parameter and SQL text independent of the values. */
function checkFilter(filter: CallFilter, allowedSources: readonly string[], cursor?: [string, string]): 'refused' | 'compiled' {
  let plan;
  try {
    plan = apiCallsPlan(filter, WINDOW, { allowedSources, cursor });
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).extensions.code).toBe('BAD_USER_INPUT');
    return 'refused';
  }
  const given = Object.entries(filter).flatMap(([field, v]) => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).map((value) => ({ field, value: String(value) })));
  const values = [...given.map((g) => g.value), ...(cursor ?? [])];

  // The same filter with other valid values (as many distinct ones): the SQL text must not change.
  const reference: Record<string, unknown> = {};
  let referenceSources = allowedSources;
  for (const [field, v] of Object.entries(filter)) {
    const spec = FIELDS[field];
    if (Array.isArray(v)) {
      const distinct = [...new Set(v as string[])];
      reference[field] = distinct.map((x, i) => spec.canonical(i, x));
      if (field === 'eventSources' && distinct.length) referenceSources = [];
    } else if (typeof v === 'string') reference[field] = spec.canonical(0, v);
  }
  const referencePlan = apiCallsPlan(reference, WINDOW, { allowedSources: referenceSources, cursor: cursor && ['2026-03-14T12:00:00Z', 'ref-id'] });

  for (const dialect of Object.values(DIALECTS)) {
    const q = compile(dialect, plan, 1);
    const staticSql = compile(dialect, referencePlan, 1).sql;
    expect(q.sql).toBe(staticSql);
    for (const v of values) {
      if (v.length >= 4 && !staticSql.includes(v)) expect(q.sql).not.toContain(v);
    }
    for (const { field, value } of given) {
      if (field === 'sourceCidrs') continue; // bound as the block's first and last address
      expect(q.params).toContain(value);
    }
    for (const v of cursor ?? []) expect(q.params).toContain(v);
    for (const p of q.params) expect(['string', 'number']).toContain(typeof p);
  }
  return 'compiled';
}

describe('every string filter field: refused, or bound as parameters only', () => {
  test.each(Object.keys(FIELDS))('%s', (field) => {
    const spec = FIELDS[field];
    const seen = { refused: 0, compiled: 0 };
    fc.assert(
      fc.property(spec.list ? valuesOf(spec) : valueOf(spec), fc.constantFrom<readonly string[]>([], IOT_EVENT_SOURCES), (value, allowed) => {
        seen[checkFilter({ [field]: value }, allowed)] += 1;
      }),
      { numRuns: RUNS },
    );
    // Both outcomes happen, so the property is not passing vacuously.
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.compiled).toBeGreaterThan(0);
  });
});

test('random combinations of fields, with a cursor', () => {
  const filterArb = fc.record(
    Object.fromEntries(Object.entries(FIELDS).map(([field, spec]) => [field, spec.list ? fc.array(spec.valid, { maxLength: 3 }) : spec.valid])),
    { requiredKeys: [] },
  );
  const cursorArb = fc.option(fc.tuple(fc.oneof(nasty, fc.string({ unit: 'binary', minLength: 4, maxLength: 30 })), fc.oneof(nasty, fc.uuid())), { nil: undefined });
  fc.assert(
    fc.property(filterArb, cursorArb, (filter, cursor) => {
      checkFilter(filter as CallFilter, [], cursor);
    }),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------------------------
// Athena parameter encoding, run as a literal on DuckDB

describe('encodeExecutionParameter round-trips through substituteParameters on DuckDB', () => {
  const db = useMemoryDuckDb();

  const selectValues = async (values: string[]): Promise<unknown[]> => {
    const sql = substituteParameters(`SELECT ${values.map((_, i) => `? AS v${i}`).join(', ')}`, values);
    const reader = await db.connection.runAndReadAll(sql);
    const [row] = reader.getRowObjectsJS();
    return values.map((_, i) => row[`v${i}`]);
  };

  /** Length of the literal Athena would be sent: quoted, with quotes doubled. */
  const encodedLength = (s: string) => s.length + 2 + (s.match(/'/g)?.length ?? 0);

  const noNul = (arb: fc.Arbitrary<string>) => arb.map((s) => s.replace(/\u0000/g, ''));
  const anyLength = (unit: 'binary' | 'binary-ascii' | fc.Arbitrary<string>) =>
    fc.integer({ min: 0, max: 1024 }).chain((n) => fc.string({ unit, minLength: n, maxLength: n }));
  const strings = noNul(
    fc.oneof(
      anyLength('binary'),
      anyLength('binary-ascii'),
      anyLength(fc.constantFrom("'", '"', '\\', '?', '-', '/', '*', ';', ' ', 'x', '\n', 'ü', '🚀')),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom(...NASTY),
    ),
  );

  test('a string whose literal fits in 1,024 characters comes back unchanged; a longer one is refused', async () => {
    const seen = { roundTrips: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(strings, async (s) => {
        if (encodedLength(s) > 1024) {
          expect(() => encodeExecutionParameter(s)).toThrow(BadInputError);
          seen.refused += 1;
          return;
        }
        expect(encodeExecutionParameter(s)).toHaveLength(encodedLength(s));
        expect(await selectValues([s])).toEqual([s]);
        seen.roundTrips += 1;
      }),
      { numRuns: 250 },
    );
    expect(seen.roundTrips).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  test('several parameters in one statement, a "?" inside one never taken for a placeholder', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(noNul(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom(...NASTY))), { minLength: 1, maxLength: 4 }), async (values) => {
        expect(await selectValues(values)).toEqual(values);
      }),
      { numRuns: 100 },
    );
  });

  test('the edges: empty, 1,022 characters (1,024 quoted), 1,023, 1,024 and 1,025', async () => {
    expect(await selectValues([''])).toEqual(['']);
    expect(await selectValues(['a'.repeat(1022)])).toEqual(['a'.repeat(1022)]);
    expect(await selectValues(["'".repeat(511)])).toEqual(["'".repeat(511)]);
    for (const s of ['a'.repeat(1023), 'a'.repeat(1024), 'a'.repeat(1025), "'".repeat(512), '🚀'.repeat(512)]) {
      expect(() => encodeExecutionParameter(s)).toThrow(BadInputError);
    }
  });
});
