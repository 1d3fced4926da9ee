/**
 * Global ids: whatever a node names, decoding its id gives it back; whatever string a client
 * sends, decoding either names a node or is refused as BAD_USER_INPUT, never anything else.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { schema } from '../src/graphql/schema';
import { MAX_NODE_IDS, decodeId, decodeIds, encodeId, pinned } from '../src/graphql/node/global-id';
import { MAX_EVENT_ID_LENGTH, isEventId } from '../src/query/guards';
import type { NodeRef } from '../src/services/node.service';
import { refusal } from './support/refusals';

const s = schema();
const time = fc.date({ min: new Date('2005-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });
const text = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }).filter((t) => t.length <= max);
const window = fc.tuple(time, fc.integer({ min: 1, max: 30 * 86_400_000 })).map(([from, ms]) => ({ from, to: new Date(from.getTime() + ms) }));
const filter = fc.record(
  {
    actions: fc.array(text(40), { maxLength: 3 }),
    accounts: fc.array(fc.stringMatching(/^\d{12}$/), { maxLength: 2 }),
    sourceKinds: fc.array(fc.constantFrom('PUBLIC_IPV4', 'PRIVATE', 'AWS_SERVICE'), { maxLength: 2 }),
    outcome: fc.constantFrom('SUCCESS', 'ERROR', 'ANY'),
    readOnly: fc.boolean(),
    errorMessageContains: text(30),
    not: fc.record({ actionPatterns: fc.array(fc.constantFrom('Delete*', '*DetectorModel'), { minLength: 1, maxLength: 2 }) }),
  },
  { requiredKeys: [] },
);

const ref: fc.Arbitrary<NodeRef> = fc.oneof(
  fc.record({
    type: fc.constant('ApiCall' as const),
    // Whatever text a record holds as its eventID (not only CloudTrail's UUIDs), up to the longest taken.
    eventId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9-]{1,128}$/), text(MAX_EVENT_ID_LENGTH).filter(isEventId), fc.constant('x'.repeat(MAX_EVENT_ID_LENGTH))),
    time,
    account: fc.option(fc.stringMatching(/^\d{12}$/)),
    region: fc.option(fc.constantFrom('eu-west-1', 'us-east-1')),
    window,
  }),
  fc.record({ type: fc.constant('Caller' as const), grouping: fc.constantFrom('ARN' as const, 'PRINCIPAL' as const), key: text(2048), filter: fc.tuple(filter, window).map(([f, w]) => pinned(f, w)) }),
  fc.record({ type: fc.constant('SourceIp' as const), address: fc.option(text(256)), filter: fc.tuple(filter, window).map(([f, w]) => pinned(f, w)) }),
  fc.record({ type: fc.constant('ActionSummary' as const), action: text(256), eventSource: text(256), filter: fc.tuple(filter, window).map(([f, w]) => pinned(f, w)) }),
  fc.record({
    type: fc.constant('ResourceInstance' as const),
    kind: fc.constantFrom('detectorModel' as const, 'input' as const, 'alarmModel' as const),
    name: text(256),
    account: fc.option(fc.stringMatching(/^\d{12}$/)),
    region: fc.option(fc.constantFrom('eu-west-1', 'us-east-1')),
    filter: fc.tuple(filter, window).map(([f, w]) => pinned(f, w)),
  }),
  fc.record({ type: fc.constant('ResourceHistory' as const), name: text(256), filter: fc.tuple(filter, window).map(([f, w]) => pinned(f, w)) }),
);

/** Plain data: decoded filters are null-prototype objects. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

test('decoding an id gives back what it names, and encoding is deterministic', () => {
  fc.assert(
    fc.property(ref, (r) => {
      const id = encodeId(s, r);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeId(s, r)).toBe(id);
      expect(plain(decodeId(s, id, 'id'))).toEqual(plain(r));
    }),
    { numRuns: 300 },
  );
});

test('any string either decodes or is refused as BAD_USER_INPUT on the argument', () => {
  const candidates = fc.oneof(
    fc.string(),
    fc.json().map((j) => Buffer.from(j).toString('base64url')),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constantFrom('ApiCall', 'Caller', 'SourceIp', 'ActionSummary', 'ResourceInstance', 'ResourceHistory', 'input', 'ARN'))).map((a) =>
      Buffer.from(JSON.stringify(a)).toString('base64url'),
    ),
  );
  fc.assert(
    fc.property(candidates, (id) => {
      try {
        decodeId(s, id, 'id');
      } catch {
        const r = refusal(() => decodeId(s, id, 'id'));
        expect([r.code, r.status, r.field]).toEqual(['BAD_USER_INPUT', 400, 'id']);
      }
    }),
    { numRuns: 500 },
  );
});

test('an object has one id: a filter with a field ApiCallFilter has not, or written another way, is refused', () => {
  const id = encodeId(s, { type: 'SourceIp', address: '192.0.2.1', filter: pinned({ actions: ['DeleteInput'] }, { from: new Date(0), to: new Date(1000) }) });
  const parts = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as string[];
  const literal = parts[2]!;
  expect(literal.startsWith('{')).toBe(true);
  const withLiteral = (l: string) => Buffer.from(JSON.stringify([parts[0], parts[1], l]), 'utf8').toString('base64url');
  expect(withLiteral(literal)).toBe(id);
  expect(decodeId(s, withLiteral(literal), 'id')).toMatchObject({ type: 'SourceIp', address: '192.0.2.1' });
  for (const other of [`{bogus: 1, ${literal.slice(1)}`, `{ ${literal.slice(1)}`, literal.replace('["DeleteInput"]', '"DeleteInput"')]) {
    expect(other).not.toBe(literal);
    expect(refusal(() => decodeId(s, withLiteral(other), 'id'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  }
  // The same parts in other JSON or base64url: the same object, not its id.
  const json = Buffer.from(id, 'base64url').toString('utf8');
  const call = encodeId(s, { type: 'ApiCall', eventId: 'e-1', time: new Date(1000), account: null, region: 'eu-west-1', window: { from: new Date(0), to: new Date(5000) } });
  const callJson = Buffer.from(call, 'base64url').toString('utf8');
  const spelled = [
    Buffer.from(json.replace(',', ', '), 'utf8').toString('base64url'),
    Buffer.from(callJson.replace('1000', '1.0e3'), 'utf8').toString('base64url'),
    Buffer.from(callJson.replace('"e-1"', '"\\u0065-1"'), 'utf8').toString('base64url'),
  ];
  for (const other of spelled) expect(refusal(() => decodeId(s, other, 'id'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(decodeId(s, call, 'id')).toMatchObject({ type: 'ApiCall', eventId: 'e-1' });
  // A spare bit set in the last base64url character: the same bytes, not the same id.
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (const made of [id, call].filter((x) => x.length % 4 !== 0)) {
    const spare = `${made.slice(0, -1)}${B64URL[B64URL.indexOf(made.at(-1)!) ^ 1]}`;
    expect(Buffer.from(spare, 'base64url')).toEqual(Buffer.from(made, 'base64url'));
    expect(refusal(() => decodeId(s, spare, 'id')).code).toBe('BAD_USER_INPUT');
  }
});

test(`more than ${MAX_NODE_IDS} ids are refused`, () => {
  const id = encodeId(s, { type: 'SourceIp', address: null, filter: pinned(null, { from: new Date(0), to: new Date(1000) }) });
  expect(decodeIds(s, Array(MAX_NODE_IDS).fill(id))).toHaveLength(MAX_NODE_IDS);
  expect(refusal(() => decodeIds(s, Array(MAX_NODE_IDS + 1).fill(id)))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids' });
});
