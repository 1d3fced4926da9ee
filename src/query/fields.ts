/**
 * The allowlist of everything a query may name: columns of the CloudTrail table (Athena's column
 * model) and expressions derived from them. Builders refer to these by name; nothing else ever
 * becomes an identifier in SQL.
 */
import { CATEGORY_RAW_TYPES, CallerCategory, RAW_IDENTITY_TYPES } from '../domain/identity';
import { Cond, Expr, Projection, col, constant } from './plan';

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

/** The key a caller is known by: mirrors domain/identity.ts `callerKeyOf`. */
const callerKeyExpr: Expr = {
  k: 'coalesce',
  items: [
    ui('arn'),
    ui('invokedby'),
    ui('principalid'),
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
          { k: 'inConst', e: ui('type'), values: CATEGORY_RAW_TYPES[CallerCategory.ROLE_OR_FEDERATED_SESSION] },
          { k: 'notNull', e: issuer('arn') },
        ],
      },
      issuer('arn'),
    ],
  ],
  otherwise: callerKeyExpr,
};

const requestParam = (path: string): Expr => ({ k: 'jsonText', of: col('requestparameters'), path });

/** Named expressions filters and groupings may use. */
export const FIELDS = {
  eventTime: col('eventtime'),
  eventId: col('eventid'),
  eventName: col('eventname'),
  eventSource: col('eventsource'),
  region: col('awsregion'),
  account: col('recipientaccountid'),
  sourceIp: col('sourceipaddress'),
  userAgent: col('useragent'),
  errorCode: col('errorcode'),
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
  p('event_id', col('eventid')),
  p('event_time', col('eventtime')),
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
  p('on_behalf_of', { k: 'toJson', of: ui('onbehalfof') }),
  p('web_id_federation', { k: 'toJson', of: ui('sessioncontext', 'webidfederationdata') }),
  p('ec2_role_delivery', ui('sessioncontext', 'ec2roledelivery')),
  p('resources', { k: 'toJson', of: col('resources') }),
  p('addendum', { k: 'toJson', of: col('addendum') }),
];

