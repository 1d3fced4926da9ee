/**
 * The allowlist of everything a query may name: columns of the CloudTrail table (Athena's column
 * model) and expressions derived from them. Builders refer to these by name; nothing else ever
 * becomes an identifier in SQL.
 */
import { CATEGORY_RAW_TYPES, CallerCategory, IDENTITY_CENTER_KEY_PREFIX, ISSUER_PRINCIPAL_TYPES, RAW_IDENTITY_TYPES } from '../domain/identity';
import { Cond, DerivedName, Expr, Projection, col, constant } from './plan';

const ui = (...path: string[]) => col('useridentity', ...path);
const issuer = (name: string) => ui('sessioncontext', 'sessionissuer', name);

const knownRawTypes = Object.values(RAW_IDENTITY_TYPES);

/** Caller category as SQL: mirrors domain/identity.ts `classifyCategory`. */
const categoryExpr: Expr = {
  k: 'case',
  whens: [
    ...Object.entries(CATEGORY_RAW_TYPES).map(
      ([category, raw]) => [{ k: 'inConst', e: ui('type'), values: raw } as Cond, constant(category)] as const,
    ),
    [
      { k: 'allOf', items: [{ k: 'isNull', e: ui('type') }, { k: 'notNull', e: ui('invokedby') }] },
      constant(CallerCategory.AWS_SERVICE),
    ] as const,
  ],
  otherwise: constant(CallerCategory.OTHER),
};

/** Identity type as SQL: the raw CloudTrail spelling, `Unknown` when absent or unrecognised. */
const identityTypeExpr: Expr = {
  k: 'case',
  whens: [[{ k: 'inConst', e: ui('type'), values: knownRawTypes }, ui('type')]],
  otherwise: constant('Unknown'),
};

/**
 * An IAM Identity Center user (written with no ARN, principal id or invoking service): the
 * identity store and the user's id in it (`userIdentity.onBehalfOf`); NULL when either is missing.
 */
const identityCenterUserExpr: Expr = {
  k: 'concat',
  items: [constant(IDENTITY_CENTER_KEY_PREFIX), ui('onbehalfof', 'identitystorearn'), constant('/'), ui('onbehalfof', 'userid')],
};

/** The key a caller is known by: mirrors domain/identity.ts `callerKeyOf`. */
const callerKeyExpr: Expr = {
  k: 'coalesce',
  items: [
    ui('arn'),
    // A service's own call is the service; another caller's (another account's principal, with
    // the service that acted for it) is its principal id.
    { k: 'case', whens: [[{ k: 'eqConst', e: categoryExpr, value: CallerCategory.AWS_SERVICE }, ui('invokedby')]], otherwise: null },
    ui('principalid'),
    ui('invokedby'),
    identityCenterUserExpr,
    { k: 'concat', items: [constant('account:'), ui('accountid')] },
    constant('unknown'),
  ],
};

/** The principal behind a call: mirrors domain/identity.ts `principalOf`. */
const principalExpr: Expr = {
  k: 'case',
  whens: [
    [
      {
        k: 'allOf',
        items: [
          { k: 'inConst', e: ui('type'), values: ISSUER_PRINCIPAL_TYPES },
          { k: 'notNull', e: issuer('arn') },
        ],
      },
      issuer('arn'),
    ],
  ],
  otherwise: callerKeyExpr,
};

/** Prefix of the id given to a record without an eventID (eventVersion 1.0). */
export const SYNTHETIC_ID_PREFIX = 'synthetic-';

/**
 * What a synthetic id is a hash of: these fields of the record as CloudTrail wrote them (eventTime
 * in its original text), each NULL as '', joined by newlines. Only scalar fields: JSON payloads
 * are re-serialised differently by each engine. Two records without eventID alike in all of these
 * are taken for one call delivered twice.
 */
const SYNTHETIC_ID_FIELDS: readonly Expr[] = [
  col('eventversion'),
  col('eventtime'),
  col('eventsource'),
  col('eventname'),
  col('awsregion'),
  col('recipientaccountid'),
  col('sourceipaddress'),
  col('useragent'),
  ui('type'),
  ui('principalid'),
  ui('arn'),
  ui('accountid'),
  ui('accesskeyid'),
  ui('username'),
  ui('invokedby'),
  col('requestid'),
  col('errorcode'),
  col('errormessage'),
];

/** The record columns the derived values are computed from (CloudTrail's spelling). */
export const DERIVED_INPUTS: Record<DerivedName, readonly string[]> = {
  eventTime: ['eventTime'],
  eventTimeRaw: ['eventTime'],
  eventId: ['eventID', 'eventVersion', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'recipientAccountId', 'sourceIPAddress', 'userAgent', 'userIdentity', 'requestID', 'errorCode', 'errorMessage'],
};

/**
 * The eventTime texts read as a time, on every engine and by the Event history sync: a calendar
 * date, `T` or one space, a time of day with seconds (hours 00-23, fractions up to nanoseconds),
 * then `Z`, a numeric offset (`+02`, `+0200`, `+02:00`; hours 00-23, minutes 00-59) or nothing
 * (UTC). Anything else is no time.
 */
// Written without `?`: a statement's only question marks are its parameters.
export const EVENT_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[T ]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9}){0,1}(Z|[+-]([01]\\d|2[0-3])(:{0,1}[0-5]\\d){0,1}){0,1}$';

/**
 * How each derived value comes from the record's own columns, the same on every engine: eventTime
 * in canonical UTC (`yyyy-MM-ddTHH:mm:ssZ`, fractions dropped; NULL when it cannot be parsed), its
 * original text, and the eventID or, when there is none (or it is empty), `synthetic-` + SHA-256
 * (hex) of the fields above.
 */
const SYNTHETIC_ID: Expr = {
  k: 'concat',
  items: [
    constant(SYNTHETIC_ID_PREFIX),
    { k: 'sha256Hex', of: { k: 'concat', items: SYNTHETIC_ID_FIELDS.flatMap((e, i) => [...(i ? [constant('\n')] : []), { k: 'coalesce', items: [e, constant('')] } as Expr]) } },
  ],
};

export const DERIVED: Record<DerivedName, Expr> = {
  eventTime: { k: 'utcTime', of: col('eventtime') },
  eventTimeRaw: col('eventtime'),
  // An empty eventID is none: taken as it is, it would make every such record of an account and
  // region one call.
  eventId: { k: 'coalesce', items: [{ k: 'nullIfEmpty', of: col('eventid') }, SYNTHETIC_ID] },
};

const derived = (name: DerivedName): Expr => ({ k: 'derived', name });

const requestParam = (path: string): Expr => ({ k: 'jsonText', of: col('requestparameters'), path });

/** Named expressions filters and groupings may use. */
export const FIELDS = {
  eventTime: derived('eventTime'),
  eventTimeRaw: derived('eventTimeRaw'),
  eventId: derived('eventId'),
  eventType: col('eventtype'),
  eventName: col('eventname'),
  eventSource: col('eventsource'),
  region: col('awsregion'),
  account: col('recipientaccountid'),
  sourceIp: col('sourceipaddress'),
  userAgent: col('useragent'),
  errorCode: col('errorcode'),
  errorMessage: col('errormessage'),
  requestParameters: col('requestparameters'),
  responseElements: col('responseelements'),
  readOnly: { k: 'lower', of: col('readonly') } as Expr,
  rawIdentityType: ui('type'),
  identityType: identityTypeExpr,
  category: categoryExpr,
  callerArn: ui('arn'),
  callerKey: callerKeyExpr,
  principal: principalExpr,
  principalId: ui('principalid'),
  accessKeyId: ui('accesskeyid'),
  userName: { k: 'coalesce', items: [ui('username'), issuer('username')] } as Expr,
  invokedBy: ui('invokedby'),
  sessionIssuerArn: issuer('arn'),
  mfaAuthenticated: ui('sessioncontext', 'attributes', 'mfaauthenticated'),
  consoleSession: col('sessioncredentialfromconsole'),
  identityAccount: ui('accountid'),
  detectorModelName: requestParam('$.detectorModelName'),
  inputName: requestParam('$.inputName'),
  alarmModelName: requestParam('$.alarmModelName'),
  resourceArnParam: requestParam('$.resourceArn'),
} satisfies Record<string, Expr>;


const p = (alias: string, e: Expr): Projection => ({ alias, e });

/**
 * Every column of a record, flattened to scalars (JSON text for objects), as returned for
 * `ApiCall`. Aliases are the row keys the mapper reads.
 */
export const EVENT_COLUMNS: readonly Projection[] = [
  p('event_id', derived('eventId')),
  p('event_time', derived('eventTime')),
  p('event_time_raw', derived('eventTimeRaw')),
  p('event_version', col('eventversion')),
  p('event_source', col('eventsource')),
  p('event_name', col('eventname')),
  p('aws_region', col('awsregion')),
  p('source_ip_address', col('sourceipaddress')),
  p('user_agent', col('useragent')),
  p('error_code', col('errorcode')),
  p('error_message', col('errormessage')),
  p('request_parameters', col('requestparameters')),
  p('response_elements', col('responseelements')),
  p('additional_event_data', col('additionaleventdata')),
  p('request_id', col('requestid')),
  p('read_only', col('readonly')),
  p('event_type', col('eventtype')),
  p('api_version', col('apiversion')),
  p('management_event', col('managementevent')),
  p('recipient_account_id', col('recipientaccountid')),
  p('service_event_details', col('serviceeventdetails')),
  p('shared_event_id', col('sharedeventid')),
  p('vpc_endpoint_id', col('vpcendpointid')),
  p('vpc_endpoint_account_id', col('vpcendpointaccountid')),
  p('event_category', col('eventcategory')),
  p('session_credential_from_console', col('sessioncredentialfromconsole')),
  p('edge_device_details', col('edgedevicedetails')),
  p('tls_version', col('tlsdetails', 'tlsversion')),
  p('tls_cipher_suite', col('tlsdetails', 'ciphersuite')),
  p('tls_client_host_header', col('tlsdetails', 'clientprovidedhostheader')),
  p('identity_type', ui('type')),
  p('principal_id', ui('principalid')),
  p('caller_arn', ui('arn')),
  p('identity_account_id', ui('accountid')),
  p('invoked_by', ui('invokedby')),
  p('access_key_id', ui('accesskeyid')),
  p('user_name', ui('username')),
  p('mfa_authenticated', ui('sessioncontext', 'attributes', 'mfaauthenticated')),
  p('session_created', ui('sessioncontext', 'attributes', 'creationdate')),
  p('issuer_type', issuer('type')),
  p('issuer_principal_id', issuer('principalid')),
  p('issuer_arn', issuer('arn')),
  p('issuer_account_id', issuer('accountid')),
  p('issuer_user_name', issuer('username')),
  p('identity_center_user', identityCenterUserExpr),
  p('on_behalf_of', { k: 'toJson', of: ui('onbehalfof') }),
  p('web_id_federation', { k: 'toJson', of: ui('sessioncontext', 'webidfederationdata') }),
  p('ec2_role_delivery', ui('sessioncontext', 'ec2roledelivery')),
  p('resources', { k: 'toJson', of: col('resources') }),
  p('addendum', { k: 'toJson', of: col('addendum') }),
];

/**
 * What orders calls of one second and one eventID: their account and region. The same eventID may
 * be a call of each account and region (the dedup key, compiler.ts), and a keyset must tell them
 * apart or a walk would skip one. A value present is prefixed (`a`, `r`) and a missing one is
 * empty, so an empty account is not a missing one; the two are joined with `/`, which a record's
 * own text may hold (it is in no real account id or region, but a record says what it says): each
 * is written with its `/` and `\` escaped, so each pair gives its own text.
 */
const present = (prefix: string, e: Expr): Expr => ({ k: 'coalesce', items: [{ k: 'concat', items: [constant(prefix), e] }, constant('')] });
const escaped = (e: Expr): Expr => ({ k: 'escapeSlash', of: e });
export const CALL_TIE: Projection = p('call_tie', { k: 'concat', items: [present('a', escaped(FIELDS.account)), constant('/'), present('r', escaped(FIELDS.region))] });

/**
 * An action with its event source, one text to group by (an action name may be an API of both
 * IoT Events sources, and their calls are two actions): `n<eventName>/s<eventSource>`, a missing
 * part empty, so that the action orders first, each part with its `/` and `\` escaped (a record
 * may hold them there): two actions never give one text. `actionOfKey` reads it back.
 */
export const ACTION_KEY: Expr = { k: 'concat', items: [present('n', escaped(FIELDS.eventName)), constant('/'), present('s', escaped(FIELDS.eventSource))] };

/** The action and event source of an `ACTION_KEY` value (null parts for missing ones). */
export function actionOfKey(key: string): { action: string | null; eventSource: string | null } {
  // The first `/` not escaped ends the action.
  let slash = 0;
  while (slash < key.length && key[slash] !== '/') slash += key[slash] === '\\' ? 2 : 1;
  const part = (text: string) => (text === '' ? null : text.slice(1).replace(/\\(.)/gs, '$1'));
  return { action: part(key.slice(0, slash)), eventSource: part(key.slice(slash + 1)) };
}

/** The event columns with these aliases, in EVENT_COLUMNS order; every column when none are given. */
export function eventColumns(aliases?: readonly string[]): readonly Projection[] {
  return aliases ? EVENT_COLUMNS.filter((c) => aliases.includes(c.alias)) : EVENT_COLUMNS;
}

