/**
 * The CloudTrail record as every engine reads it: one description, in the column order of Athena's
 * documented CloudTrail table (plus `managementEvent`), with CloudTrail's own key spelling. Engines
 * derive their types from it: Athena's DDL lower-cases the names and stores every scalar and JSON
 * value as STRING (src/engines/athena/ddl.ts); DuckDB reads scalars as VARCHAR and keeps JSON
 * values as JSON (src/engines/duckdb/record-schema.ts).
 */

/**
 * What a field holds: `text` (a scalar, kept as its text whatever JSON type it has), `json` (an
 * object whose shape varies by service, kept as JSON text), `textMap` (string keys to strings),
 * a nested object (`fields`) or a list (`listOf`).
 */
export type FieldKind =
  | 'text'
  | 'json'
  | 'textMap'
  | { readonly fields: readonly RecordField[] }
  | { readonly listOf: FieldKind };

export interface RecordField {
  /** The JSON key, as CloudTrail spells it. */
  readonly name: string;
  readonly kind: FieldKind;
}

const text = (...names: string[]): RecordField[] => names.map((name) => ({ name, kind: 'text' }));
const object = (name: string, ...fields: RecordField[]): RecordField => ({ name, kind: { fields } });

/** The top-level fields of a CloudTrail record, in the Athena table's column order. */
export const CLOUDTRAIL_RECORD: readonly RecordField[] = [
  ...text('eventVersion'),
  object(
    'userIdentity',
    ...text('type', 'principalId', 'arn', 'accountId', 'invokedBy', 'accessKeyId', 'userName'),
    object('onBehalfOf', ...text('userId', 'identityStoreArn')),
    object(
      'sessionContext',
      object('attributes', ...text('mfaAuthenticated', 'creationDate')),
      object('sessionIssuer', ...text('type', 'principalId', 'arn', 'accountId', 'userName')),
      ...text('ec2RoleDelivery'),
      object('webIdFederationData', ...text('federatedProvider'), { name: 'attributes', kind: 'textMap' }),
    ),
  ),
  ...text('eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent', 'errorCode', 'errorMessage'),
  { name: 'requestParameters', kind: 'json' },
  { name: 'responseElements', kind: 'json' },
  { name: 'additionalEventData', kind: 'json' },
  ...text('requestID', 'eventID', 'readOnly'),
  { name: 'resources', kind: { listOf: { fields: text('ARN', 'accountId', 'type') } } },
  ...text('eventType', 'apiVersion', 'recipientAccountId'),
  { name: 'serviceEventDetails', kind: 'json' },
  ...text('sharedEventID', 'vpcEndpointId', 'vpcEndpointAccountId', 'eventCategory'),
  object('addendum', ...text('reason', 'updatedFields', 'originalRequestID', 'originalEventID')),
  ...text('sessionCredentialFromConsole'),
  { name: 'edgeDeviceDetails', kind: 'json' },
  object('tlsDetails', ...text('tlsVersion', 'cipherSuite', 'clientProvidedHostHeader')),
  ...text('managementEvent'),
];
