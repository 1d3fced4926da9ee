/**
 * Random and hostile filter values over HTTP, sent with a key scoped to one account, at the top
 * level and in a nested field: the server never answers 500; a value its rules do not allow, a
 * list over 100 values, a page size out of range or an account outside the key's scope is refused
 * with its code and status before any engine query; everything else is answered; and the SQL
 * text never depends on a value (the same request with other values compiles to the same SQL).
 */
import fc from 'fast-check';
import { hashKey } from '../src/auth/authenticate';
import { TestServer } from './support/server';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const A = '111122223333';
const OTHER = '444455556666';
const KEY = 'fuzz-key-for-account-a-0123456789';
const W = { from: new Date(SAMPLE_END.getTime() - 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
const STATUS: Record<string, number> = { BAD_USER_INPUT: 400, FORBIDDEN: 403 };

let server: TestServer;

const sample = useSampleServer(
  0.25,
  { iotEventsPerDay: 40, otherEventsPerIotEvent: 1, deliveryMinutes: 60 },
  { env: { API_KEYS: JSON.stringify([{ id: 'a', sha256: hashKey(KEY), accounts: [A], regions: [], payloads: false, admin: false }]) } },
);

beforeAll(() => {
  server = sample.server;
});

/** Text of any kind, hostile characters included (quotes, comments, NUL, astral planes). */
const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.constantFrom("'", "''", "' OR 1=1 --", '\\', "\\'", '?', '$1', '/*', '*/', ';DROP TABLE x;', '%', '_', '\u0000', 'é', '𝔘𝔫𝔦', '"', 'NULL', 'a', 'in', 'select'),
);
/** Never valid where values follow a pattern: every such pattern refuses whitespace. */
const malformed = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(' ', "' ", ' OR 1=1 --', '\t;', '\n')).map(([s, bad]) => `${s}${bad}${s}`),
  fc.string({ minLength: 1030, maxLength: 1100 }),
);
const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));

/** For each list field: values its rules accept, values they refuse, and (scope) values refused as FORBIDDEN. */
interface Field {
  readonly valid: fc.Arbitrary<string>;
  readonly invalid: fc.Arbitrary<string>;
  readonly forbidden?: fc.Arbitrary<string>;
  /** Free text (bound as is): the values whose SQL independence is checked. */
  readonly free?: boolean;
}
const tooLong = fc.string({ minLength: 257, maxLength: 300 });
const CONTROL = /[\u0000-\u001f\u007f]/;
const LISTS: Record<string, Field> = {
  actions: { valid: alnum(1, 30), invalid: malformed },
  eventSources: { valid: fc.constantFrom('iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'), invalid: fc.oneof(malformed, fc.constantFrom('s3.amazonaws.com')) },
  accounts: { valid: fc.constant(A), invalid: fc.oneof(malformed, fc.stringMatching(/^\d{1,11}$/)), forbidden: fc.constantFrom(OTHER, '000000000000') },
  regions: { valid: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'), invalid: fc.oneof(malformed, fc.constantFrom('EU', 'us_east_1')) },
  callerArns: { valid: alnum(1, 20).map((n) => `arn:aws:iam::${A}:user/${n}`), invalid: malformed },
  // Any principal key (another account's principal id, an Identity Center user, ""): bound as is.
  principalArns: {
    valid: fc.oneof(alnum(1, 20).map((n) => `arn:aws:iam::${A}:role/${n}`), fc.constant('iotevents.amazonaws.com'), text),
    invalid: fc.string({ minLength: 1001, maxLength: 1100 }),
    free: true,
  },
  accessKeyIds: { valid: fc.stringMatching(/^[A-Z0-9]{16,24}$/), invalid: malformed },
  errorCodes: { valid: fc.stringMatching(/^[A-Za-z0-9._:-]{1,30}$/), invalid: malformed },
  sourceCidrs: { valid: fc.constantFrom('10.0.0.0/8', '2001:db8::/32', '203.0.113.7/32'), invalid: fc.oneof(malformed, fc.constantFrom('255.255.255.255/33', '10.0.0.0/-1', 'fe80::/129')) },
  userNames: { valid: text, invalid: fc.oneof(fc.constant(''), tooLong), free: true },
  sourceIps: { valid: text, invalid: fc.oneof(fc.constant(''), tooLong), free: true },
};
const SINGLES: Record<string, Field> = {
  // Any name of 1 to 256 characters without control characters: bound as is.
  resourceName: {
    valid: text.filter((v) => !CONTROL.test(v)),
    invalid: fc.oneof(fc.constant(''), tooLong, fc.string({ maxLength: 10 }).map((s) => `${s}\n${s}`), fc.constantFrom('\u0000', 'a\tb', '\u007f')),
    free: true,
  },
  userAgentContains: { valid: text, invalid: fc.oneof(fc.constant(''), tooLong), free: true },
};

type Expect = 'ok' | 'BAD_USER_INPUT' | 'FORBIDDEN';
interface Case {
  readonly field: string;
  readonly value: unknown;
  readonly expect: Expect;
  /** The same case with every free-text value replaced by a different, plain one. */
  readonly reference?: unknown;
}

/** A list of valid values, sometimes over 100 long, with a bad or out-of-scope value at a random place. */
const listCase = (name: string, f: Field): fc.Arbitrary<Case> =>
  fc
    .record({
      values: fc.array(f.valid, { minLength: 1, maxLength: 120 }),
      extra: fc.oneof(fc.constant(undefined), f.invalid.map((v) => ({ v, kind: 'BAD_USER_INPUT' as const })), ...(f.forbidden ? [f.forbidden.map((v) => ({ v, kind: 'FORBIDDEN' as const }))] : [])),
      at: fc.nat(),
    })
    .map(({ values, extra, at }) => {
      const list = [...values];
      if (extra) list.splice(at % (list.length + 1), 0, extra.v);
      const expect: Expect = list.length > 100 ? 'BAD_USER_INPUT' : (extra?.kind ?? 'ok');
      const distinct = [...new Set(list)];
      const reference = f.free ? list.map((v) => `plain-${distinct.indexOf(v)}`) : undefined;
      return { field: name, value: list, expect, reference };
    });

const singleCase = (name: string, f: Field): fc.Arbitrary<Case> =>
  fc.oneof(
    f.valid.map((v): Case => ({ field: name, value: v, expect: 'ok', reference: f.free ? 'plain-0' : undefined })),
    f.invalid.map((v): Case => ({ field: name, value: v, expect: 'BAD_USER_INPUT' })),
  );

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  ...Object.entries(LISTS).map(([n, f]) => listCase(n, f)),
  ...Object.entries(SINGLES).map(([n, f]) => singleCase(n, f)),
  fc.integer({ min: -3, max: 600 }).map((n): Case => ({ field: 'first', value: n, expect: n >= 1 && n <= 500 ? 'ok' : 'BAD_USER_INPUT' })),
);

const QUERIES: Record<string, string> = {
  apiCalls: `query($f: ApiCallFilter, $first: Int) { apiCalls(filter: $f, first: $first) { edges { node { eventId } } } }`,
  callers: `query($f: ApiCallFilter, $first: Int) { callers(filter: $f, first: $first) { nodes { key } } }`,
  sourceIps: `query($f: ApiCallFilter, $first: Int) { sourceIps(filter: $f, first: $first) { nodes { address } } }`,
  actions: `query($f: ApiCallFilter) { actions(filter: $f) { action } }`,
  activity: `query($f: ApiCallFilter) { activity(filter: $f, interval: HOUR) { buckets { calls } } }`,
  // The filter and page size only on a nested field: refused before the parent's query runs.
  nested: `query($f: ApiCallFilter, $first: Int, $top: ApiCallFilter) { callers(filter: $top, first: 3) { nodes { calls(filter: $f, first: $first) { edges { node { eventId } } } } } }`,
};

function variables(op: string, c: Case, value: unknown): Record<string, unknown> {
  const vars: Record<string, unknown> = { f: { ...W }, top: W };
  if (c.field === 'first') vars.first = value;
  else (vars.f as Record<string, unknown>)[c.field] = value;
  // actions and activity take no page size: the case says nothing about them.
  return op === 'actions' || op === 'activity' ? { f: vars.f } : vars;
}

test('random and hostile filter values, top level and nested, with a scoped key', async () => {
  const seen: Record<Expect, number> = { ok: 0, BAD_USER_INPUT: 0, FORBIDDEN: 0 };
  let compared = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, fc.constantFrom(...Object.keys(QUERIES)), async (c, op) => {
      if (c.field === 'first' && (op === 'actions' || op === 'activity')) return;
      server.engine.reset();
      const res = await server.gql(QUERIES[op], variables(op, c, c.value), { authorization: `Bearer ${KEY}` });
      expect(res.status).not.toBe(500);
      seen[c.expect] += 1;
      if (c.expect === 'ok') {
        expect(res.errors).toBeUndefined();
      } else {
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual([c.expect]);
        expect(res.status).toBe(STATUS[c.expect]);
        expect(server.engine.executed).toHaveLength(0);
        return;
      }
      if (c.reference === undefined) return;
      const sql = server.engine.executed.map((q) => q.sql);
      server.engine.reset();
      const ref = await server.gql(QUERIES[op], variables(op, c, c.reference), { authorization: `Bearer ${KEY}` });
      expect(ref.errors).toBeUndefined();
      expect(server.engine.executed.map((q) => q.sql)).toEqual(sql);
      compared += 1;
    }),
    { numRuns: 150, seed: 20261130 },
  );
  expect(seen.ok).toBeGreaterThan(20);
  expect(seen.BAD_USER_INPUT).toBeGreaterThan(20);
  expect(seen.FORBIDDEN).toBeGreaterThan(1);
  expect(compared).toBeGreaterThan(5);
}, 300_000);

test('the server still answers after the storm', async () => {
  const res = await server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { edges { node { eventId } } } }`, { f: W }, { authorization: `Bearer ${KEY}` });
  expect(res.errors).toBeUndefined();
});
