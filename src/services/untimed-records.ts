/**
 * The listing of records whose eventTime cannot be read (`untimedRecords`): the key each record is
 * known by, the listing order, and the rest of its fields.
 */
import { FIELDS } from '../query/fields';
import { AggregateQuery, OrderItem, Projection, col } from '../query/plan';

/**
 * A record whose eventTime cannot be read is known by its delivery file and its deduplication key
 * (eventId, account, region); the listing is ordered by those, each ascending.
 */
export const UNTIMED_KEY: readonly Projection[] = [
  { alias: 'source_file', e: { k: 'sourceFile' } },
  { alias: 'event_id', e: FIELDS.eventId },
  { alias: 'recipient_account_id', e: FIELDS.account },
  { alias: 'aws_region', e: FIELDS.region },
];
export const UNTIMED_ORDER: readonly OrderItem[] = UNTIMED_KEY.map((k) => ({ alias: k.alias, dir: 'asc' }));
/** The rest of an untimed record's fields: one record per group, so `min` is its value. */
export const UNTIMED_FIELDS: AggregateQuery['measures'] = (
  [
    ['event_time_raw', FIELDS.eventTimeRaw],
    ['event_version', col('eventversion')],
    ['event_source', FIELDS.eventSource],
    ['event_name', FIELDS.eventName],
    ['event_type', FIELDS.eventType],
    ['request_id', col('requestid')],
    ['error_code', FIELDS.errorCode],
    ['caller_key', FIELDS.callerKey],
    ['source_ip_address', FIELDS.sourceIp],
  ] as const
).map(([alias, e]) => ({ alias, m: { k: 'min', e } }));
