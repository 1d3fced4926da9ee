/**
 * The query guards on their own: windows, page sizes, scope narrowing, filter validation and
 * cursors. `npm run mutation` runs these against src/query.
 */
import { CursorCodec, fingerprint, stableStringify } from '../src/query/cursor';
import { validateFilter } from '../src/query/filter';
import { FULL_SCOPE, MAX_INPUT_DEPTH, Scope, applyScope, checkBound, checkInputDepth, checkPageSize, resolveWindow } from '../src/query/guards';
import { A, B, HOUR, NOW, RULES, SOURCES, refusal } from './support/refusals';

describe('windows, page sizes and scope', () => {
  test('resolveWindow: explicit, cursor, default; inverted, empty, too long, out of range', () => {
    const from = new Date(NOW.getTime() - 2 * HOUR);
    expect(resolveWindow({ from, to: NOW }, RULES, NOW)).toEqual({ from, to: NOW });
    expect(resolveWindow({}, RULES, NOW)).toEqual({ from: new Date(NOW.getTime() - 24 * HOUR), to: NOW });
    const cursor = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') };
    expect(resolveWindow({}, RULES, NOW, cursor)).toEqual(cursor);
    expect(resolveWindow({ from: new Date('2026-01-01T12:00:00Z') }, RULES, NOW, cursor)).toEqual({ from: new Date('2026-01-01T12:00:00Z'), to: cursor.to });
    expect(resolveWindow({ to: new Date('2026-01-01T12:00:00Z') }, RULES, NOW)).toEqual({ from: new Date('2025-12-31T12:00:00Z'), to: new Date('2026-01-01T12:00:00Z') });
    const exactly = new Date(NOW.getTime() - 31 * 24 * HOUR);
    expect(resolveWindow({ from: exactly, to: NOW }, RULES, NOW).from).toEqual(exactly);
    expect(refusal(() => resolveWindow({ from: new Date(exactly.getTime() - 1), to: NOW }, RULES, NOW))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, message: 'filter.from: the window may span at most 31 days' });
    expect(refusal(() => resolveWindow({ from: NOW, to: NOW }, RULES, NOW)).message).toMatch(/must be before/);
    expect(refusal(() => resolveWindow({ from: NOW, to: from }, RULES, NOW)).message).toMatch(/must be before/);
    expect(resolveWindow({ from: new Date(NOW.getTime() - 1), to: NOW }, RULES, NOW).from.getTime()).toBe(NOW.getTime() - 1);
  });

  test('refusals name the argument at fault', () => {
    expect(refusal(() => checkBound('from', new Date('nope'))).field).toBe('filter.from');
    expect(refusal(() => checkBound('to', new Date('1999-01-01T00:00:00Z'))).field).toBe('filter.to');
    expect(refusal(() => resolveWindow({ to: new Date('1999-01-01T00:00:00Z') }, RULES, NOW)).field).toBe('filter.to');
    expect(refusal(() => resolveWindow({ from: NOW, to: NOW }, RULES, NOW)).field).toBe('filter.from');
    expect(refusal(() => resolveWindow({ from: new Date(NOW.getTime() - 40 * 24 * HOUR), to: NOW }, RULES, NOW)).field).toBe('filter.from');
    expect(refusal(() => resolveWindow({ to: new Date(NOW.getTime() - 40 * 24 * HOUR) }, { ...RULES, defaultHours: 24 * 40 }, NOW)).field).toBe('filter.to');
    expect(refusal(() => checkPageSize(0, 50, 500)).field).toBe('first');
    const scan = { from: NOW, to: NOW, eventSources: [], regions: [] as string[], accounts: [A, B, '000000000000'] };
    expect(refusal(() => applyScope(scan, { accounts: [A], regions: [], readPayloads: false, admin: false, principal: 't' })).message).toBe(`filter.accounts: not permitted for this key: ${B}, 000000000000`);
  });

  test('checkBound: real dates from 2005 to 9999', () => {
    expect(() => checkBound('from', null)).not.toThrow();
    expect(() => checkBound('from', new Date('2005-01-01T00:00:00Z'))).not.toThrow();
    expect(() => checkBound('to', new Date('9999-12-31T23:59:59Z'))).not.toThrow();
    expect(refusal(() => checkBound('from', new Date('2004-12-31T23:59:59Z')))).toMatchObject({ code: 'BAD_USER_INPUT', message: 'filter.from: out of range' });
    expect(refusal(() => checkBound('to', new Date('+010000-01-01T00:00:00Z'))).message).toBe('filter.to: out of range');
    expect(refusal(() => checkBound('to', new Date('nope'))).message).toBe('filter.to: not a valid date-time');
    expect(refusal(() => resolveWindow({ from: new Date('nope') }, RULES, NOW)).message).toBe('filter.from: not a valid date-time');
  });

  test('FULL_SCOPE: restricts no account or region, reads payloads, is not admin', () => {
    const scan = { from: NOW, to: NOW, eventSources: [], regions: ['eu-west-1'], accounts: [A, B] };
    expect(applyScope(scan, FULL_SCOPE)).toEqual(scan);
    expect(applyScope({ ...scan, regions: [], accounts: [] }, FULL_SCOPE)).toMatchObject({ regions: [], accounts: [] });
    expect(FULL_SCOPE).toEqual({ accounts: [], regions: [], readPayloads: true, principal: 'anonymous', admin: false });
    expect(Object.isFrozen(FULL_SCOPE)).toBe(true);
  });

  test('checkPageSize: default, 1 to max, integers only', () => {
    expect(checkPageSize(undefined, 50, 500)).toBe(50);
    expect(checkPageSize(null, 50, 500)).toBe(50);
    expect(checkPageSize(1, 50, 500)).toBe(1);
    expect(checkPageSize(500, 50, 500)).toBe(500);
    for (const bad of [0, -1, 501, 1.5, 100000]) expect(refusal(() => checkPageSize(bad, 50, 500))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, message: 'first: must be from 1 to 500' });
  });

  test('applyScope: narrows, refuses asking outside, passes through when unrestricted', () => {
    const scan = { from: NOW, to: NOW, eventSources: [], regions: [] as string[], accounts: [] as string[] };
    const scope = (accounts: string[], regions: string[] = []): Scope => ({ accounts, regions, readPayloads: false, admin: false, principal: 't' });
    expect(applyScope(scan, scope([A]))).toMatchObject({ accounts: [A], regions: [] });
    expect(applyScope({ ...scan, accounts: [A] }, scope([A, B]))).toMatchObject({ accounts: [A] });
    expect(applyScope({ ...scan, accounts: [B] }, scope([]))).toMatchObject({ accounts: [B] });
    expect(applyScope({ ...scan, regions: ['eu-west-1'] }, scope([], ['eu-west-1', 'us-east-1']))).toMatchObject({ regions: ['eu-west-1'] });
    expect(applyScope(scan, scope([], ['eu-west-1']))).toMatchObject({ regions: ['eu-west-1'] });
    expect(refusal(() => applyScope({ ...scan, accounts: [A, B] }, scope([A])))).toMatchObject({ code: 'FORBIDDEN', status: 403, message: `filter.accounts: not permitted for this key: ${B}` });
    expect(refusal(() => applyScope({ ...scan, regions: ['us-east-1'] }, scope([A], ['eu-west-1']))).message).toBe('filter.regions: not permitted for this key: us-east-1');
  });
});

describe('input nesting', () => {
  /** `levels` objects nested through `not`, a list of one text at the bottom when `list`. */
  const nested = (levels: number, list = false): unknown => {
    let v: unknown = list ? ['x'] : {};
    for (let i = 1; i < levels; i++) v = { not: v };
    return v;
  };
  test('MAX_INPUT_DEPTH levels of objects and lists are taken, one more is refused', () => {
    expect(MAX_INPUT_DEPTH).toBe(16);
    expect(() => checkInputDepth(nested(16), 'filter')).not.toThrow();
    expect(() => checkInputDepth(nested(16, true), 'filter')).not.toThrow();
    expect(() => checkInputDepth({ f: { not: { actions: ['A'] } }, ids: ['x'], n: 3, s: null }, 'variables')).not.toThrow();
    expect(refusal(() => checkInputDepth(nested(17), 'filter'))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, field: 'filter', message: 'filter: nested deeper than 16 levels of objects and lists' });
    expect(refusal(() => checkInputDepth(nested(17, true), 'variables')).field).toBe('variables');
    expect(refusal(() => checkInputDepth([[[1]]], 'v', 2)).message).toBe('v: nested deeper than 2 levels of objects and lists');
  });
  test('a value far deeper than a stack could walk is refused, not overflowed', () => {
    expect(refusal(() => checkInputDepth(nested(200_000), 'filter')).code).toBe('BAD_USER_INPUT');
  });
});

describe('validateFilter', () => {
  const refusedField = (filter: Record<string, unknown>) => {
    const r = refusal(() => validateFilter(filter, SOURCES));
    expect(r).toMatchObject({ code: 'BAD_USER_INPUT', status: 400 });
    return r.message;
  };

  test('valid values pass, deduplicated, with one predicate per restriction', () => {
    const v = validateFilter({ actions: ['ListInputs', 'ListInputs'], accounts: [A, A], regions: ['eu-west-1'] }, SOURCES);
    expect(v.accounts).toEqual([A]);
    expect(v.regions).toEqual(['eu-west-1']);
    expect(v.eventSources).toEqual(SOURCES);
    expect(v.predicates).toHaveLength(1);
    expect(validateFilter(null, SOURCES)).toEqual({ predicates: [], regions: [], accounts: [], eventSources: SOURCES, needsSources: false });
    expect(validateFilter({ eventSources: ['iotevents.amazonaws.com'] }, SOURCES).eventSources).toEqual(['iotevents.amazonaws.com']);
    expect(validateFilter({ eventSources: ['s3.amazonaws.com'] }, []).eventSources).toEqual(['s3.amazonaws.com']);
  });

  test('every list refuses a bad value and more than 100 values', () => {
    const lists: Record<string, [string, string]> = {
      actions: ['ListInputs', 'List Inputs'],
      eventSources: ['iotevents.amazonaws.com', 'iotevents.example.com'],
      accounts: [A, '1234'],
      regions: ['eu-west-1', 'EU'],
      callerArns: [`arn:aws:iam::${A}:user/alice`, 'alice'],
      principalArns: ['iotevents.amazonaws.com', 'p'.repeat(1001)],
      accessKeyIds: ['AKIAABCDEFGHIJKLMNOP', 'akia'],
      errorCodes: ['AccessDenied', 'Access Denied'],
      userNames: ['alice', ''],
      sourceIps: ['10.0.0.1', ''],
      sourceCidrs: ['10.0.0.0/8', '10.0.0.0/99'],
    };
    for (const [name, [good, bad]] of Object.entries(lists)) {
      expect(() => validateFilter({ [name]: [good] }, SOURCES)).not.toThrow();
      expect(refusedField({ [name]: [good, bad] })).toMatch(new RegExp(`^filter\\.${name}: `));
      expect(refusedField({ [name]: Array.from({ length: 101 }, () => good) })).toBe(`filter.${name}: at most 100 values`);
      expect(() => validateFilter({ [name]: Array.from({ length: 100 }, () => good) }, SOURCES)).not.toThrow();
    }
    expect(refusedField({ userNames: ['x'.repeat(257)] })).toMatch(/userNames/);
    expect(refusedField({ callerArns: [`arn:aws:iam::${A}:user/${"'".repeat(600)}`] })).toMatch(/callerArns/);
    expect(refusedField({ eventSources: ['s3.amazonaws.com'] })).toMatch(/is not served here/);
  });

  test('enums, resource names and user agents', () => {
    expect(refusedField({ identityTypes: Array.from({ length: 101 }, () => 'ROOT') })).toBe('filter.identityTypes: at most 100 values');
    expect(refusedField({ categories: Array.from({ length: 101 }, () => 'AWS_SERVICE') })).toBe('filter.categories: at most 100 values');
    expect(refusedField({ identityTypes: ['SUPERUSER'] })).toBe('filter.identityTypes: unknown identity type');
    expect(refusedField({ categories: ['ADMINS'] })).toBe('filter.categories: unknown caller category');
    expect(validateFilter({ identityTypes: ['ROOT', 'UNKNOWN'] as never, categories: ['AWS_SERVICE'] as never }, SOURCES).predicates).toHaveLength(2);
    expect(refusedField({ resourceName: 'model\u0001' })).toMatch(/^filter\.resourceName/);
    expect(refusedField({ resourceName: 'x'.repeat(257) })).toMatch(/^filter\.resourceName/);
    expect(validateFilter({ resourceName: "Pump (line 2) model'--" }, SOURCES).predicates).toHaveLength(1);
    expect(validateFilter({ resourceName: 'boiler-temp' }, SOURCES).predicates).toHaveLength(1);
    expect(refusedField({ userAgentContains: '' })).toBe('filter.userAgentContains: 1 to 256 characters');
    expect(refusedField({ userAgentContains: 'x'.repeat(257) })).toBe('filter.userAgentContains: 1 to 256 characters');
    expect(validateFilter({ userAgentContains: 'x'.repeat(256), errorsOnly: true, readOnly: false }, SOURCES).predicates).toHaveLength(3);
  });
});

describe('cursors', () => {
  const codec = new CursorCodec('a-cursor-secret-0123456789');
  const payload = { q: 'fp', from: 1, to: 2, k: ['2026-01-01', 'e1'] };

  test('round-trip, and refused when edited, re-signed elsewhere, for another query or malformed', () => {
    const c = codec.encode(payload);
    expect(codec.decode(c, 'fp')).toEqual(payload);
    const bad = (cursor: string, fp = 'fp') => refusal(() => codec.decode(cursor, fp));
    expect(bad(c, 'other')).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, message: expect.stringMatching(/different query/) });
    expect(bad(new CursorCodec('another-secret-0123456789').encode(payload)).message).toMatch(/signature does not match/);
    const [body, sig] = c.split('.');
    expect(bad(`${body}x.${sig}`).message).toMatch(/signature/);
    expect(bad(`${body}.${sig.slice(0, -2)}`).message).toMatch(/signature/);
    expect(bad(`${body}.${sig}.x`).message).toMatch(/malformed/);
    expect(bad(`.${sig}`).message).toMatch(/malformed/);
    expect(bad(`${body}.`).message).toMatch(/malformed/);
    expect(bad('A'.repeat(2049)).message).toMatch(/too long/);
    const notJson = Buffer.from('not json');
    const signed = `${notJson.toString('base64url')}.${(codec as unknown as { sign(b: Buffer): Buffer }).sign(notJson).toString('base64url')}`;
    expect(bad(signed).message).toMatch(/malformed/);
    expect(new CursorCodec(undefined).encode(payload)).not.toEqual(new CursorCodec(undefined).encode(payload));
  });

  test('refusals: exact messages, the `after` argument named, the length limit at 2,048', () => {
    const c = codec.encode(payload);
    const [body, sig] = c.split('.');
    const bad = (cursor: string, fp = 'fp') => refusal(() => codec.decode(cursor, fp));
    expect(bad(c, 'other')).toMatchObject({ field: 'after', message: 'invalid cursor: it was issued for a different query; start again without "after"' });
    expect(bad(`${body}.${sig.slice(0, -2)}`)).toMatchObject({ field: 'after', message: 'invalid cursor: signature does not match' });
    expect(bad(`${body}.${sig.slice(0, -1)}A`).message).toBe('invalid cursor: signature does not match');
    expect(bad(`${body}.${sig}.`)).toMatchObject({ field: 'after', message: 'invalid cursor: malformed' });
    expect(bad(body)).toMatchObject({ field: 'after', message: 'invalid cursor: malformed' });
    expect(bad('A'.repeat(2049))).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, field: 'after', message: 'invalid cursor: too long' });
    expect(bad(`${'A'.repeat(2048 - sig.length - 1)}.${sig}`).message).toBe('invalid cursor: signature does not match');
    const long = { ...payload, k: ['x'.repeat(1400)] };
    expect(codec.encode(long).length).toBeLessThanOrEqual(2048);
    expect(codec.decode(codec.encode(long), 'fp')).toEqual(long);
    expect(new CursorCodec('').encode(payload)).not.toEqual(new CursorCodec('').encode(payload));
    expect(new CursorCodec('s-0123456789').encode(payload)).toEqual(new CursorCodec('s-0123456789').encode(payload));
    expect(c.split('.')[0]).toBe(Buffer.from(JSON.stringify(payload)).toString('base64url'));
  });

  test('fingerprints ignore key order and empty values, and see every value', () => {
    expect(stableStringify({ b: 1, a: [new Date(0), null], c: undefined, d: null })).toBe('{"a":["1970-01-01T00:00:00.000Z",null],"b":1}');
    expect(stableStringify({ a: 1, B: 2 })).toBe('{"B":2,"a":1}');
    expect(stableStringify({ b: { d: 1, c: [2, 'x'] }, a: 'é', aa: false })).toBe('{"a":"é","aa":false,"b":{"c":[2,"x"],"d":1}}');
    expect(stableStringify(null)).toBe('null');
    expect(fingerprint({ a: 1, b: 2 })).toBe(fingerprint({ b: 2, a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(fingerprint({ a: 1 })).toHaveLength(22);
  });
});
