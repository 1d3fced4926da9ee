import { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, registerEnumType, Ctx, Field, FieldResolver, ID, Info, Int, Query, Resolver, Root } from 'type-graphql';
import { connectionColumns } from './selection';
import { asksFor, readsPage } from '../selection';
import { RequestContext } from '../context';
import { ApiCall, ApiCallConnection } from './api-call.type';
import { ApiCallFilter } from './api-call.input';
import { UntimedRecordConnectionTypes } from './untimed-record.type';
import type { ApiCallRecord } from '../../domain/api-call';
import type { ApiCallNode } from '../../domain/graph';
import { IotEventsResourceName, iotEventsResourcesOf } from '../../domain/iotevents-resources';
import { IotEventsResourceRef } from '../graph/graph.type';

export enum CallOrderEnum {
  NEWEST_FIRST = 'NEWEST_FIRST',
  OLDEST_FIRST = 'OLDEST_FIRST',
}
registerEnumType(CallOrderEnum, {
  name: 'CallOrder',
  description: 'Order of a page of calls.',
  valuesConfig: {
    NEWEST_FIRST: { description: 'Newest first: eventTime, then eventId, then account and region (the same eventId in two of them is two calls), descending.' },
    OLDEST_FIRST: { description: 'Oldest first: eventTime, then eventId, then account and region, ascending.' },
  },
});

@ArgsType()
class ApiCallsArgs {
  @Field(() => ApiCallFilter, { nullable: true, description: 'Which calls; without one, every call of the default window.' })
  filter?: ApiCallFilter | null;

  @Field(() => Int, { nullable: true, description: 'Page size (default and maximum are configured; 50 and 500 out of the box).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page. Cursors are bound to the filter and order they came from.' })
  after?: string | null;

  @Field(() => CallOrderEnum, { defaultValue: CallOrderEnum.NEWEST_FIRST, description: 'NEWEST_FIRST (eventTime, then eventId, then account and region, descending) or OLDEST_FIRST (the same, ascending).' })
  orderBy!: CallOrderEnum;
}


@Resolver(() => ApiCallConnection)
export class ApiCallConnectionResolver {
  @FieldResolver(() => Int, { description: 'Calls matching the filter in the whole window (only when asked for: counted by the page\'s own query when it reads the whole window, otherwise one more query).' })
  totalCount(@Root() connection: ApiCallConnection): Promise<number> {
    return connection.totalCount();
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'Null on nested connections. Records matching the filter in the day folders this window reads whose eventTime cannot be read as a date-time: no window holds them, so they are in no page and no count (one more query, only when asked for). The `untimedRecords` query lists them.',
  })
  untimedRecords(@Root() connection: ApiCallConnection): Promise<number | null> {
    return connection.untimedCount ? connection.untimedCount() : Promise.resolve(null);
  }

  @FieldResolver(() => [ApiCall], { description: 'The calls of this page without their cursors: the nodes of `edges`, in the same order.' })
  nodes(@Root() connection: ApiCallConnection): ApiCall[] {
    return connection.edges.map((e) => e.node);
  }
}

@Resolver(() => ApiCall)
export class ApiCallResolver {
  @Query(() => ApiCallConnection, { description: 'IoT Events API calls (or those of the configured event sources), newest first unless orderBy says otherwise.' })
  apiCalls(@Args() { filter, first, after, orderBy }: ApiCallsArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<ApiCallConnection> {
    return ctx.service.apiCalls(filter, first, after, connectionColumns(info), orderBy, asksFor(info, 'totalCount'), readsPage(info));
  }

  @Query(() => UntimedRecordConnectionTypes.Connection, {
    description:
      'Records whose eventTime cannot be read as a date-time, in the day folders the filter\'s window reads (with the delivery margin), matching its other conditions, within the key\'s scope: no window holds them, so no page of calls does. By file, then eventId, account and region.',
  })
  untimedRecords(
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'Which day folders (its window) and which records (its other conditions).' }) filter: ApiCallFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size (default and maximum are configured; 50 and 500 out of the box).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page; bound to the filter and key it came from.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ) {
    return ctx.service.untimedRecords(filter, first, after);
  }

  @Query(() => ApiCall, {
    nullable: true,
    description: 'One call by eventId, looked up within a window (default: the configured default window up to now).',
  })
  apiCall(
    @Arg('eventId', () => ID, { description: 'The call\'s `ApiCall.eventId`.' }) eventId: string,
    @Arg('from', () => Date, { nullable: true, description: 'Start of the window to look in (inclusive).' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'End of the window to look in (exclusive); defaults to now.' }) to: Date | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ApiCallNode | null> {
    return ctx.service.apiCall(eventId, { from, to });
  }

  @FieldResolver(() => [IotEventsResourceRef], { description: 'Detector models, inputs and alarm models this call names (a batch call names them in its entries).' })
  iotEventsResources(@Root() call: ApiCallRecord): IotEventsResourceName[] {
    return iotEventsResourcesOf(call);
  }

  @FieldResolver(() => Boolean, { description: 'True when the call has no errorCode.' })
  success(@Root() call: ApiCallRecord): boolean {
    return call.errorCode === null;
  }
}
