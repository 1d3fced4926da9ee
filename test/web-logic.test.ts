/**
 * The browser code's logic that needs no browser: the chart's series, the console's filter, the
 * components' filter parsing and GraphQL client (against the running service).
 */
import fc from 'fast-check';
import { ActivityBucket, NO_VALUE_LABEL, restLabel, toSeries } from '../web/src/series';
import { WINDOWS, filterFrom, windowPreset } from '../web/src/console-filter';
import { RequestFailure, fileNameOf, graphql, parseFilter, warningsOf } from '../web/src/client';
import { useSampleServer } from './support/sample-server';
import { TEST_KEY } from './support/server';
import { SAMPLE_END } from './support/trails';

const HOUR = 3600;
const T0 = Date.parse('2026-03-01T00:00:00Z') / 1000;

/** Buckets with distinct (start, key), at whole hours within ~3 days. */
const buckets = (keys: fc.Arbitrary<string | null>) =>
  fc.uniqueArray(fc.record({ hour: fc.integer({ min: 0, max: 72 }), key: keys, calls: fc.integer({ min: 1, max: 500 }), errors: fc.nat(50) }), {
    selector: (b) => `${b.hour}|${b.key}`,
    maxLength: 60,
  }).map((list) => list.map((b): ActivityBucket => ({ start: new Date((T0 + b.hour * HOUR) * 1000).toISOString(), key: b.key, calls: b.calls, errors: Math.min(b.errors, b.calls) })));

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('toSeries', () => {
  test('ungrouped: every bucket is drawn at its start with its calls and errors; gaps are hours of 0', () => {
    fc.assert(
      fc.property(buckets(fc.constant(null)), (bs) => {
        const { x, series } = toSeries(bs, false, 'HOUR');
        const [calls, errors] = series;
        expect(series.map((s) => s.label)).toEqual(['calls', 'errors']);
        for (let i = 1; i < x.length; i++) expect(x[i]! - x[i - 1]!).toBe(HOUR);
        for (const b of bs) {
          const i = x.indexOf(Date.parse(b.start) / 1000);
          expect(calls!.values[i]).toBe(b.calls);
          expect(errors!.values[i]).toBe(b.errors);
        }
        expect(sum(calls!.values)).toBe(sum(bs.map((b) => b.calls)));
        expect(sum(errors!.values)).toBe(sum(bs.map((b) => b.errors)));
      }),
    );
  });

  test('grouped: each call counted once, in its own group or in the rest; at most ten series; keys that read like the chart\'s words are groups like any other', () => {
    // Keys as free text can be anything, the chart's own labels and null included.
    const keys = fc.option(fc.constantFrom(...'abcdefghijklm'.split(''), 'other', NO_VALUE_LABEL, '(none)', restLabel(3), ''), { nil: null });
    fc.assert(
      fc.property(buckets(keys), (bs) => {
        const { x, series } = toSeries(bs, true, 'HOUR');
        expect(series.length).toBeLessThanOrEqual(10);
        expect(sum(series.flatMap((s) => s.values))).toBe(sum(bs.map((b) => b.calls)));
        const distinct = new Set(bs.map((b) => b.key));
        expect(series.filter((s) => s.kind === 'rest')).toHaveLength(distinct.size > 10 ? 1 : 0);
        expect(series.filter((s) => s.kind === 'none')).toHaveLength(series.some((s) => s.kind === 'none') ? 1 : 0);
        for (const s of series.filter((s) => s.kind !== 'rest')) {
          const key = s.kind === 'none' ? null : s.label;
          expect(sum(s.values)).toBe(sum(bs.filter((b) => b.key === key).map((b) => b.calls)));
        }
        // No two series of groups stand for one key.
        const groups = series.filter((s) => s.kind === 'group').map((s) => s.label);
        expect(new Set(groups).size).toBe(groups.length);
        for (const s of series) expect(s.values.length).toBe(x.length);
      }),
    );
  });

  test('over a window: every bucket of it is drawn, those without calls as 0, on the service\'s bucket starts', () => {
    const at = (t: string) => Date.parse(t) / 1000;
    const hourly = toSeries([{ start: '2026-03-15T11:00:00Z', key: null, calls: 4, errors: 1 }], false, 'HOUR', { from: '2026-03-14T12:00:00Z', to: '2026-03-15T12:00:00Z' });
    expect(hourly.x).toEqual(Array.from({ length: 24 }, (_, i) => at('2026-03-14T12:00:00Z') + i * HOUR));
    expect(sum(hourly.series[0]!.values)).toBe(4);
    expect(hourly.series[0]!.values[23]).toBe(4);
    // A window starting inside a bucket: its first bucket starts before the window.
    expect(toSeries([], false, 'HOUR', { from: '2026-03-14T12:30:00Z', to: '2026-03-14T14:00:00Z' }).x).toEqual([at('2026-03-14T12:00:00Z'), at('2026-03-14T13:00:00Z')]);
    expect(toSeries([], false, 'DAY', { from: '2026-03-01T06:00:00Z', to: '2026-03-03T00:00:00Z' }).x).toEqual([at('2026-03-01T00:00:00Z'), at('2026-03-02T00:00:00Z')]);
    // Weeks start on Mondays (2026-03-02 and 2026-03-09 are Mondays).
    expect(toSeries([], false, 'WEEK', { from: '2026-03-04T00:00:00Z', to: '2026-03-15T00:00:00Z' }).x).toEqual([at('2026-03-02T00:00:00Z'), at('2026-03-09T00:00:00Z')]);
    // Grouped, the same buckets for every series.
    const grouped = toSeries([{ start: '2026-03-14T13:00:00Z', key: 'a', calls: 2, errors: 0 }], true, 'HOUR', { from: '2026-03-14T12:00:00Z', to: '2026-03-14T15:00:00Z' });
    expect(grouped).toEqual({ x: [at('2026-03-14T12:00:00Z'), at('2026-03-14T13:00:00Z'), at('2026-03-14T14:00:00Z')], series: [{ label: 'a', kind: 'group', values: [0, 2, 0] }] });
  });
});

describe('the console filter', () => {
  const end = '2026-03-15T12:00:00.000Z';
  const blank = { window: '24h', end, action: '', caller: '', address: '', errors: false, group: '' };

  test('a window preset ends at the given time (or now) and empty fields are left out', () => {
    expect(filterFrom(blank, new Date(0))).toEqual({ from: '2026-03-14T12:00:00.000Z', to: end });
    expect(filterFrom({ ...blank, window: '7d', end: '' }, new Date(end))).toEqual({ from: '2026-03-08T12:00:00.000Z', to: end });
  });

  test('a window name from a link that is no preset is the last 24 hours, whatever the name', () => {
    for (const window of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'nope', '']) {
      expect(filterFrom({ ...blank, window }, new Date(0))).toEqual({ from: '2026-03-14T12:00:00.000Z', to: end });
      expect(windowPreset(window)).toBe(WINDOWS['24h']);
    }
  });

  test('an address with a prefix length is a CIDR block; lists are comma-separated', () => {
    expect(filterFrom({ ...blank, address: '203.0.113.0/24, 2001:db8::/32' }, new Date())).toMatchObject({ sourceCidrs: ['203.0.113.0/24', '2001:db8::/32'] });
    expect(filterFrom({ ...blank, address: '203.0.113.7' }, new Date())).toMatchObject({ sourceIps: ['203.0.113.7'] });
    const f = filterFrom({ ...blank, action: 'CreateInput,DeleteInput', caller: 'arn:aws:iam::111122223333:user/a', errors: true }, new Date());
    expect(f).toMatchObject({ actions: ['CreateInput', 'DeleteInput'], callerArns: ['arn:aws:iam::111122223333:user/a'], errorsOnly: true });
    expect(Object.keys(filterFrom(blank, new Date()))).toEqual(['from', 'to']);
  });

  test('an end time without a zone is UTC, as the bar says, whatever the browser\'s zone; one with a zone is read in it', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      for (const typed of ['2026-03-15T12:00', '2026-03-15T12:00:00', '2026-03-15 12:00:00', '2026-03-15T12:00:00.000', ' 2026-03-15T12:00 ', '2026-03-15T12:00:00Z', '2026-03-15T17:30:00+05:30', '2026-03-15T12:00:00.000Z']) {
        expect(filterFrom({ ...blank, end: typed }, new Date(0))).toEqual({ from: '2026-03-14T12:00:00.000Z', to: end });
      }
      // A date alone is midnight UTC.
      expect(filterFrom({ ...blank, end: '2026-03-15' }, new Date(0))).toEqual({ from: '2026-03-14T00:00:00.000Z', to: '2026-03-15T00:00:00.000Z' });
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  test('an unreadable end time is passed on as typed, for the service to refuse with its code', () => {
    expect(filterFrom({ ...blank, end: 'yesterday' }, new Date())).toEqual({ from: 'yesterday', to: 'yesterday' });
  });
});

describe('parseFilter', () => {
  test('JSON text or an object; absent is undefined; anything else is BAD_FILTER_JSON', () => {
    expect(parseFilter(undefined)).toBeUndefined();
    expect(parseFilter('')).toBeUndefined();
    expect(parseFilter('{"errorsOnly":true}')).toEqual({ errorsOnly: true });
    const obj = { actions: ['CreateInput'] };
    expect(parseFilter(obj)).toBe(obj);
    for (const bad of ['[1]', '{"a":', '"text"', '3', 'null']) {
      expect(() => parseFilter(bad)).toThrow(RequestFailure);
      try {
        parseFilter(bad);
      } catch (err) {
        expect((err as RequestFailure).code).toBe('BAD_FILTER_JSON');
      }
    }
  });
});

describe('the components’ client against the service', () => {
  const ctx = useSampleServer(1, { iotEventsPerDay: 10, otherEventsPerIotEvent: 0 });
  const window = { from: new Date(SAMPLE_END.getTime() - 6 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };

  test('data comes back; the token is asked for at request time', async () => {
    let asked = 0;
    const data = await graphql<{ apiCalls: { edges: unknown[] } }>({
      endpoint: ctx.server.url,
      query: 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 3) { edges { cursor } } }',
      variables: { f: window },
      token: () => (asked++, TEST_KEY),
    });
    expect(data.apiCalls.edges.length).toBeGreaterThan(0);
    expect(asked).toBe(1);
  });

  test.each([
    ['a bad filter', { ...window, sourceCidrs: ['10.0.0.0/99'] }, TEST_KEY, 'BAD_USER_INPUT'],
    ['no token', window, undefined, 'UNAUTHENTICATED'],
  ])('%s fails with the GraphQL code and the response’s request id', async (_, f, token, code) => {
    const failure = await graphql({ endpoint: ctx.server.url, query: 'query($f: ApiCallFilter) { apiCalls(filter: $f) { edges { cursor } } }', variables: { f }, token: () => token }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RequestFailure);
    expect((failure as RequestFailure).code).toBe(code);
    expect((failure as RequestFailure).requestId).toMatch(/^[\w-]{8,}$/);
  });

  test('an unreachable service is NETWORK_ERROR with no request id', async () => {
    const failure = (await graphql({ endpoint: 'http://127.0.0.1:9/graphql', query: '{ __typename }', variables: {}, token: () => undefined }).catch((e: unknown) => e)) as RequestFailure;
    expect([failure.code, failure.requestId]).toEqual(['NETWORK_ERROR', null]);
  });
});

describe('what an answer or a download says it lacks', () => {
  test('warnings come with their code and message; an answer that says it is incomplete without why still says so', () => {
    expect(warningsOf({ complete: false, warnings: [{ code: 'FILES_UNREADABLE', message: '2 trail files could not be read', count: 2 }, { nope: 1 }] })).toEqual([
      { code: 'FILES_UNREADABLE', message: '2 trail files could not be read' },
    ]);
    expect(warningsOf({ complete: false })).toEqual([{ code: 'INCOMPLETE', message: 'The service says this answer is incomplete.' }]);
    expect(warningsOf({ complete: true })).toEqual([]);
    expect(warningsOf(undefined)).toEqual([]);
  });

  test("a download keeps the service's file name, _incomplete included; never a path", () => {
    expect(fileNameOf('attachment; filename="api-calls_20260314T0000Z_20260315T0000Z_incomplete.csv"', 'api-calls.csv')).toBe('api-calls_20260314T0000Z_20260315T0000Z_incomplete.csv');
    expect(fileNameOf(null, 'api-calls.csv')).toBe('api-calls.csv');
    expect(fileNameOf('attachment; filename="../../etc/passwd"', 'api-calls.csv')).toBe('api-calls.csv');
  });
});
