/**
 * Which record columns a GraphQL selection of ApiCall needs, so a page reads only those (columnar
 * engines then read less). A field not listed here asks for every column.
 */
import { GraphQLResolveInfo } from 'graphql';
import { EVENT_COLUMNS } from '../../query/fields';
import { neededFor } from '../selection';

const IDENTITY = [
  'identity_type', 'principal_id', 'caller_arn', 'identity_account_id', 'invoked_by', 'access_key_id', 'user_name', 'mfa_authenticated',
  'session_created', 'issuer_type', 'issuer_principal_id', 'issuer_arn', 'issuer_account_id', 'issuer_user_name',
];

const FIELD_COLUMNS: Record<string, readonly string[]> = {
  __typename: [],
  eventId: ['event_id'],
  eventTime: ['event_time'],
  eventVersion: ['event_version'],
  action: ['event_name'],
  eventSource: ['event_source'],
  region: ['aws_region'],
  account: ['recipient_account_id'],
  sourceIpAddress: ['source_ip_address'],
  sourceIp: ['source_ip_address'],
  caller: IDENTITY,
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
  iotEventsResources: ['request_parameters', 'resources'],
};

const ALL = EVENT_COLUMNS.map((c) => c.alias);

/** Column aliases for the ApiCall fields selected at `path` (event_id and event_time always: cursors and order); every column when unsure. */
export function columnsFor(info: GraphQLResolveInfo, path: readonly string[]): string[] {
  return neededFor(info, path, FIELD_COLUMNS, ALL, ['event_id', 'event_time']);
}

/** Columns for the calls a connection's selection reads, under `edges.node` and under `nodes` alike. */
export function connectionColumns(info: GraphQLResolveInfo): string[] {
  const wanted = new Set([...columnsFor(info, ['edges', 'node']), ...columnsFor(info, ['nodes'])]);
  return ALL.filter((a) => wanted.has(a));
}
