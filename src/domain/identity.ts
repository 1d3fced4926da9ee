/**
 * Who made a call, classified from CloudTrail's `userIdentity`. One table drives both the
 * classification of returned rows and the SQL the compilers emit for identity filters, so the
 * two can never disagree.
 */

export enum IdentityType {
  ROOT = 'ROOT',
  IAM_USER = 'IAM_USER',
  ASSUMED_ROLE = 'ASSUMED_ROLE',
  ROLE = 'ROLE',
  FEDERATED_USER = 'FEDERATED_USER',
  AWS_SERVICE = 'AWS_SERVICE',
  AWS_ACCOUNT = 'AWS_ACCOUNT',
  IDENTITY_CENTER_USER = 'IDENTITY_CENTER_USER',
  DIRECTORY = 'DIRECTORY',
  SAML_USER = 'SAML_USER',
  WEB_IDENTITY_USER = 'WEB_IDENTITY_USER',
  UNKNOWN = 'UNKNOWN',
}

/** CloudTrail's `userIdentity.type` spelling for each classified type (UNKNOWN has none of its own). */
export const RAW_IDENTITY_TYPES: Readonly<Record<Exclude<IdentityType, IdentityType.UNKNOWN>, string>> = {
  [IdentityType.ROOT]: 'Root',
  [IdentityType.IAM_USER]: 'IAMUser',
  [IdentityType.ASSUMED_ROLE]: 'AssumedRole',
  [IdentityType.ROLE]: 'Role',
  [IdentityType.FEDERATED_USER]: 'FederatedUser',
  [IdentityType.AWS_SERVICE]: 'AWSService',
  [IdentityType.AWS_ACCOUNT]: 'AWSAccount',
  [IdentityType.IDENTITY_CENTER_USER]: 'IdentityCenterUser',
  [IdentityType.DIRECTORY]: 'Directory',
  [IdentityType.SAML_USER]: 'SAMLUser',
  [IdentityType.WEB_IDENTITY_USER]: 'WebIdentityUser',
};

/**
 * The seed's three questions as one classification: long-term credentials of the root user or
 * an IAM user; temporary credentials of a role session or federated user; another AWS service.
 */
export enum CallerCategory {
  ROOT_OR_IAM_USER = 'ROOT_OR_IAM_USER',
  ROLE_OR_FEDERATED_SESSION = 'ROLE_OR_FEDERATED_SESSION',
  AWS_SERVICE = 'AWS_SERVICE',
  OTHER = 'OTHER',
}

/** Raw `userIdentity.type` values belonging to each category (AWS_SERVICE also takes type-less records with `invokedBy`). */
export const CATEGORY_RAW_TYPES: Readonly<Record<Exclude<CallerCategory, CallerCategory.OTHER>, readonly string[]>> = {
  [CallerCategory.ROOT_OR_IAM_USER]: ['Root', 'IAMUser'],
  [CallerCategory.ROLE_OR_FEDERATED_SESSION]: ['AssumedRole', 'Role', 'FederatedUser', 'WebIdentityUser', 'SAMLUser'],
  [CallerCategory.AWS_SERVICE]: ['AWSService'],
};

const BY_RAW = new Map<string, IdentityType>(
  Object.entries(RAW_IDENTITY_TYPES).map(([k, v]) => [v, k as IdentityType]),
);

export function classifyIdentityType(raw: string | null | undefined): IdentityType {
  return (raw && BY_RAW.get(raw)) || IdentityType.UNKNOWN;
}

/** The category of each raw type that has one. */
const CATEGORY_OF_RAW = new Map<string, CallerCategory>(
  Object.entries(CATEGORY_RAW_TYPES).flatMap(([category, types]) => types.map((t) => [t, category as CallerCategory] as const)),
);

/**
 * Tested for null only, as the SQL does (fields.ts categoryExpr): a type written as "" is a type
 * (of no category), and an `invokedBy` written as "" names a service as written.
 */
export function classifyCategory(raw: string | null | undefined, invokedBy: string | null | undefined): CallerCategory {
  if (raw !== null && raw !== undefined) return CATEGORY_OF_RAW.get(raw) ?? CallerCategory.OTHER;
  return invokedBy !== null && invokedBy !== undefined ? CallerCategory.AWS_SERVICE : CallerCategory.OTHER;
}

/** Whether a call was made by an AWS service itself (category AWS_SERVICE): its key is then the service. */
export function madeByService(raw: string | null | undefined, invokedBy: string | null | undefined): boolean {
  return classifyCategory(raw, invokedBy) === CallerCategory.AWS_SERVICE;
}

/** The flattened userIdentity columns every engine returns (see query/fields.ts). */
export interface IdentityColumns {
  identity_type: string | null;
  principal_id: string | null;
  caller_arn: string | null;
  identity_account_id: string | null;
  invoked_by: string | null;
  access_key_id: string | null;
  user_name: string | null;
  mfa_authenticated: string | null;
  session_created: string | null;
  issuer_type: string | null;
  issuer_principal_id: string | null;
  issuer_arn: string | null;
  issuer_account_id: string | null;
  issuer_user_name: string | null;
  /** An Identity Center user's key: `IDENTITY_CENTER_KEY_PREFIX`, its identity store's ARN, `/`, its user id. */
  identity_center_user: string | null;
  on_behalf_of: string | null;
  web_id_federation: string | null;
}

/**
 * Temporary credentials: an STS session (assumed role, federated user, web identity, SAML), or any
 * caller whose access key is an `ASIA` session key (an IAM user or root with a session token).
 */
export function usesTemporaryCredentials(raw: string | null, accessKeyId: string | null, hasSession: boolean): boolean {
  if (raw && CATEGORY_RAW_TYPES[CallerCategory.ROLE_OR_FEDERATED_SESSION].includes(raw)) return true;
  if (accessKeyId?.startsWith('ASIA')) return true;
  return hasSession && raw !== 'AWSService' && raw !== null && raw !== 'Root' && raw !== 'IAMUser';
}

/**
 * Sessions whose principal is their issuer: a role's (its policies are what the session may do).
 * Not a federated user's (GetFederationToken): it is a principal of its own, named by its
 * federated-user ARN, and its issuer (an IAM user or the root user) is another principal, whose
 * own calls must not be counted, nor shown, as the federated user's, nor the other way round.
 */
export const ISSUER_PRINCIPAL_TYPES: readonly string[] = CATEGORY_RAW_TYPES[CallerCategory.ROLE_OR_FEDERATED_SESSION].filter((t) => t !== 'FederatedUser');

/**
 * The principal behind a call: the role for a role session, the user for an IAM user or a
 * federated user, the account root, the service for AWS services. The caller graph groups on it.
 */
export function principalOf(row: IdentityColumns): string {
  const raw = row.identity_type;
  // Tested for null only, as the SQL does (fields.ts principalExpr): "" is a value as written.
  if (raw !== null && ISSUER_PRINCIPAL_TYPES.includes(raw) && row.issuer_arn !== null) return row.issuer_arn;
  return callerKeyOf(row);
}

/** What starts the key of an IAM Identity Center user (fields.ts `identityCenterUserExpr`). */
export const IDENTITY_CENTER_KEY_PREFIX = 'identity-center-user:';

/**
 * The key a caller is known by: its ARN; else, for a call an AWS service made itself, the
 * service; else its principal id (another account's principal, even when a service acted for it);
 * else the invoking service; else (an Identity Center user) its identity store and user id; else
 * its account.
 */
export function callerKeyOf(row: Pick<IdentityColumns, 'identity_type' | 'caller_arn' | 'invoked_by' | 'principal_id' | 'identity_center_user' | 'identity_account_id'>): string {
  // Tested for null only, as the SQL does (fields.ts callerKeyExpr): "" is a value as written.
  const service = madeByService(row.identity_type, row.invoked_by) ? row.invoked_by : null;
  return (
    row.caller_arn ??
    service ??
    row.principal_id ??
    row.invoked_by ??
    row.identity_center_user ??
    (row.identity_account_id !== null ? `account:${row.identity_account_id}` : 'unknown')
  );
}
