/**
 * What each filter keeps and what it refuses, read from its predicates over single records
 * (test/support/pred-eval.ts), without an engine. `npm run mutation` runs these against
 * src/query/filter.ts.
 */
import fc from 'fast-check';
import { SourceIpKind, addressBlocks, classifySourceIp, formatAddress } from '../src/domain/ip';
import { FIELDS } from '../src/query/fields';
import { CallFilter, CallOutcome, sourceKindPred, validateFilter } from '../src/query/filter';
import { Row, holds, keeps } from './support/pred-eval';
import { A, B, SOURCES, refusal } from './support/refusals';

const READER = { readPayloads: true };
/** The filter's predicates applied to a record. */
const kept = (filter: CallFilter, row: Row, access = READER) => keeps(validateFilter(filter, SOURCES, access).predicates, row);
const refused = (filter: CallFilter, access = READER) => refusal(() => validateFilter(filter, SOURCES, access));

describe('what each filter keeps', () => {
  test('actions: exact names', () => {
    expect(kept({ actions: ['ListInputs', 'DeleteInput'] }, { eventName: 'DeleteInput' })).toBe(true);
    expect(kept({ actions: ['ListInputs'] }, { eventName: 'ListInputsX' })).toBe(false);
    expect(kept({ actions: ['ListInputs'] }, { eventName: null })).toBe(false);
  });

  test('actionPatterns: prefix, suffix, substring or exact, any of them', () => {
    const f = (p: string[], name: string) => kept({ actionPatterns: p }, { eventName: name });
    expect(f(['Delete*'], 'DeleteDetectorModel')).toBe(true);
    expect(f(['Delete*'], 'Delete')).toBe(true);
    expect(f(['Delete*'], 'UndeleteX')).toBe(false);
    expect(f(['Delete*'], 'BatchDelete')).toBe(false);
    expect(f(['Delete*'], 'DescribeInput')).toBe(false);
    expect(f(['*Model'], 'Mode')).toBe(false);
    expect(f(['*Model'], 'DeleteDetectorModel')).toBe(true);
    expect(f(['*Model'], 'DeleteDetectorModels')).toBe(false);
    expect(f(['*Model'], 'ModelList')).toBe(false);
    expect(f(['*Alarm*'], 'BatchAlarmAcknowledge')).toBe(true);
    expect(f(['*Alarm*'], 'Alarm')).toBe(true);
    expect(f(['*Alarm*'], 'BatchAlaRm')).toBe(false);
    expect(f(['ListInputs'], 'ListInputs')).toBe(true);
    expect(f(['ListInputs'], 'ListInputsX')).toBe(false);
    expect(f(['ListInputs'], 'XListInputs')).toBe(false);
    expect(f(['X*', '*Model'], 'XRay')).toBe(true);
    expect(f(['X*', '*Model'], 'DescribeDetectorModel')).toBe(true);
    expect(f(['X*', '*Model'], 'DescribeInput')).toBe(false);
  });

  test('callers, principals, user names and access keys', () => {
    const arn = `arn:aws:iam::${A}:user/alice`;
    expect(kept({ callerArns: [arn] }, { callerArn: arn })).toBe(true);
    expect(kept({ callerArns: [arn] }, { callerArn: `${arn}2`, principal: arn })).toBe(false);
    expect(kept({ principalArns: ['iotevents.amazonaws.com'] }, { principal: 'iotevents.amazonaws.com' })).toBe(true);
    expect(kept({ principalArns: [arn] }, { principal: 'x', callerArn: arn })).toBe(false);
    expect(kept({ userNames: ['alice'] }, { userName: 'alice' })).toBe(true);
    expect(kept({ userNames: ['alice'] }, { userName: 'bob', principal: 'alice' })).toBe(false);
    expect(kept({ accessKeyIds: ['AKIAABCDEFGHIJKLMNOP'] }, { accessKeyId: 'AKIAABCDEFGHIJKLMNOP' })).toBe(true);
    expect(kept({ accessKeyIds: ['AKIAABCDEFGHIJKLMNOP'] }, { accessKeyId: 'AKIAABCDEFGHIJKLMNOQ' })).toBe(false);
  });

  test('identity types and caller categories', () => {
    expect(kept({ identityTypes: ['ROOT'] as never }, { identityType: 'Root' })).toBe(true);
    expect(kept({ identityTypes: ['UNKNOWN'] as never }, { identityType: 'Unknown' })).toBe(true);
    expect(kept({ identityTypes: ['ROOT', 'ROOT'] as never }, { identityType: 'IAMUser' })).toBe(false);
    expect(kept({ identityTypes: ['IAM_USER', 'ROOT'] as never }, { identityType: 'IAMUser' })).toBe(true);
    expect(kept({ categories: ['AWS_SERVICE'] as never }, { category: 'AWS_SERVICE' })).toBe(true);
    expect(kept({ categories: ['AWS_SERVICE', 'OTHER'] as never }, { category: 'ROOT_OR_IAM_USER' })).toBe(false);
    expect(kept({ identityTypes: [] as never, categories: [] as never }, { identityType: 'Root', category: 'OTHER' })).toBe(true);
  });

  test('source addresses and CIDR blocks, IPv4 and IPv6, any of them', () => {
    const ips = (f: CallFilter, ip: string) => kept(f, { sourceIp: ip });
    expect(ips({ sourceIps: ['10.0.0.1'] }, '10.0.0.1')).toBe(true);
    expect(ips({ sourceIps: ['10.0.0.1'] }, '10.0.0.2')).toBe(false);
    expect(ips({ sourceCidrs: ['10.0.0.0/8'] }, '10.255.255.255')).toBe(true);
    expect(ips({ sourceCidrs: ['10.0.0.0/8'] }, '11.0.0.0')).toBe(false);
    expect(ips({ sourceCidrs: ['10.0.0.0/8'] }, '9.255.255.255')).toBe(false);
    expect(ips({ sourceCidrs: ['2001:db8::/32'] }, '2001:db8:ffff::1')).toBe(true);
    expect(ips({ sourceCidrs: ['2001:db8::/32'] }, '2001:db9::1')).toBe(false);
    expect(ips({ sourceCidrs: ['2001:db8::/32'] }, '10.0.0.1')).toBe(false);
    const both = { sourceIps: ['192.0.2.7'], sourceCidrs: ['10.0.0.0/8', '2001:db8::/32'] };
    for (const ip of ['192.0.2.7', '10.1.2.3', '2001:db8::5']) expect(ips(both, ip)).toBe(true);
    for (const ip of ['192.0.2.8', '2001:db9::5', 'AWS Internal']) expect(ips(both, ip)).toBe(false);
  });

  test('source kinds: the SQL classification is classifySourceIp', () => {
    const kinds = Object.values(SourceIpKind);
    const samples = ['8.8.8.8', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.1.1', '224.0.0.1', '192.0.2.1', '0.1.2.3', '2606:4700::1', 'fd00::1', '::1', 'fe80::1', 'ff02::1', '2001:db8::1',
      '::ffff:10.0.0.1', '010.1.2.3', 'AWS Internal', 'iotevents.amazonaws.com', 'IoTEvents.AmazonAWS.com', 'ec2.amazonaws.com.cn', 'console.aws.example', '', 'a b'];
    const blockEdges = addressBlocks().flatMap((b) => [b.cidr.first, b.cidr.last, b.cidr.last + 1n].filter((n) => n < (b.cidr.version === 4 ? 1n << 32n : 1n << 128n)).map((n) => formatAddress(n, b.cidr.version)));
    const preds = new Map(kinds.map((k) => [k, sourceKindPred(FIELDS.sourceIp, k)]));
    /** The kinds whose predicate holds for an address. */
    const matched = (ip: string | null) => kinds.filter((k) => holds(preds.get(k)!, { sourceIp: ip }) === true);
    for (const ip of [...samples, ...blockEdges]) expect([ip, matched(ip)]).toEqual([ip, [classifySourceIp(ip)]]);
    expect(matched(null)).toEqual([SourceIpKind.OTHER]);
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.string()), (ip) => {
        expect(matched(ip)).toEqual([classifySourceIp(ip)]);
      }),
    );
    expect(kept({ sourceKinds: [SourceIpKind.PRIVATE, SourceIpKind.LOOPBACK, SourceIpKind.PRIVATE] }, { sourceIp: '127.0.0.1' })).toBe(true);
    expect(kept({ sourceKinds: [SourceIpKind.PRIVATE, SourceIpKind.LOOPBACK] }, { sourceIp: '8.8.8.8' })).toBe(false);
    expect(kept({ sourceKinds: [] }, { sourceIp: '8.8.8.8' })).toBe(true);
  });

  test('errors: codes, errorsOnly and outcome', () => {
    const err = { errorCode: 'AccessDenied' };
    const ok = { errorCode: null };
    expect(kept({ errorCodes: ['AccessDenied'] }, err)).toBe(true);
    expect(kept({ errorCodes: ['Throttling'] }, err)).toBe(false);
    expect([kept({ errorsOnly: true }, err), kept({ errorsOnly: true }, ok)]).toEqual([true, false]);
    expect([kept({ errorsOnly: false }, err), kept({ errorsOnly: false }, ok)]).toEqual([false, true]);
    expect([kept({ outcome: CallOutcome.ERROR }, err), kept({ outcome: CallOutcome.ERROR }, ok)]).toEqual([true, false]);
    expect([kept({ outcome: CallOutcome.SUCCESS }, err), kept({ outcome: CallOutcome.SUCCESS }, ok)]).toEqual([false, true]);
    expect([kept({ outcome: CallOutcome.ANY }, err), kept({ outcome: CallOutcome.ANY }, ok)]).toEqual([true, true]);
    expect([kept({ errorsOnly: null, outcome: CallOutcome.ERROR }, ok), kept({ errorsOnly: true, outcome: null }, ok)]).toEqual([false, false]);
    expect(validateFilter({}, SOURCES).predicates).toEqual([]);
  });

  test('readOnly, resource names and user agents', () => {
    expect([kept({ readOnly: true }, { readOnly: 'true' }), kept({ readOnly: true }, { readOnly: 'false' })]).toEqual([true, false]);
    expect([kept({ readOnly: false }, { readOnly: 'true' }), kept({ readOnly: false }, { readOnly: 'false' })]).toEqual([false, true]);
    expect([kept({ readOnly: null }, { readOnly: 'true' }), kept({ readOnly: null }, { readOnly: 'false' })]).toEqual([true, true]);
    expect(validateFilter({ resourceName: null, userAgentContains: null, outcome: null, errorsOnly: null, readOnly: null, not: null }, SOURCES).predicates).toEqual([]);
    const name = 'Pump (line 2)';
    for (const row of [{ detectorModelName: name }, { inputName: name }, { alarmModelName: name }, { resourceArnParam: `arn:aws:iotevents:eu-west-1:${A}:input/${name}` }]) {
      expect(kept({ resourceName: name }, row)).toBe(true);
    }
    for (const row of [{ detectorModelName: `${name}x` }, { inputName: `x${name}` }, { resourceArnParam: `arn:aws:iotevents:eu-west-1:${A}:input/x${name}` }, { resourceArnParam: `x${name}` }, { requestParameters: name }]) {
      expect(kept({ resourceName: name }, row)).toBe(false);
    }
    expect(kept({ userAgentContains: 'Boto3' }, { userAgent: 'aws-cli boto3/1.2' })).toBe(true);
    expect(kept({ userAgentContains: 'boto3' }, { userAgent: 'aws-cli/2', requestParameters: 'boto3' })).toBe(false);
    expect(kept({ userAgentContains: 'x'.repeat(256) }, { userAgent: 'x'.repeat(256) })).toBe(true);
    expect(kept({ userAgentContains: 'x' }, { userAgent: 'X' })).toBe(true);
  });

  test('text search in error messages and payloads, for keys that may read them', () => {
    expect(kept({ errorMessageContains: 'Detector' }, { errorMessage: 'no detector model named x' })).toBe(true);
    expect(kept({ errorMessageContains: 'detector' }, { errorMessage: 'nothing', requestParameters: 'detector' })).toBe(false);
    expect(kept({ payloadContains: 'PUMP' }, { requestParameters: '{"name":"pump-1"}' })).toBe(true);
    expect(kept({ payloadContains: 'pump' }, { responseElements: '{"name":"Pump-1"}' })).toBe(true);
    expect(kept({ payloadContains: 'pump' }, { requestParameters: '{}', responseElements: null, errorMessage: 'pump' })).toBe(false);
    expect(kept({ payloadContains: 'x'.repeat(256), errorMessageContains: "'".repeat(256) }, { requestParameters: 'x'.repeat(256), errorMessage: "'".repeat(256) })).toBe(true);
    for (const name of ['errorMessageContains', 'payloadContains']) {
      expect(refused({ [name]: 'pump' }, { readPayloads: false })).toMatchObject({ code: 'FORBIDDEN', status: 403, message: `filter.${name}: this key may not read payloads or error messages, so it may not search them` });
      expect(refusal(() => validateFilter({ [name]: 'pump' }, SOURCES))).toMatchObject({ code: 'FORBIDDEN' });
      for (const bad of ['', 'x'.repeat(257), 'a\u0007b', "'".repeat(512), 5]) {
        expect(refused({ [name]: bad } as never)).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, field: `filter.${name}`, message: `filter.${name}: 1 to 256 characters, no control characters` });
      }
      expect(validateFilter({ [name]: null }, SOURCES, { readPayloads: false }).predicates).toEqual([]);
    }
  });

  test('not: leaves out what the inner filter matches, scan lists included, unknowns kept', () => {
    const row = { eventName: 'DeleteInput', region: 'eu-west-1', account: A, eventSource: SOURCES[0], errorCode: null };
    expect(kept({ not: { actions: ['DeleteInput'] } }, row)).toBe(false);
    expect(kept({ not: { actions: ['ListInputs'] } }, row)).toBe(true);
    expect(kept({ not: { regions: ['eu-west-1'] } }, row)).toBe(false);
    expect(kept({ not: { regions: ['us-east-1'] } }, row)).toBe(true);
    expect(kept({ not: { accounts: [A] } }, row)).toBe(false);
    expect(kept({ not: { accounts: [B] } }, row)).toBe(true);
    expect(kept({ not: { eventSources: [SOURCES[0]] } }, row)).toBe(false);
    expect(kept({ not: { eventSources: [SOURCES[1]] } }, row)).toBe(true);
    // Every inner restriction must match for a call to be left out.
    expect(kept({ not: { actions: ['DeleteInput'], regions: ['us-east-1'] } }, row)).toBe(true);
    expect(kept({ not: { actions: ['DeleteInput'], accounts: [B] } }, row)).toBe(true);
    expect(kept({ not: { actions: ['DeleteInput'], eventSources: [SOURCES[1]] } }, row)).toBe(true);
    expect(kept({ not: { errorCodes: ['AccessDenied'] } }, row)).toBe(true);
    expect(kept({ actions: ['DeleteInput'], not: { errorsOnly: true } }, row)).toBe(true);
    expect(validateFilter({ not: {} }, SOURCES).predicates).toEqual([]);
    // With every source served, an inner filter without sources still leaves calls out.
    expect(keeps(validateFilter({ not: { actions: ['DeleteInput'] } }, []).predicates, row)).toBe(false);
    expect(keeps(validateFilter({ not: { actions: ['ListInputs'] } }, []).predicates, row)).toBe(true);
    expect(validateFilter({ not: null }, SOURCES).predicates).toEqual([]);
    // The outer filter's scan lists stay as given; `not` adds only a row condition.
    expect(validateFilter({ regions: ['eu-west-1'], not: { regions: ['us-east-1'], accounts: [A] } }, SOURCES)).toMatchObject({ regions: ['eu-west-1'], accounts: [], eventSources: SOURCES });
    expect(refused({ not: { from: new Date() } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.not.from', message: 'filter.not: the window is set by the outer filter, not inside `not`' });
    expect(refused({ not: { to: new Date() } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.not.to' });
    expect(refused({ not: { not: { actions: ['X'] } } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.not.not', message: 'filter.not: `not` cannot hold another `not`' });
    expect(kept({ not: { actions: ['X'], not: null } }, row)).toBe(true);
    expect(refused({ not: { actions: ['Bad Action'] } })).toMatchObject({ field: 'filter.not.actions', message: 'filter.not.actions: "Bad Action" is not an API action name' });
    expect(refused({ not: { eventSources: ['s3.amazonaws.com'] } }).message).toMatch(/^filter\.not\.eventSources: /);
    expect(refused({ not: { payloadContains: 'x' } }, { readPayloads: false }).message).toMatch(/^filter\.not\.payloadContains: /);
  });
});

describe('what each filter refuses', () => {
  test('list values: the message quotes the value and names the rule', () => {
    expect(refused({ actions: ['Bad Action'] })).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, field: 'filter.actions', message: 'filter.actions: "Bad Action" is not an API action name' });
    expect(refused({ actions: ['x'.repeat(300)] }).message).toBe(`filter.actions: "${'x'.repeat(100)}" is not an API action name`);
    expect(refused({ actions: [5 as never] }).message).toBe('filter.actions: "5" is not an API action name');
    expect(refused({ actionPatterns: ['De*lete'] }).message).toBe('filter.actionPatterns: "De*lete" is not an action name with * at its start or end');
    expect(refused({ eventSources: ['IoTEvents.amazonaws.com'] }).message).toBe('filter.eventSources: "IoTEvents.amazonaws.com" is not an event source like "iotevents.amazonaws.com"');
    expect(refused({ accounts: ['1234'] }).message).toBe('filter.accounts: "1234" is not a 12-digit AWS account id');
    expect(refused({ regions: ['EU'] }).message).toBe('filter.regions: "EU" is not an AWS region like "us-east-1"');
    expect(refused({ callerArns: ['alice'] }).message).toBe('filter.callerArns: "alice" is not an ARN');
    expect(refused({ principalArns: ['p'.repeat(1001)] }).message).toBe(`filter.principalArns: "${'p'.repeat(100)}" is not a principal (at most 1000 characters)`);
    expect(refused({ userNames: [''] }).message).toBe('filter.userNames: "" is not a user name (1 to 256 characters)');
    expect(refused({ accessKeyIds: ['akia'] }).message).toBe('filter.accessKeyIds: "akia" is not an access key id');
    expect(refused({ sourceIps: [''] }).message).toBe('filter.sourceIps: "" is not a source address (1 to 256 characters)');
    expect(refused({ errorCodes: ['Access Denied'] }).message).toBe('filter.errorCodes: "Access Denied" is not an error code');
    expect(refused({ sourceCidrs: ['10.0.0.1/8'] })).toMatchObject({ field: 'filter.sourceCidrs', message: 'filter.sourceCidrs: "10.0.0.1/8": host bits are set; did you mean 10.0.0.0/8?' });
    expect(refused({ eventSources: ['s3.amazonaws.com'] })).toMatchObject({ field: 'filter.eventSources', message: `filter.eventSources: "s3.amazonaws.com" is not served here (served: ${SOURCES.join(', ')})` });
  });

  test('each rule at its edges', () => {
    const ok = (f: CallFilter) => expect(() => validateFilter(f, SOURCES)).not.toThrow();
    const bad = (f: CallFilter) => expect(refused(f).code).toBe('BAD_USER_INPUT');
    ok({ actions: ['a'.repeat(128)] });
    bad({ actions: ['a'.repeat(129)] });
    bad({ actions: ['List-Inputs'] });
    ok({ actionPatterns: ['*a*', 'a*', '*a', 'a', `*${'a'.repeat(128)}*`] });
    for (const p of ['*', '**', 'a**', '**a', 'a*b', '', `${'a'.repeat(129)}*`, 'a b*']) bad({ actionPatterns: [p] });
    ok({ eventSources: ['iotevents.amazonaws.com'] });
    for (const s of ['xiotevents.amazonaws.com.evil', 'iotevents.amazonaws.comx', 'a b.amazonaws.com']) expect(refused({ eventSources: [s] }).message).toMatch(/is not an event source/);
    for (const s of ['s3.amazonaws.com', 'anything.amazonaws.com']) expect(() => validateFilter({ eventSources: [s] }, [])).not.toThrow();
    for (const arn of [`arn:aws:iam::${A}:user/a`, 'arn:aws:iam::aws:policy/x', 'arn:aws-cn:s3:::bucket', `arn:aws:iotevents:eu-west-1:${A}:input/x`]) ok({ callerArns: [arn] });
    for (const arn of [`xarn:aws:iam::${A}:user/a`, `arn:aws:iam::${A}:user/a b`, `arn:aws:iam::1234:user/a`, `arn:gcp:iam::${A}:user/a`, `arn:aws:IAM::${A}:user/a`, `arn:aws:iam::${A}:`, `arn:aws:iam:EU:${A}:user/a`, `arn:aws:iam::${A}:${'a'.repeat(1025)}`]) bad({ callerArns: [arn] });
    for (const p of ['iotevents.amazonaws.com', 'ec2.amazonaws.com.cn', `arn:aws:iam::${A}:role/r`]) ok({ principalArns: [p] });
    // Any principal `principal` gives: another account's principal id, an Identity Center user, a service as written ("" too).
    for (const p of ['AROAOTHER0000000018:sess', `identity-center-user:arn:aws:identitystore::${A}:identitystore/d-1/u`, 'AWS Internal', '', 'p'.repeat(1000)]) ok({ principalArns: [p] });
    bad({ principalArns: ['p'.repeat(1001)] });
    ok({ userNames: ['a'.repeat(256), 'a'] });
    bad({ userNames: ['a'.repeat(257)] });
    ok({ accessKeyIds: ['A'.repeat(16), 'A'.repeat(128)] });
    for (const k of ['A'.repeat(15), 'A'.repeat(129), 'AKIA-BCDEFGHIJKLMNOP', ` ${'A'.repeat(16)}`]) bad({ accessKeyIds: [k] });
    ok({ sourceIps: ['a'.repeat(256), 'a'] });
    expect(refused({ sourceCidrs: ['1'.repeat(1100)] }).message).toBe(`filter.sourceCidrs: "${'1'.repeat(100)}" is not a CIDR block`);
    expect(refused({ sourceCidrs: [7 as never] }).message).toBe('filter.sourceCidrs: "7" is not a CIDR block');
    bad({ sourceIps: ['a'.repeat(257)] });
    ok({ errorCodes: ['Iot.Error:Code-1_2', 'a'.repeat(128)] });
    for (const c of ['a'.repeat(129), 'a/b', '']) bad({ errorCodes: [c] });
    ok({ resourceName: 'x'.repeat(256) });
    ok({ resourceName: "'".repeat(256) });
    ok({ resourceName: '\u{1F600}'.repeat(256) });
    bad({ resourceName: '\u{1F600}'.repeat(257) });
    bad({ resourceName: '' });
    bad({ resourceName: 5 as never });
    bad({ resourceName: 'a\u007fb' });
    expect(refused({ resourceName: 'a\u0000' })).toMatchObject({ field: 'filter.resourceName', message: 'filter.resourceName: 1 to 256 characters, no control characters' });
    expect(refused({ userAgentContains: '' })).toMatchObject({ field: 'filter.userAgentContains' });
    ok({ userAgentContains: 'x' });
    // A value's quotes count towards the bound value length (1,024 with its own two quotes).
    ok({ userNames: ["'".repeat(255)] });
    ok({ callerArns: [`arn:aws:iam::${A}:user/${"'".repeat(495)}`] });
    bad({ callerArns: [`arn:aws:iam::${A}:user/${"'".repeat(496)}`] });
    ok({ callerArns: [`arn:aws:iam::${A}:user/${'a'.repeat(991)}`] });
    bad({ callerArns: [`arn:aws:iam::${A}:user/${'a'.repeat(992)}`] });
    ok({ principalArns: [`arn:aws:iam::${A}:user/${"'".repeat(495)}`] });
    bad({ principalArns: [`arn:aws:iam::${A}:user/${"'".repeat(496)}`] });
  });

  test('enums and counts', () => {
    expect(refused({ sourceKinds: ['NEARBY' as never] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.sourceKinds', message: 'filter.sourceKinds: unknown source address kind' });
    expect(refused({ sourceKinds: Array.from({ length: 101 }, () => SourceIpKind.PRIVATE) })).toMatchObject({ field: 'filter.sourceKinds', message: 'filter.sourceKinds: at most 100 values' });
    expect(() => validateFilter({ sourceKinds: Array.from({ length: 100 }, () => SourceIpKind.PRIVATE) }, SOURCES)).not.toThrow();
    expect(refused({ identityTypes: ['SUPERUSER' as never] })).toMatchObject({ field: 'filter.identityTypes', message: 'filter.identityTypes: unknown identity type' });
    expect(refused({ identityTypes: ['ROOT', 'SUPERUSER'] as never })).toMatchObject({ field: 'filter.identityTypes' });
    expect(refused({ categories: ['OTHER', 'ADMINS'] as never })).toMatchObject({ field: 'filter.categories', message: 'filter.categories: unknown caller category' });
    expect(refused({ sourceKinds: [SourceIpKind.PRIVATE, 'NEARBY' as never] }).field).toBe('filter.sourceKinds');
    expect(refused({ identityTypes: Array.from({ length: 101 }, () => 'ROOT' as never) })).toMatchObject({ field: 'filter.identityTypes' });
    expect(refused({ categories: ['ADMINS' as never] })).toMatchObject({ field: 'filter.categories' });
    expect(refused({ categories: Array.from({ length: 101 }, () => 'OTHER' as never) })).toMatchObject({ field: 'filter.categories' });
    expect(refused({ actions: Array.from({ length: 101 }, () => 'X') })).toMatchObject({ field: 'filter.actions' });
    expect(refused({ errorsOnly: true, outcome: CallOutcome.ERROR })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.outcome', message: 'filter.outcome: give outcome or errorsOnly, not both' });
    expect(refused({ errorsOnly: false, outcome: CallOutcome.ANY }).field).toBe('filter.outcome');
    expect(refused({ outcome: 'MAYBE' as never })).toMatchObject({ field: 'filter.outcome', message: 'filter.outcome: unknown outcome' });
    expect(refused({ not: { outcome: 'MAYBE' as never } }).message).toBe('filter.not.outcome: unknown outcome');
  });

  test('scan lists: accounts and regions deduplicated, event sources default to those served', () => {
    expect(validateFilter({ accounts: [A, B, A], regions: ['eu-west-1', 'eu-west-1'] }, SOURCES)).toEqual({ predicates: [], accounts: [A, B], regions: ['eu-west-1'], eventSources: SOURCES, needsSources: false });
    expect(validateFilter({ eventSources: [SOURCES[1], SOURCES[1]] }, SOURCES).eventSources).toEqual([SOURCES[1]]);
    expect(validateFilter(undefined, []).eventSources).toEqual([]);
  });
});

describe('AS numbers and countries of the source address', () => {
  const seen: { asns: readonly number[]; countries: readonly string[] }[] = [];
  const sourcesIn = (s: { asns: readonly number[]; countries: readonly string[] }) => {
    seen.push(s);
    return ['198.51.100.7', '2001:db8::7'];
  };
  const withSources = { ...READER, sourcesIn };
  const asn = (n: unknown) => refused({ asns: [n] as never });

  test('a selection keeps exactly the addresses the service found for it, and asks with each list once', () => {
    seen.length = 0;
    expect(kept({ asns: [64500, 64500], countries: ['DE'] }, { sourceIp: '198.51.100.7' }, withSources)).toBe(true);
    expect(seen).toEqual([{ asns: [64500], countries: ['DE'] }]);
    expect(kept({ asns: [64500] }, { sourceIp: '2001:db8::7' }, withSources)).toBe(true);
    expect(kept({ countries: ['DE'] }, { sourceIp: '198.51.100.8' }, withSources)).toBe(false);
    expect(kept({ countries: ['DE'] }, { sourceIp: null }, withSources)).toBe(false);
    expect(kept({ not: { countries: ['DE'] } }, { sourceIp: '198.51.100.8' }, withSources)).toBe(true);
    expect(kept({ not: { countries: ['DE'] } }, { sourceIp: '198.51.100.7' }, withSources)).toBe(false);
    expect(keeps(validateFilter({ asns: [1] }, SOURCES, { ...READER, sourcesIn: () => [] }).predicates, { sourceIp: '198.51.100.7' })).toBe(false);
  });

  test('without the service\'s addresses a selection says it needs them; empty lists select nothing', () => {
    expect(validateFilter({ asns: [1] }, SOURCES).needsSources).toBe(true);
    expect(validateFilter({ countries: ['SE'] }, SOURCES).needsSources).toBe(true);
    expect(validateFilter({ not: { asns: [1] } }, SOURCES).needsSources).toBe(true);
    expect(validateFilter({ asns: [1] }, SOURCES, withSources).needsSources).toBe(false);
    expect(validateFilter({ asns: [], countries: [] }, SOURCES).needsSources).toBe(false);
    expect(validateFilter({ asns: null, countries: null }, SOURCES).needsSources).toBe(false);
    expect(validateFilter({}, SOURCES).needsSources).toBe(false);
  });

  test('AS numbers are positive integers up to 2^31 - 1', () => {
    for (const n of [1, 2_147_483_647]) expect(() => validateFilter({ asns: [n] }, SOURCES)).not.toThrow();
    for (const n of [0, -1, 1.5, 2_147_483_648, '64500', null]) {
      expect(asn(n)).toEqual({ code: 'BAD_USER_INPUT', status: 400, field: 'filter.asns', message: `filter.asns: ${JSON.stringify(n)} is not an AS number (a positive integer)` });
    }
    expect(refused({ not: { asns: [0] } }).field).toBe('filter.not.asns');
  });

  test('countries are two upper-case letters; at most 100 values in each list', () => {
    expect(() => validateFilter({ countries: ['GB', 'SE'] }, SOURCES)).not.toThrow();
    for (const c of ['gb', 'GBR', 'G', 'G1', ' GB']) expect(refused({ countries: [c] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.countries' });
    expect(() => validateFilter({ asns: Array.from({ length: 100 }, (_, i) => i + 1) }, SOURCES)).not.toThrow();
    expect(refused({ asns: Array.from({ length: 101 }, (_, i) => i + 1) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.asns', message: 'filter.asns: at most 100 values' });
    expect(refused({ countries: Array.from({ length: 101 }, () => 'DE') })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.countries', message: 'filter.countries: at most 100 values' });
  });
});
