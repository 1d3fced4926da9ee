import { Field, ID, ObjectType } from 'type-graphql';
import { connectionOf } from '../common/page-info.type';

@ObjectType({
  description:
    'A record whose eventTime cannot be read as a date-time. No window holds it, so it is in no page, count or summary of calls; it is listed here, by the delivery file that holds it.',
})
export class UntimedRecord {
  @Field({ description: 'Key of the delivery file holding it, from `AWSLogs/` on. Of the copies of a record delivered more than once, the first file by key.' })
  file!: string;

  @Field(() => ID, { description: 'eventID, or the synthetic id of a record without one (as `ApiCall.eventId`).' })
  eventId!: string;

  @Field(() => String, { nullable: true, description: 'eventTime exactly as written; null when the record has none.' })
  eventTimeRaw!: string | null;

  @Field(() => String, { nullable: true, description: 'eventVersion.' })
  eventVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'eventSource.' })
  eventSource!: string | null;

  @Field(() => String, { nullable: true, description: 'eventName.' })
  action!: string | null;

  @Field(() => String, { nullable: true, description: 'eventType.' })
  eventType!: string | null;

  @Field(() => String, { nullable: true, description: 'awsRegion.' })
  region!: string | null;

  @Field(() => String, { nullable: true, description: 'recipientAccountId.' })
  account!: string | null;

  @Field(() => String, { nullable: true, description: 'requestID.' })
  requestId!: string | null;

  @Field(() => String, { nullable: true, description: 'errorCode; null when the call succeeded.' })
  errorCode!: string | null;

  @Field(() => String, { nullable: true, description: 'The caller key, as `Caller.key`.' })
  callerKey!: string | null;

  @Field(() => String, { nullable: true, description: 'sourceIPAddress exactly as written.' })
  sourceIpAddress!: string | null;
}

export const UntimedRecordConnectionTypes = connectionOf(UntimedRecord, 'UntimedRecordConnection', {
  items: 'records whose eventTime cannot be read',
  order: 'by file, then eventId, account and region',
  count: 'Such records matching the filter in the day folders the window reads (as `ApiCallConnection.untimedRecords`)',
});
