/**
 * The explicit schema DuckDB reads CloudTrail records with: CloudTrail's own key spelling (JSON
 * keys match case-sensitively), the Athena table's types. Objects whose shape varies by service
 * (requestParameters, ...) stay JSON text, so a value that changes type between records, a missing
 * key or a null never fails a read or drops a record. Scalars declared VARCHAR keep any JSON value
 * as its text.
 */
type FieldType = string | { readonly [key: string]: FieldType };

const RECORD: Record<string, FieldType> = {
  eventVersion: 'VARCHAR',
  userIdentity: {
    type: 'VARCHAR',
    principalId: 'VARCHAR',
    arn: 'VARCHAR',
    accountId: 'VARCHAR',
    invokedBy: 'VARCHAR',
    accessKeyId: 'VARCHAR',
    userName: 'VARCHAR',
    onBehalfOf: { userId: 'VARCHAR', identityStoreArn: 'VARCHAR' },
    sessionContext: {
      attributes: { mfaAuthenticated: 'VARCHAR', creationDate: 'VARCHAR' },
      sessionIssuer: { type: 'VARCHAR', principalId: 'VARCHAR', arn: 'VARCHAR', accountId: 'VARCHAR', userName: 'VARCHAR' },
      ec2RoleDelivery: 'VARCHAR',
      webIdFederationData: { federatedProvider: 'VARCHAR', attributes: 'JSON' },
    },
  },
  eventTime: 'VARCHAR',
  eventSource: 'VARCHAR',
  eventName: 'VARCHAR',
  awsRegion: 'VARCHAR',
  sourceIPAddress: 'VARCHAR',
  userAgent: 'VARCHAR',
  errorCode: 'VARCHAR',
  errorMessage: 'VARCHAR',
  requestParameters: 'JSON',
  responseElements: 'JSON',
  additionalEventData: 'JSON',
  requestID: 'VARCHAR',
  eventID: 'VARCHAR',
  readOnly: 'VARCHAR',
  resources: 'STRUCT("ARN" VARCHAR, "accountId" VARCHAR, "type" VARCHAR)[]',
  eventType: 'VARCHAR',
  apiVersion: 'VARCHAR',
  managementEvent: 'VARCHAR',
  recipientAccountId: 'VARCHAR',
  serviceEventDetails: 'JSON',
  sharedEventID: 'VARCHAR',
  vpcEndpointId: 'VARCHAR',
  vpcEndpointAccountId: 'VARCHAR',
  eventCategory: 'VARCHAR',
  addendum: { reason: 'VARCHAR', updatedFields: 'VARCHAR', originalRequestID: 'VARCHAR', originalEventID: 'VARCHAR' },
  sessionCredentialFromConsole: 'VARCHAR',
  edgeDeviceDetails: 'JSON',
  tlsDetails: { tlsVersion: 'VARCHAR', cipherSuite: 'VARCHAR', clientProvidedHostHeader: 'VARCHAR' },
};

function typeText(t: FieldType): string {
  if (typeof t === 'string') return t;
  return `STRUCT(${Object.entries(t).map(([k, v]) => `"${k}" ${typeText(v)}`).join(', ')})`;
}

/** The `columns` argument of read_json for a `{"Records":[...]}` file. */
export const RECORDS_COLUMNS = `{'Records': '${typeText(RECORD).replace(/'/g, "''")}[]'}`;

/** The record's top-level columns, in the order the JSON source yields them (CloudTrail's spelling). */
export const RECORD_COLUMN_NAMES: readonly string[] = Object.keys(RECORD);
