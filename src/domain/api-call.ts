/**
 * Rows -> domain objects. Engines return the flattened columns of query/fields.ts EVENT_COLUMNS;
 * this is the one place that knows how to read them, whichever engine produced them.
 */
import type { IotEventsResourceName } from './iotevents-resources';
import { Row } from './row';
import { CallerCategory, IdentityColumns, IdentityType, classifyCategory, classifyIdentityType, callerKeyOf, principalOf, usesTemporaryCredentials } from './identity';
import { SourceIpKind, classifySourceIp } from './ip';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SessionIssuer {
  type: string | null;
  principalId: string | null;
  arn: string | null;
  accountId: string | null;
  userName: string | null;
}

export interface CallerInfo {
  /** The key the caller is known by: ARN, else invoking service, else `account:<id>`. */
  key: string;
  arn: string | null;
  principal: string;
  identityType: IdentityType;
  rawType: string | null;
  category: CallerCategory;
  temporaryCredentials: boolean;
  mfaAuthenticated: boolean | null;
  invokedBy: string | null;
  accountId: string | null;
  userName: string | null;
  principalId: string | null;
  accessKeyId: string | null;
  sessionIssuer: SessionIssuer | null;
  sessionCreated: Date | null;
}

export interface SourceIpInfo {
  address: string;
  kind: SourceIpKind;
}

export interface ResourceRef {
  arn: string | null;
  accountId: string | null;
  type: string | null;
}

export interface ApiCallRecord {
  eventId: string;
  eventTime: Date;
  /** eventTime as the record wrote it (eventTime is its canonical UTC reading). */
  eventTimeRaw: string | null;
  eventVersion: string | null;
  /** eventName; null only for a record without one. */
  action: string | null;
  eventSource: string | null;
  region: string | null;
  account: string | null;
  sourceIpAddress: string | null;
  userAgent: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  readOnly: boolean | null;
  eventType: string | null;
  eventCategory: string | null;
  managementEvent: boolean | null;
  requestId: string | null;
  apiVersion: string | null;
  sharedEventId: string | null;
  vpcEndpointId: string | null;
  vpcEndpointAccountId: string | null;
  sessionCredentialFromConsole: boolean | null;
  requestParameters: Json;
  responseElements: Json;
  additionalEventData: Json;
  serviceEventDetails: Json;
  edgeDeviceDetails: Json;
  addendum: Json;
  onBehalfOf: Json;
  webIdFederationData: Json;
  ec2RoleDelivery: string | null;
  tls: { version: string | null; cipherSuite: string | null; clientProvidedHostHeader: string | null } | null;
  resources: ResourceRef[];
  caller: CallerInfo;
  sourceIp: SourceIpInfo | null;
  /**
   * The IoT Events resources the call names, read before its payloads were withheld (resource
   * names stay visible to keys without `payloads`); absent when nothing was withheld.
   */
  namedResources?: readonly IotEventsResourceName[];
}

const str = (v: Row[string] | undefined): string | null => (v === null || v === undefined ? null : String(v));

function bool(v: Row[string] | undefined): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : null;
}

function parseJson(v: Row[string] | undefined): Json {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as Json;
  } catch {
    return v;
  }
}

/**
 * Fields that carry what a caller sent or received, or quote it: withheld (null) from keys and
 * tokens without `payloads`. `errorMessage` is one: services quote request parameters in it
 * (names, ARNs, values).
 */
export const PAYLOAD_FIELDS = ['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails', 'edgeDeviceDetails', 'errorMessage'] as const;

/** Struct-as-JSON from either engine: an object (any key case) or a positional array, per `fields`. */
function structOf(v: Json, fields: readonly string[]): Record<string, Json> | null {
  if (v === null || typeof v !== 'object') return null;
  const out: Record<string, Json> = {};
  if (Array.isArray(v)) {
    fields.forEach((f, i) => (out[f] = v[i] ?? null));
  } else {
    const lower = new Map(Object.entries(v).map(([k, x]) => [k.toLowerCase(), x]));
    for (const f of fields) out[f] = lower.get(f.toLowerCase()) ?? null;
  }
  return Object.values(out).every((x) => x === null) ? null : out;
}

function resourcesOf(v: Json): ResourceRef[] {
  if (!Array.isArray(v)) return [];
  return v
    .map((item) => structOf(item, ['arn', 'accountId', 'type']))
    .filter((r): r is Record<string, Json> => r !== null)
    .map((r) => ({ arn: r.arn === null ? null : String(r.arn), accountId: r.accountId === null ? null : String(r.accountId), type: r.type === null ? null : String(r.type) }));
}

function dateOf(v: string | null): Date | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function callerFromRow(row: Row): CallerInfo {
  const id: IdentityColumns = {
    identity_type: str(row.identity_type),
    principal_id: str(row.principal_id),
    caller_arn: str(row.caller_arn),
    identity_account_id: str(row.identity_account_id),
    invoked_by: str(row.invoked_by),
    access_key_id: str(row.access_key_id),
    user_name: str(row.user_name),
    mfa_authenticated: str(row.mfa_authenticated),
    session_created: str(row.session_created),
    issuer_type: str(row.issuer_type),
    issuer_principal_id: str(row.issuer_principal_id),
    issuer_arn: str(row.issuer_arn),
    issuer_account_id: str(row.issuer_account_id),
    issuer_user_name: str(row.issuer_user_name),
    identity_center_user: str(row.identity_center_user),
    on_behalf_of: str(row.on_behalf_of),
    web_id_federation: str(row.web_id_federation),
  };
  const issuer: SessionIssuer | null =
    id.issuer_type || id.issuer_arn
      ? { type: id.issuer_type, principalId: id.issuer_principal_id, arn: id.issuer_arn, accountId: id.issuer_account_id, userName: id.issuer_user_name }
      : null;
  const hasSession = issuer !== null || id.session_created !== null;
  return {
    key: callerKeyOf(id),
    arn: id.caller_arn,
    principal: principalOf(id),
    identityType: classifyIdentityType(id.identity_type),
    rawType: id.identity_type,
    category: classifyCategory(id.identity_type, id.invoked_by),
    temporaryCredentials: usesTemporaryCredentials(id.identity_type, id.access_key_id, hasSession),
    mfaAuthenticated: bool(id.mfa_authenticated),
    invokedBy: id.invoked_by,
    accountId: id.identity_account_id,
    userName: id.user_name ?? id.issuer_user_name,
    principalId: id.principal_id,
    accessKeyId: id.access_key_id,
    sessionIssuer: issuer,
    sessionCreated: dateOf(id.session_created),
  };
}

export function apiCallFromRow(row: Row): ApiCallRecord {
  const ip = str(row.source_ip_address);
  const tlsVersion = str(row.tls_version);
  const tlsSuite = str(row.tls_cipher_suite);
  const tlsHost = str(row.tls_client_host_header);
  return {
    eventId: str(row.event_id) ?? '',
    eventTime: dateOf(str(row.event_time)) ?? new Date(0),
    eventTimeRaw: str(row.event_time_raw),
    eventVersion: str(row.event_version),
    action: str(row.event_name),
    eventSource: str(row.event_source),
    region: str(row.aws_region),
    account: str(row.recipient_account_id),
    sourceIpAddress: ip,
    userAgent: str(row.user_agent),
    errorCode: str(row.error_code),
    errorMessage: str(row.error_message),
    readOnly: bool(row.read_only),
    eventType: str(row.event_type),
    eventCategory: str(row.event_category),
    managementEvent: bool(row.management_event),
    requestId: str(row.request_id),
    apiVersion: str(row.api_version),
    sharedEventId: str(row.shared_event_id),
    vpcEndpointId: str(row.vpc_endpoint_id),
    vpcEndpointAccountId: str(row.vpc_endpoint_account_id),
    sessionCredentialFromConsole: bool(row.session_credential_from_console),
    requestParameters: parseJson(row.request_parameters),
    responseElements: parseJson(row.response_elements),
    additionalEventData: parseJson(row.additional_event_data),
    serviceEventDetails: parseJson(row.service_event_details),
    edgeDeviceDetails: parseJson(row.edge_device_details),
    addendum: structOf(parseJson(row.addendum), ['reason', 'updatedFields', 'originalRequestID', 'originalEventID']),
    onBehalfOf: structOf(parseJson(row.on_behalf_of), ['userId', 'identityStoreArn']),
    webIdFederationData: structOf(parseJson(row.web_id_federation), ['federatedProvider', 'attributes']),
    ec2RoleDelivery: str(row.ec2_role_delivery),
    tls: tlsVersion || tlsSuite || tlsHost ? { version: tlsVersion, cipherSuite: tlsSuite, clientProvidedHostHeader: tlsHost } : null,
    resources: resourcesOf(parseJson(row.resources)),
    caller: callerFromRow(row),
    sourceIp: ip === null ? null : sourceIpOf(ip),
  };
}

/**
 * A source address whose `kind` is classified the first time it is read, at most once: a page
 * whose selection does not ask for it classifies nothing. `extra` fields (e.g. the window) are
 * copied onto it; spreading the result reads `kind`, so add fields through `extra` instead.
 */
export function sourceIpOf<E extends object = object>(address: string, extra?: E): SourceIpInfo & E {
  let kind: SourceIpKind | undefined;
  const info = { address, ...extra } as SourceIpInfo & E;
  Object.defineProperty(info, 'kind', { enumerable: true, get: () => (kind ??= classifySourceIp(address)) });
  return info;
}
