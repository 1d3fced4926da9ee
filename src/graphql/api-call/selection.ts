/**
 * Which record columns a GraphQL selection of ApiCall needs, so a page reads only those (columnar
 * engines then read less). A field not listed here asks for every column.
 */
import { GraphQLResolveInfo } from 'graphql';
import { EVENT_COLUMNS } from '../../query/fields';
import { neededFor, selectedFields } from '../selection';

const IDENTITY = [
  'identity_type', 'principal_id', 'caller_arn', 'identity_account_id', 'invoked_by', 'access_key_id', 'user_name', 'mfa_authenticated',
  'session_created', 'issuer_type', 'issuer_principal_id', 'issuer_arn', 'issuer_account_id', 'issuer_user_name', 'identity_center_user',
];

/** What a caller's key is made of (domain/identity.ts `callerKeyOf`): its id, its graph fields and `principal` need it. */
const CALLER_KEY = ['identity_type', 'caller_arn', 'invoked_by', 'principal_id', 'identity_center_user', 'identity_account_id'];

/** The identity columns each Caller field is computed from (domain/api-call.ts `callerFromRow`). */
export const CALLER_FIELD_COLUMNS: Record<string, readonly string[]> = {
  __typename: [],
  id: CALLER_KEY,
  key: CALLER_KEY,
  stats: CALLER_KEY,
  calls: CALLER_KEY,
  sourceIps: CALLER_KEY,
  actions: CALLER_KEY,
  arn: ['caller_arn'],
  principal: [...CALLER_KEY, 'issuer_arn'],
  identityType: ['identity_type'],
  rawType: ['identity_type'],
  category: ['identity_type', 'invoked_by'],
  temporaryCredentials: ['identity_type', 'access_key_id', 'issuer_type', 'issuer_arn', 'session_created'],
  mfaAuthenticated: ['mfa_authenticated'],
  invokedBy: ['invoked_by'],
  accountId: ['identity_account_id'],
  userName: ['user_name', 'issuer_user_name'],
  principalId: ['principal_id'],
  accessKeyId: ['access_key_id'],
  sessionIssuer: ['issuer_type', 'issuer_principal_id', 'issuer_arn', 'issuer_account_id', 'issuer_user_name'],
  sessionCreated: ['session_created'],
};

/** The columns each ApiCall field is computed from (`caller`: from its own selection, `columnsFor`). */
const FIELD_COLUMNS: Record<string, readonly string[]> = {
  __typename: [],
  id: ['event_id', 'event_time', 'recipient_account_id', 'aws_region'],
  eventId: ['event_id'],
  eventTime: ['event_time'],
  eventVersion: ['event_version'],
  action: ['event_name'],
  eventSource: ['event_source'],
  region: ['aws_region'],
  account: ['recipient_account_id'],
  sourceIpAddress: ['source_ip_address'],
  sourceIp: ['source_ip_address'],
  userAgent: ['user_agent'],
  errorCode: ['error_code'],
  errorMessage: ['error_message'],
  success: ['error_code'],
  readOnly: ['read_only'],
  eventType: ['event_type'],
  eventCategory: ['event_category'],
  managementEvent: ['management_event'],
  requestId: ['request_id'],
  apiVersion: ['api_version'],
  sharedEventId: ['shared_event_id'],
  vpcEndpointId: ['vpc_endpoint_id'],
  vpcEndpointAccountId: ['vpc_endpoint_account_id'],
  sessionCredentialFromConsole: ['session_credential_from_console'],
  requestParameters: ['request_parameters'],
  responseElements: ['response_elements'],
  additionalEventData: ['additional_event_data'],
  serviceEventDetails: ['service_event_details'],
  edgeDeviceDetails: ['edge_device_details'],
  addendum: ['addendum'],
  onBehalfOf: ['on_behalf_of'],
  webIdFederationData: ['web_id_federation'],
  ec2RoleDelivery: ['ec2_role_delivery'],
  tls: ['tls_version', 'tls_cipher_suite', 'tls_client_host_header'],
  resources: ['resources'],
  iotEventsResources: ['event_name', 'request_parameters', 'resources'],
};

const ALL = EVENT_COLUMNS.map((c) => c.alias);

/** Column aliases for the ApiCall fields selected at `path` (event_id and event_time always: cursors and order); every column when unsure. */
export function columnsFor(info: GraphQLResolveInfo, path: readonly string[]): string[] {
  const fields = selectedFields(info, path);
  // The caller's columns are those its own selection needs (every identity column when unsure).
  const caller = fields?.has('caller') ? neededFor(info, [...path, 'caller'], CALLER_FIELD_COLUMNS, IDENTITY) : [];
  return neededFor(info, path, { ...FIELD_COLUMNS, caller }, ALL, ['event_id', 'event_time']);
}

/** Columns for the calls a connection's selection reads, under `edges.node` and under `nodes` alike. */
export function connectionColumns(info: GraphQLResolveInfo): string[] {
  const wanted = new Set([...columnsFor(info, ['edges', 'node']), ...columnsFor(info, ['nodes'])]);
  return ALL.filter((a) => wanted.has(a));
}
