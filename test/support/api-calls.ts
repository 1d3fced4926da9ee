/**
 * apiCalls over HTTP for tests: a query selecting every field of an ApiCall, a pager that follows
 * endCursor to the end, and the values a record's fields must come back with, derived from the
 * raw CloudTrail JSON without any of the service's code.
 */
import { RawRecord } from './records';
import { GqlResponse, TestServer } from './server';

/** Every field of ApiCall (and of its nested types). */
export const API_CALL_FIELDS = `
  eventId eventTime eventVersion action eventSource region account sourceIpAddress userAgent
  errorCode errorMessage readOnly eventType eventCategory managementEvent requestId apiVersion
  sharedEventId vpcEndpointId vpcEndpointAccountId sessionCredentialFromConsole
  requestParameters responseElements additionalEventData serviceEventDetails edgeDeviceDetails addendum
  onBehalfOf webIdFederationData ec2RoleDelivery success
  sourceIp { address kind }
  tls { version cipherSuite clientProvidedHostHeader }
  resources { arn accountId type }
  caller {
    key arn principal identityType rawType category temporaryCredentials mfaAuthenticated invokedBy
    accountId userName principalId accessKeyId sessionCreated
    sessionIssuer { type principalId arn accountId userName }
  }`;

export const API_CALLS_PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String, $withTotal: Boolean = false) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    window { from to }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ${API_CALL_FIELDS} } }
  }
}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiCallNode = Record<string, any>;

export interface AllPages {
  nodes: ApiCallNode[];
  /** totalCount asked on the first page. */
  total: number;
  pages: number;
}

/**
 * Follows endCursor: asks for the page after `after` (null for the first) until a page says it
 * has no next one, or `maxPages` pages were asked for; the connections, in order.
 */
export async function followPages<C extends { pageInfo: { hasNextPage: boolean; endCursor: string | null } }>(
  ask: (after: string | null) => Promise<C>,
  maxPages = Infinity,
): Promise<C[]> {
  const pages: C[] = [];
  let after: string | null = null;
  while (pages.length < maxPages) {
    const conn: C = await ask(after);
    pages.push(conn);
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return pages;
}

/** Every page of apiCalls for a filter (selected by `query`), following endCursor; fails the test on any error. */
export async function fetchAllPages(server: TestServer, filter: Record<string, unknown>, first = 500, query = API_CALLS_PAGE): Promise<AllPages> {
  const pages = await followPages(async (after) => {
    const res: GqlResponse = await server.gql(query, { filter, first, after, withTotal: after === null });
    expect(res.errors).toBeUndefined();
    return res.data.apiCalls;
  });
  return { nodes: pages.flatMap((conn) => conn.edges.map((e: { node: ApiCallNode }) => e.node)), total: pages[0].totalCount, pages: pages.length };
}

/** CloudTrail `userIdentity.type` to the GraphQL IdentityType (anything else is UNKNOWN). */
const IDENTITY_TYPES: Record<string, string> = {
  Root: 'ROOT',
  IAMUser: 'IAM_USER',
  AssumedRole: 'ASSUMED_ROLE',
  Role: 'ROLE',
  FederatedUser: 'FEDERATED_USER',
  AWSService: 'AWS_SERVICE',
  AWSAccount: 'AWS_ACCOUNT',
  IdentityCenterUser: 'IDENTITY_CENTER_USER',
  Directory: 'DIRECTORY',
  SAMLUser: 'SAML_USER',
  WebIdentityUser: 'WEB_IDENTITY_USER',
};

function categoryOf(type: string | undefined, invokedBy: string | undefined): string {
  if (type === 'Root' || type === 'IAMUser') return 'ROOT_OR_IAM_USER';
  if (type && ['AssumedRole', 'Role', 'FederatedUser', 'WebIdentityUser', 'SAMLUser'].includes(type)) return 'ROLE_OR_FEDERATED_SESSION';
  if (type === 'AWSService' || (!type && invokedBy)) return 'AWS_SERVICE';
  return 'OTHER';
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** JSON `true`/`false` or their text, as a boolean; anything else null. */
function boolOf(v: unknown): boolean | null {
  if (v === true || v === false) return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return null;
}

/** What the service must return for a record: its values as written, nothing invented. */
export function expectedApiCall(r: RawRecord): ApiCallNode {
  const u = r.userIdentity ?? {};
  const attrs = u.sessionContext?.attributes ?? {};
  const issuer = u.sessionContext?.sessionIssuer;
  const hasIssuer = issuer && (issuer.type || issuer.arn);
  return {
    eventId: r.eventID,
    eventTime: new Date(r.eventTime).toISOString(),
    eventVersion: orNull(r.eventVersion),
    action: r.eventName,
    eventSource: r.eventSource,
    region: orNull(r.awsRegion),
    account: orNull(r.recipientAccountId),
    sourceIpAddress: orNull(r.sourceIPAddress),
    userAgent: orNull(r.userAgent),
    errorCode: orNull(r.errorCode),
    errorMessage: orNull(r.errorMessage),
    success: r.errorCode === undefined || r.errorCode === null,
    readOnly: boolOf(r.readOnly),
    eventType: orNull(r.eventType),
    eventCategory: orNull(r.eventCategory),
    managementEvent: boolOf(r.managementEvent),
    requestId: orNull(r.requestID),
    apiVersion: orNull(r.apiVersion),
    sharedEventId: orNull(r.sharedEventID),
    vpcEndpointId: orNull(r.vpcEndpointId),
    vpcEndpointAccountId: orNull(r.vpcEndpointAccountId),
    sessionCredentialFromConsole: boolOf(r.sessionCredentialFromConsole),
    requestParameters: orNull(r.requestParameters),
    responseElements: orNull(r.responseElements),
    additionalEventData: orNull(r.additionalEventData),
    serviceEventDetails: orNull(r.serviceEventDetails),
    edgeDeviceDetails: orNull(r.edgeDeviceDetails),
    ec2RoleDelivery: orNull(u.sessionContext?.ec2RoleDelivery),
    tls: r.tlsDetails
      ? { version: orNull(r.tlsDetails.tlsVersion), cipherSuite: orNull(r.tlsDetails.cipherSuite), clientProvidedHostHeader: orNull(r.tlsDetails.clientProvidedHostHeader) }
      : null,
    resources: (r.resources ?? []).map((x: RawRecord) => ({ arn: orNull(x.ARN), accountId: orNull(x.accountId), type: orNull(x.type) })),
    sourceIp: r.sourceIPAddress === undefined ? null : expect.objectContaining({ address: r.sourceIPAddress }),
    caller: {
      arn: orNull(u.arn),
      rawType: orNull(u.type),
      identityType: IDENTITY_TYPES[u.type] ?? 'UNKNOWN',
      category: categoryOf(u.type, u.invokedBy),
      invokedBy: orNull(u.invokedBy),
      accountId: orNull(u.accountId),
      principalId: orNull(u.principalId),
      accessKeyId: orNull(u.accessKeyId),
      userName: u.userName ?? issuer?.userName ?? null,
      mfaAuthenticated: boolOf(attrs.mfaAuthenticated),
      sessionCreated: attrs.creationDate ? new Date(attrs.creationDate).toISOString() : null,
      sessionIssuer: hasIssuer
        ? { type: orNull(issuer.type), principalId: orNull(issuer.principalId), arn: orNull(issuer.arn), accountId: orNull(issuer.accountId), userName: orNull(issuer.userName) }
        : null,
    },
  };
}

/**
 * The node carries every value of the record, deep-equal (fields the record lacks are null).
 * Fields the service derives (caller key, principal, ...) are left to other tests.
 */
export function expectSameAsRecord(node: ApiCallNode, record: RawRecord): void {
  const expected = expectedApiCall(record);
  const got: ApiCallNode = Object.fromEntries(Object.keys(expected).map((k) => [k, node[k]]));
  got.caller = Object.fromEntries(Object.keys(expected.caller).map((k) => [k, node.caller?.[k]]));
  expect(got).toEqual(expected);
}
