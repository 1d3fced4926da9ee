import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ApiCall, Caller, SourceIp } from '../api-call/api-call.type';
import { TimeWindow, connectionOf } from '../common/page-info.type';
import { Node } from '../common/node.type';

export enum CallerOrder {
  CALLS_DESC = 'CALLS_DESC',
  ERRORS_DESC = 'ERRORS_DESC',
  LAST_SEEN_DESC = 'LAST_SEEN_DESC',
  KEY_ASC = 'KEY_ASC',
}
registerEnumType(CallerOrder, {
  name: 'GroupOrder',
  description: 'Order of grouped answers; ties are broken by key, ascending.',
  valuesConfig: {
    CALLS_DESC: { description: 'Most calls first.' },
    ERRORS_DESC: { description: 'Most failed calls first.' },
    LAST_SEEN_DESC: { description: 'Most recently seen first.' },
    KEY_ASC: { description: 'By key (ARN, address), ascending; the group without a key last.' },
  },
});

export enum CallerGrouping {
  ARN = 'ARN',
  PRINCIPAL = 'PRINCIPAL',
}
registerEnumType(CallerGrouping, {
  name: 'CallerGrouping',
  description: 'What one caller entry stands for.',
  valuesConfig: {
    ARN: { description: 'One caller per userIdentity ARN (each role session separately).' },
    PRINCIPAL: { description: 'One caller per principal (all sessions of a role together).' },
  },
});

export enum ActivityInterval {
  HOUR = 'hour',
  DAY = 'day',
  WEEK = 'week',
}
registerEnumType(ActivityInterval, {
  name: 'ActivityInterval',
  description: 'UTC buckets; weeks start on Monday.',
  valuesConfig: {
    HOUR: { description: 'One bucket per UTC hour.' },
    DAY: { description: 'One bucket per UTC day.' },
    WEEK: { description: 'One bucket per ISO week (Monday 00:00 UTC).' },
  },
});

export enum ActivityGroupBy {
  ACTION = 'ACTION',
  EVENT_SOURCE = 'EVENT_SOURCE',
  CALLER = 'CALLER',
  PRINCIPAL = 'PRINCIPAL',
  SOURCE_IP = 'SOURCE_IP',
  REGION = 'REGION',
  ACCOUNT = 'ACCOUNT',
  ERROR_CODE = 'ERROR_CODE',
  IDENTITY_TYPE = 'IDENTITY_TYPE',
  CATEGORY = 'CATEGORY',
  ASN = 'ASN',
  COUNTRY = 'COUNTRY',
}
registerEnumType(ActivityGroupBy, {
  name: 'ActivityGroupBy',
  description: 'The key an activity series is split by; `ActivityBucket.key` holds its value.',
  valuesConfig: {
    ACTION: { description: 'The API action (eventName).' },
    EVENT_SOURCE: { description: 'The event source.' },
    CALLER: { description: 'The caller key (see `Caller.key`).' },
    PRINCIPAL: { description: 'The principal (see `Caller.principal`).' },
    SOURCE_IP: { description: 'sourceIPAddress as written.' },
    REGION: { description: 'awsRegion.' },
    ACCOUNT: { description: 'recipientAccountId.' },
    ERROR_CODE: { description: 'errorCode (null for successful calls).' },
    IDENTITY_TYPE: { description: 'userIdentity.type as written (Unknown when absent or not recognised).' },
    CATEGORY: { description: 'The caller category (see `CallerCategory`).' },
    ASN: { description: 'AS number of the source address (see `SourceIp.asn`), as text; null for addresses the database does not place. Keys in numeric order.' },
    COUNTRY: { description: 'Country of the source address (see `SourceIp.country`); null when unknown.' },
  },
});

@ObjectType({ description: 'Calls, errors and first/last seen of one breakdown entry.' })
abstract class UsageFields {
  @Field(() => Int, { description: 'Calls (one per eventId).' })
  calls!: number;
  @Field(() => Int, { description: 'Calls that failed (with an errorCode).' })
  errors!: number;
  @Field(() => Date, { nullable: true, description: 'Time of the oldest of these calls.' })
  firstSeen!: Date | null;
  @Field(() => Date, { nullable: true, description: 'Time of the newest of these calls.' })
  lastSeen!: Date | null;
}

@ObjectType({ description: 'Counts over deduplicated calls (one per eventId).' })
export class CallerStats extends UsageFields {
  @Field(() => Int, { description: 'Different actions among the calls, an action name of both IoT Events sources counting once per source (as `actions` lists them).' })
  distinctActions!: number;
  @Field(() => Int, { description: 'Different source addresses among the calls (none counts as none).' })
  distinctSourceIps!: number;
  @Field(() => [String], { description: 'Access key ids seen (up to 50).' })
  accessKeyIds!: string[];
}

@ObjectType({ description: 'Counts over deduplicated calls (one per eventId).' })
export class SourceIpStats extends UsageFields {
  @Field(() => Int, { description: 'Different actions among the calls, an action name of both IoT Events sources counting once per source (as `actions` lists them).' })
  distinctActions!: number;
  @Field(() => Int, { description: 'Different caller keys among the calls.' })
  distinctCallers!: number;
}

@ObjectType({ description: 'A source address a caller used, with the caller\'s calls from it.' })
export class CallerSourceIp extends UsageFields {
  @Field(() => SourceIp, { nullable: true, description: 'Null for calls whose record names no source address.' })
  sourceIp!: SourceIp | null;
}

@ObjectType({ description: 'An action a caller made, with the caller\'s calls of it.' })
export class CallerAction extends UsageFields {
  @Field(() => String, { nullable: true, description: 'The API action (eventName); null for records without one.' })
  action!: string | null;
  @Field(() => String, { nullable: true, description: 'The event source of the action.' })
  eventSource!: string | null;
}

@ObjectType({ description: 'A caller seen at a source address, with its calls from there.' })
export class SourceIpCaller extends UsageFields {
  @Field(() => Caller, { description: 'The caller.' })
  caller!: Caller;
}

export const CallerConnectionTypes = connectionOf(Caller, 'CallerConnection', {
  items: 'callers',
  order: 'in the order asked for, ties by key',
  count: 'Callers matching the filter in the whole window',
});
export const CallerConnection = CallerConnectionTypes.Connection;

export const SourceIpConnectionTypes = connectionOf(SourceIp, 'SourceIpConnection', {
  items: 'source addresses',
  order: 'in the order asked for, ties by address',
  count: 'Source addresses matching the filter in the whole window',
});
export const SourceIpConnection = SourceIpConnectionTypes.Connection;

export const CallerSourceIpConnectionTypes = connectionOf(CallerSourceIp, 'CallerSourceIpConnection', {
  items: 'addresses a caller used',
  order: 'most calls first, ties by address',
  count: 'Addresses this caller used in the window, under the field\'s filter',
});
export const CallerActionConnectionTypes = connectionOf(CallerAction, 'CallerActionConnection', {
  items: 'actions a caller made',
  order: 'in the order asked for (most calls first by default), ties by action',
  count: 'Actions this caller made in the window, under the field\'s filter',
});
export const SourceIpCallerConnectionTypes = connectionOf(SourceIpCaller, 'SourceIpCallerConnection', {
  items: 'callers seen at an address',
  order: 'most calls first, ties by caller key',
  count: 'Callers seen at this address in the window, under the field\'s filter',
});

/** The totalCount resolvers of the connections above. */
export const CONNECTION_RESOLVERS = [CallerConnectionTypes, SourceIpConnectionTypes, CallerSourceIpConnectionTypes, CallerActionConnectionTypes, SourceIpCallerConnectionTypes].map(
  (t) => t.CountResolver,
);

@ObjectType({ description: 'Failed calls with one errorCode.' })
export class ErrorCount {
  @Field({ description: 'The errorCode.' })
  code!: string;
  @Field(() => Int, { description: 'Calls that failed with it.' })
  calls!: number;
}

@ObjectType({ implements: Node, description: 'One API action (with its event source) in a window, under the filter it was asked with.' })
export class ActionSummary {
  @Field(() => String, { nullable: true, description: 'The API action (eventName); null for the calls whose record has none.' })
  action!: string | null;
  @Field(() => String, { nullable: true, description: 'The event source of the action; null for the calls whose record has none.' })
  eventSource!: string | null;
  @Field(() => Int, { description: 'Calls (one per eventId).' })
  calls!: number;
  @Field(() => Int, { description: 'Calls that failed (with an errorCode).' })
  errors!: number;
  @Field(() => Int, { description: 'Different caller keys among the calls.' })
  distinctCallers!: number;
  @Field(() => Int, { description: 'Different source addresses among the calls.' })
  distinctSourceIps!: number;
  @Field(() => Date, { nullable: true, description: 'Time of the oldest call.' })
  firstSeen!: Date | null;
  @Field(() => Date, { nullable: true, description: 'Time of the newest call.' })
  lastSeen!: Date | null;
}

@ObjectType({ description: 'Calls in one time bucket (and group, when grouped). Buckets without calls are absent.' })
export class ActivityBucket {
  @Field({ description: 'Start of the bucket (UTC).' })
  start!: Date;
  @Field(() => String, { nullable: true, description: 'The group value (null for calls without one, e.g. no error code).' })
  key!: string | null;
  @Field(() => Int, { description: 'Calls in the bucket (and group).' })
  calls!: number;
  @Field(() => Int, { description: 'Of those, calls that failed.' })
  errors!: number;
}

@ObjectType({ description: 'Calls over time in a window.' })
export class ActivitySeries {
  @Field(() => TimeWindow, { description: 'The window counted.' })
  window!: TimeWindow;
  @Field(() => [ActivityBucket], { description: 'Buckets with calls, by start then key.' })
  buckets!: ActivityBucket[];
}

@ObjectType({ description: 'An IoT Events resource named in request parameters or resource ARNs.' })
export class IotEventsResourceRef {
  @Field({ description: 'detectorModel, input or alarmModel.' })
  kind!: string;
  @Field({ description: 'The resource name.' })
  name!: string;
}

@ObjectType({ implements: Node, description: 'One IoT Events resource: a name of one kind in one account and region, as the `resource` query that found it saw it (its window and filter).' })
export class ResourceInstance {
  @Field({ description: 'detectorModel, input or alarmModel.' })
  kind!: string;
  @Field({ description: 'The detector model, input or alarm model name.' })
  name!: string;
  @Field(() => String, { nullable: true, description: 'The account the calls were made in (recipientAccountId).' })
  account!: string | null;
  @Field(() => String, { nullable: true, description: 'The region the calls were made in.' })
  region!: string | null;
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful create.' })
  created!: ApiCall | null;
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful update.' })
  lastUpdated!: ApiCall | null;
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful delete.' })
  deleted!: ApiCall | null;
  @Field(() => [ApiCall], { description: 'Changes to it that failed, newest first.' })
  failedAttempts!: ApiCall[];
}

@ObjectType({
  implements: Node,
  description: 'Who created, changed and deleted a detector model, input or alarm model, when and from where, in a window under a filter.',
})
export class ResourceHistory {
  @Field({ description: 'The name asked for.' })
  name!: string;
  @Field(() => TimeWindow, { description: 'The window read.' })
  window!: TimeWindow;
  @Field(() => [ApiCall], { description: 'Control-plane calls that changed it (writes; data-plane batch calls change its detectors and alarms, not it), newest first: all of them in the window (more than 10,000 is refused with QUERY_TOO_COMPLEX: narrow the window).' })
  changes!: ApiCall[];
  @Field(() => [ResourceInstance], { description: 'The resources of this name: one per kind, account and region.' })
  instances!: ResourceInstance[];
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful create, when the name is one resource (else see instances).' })
  created!: ApiCall | null;
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful update, when the name is one resource (else see instances).' })
  lastUpdated!: ApiCall | null;
  @Field(() => ApiCall, { nullable: true, description: 'Newest successful delete, when the name is one resource (else see instances).' })
  deleted!: ApiCall | null;
  @Field(() => [ApiCall], { description: 'Changes that failed (an errorCode), newest first: never a creation, update or deletion.' })
  failedAttempts!: ApiCall[];
}
