/**
 * What a download holds: the GraphQL selection every exported call is read with (so NDJSON lines
 * are ApiCall objects in the GraphQL shape), and the CSV columns flattened from it.
 */

/**
 * One page of calls, read through the same schema, resolvers and service as `apiCalls`; the first
 * page also counts the window's calls (which reads every file of the window, so a file that
 * cannot be read is known before anything is sent).
 */
export const EXPORT_PAGE_QUERY = /* GraphQL */ `
  query ExportApiCalls($filter: ApiCallFilter, $first: Int, $after: String, $withTotal: Boolean!) {
    apiCalls(filter: $filter, first: $first, after: $after) {
      totalCount @include(if: $withTotal)
      window { from to }
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          eventId eventTime eventVersion action eventSource region account success
          errorCode errorMessage readOnly eventType eventCategory managementEvent
          requestId apiVersion sharedEventId vpcEndpointId vpcEndpointAccountId sessionCredentialFromConsole
          sourceIpAddress sourceIp { address kind }
          userAgent
          caller {
            key arn principal identityType rawType category temporaryCredentials mfaAuthenticated invokedBy
            accountId userName principalId accessKeyId sessionCreated
            sessionIssuer { type principalId arn accountId userName }
          }
          resources { arn accountId type }
          iotEventsResources { kind name }
          tls { version cipherSuite clientProvidedHostHeader }
          requestParameters responseElements additionalEventData serviceEventDetails
          edgeDeviceDetails addendum onBehalfOf webIdFederationData ec2RoleDelivery
        }
      }
    }
  }
`;

/** An ApiCall as the export query returns it. */
export type ExportedCall = Record<string, unknown> & {
  caller?: Record<string, unknown> & { sessionIssuer?: Record<string, unknown> | null };
  sourceIp?: { kind?: string } | null;
  resources?: { arn?: string | null }[];
  iotEventsResources?: { kind: string; name: string }[];
};

type Cell = string | number | boolean | null;

/**
 * The CSV columns, in order: the header and how each cell is read from an exported call. Nested
 * identity is flattened to `caller*` columns; lists are joined with a space; JSON payloads are
 * their JSON text. An empty cell is a null value.
 */
export const CSV_COLUMNS: readonly { readonly header: string; readonly cell: (c: ExportedCall) => Cell }[] = [
  { header: 'eventTime', cell: (c) => c.eventTime as Cell },
  { header: 'eventId', cell: (c) => c.eventId as Cell },
  { header: 'action', cell: (c) => c.action as Cell },
  { header: 'eventSource', cell: (c) => c.eventSource as Cell },
  { header: 'region', cell: (c) => c.region as Cell },
  { header: 'account', cell: (c) => c.account as Cell },
  { header: 'success', cell: (c) => c.success as Cell },
  { header: 'errorCode', cell: (c) => c.errorCode as Cell },
  { header: 'errorMessage', cell: (c) => c.errorMessage as Cell },
  { header: 'readOnly', cell: (c) => c.readOnly as Cell },
  { header: 'eventType', cell: (c) => c.eventType as Cell },
  { header: 'sourceIpAddress', cell: (c) => c.sourceIpAddress as Cell },
  { header: 'sourceIpKind', cell: (c) => c.sourceIp?.kind ?? null },
  { header: 'userAgent', cell: (c) => c.userAgent as Cell },
  { header: 'callerArn', cell: (c) => c.caller?.arn as Cell },
  { header: 'callerPrincipal', cell: (c) => c.caller?.principal as Cell },
  { header: 'callerIdentityType', cell: (c) => c.caller?.identityType as Cell },
  { header: 'callerCategory', cell: (c) => c.caller?.category as Cell },
  { header: 'callerUserName', cell: (c) => c.caller?.userName as Cell },
  { header: 'callerAccountId', cell: (c) => c.caller?.accountId as Cell },
  { header: 'callerAccessKeyId', cell: (c) => c.caller?.accessKeyId as Cell },
  { header: 'callerTemporaryCredentials', cell: (c) => c.caller?.temporaryCredentials as Cell },
  { header: 'callerMfaAuthenticated', cell: (c) => c.caller?.mfaAuthenticated as Cell },
  { header: 'callerInvokedBy', cell: (c) => c.caller?.invokedBy as Cell },
  { header: 'callerSessionIssuerArn', cell: (c) => (c.caller?.sessionIssuer?.arn ?? null) as Cell },
  { header: 'iotEventsResources', cell: (c) => joined((c.iotEventsResources ?? []).map((r) => `${r.kind}/${r.name}`)) },
  { header: 'resourceArns', cell: (c) => joined((c.resources ?? []).map((r) => r.arn).filter((a): a is string => typeof a === 'string')) },
  { header: 'requestId', cell: (c) => c.requestId as Cell },
  { header: 'requestParameters', cell: (c) => jsonText(c.requestParameters) },
  { header: 'responseElements', cell: (c) => jsonText(c.responseElements) },
];

function joined(values: string[]): string | null {
  return values.length ? values.join(' ') : null;
}

function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * Text a spreadsheet may read as a formula: `=`, `+`, `-`, `@` or `|` first, or after blanks it
 * may skip (spaces, next-line, no-break and zero-width spaces), or a tab, carriage return or line
 * feed first.
 */
export const FORMULA_START = /^[\t\r\n]|^[\s\u0085\u00a0\u200b-\u200d\u2060\ufeff]*[=+\-@|]/;

/** A cell that may be read as a formula gets a leading `'`, which spreadsheets show as text; every other value is kept. */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * The CSV cells of one call: null as null (written as an empty cell; an empty text is written
 * quoted, `""`, so the two stay apart), booleans as true/false, a time as the ISO text GraphQL and
 * NDJSON give (execution leaves the DateTime scalar's value a Date, whose own text depends on the
 * process's time zone), strings neutralised.
 */
export function csvRow(call: ExportedCall): (string | null)[] {
  return CSV_COLUMNS.map(({ cell }) => {
    const v: unknown = cell(call);
    if (v === null || v === undefined) return null;
    if (v instanceof Date) return v.toISOString();
    return typeof v === 'string' ? neutraliseFormula(v) : String(v);
  });
}

/**
 * One NDJSON line: the call's JSON with U+2028, U+2029 and U+0085 escaped (JSON allows them raw,
 * but readers that split on every line break, Python's `splitlines` among them, would cut a
 * record in two), then a line feed.
 */
export function ndjsonLine(call: unknown): string {
  return `${JSON.stringify(call).replace(/[\u2028\u2029\u0085]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
