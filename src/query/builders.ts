/**
 * Plan fragments shared by the service's queries: grouping keys, the measures of each summary,
 * and the identity columns a grouped caller row carries.
 */
import { ACTION_KEY, CALL_TIE, EVENT_COLUMNS, FIELDS } from './fields';
import { Expr, Measure, OrderItem, Projection } from './plan';

/**
 * Calls newest first, ties broken by event id, then account and region (`CALL_TIE`): the order of
 * every page of calls, total over the calls counted (keyset paging relies on it).
 */
export const NEWEST_FIRST: readonly OrderItem[] = [
  { alias: 'event_time', dir: 'desc' },
  { alias: 'event_id', dir: 'desc' },
  { alias: CALL_TIE.alias, dir: 'desc' },
];

/** The same order, oldest first. */
export const OLDEST_FIRST: readonly OrderItem[] = [
  { alias: 'event_time', dir: 'asc' },
  { alias: 'event_id', dir: 'asc' },
  { alias: CALL_TIE.alias, dir: 'asc' },
];

/**
 * The column a page's statement returns its connection's totalCount in (`withTotal`), computed
 * over the whole matching set before the page is cut.
 */
export const TOTAL = 'trailql_total';

/** The totalCount a page's rows carry (no rows: nothing matched). */
export const totalOf = (rows: readonly Record<string, unknown>[]): number => Number(rows[0]?.[TOTAL] ?? 0);

/** What activity and summaries may be grouped by: a fixed list, each an allowlisted expression. */
export const GROUP_KEYS = {
  ACTION: FIELDS.eventName,
  EVENT_SOURCE: FIELDS.eventSource,
  CALLER: FIELDS.callerKey,
  PRINCIPAL: FIELDS.principal,
  SOURCE_IP: FIELDS.sourceIp,
  REGION: FIELDS.region,
  ACCOUNT: FIELDS.account,
  ERROR_CODE: FIELDS.errorCode,
  IDENTITY_TYPE: FIELDS.identityType,
  CATEGORY: FIELDS.category,
} satisfies Record<string, Expr>;

export type GroupKey = keyof typeof GROUP_KEYS;

type NamedMeasure = { alias: string; m: Measure };

const timeSpan: NamedMeasure[] = [
  { alias: 'calls', m: { k: 'count' } },
  { alias: 'errors', m: { k: 'countErrors' } },
  { alias: 'first_seen', m: { k: 'min', e: FIELDS.eventTime } },
  { alias: 'last_seen', m: { k: 'max', e: FIELDS.eventTime } },
];

export const CALLER_STATS: readonly NamedMeasure[] = [
  ...timeSpan,
  { alias: 'distinct_actions', m: { k: 'countDistinct', e: ACTION_KEY } },
  { alias: 'distinct_source_ips', m: { k: 'countDistinct', e: FIELDS.sourceIp } },
  { alias: 'access_key_ids', m: { k: 'distinctValues', e: FIELDS.accessKeyId, limit: 50 } },
];

export const SOURCE_IP_STATS: readonly NamedMeasure[] = [
  ...timeSpan,
  { alias: 'distinct_actions', m: { k: 'countDistinct', e: ACTION_KEY } },
  { alias: 'distinct_callers', m: { k: 'countDistinct', e: FIELDS.callerKey } },
];

export const ACTION_STATS: readonly NamedMeasure[] = [
  ...timeSpan,
  { alias: 'distinct_callers', m: { k: 'countDistinct', e: FIELDS.callerKey } },
  { alias: 'distinct_source_ips', m: { k: 'countDistinct', e: FIELDS.sourceIp } },
];

export const COUNTS: readonly NamedMeasure[] = timeSpan.slice(0, 2);

const IDENTITY_ALIASES = [
  'identity_type',
  'principal_id',
  'caller_arn',
  'identity_account_id',
  'invoked_by',
  'access_key_id',
  'user_name',
  'mfa_authenticated',
  'session_created',
  'issuer_type',
  'issuer_principal_id',
  'issuer_arn',
  'issuer_account_id',
  'issuer_user_name',
  'identity_center_user',
];

/**
 * The identity columns of a caller, as measures of a grouped row, so a row of `callers` can be
 * read by the same mapper as a single call: every one from the same call, the caller's newest
 * whose record names an identity type (some service-made records name none, nor anything else of
 * the identity), or its newest when none does; a field that call lacks is null, never taken from
 * an older call.
 */
const IDENTITY_TYPE = EVENT_COLUMNS.find((c) => c.alias === 'identity_type')!.e;
export const CALLER_IDENTITY: readonly NamedMeasure[] = EVENT_COLUMNS.filter((c: Projection) => IDENTITY_ALIASES.includes(c.alias)).map((c) => ({
  alias: c.alias,
  m: { k: 'latest', e: c.e, among: IDENTITY_TYPE },
}));
