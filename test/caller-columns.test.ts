/**
 * A page reads only the identity columns its `caller` selection needs: every Caller field computed
 * from those columns alone is the field computed from the whole row, for any identity (property
 * test over random rows, odd identity types and partly empty records included).
 */
import fc from 'fast-check';
import { callerFromRow, CallerInfo } from '../src/domain/api-call';
import { RAW_IDENTITY_TYPES } from '../src/domain/identity';
import { CALLER_FIELD_COLUMNS } from '../src/graphql/api-call/selection';
import { Row } from '../src/query/engine';

const text = (values: readonly string[]) => fc.option(fc.constantFrom(...values), { nil: null });

const identityRow: fc.Arbitrary<Row> = fc.record({
  identity_type: text([...Object.values(RAW_IDENTITY_TYPES), 'IdentityCenterUser', 'Unknown', '']),
  principal_id: text(['AIDAEXAMPLE', 'AROAEXAMPLE:session', '111122223333']),
  caller_arn: text(['arn:aws:iam::111122223333:user/alice', 'arn:aws:sts::111122223333:assumed-role/ops/s1', 'arn:aws:iam::111122223333:root']),
  identity_account_id: text(['111122223333', '777788889999']),
  invoked_by: text(['iotevents.amazonaws.com', 'AWS Internal']),
  access_key_id: text(['ASIAEXAMPLE', 'AKIAEXAMPLE']),
  user_name: text(['alice', 'bob']),
  mfa_authenticated: text(['true', 'false']),
  session_created: text(['2026-03-14T10:00:00Z', 'not a time']),
  issuer_type: text(['Role', 'IAMUser', 'Root']),
  issuer_principal_id: text(['AROAEXAMPLE']),
  issuer_arn: text(['arn:aws:iam::111122223333:role/ops']),
  issuer_account_id: text(['111122223333']),
  issuer_user_name: text(['ops']),
});

/** The Caller fields computed from a row, by the GraphQL field that answers them. */
const FIELDS: readonly (keyof CallerInfo)[] = [
  'key', 'arn', 'principal', 'identityType', 'rawType', 'category', 'temporaryCredentials', 'mfaAuthenticated',
  'invokedBy', 'accountId', 'userName', 'principalId', 'accessKeyId', 'sessionIssuer', 'sessionCreated',
];

test('every Caller field is computed from the columns its selection reads', () => {
  fc.assert(
    fc.property(identityRow, (row) => {
      const whole = callerFromRow(row);
      for (const field of FIELDS) {
        const columns = CALLER_FIELD_COLUMNS[field];
        expect(columns).toBeDefined();
        const narrow = callerFromRow(Object.fromEntries(columns.map((c) => [c, row[c]])));
        expect([field, narrow[field]]).toEqual([field, whole[field]]);
      }
    }),
    { numRuns: 500 },
  );
});

test('the fields that name a caller in the graph read its key', () => {
  for (const field of ['id', 'key', 'stats', 'calls', 'sourceIps', 'actions']) {
    expect(CALLER_FIELD_COLUMNS[field]).toEqual(expect.arrayContaining(['caller_arn', 'invoked_by', 'principal_id', 'identity_account_id']));
  }
});
