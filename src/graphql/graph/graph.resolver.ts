import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Info, Int, Query, Resolver, Root } from 'type-graphql';
import type { ActionSummaryRecord, CallerNode, CallerStatsRecord, SourceIpNode, SourceIpStatsRecord } from '../../domain/graph';
import type { ActionUsage, CallerUsage, GroupConnection, SourceIpUsage } from '../../services/graph.service';
import type { ResourceHistoryRecord } from '../../services/resource-history';
import { NULL_PARENT } from '../../services/nested-batches';
import type { Connection } from '../../services/trail.service';
import type { ApiCallNode } from '../../domain/graph';
import { ApiCallFilter } from '../api-call/api-call.input';
import { ApiCallConnection, Caller, SourceIp } from '../api-call/api-call.type';
import { connectionColumns } from '../api-call/selection';
import { nestedCallsAhead } from './nested-ahead';
import { lookedUpCallerKey } from '../../query/guards';
import { RequestContext } from '../context';
import { asksFor, asksForCursors, neededByNodes, neededFor } from '../selection';
import { ACTION_STATS, CALLER_IDENTITY, CALLER_STATS, SOURCE_IP_STATS } from '../../query/builders';
import {
  ActionSummary,
  ActivityGroupBy,
  ActivityInterval,
  ActivitySeries,
  CallerActionConnectionTypes,
  CallerConnection,
  CallerGrouping,
  CallerOrder,
  CallerSourceIpConnectionTypes,
  CallerStats,
  ErrorCount,
  ResourceHistory,
  SourceIpCallerConnectionTypes,
  SourceIpConnection,
  SourceIpStats,
} from './graph.type';

/** Measures of a `callers` row: its counts, then the identity of its newest call. */
const CALLER_ROW_MEASURES = [...CALLER_STATS, ...CALLER_IDENTITY].map((m) => m.alias);
const IDENTITY = CALLER_IDENTITY.map((m) => m.alias);

/** What each field of a `callers` node needs from its row (`stats`: see CALLER_STATS_NEEDS). */
const CALLER_NODE_NEEDS: Record<string, readonly string[]> = {
  __typename: [],
  id: [],
  key: [],
  calls: [],
  sourceIps: [],
  actions: [],
  ...Object.fromEntries(
    ['arn', 'accessKeyId', 'accountId', 'category', 'identityType', 'invokedBy', 'mfaAuthenticated', 'principal', 'principalId', 'rawType', 'sessionCreated', 'sessionIssuer', 'temporaryCredentials', 'userName'].map((f) => [f, IDENTITY]),
  ),
};

const USAGE_NEEDS: Record<string, readonly string[]> = { __typename: [], calls: ['calls'], errors: ['errors'], firstSeen: ['first_seen'], lastSeen: ['last_seen'] };
const CALLER_STATS_NEEDS: Record<string, readonly string[]> = {
  ...USAGE_NEEDS,
  distinctActions: ['distinct_actions'],
  distinctSourceIps: ['distinct_source_ips'],
  accessKeyIds: ['access_key_ids'],
};

/** What each field of a `sourceIps` node needs from its row: the address's own fields need nothing. */
const SOURCE_IP_NODE_NEEDS: Record<string, readonly string[]> = Object.fromEntries(['__typename', 'id', 'address', 'kind', 'asn', 'country', 'awsRange', 'calls', 'callers'].map((f) => [f, []]));
const SOURCE_IP_STATS_NEEDS: Record<string, readonly string[]> = { ...USAGE_NEEDS, distinctActions: ['distinct_actions'], distinctCallers: ['distinct_callers'] };

/** The measures each ActionSummary field needs (action and eventSource are the grouping). */
const ACTION_FIELD_MEASURES: Record<string, readonly string[]> = {
  __typename: [],
  action: [],
  eventSource: [],
  errorsByCode: [],
  calls: ['calls'],
  errors: ['errors'],
  firstSeen: ['first_seen'],
  lastSeen: ['last_seen'],
  distinctCallers: ['distinct_callers'],
  distinctSourceIps: ['distinct_source_ips'],
};

const NESTED_FILTER =
  'Narrows this field. Without from/to it covers the window of the query that reached the parent; the parent query\'s other filters do not carry over (`stats` without this argument: see there).';

@ArgsType()
class GroupArgs {
  @Field(() => ApiCallFilter, { nullable: true, description: 'The calls to count; its window (from/to) is the window of every nested field.' })
  filter?: ApiCallFilter | null;
  @Field(() => Int, { nullable: true, description: 'Page size (default and maximum are configured; 50 and 500 out of the box).' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'endCursor of the previous page. Cursors are bound to the filter and order they came from.' })
  after?: string | null;
  @Field(() => CallerOrder, { defaultValue: CallerOrder.CALLS_DESC, description: 'Order of the entries; ties by key.' })
  orderBy!: CallerOrder;
}

@ArgsType()
class CallersArgs extends GroupArgs {
  @Field(() => CallerGrouping, { defaultValue: CallerGrouping.ARN, description: 'One entry per caller ARN, or per principal.' })
  groupBy!: CallerGrouping;
}

@ArgsType()
class NestedArgs {
  @Field(() => ApiCallFilter, { nullable: true, description: NESTED_FILTER })
  filter?: ApiCallFilter | null;
}

@ArgsType()
class NestedCallsArgs extends NestedArgs {
  @Field(() => Int, { nullable: true, description: 'Page size (default and maximum are configured; 50 and 500 out of the box).' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'endCursor of the previous page of this field for this parent.' })
  after?: string | null;
}

@ArgsType()
class NestedListArgs extends NestedArgs {
  @Field(() => Int, { nullable: true, description: 'Page size (default 20, at most 500); entries come most calls first, ties by key.' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'endCursor of the previous page of this field for this parent.' })
  after?: string | null;
}

@ArgsType()
class NestedOrderedListArgs extends NestedListArgs {
  @Field(() => CallerOrder, { defaultValue: CallerOrder.CALLS_DESC, description: 'Order of the entries; ties by key. Cursors are bound to the order they came from.' })
  orderBy!: CallerOrder;
}

@Resolver(() => Caller)
export class CallerResolver {
  @FieldResolver(() => CallerStats, { description: 'This caller\'s counts. Without a filter: found by callers, sourceIps, caller or sourceIp, that question\'s counts under its whole filter (they agree with its order); reached from a call, the window\'s. With one, under that filter in the window (`{}`: the whole window).' })
  stats(@Root() caller: CallerNode, @Args() { filter }: NestedArgs, @Ctx() ctx: RequestContext): Promise<CallerStatsRecord> {
    return ctx.graph.callerStats(caller, filter);
  }

  @FieldResolver(() => ApiCallConnection, { description: 'This caller\'s calls, newest first.' })
  calls(@Root() caller: CallerNode, @Args() { filter, first, after }: NestedCallsArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Connection<ApiCallNode>> {
    const name = caller.keyKind === 'principal' ? 'principal.calls' : 'caller.calls';
    return ctx.graph.nestedCalls(name, caller.key, caller.window, filter, first, after, asksFor(info, 'totalCount'), connectionColumns(info));
  }

  @FieldResolver(() => CallerSourceIpConnectionTypes.Connection, { description: 'Addresses this caller called from, most calls first.' })
  sourceIps(@Root() caller: CallerNode, @Args() { filter, first, after }: NestedListArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<GroupConnection<SourceIpUsage>> {
    return ctx.graph.callerSourceIps(caller, filter, first, after, asksFor(info, 'totalCount'));
  }

  @FieldResolver(() => CallerActionConnectionTypes.Connection, { description: 'Actions this caller made, most calls first unless orderBy says otherwise.' })
  actions(@Root() caller: CallerNode, @Args() { filter, first, after, orderBy }: NestedOrderedListArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<GroupConnection<ActionUsage>> {
    return ctx.graph.callerActions(caller, filter, first, after, orderBy, asksFor(info, 'totalCount'));
  }
}

@Resolver(() => SourceIp)
export class SourceIpResolver {
  @FieldResolver(() => SourceIpStats, { description: 'Counts of the calls from this address. Without a filter: found by callers, sourceIps, caller or sourceIp, that question\'s counts under its whole filter (they agree with its order); reached from a call, the window\'s. With one, under that filter in the window (`{}`: the whole window).' })
  stats(@Root() ip: SourceIpNode, @Args() { filter }: NestedArgs, @Ctx() ctx: RequestContext): Promise<SourceIpStatsRecord> {
    return ctx.graph.sourceIpStats(ip, filter);
  }

  @FieldResolver(() => ApiCallConnection, { description: 'Calls from this address, newest first.' })
  calls(@Root() ip: SourceIpNode, @Args() { filter, first, after }: NestedCallsArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Connection<ApiCallNode>> {
    return ctx.graph.nestedCalls('sourceIp.calls', ip.address ?? NULL_PARENT, ip.window, filter, first, after, asksFor(info, 'totalCount'), connectionColumns(info));
  }

  @FieldResolver(() => SourceIpCallerConnectionTypes.Connection, { description: 'Callers seen at this address, most calls first.' })
  callers(@Root() ip: SourceIpNode, @Args() { filter, first, after }: NestedListArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<GroupConnection<CallerUsage>> {
    return ctx.graph.sourceIpCallers(ip, filter, first, after, asksFor(info, 'totalCount'));
  }
}

@Resolver(() => ActionSummary)
export class ActionSummaryResolver {
  @FieldResolver(() => [ErrorCount], { description: 'Failed calls by errorCode, most first (one more query for all actions, only when asked).' })
  errorsByCode(@Root() action: ActionSummaryRecord): Promise<{ code: string; calls: number }[]> {
    return action.errorsByCode();
  }
}

@Resolver()
export class GraphQueryResolver {
  @Query(() => CallerConnection, { description: 'Who called, with counts: one entry per caller ARN (or per principal).' })
  callers(@Args() { filter, first, after, orderBy, groupBy }: CallersArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<GroupConnection<CallerNode>> {
    const needs = neededByNodes(info, CALLER_NODE_NEEDS, { field: 'stats', needs: CALLER_STATS_NEEDS }, CALLER_ROW_MEASURES);
    return ctx.graph.callers(filter, first, after, orderBy, groupBy, asksFor(info, 'totalCount'), needs, nestedCallsAhead(info, 'Caller'), asksForCursors(info));
  }

  @Query(() => Caller, {
    nullable: true,
    description: 'One caller by its key (ARN, or AWS service name; a role ARN with groupBy PRINCIPAL) within a window; null when it made no calls there.',
  })
  caller(
    @Arg('key', () => String, { nullable: true, description: 'The caller\'s key as `Caller.key` gives it: an ARN, an AWS service name, a principal id, `identity-center-user:<identityStoreArn>/<userId>` or `account:<id>`.' })
    key: string | null,
    @Arg('arn', () => String, { nullable: true, description: 'The caller\'s key (the old name of `key`).', deprecationReason: 'Use `key`: it takes every kind of caller key, not only ARNs.' }) arn: string | null,
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'The calls to look in, and the window of nested fields.' }) filter: ApiCallFilter | null,
    @Arg('groupBy', () => CallerGrouping, { defaultValue: CallerGrouping.ARN, description: 'ARN: the key is a caller key; PRINCIPAL: the key is a principal.' }) groupBy: CallerGrouping,
    @Ctx() ctx: RequestContext,
  ): Promise<CallerNode | null> {
    return ctx.graph.caller(lookedUpCallerKey(key, arn), filter, groupBy);
  }

  @Query(() => SourceIpConnection, { description: 'Source addresses with counts.' })
  sourceIps(@Args() { filter, first, after, orderBy }: GroupArgs, @Ctx() ctx: RequestContext, @Info() info: GraphQLResolveInfo): Promise<GroupConnection<SourceIpNode>> {
    const needs = neededByNodes(info, SOURCE_IP_NODE_NEEDS, { field: 'stats', needs: SOURCE_IP_STATS_NEEDS }, SOURCE_IP_STATS.map((m) => m.alias));
    return ctx.graph.sourceIps(filter, first, after, orderBy, asksFor(info, 'totalCount'), needs, nestedCallsAhead(info, 'SourceIp'), asksForCursors(info));
  }

  @Query(() => SourceIp, { nullable: true, description: 'One source address within a window; null when no calls came from it there.' })
  sourceIp(
    @Arg('address', { description: 'sourceIPAddress exactly as written (an IP, a service host name, "AWS Internal").' }) address: string,
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'The calls to look in, and the window of nested fields.' }) filter: ApiCallFilter | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SourceIpNode | null> {
    return ctx.graph.sourceIp(address, filter);
  }

  @Query(() => [ActionSummary], { description: 'Per API action: calls, errors by code, distinct callers, first and last seen; most calls first unless orderBy says otherwise.' })
  actions(
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'The calls to summarise.' }) filter: ApiCallFilter | null,
    @Arg('orderBy', () => CallerOrder, { defaultValue: CallerOrder.CALLS_DESC, description: 'Order of the actions; ties by action, then event source (KEY_ASC: by action, then event source).' })
    orderBy: CallerOrder,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ActionSummaryRecord[]> {
    return ctx.graph.actions(filter, neededFor(info, [], ACTION_FIELD_MEASURES, ACTION_STATS.map((m) => m.alias)), orderBy);
  }

  @Query(() => ActivitySeries, { description: 'Calls per time bucket, optionally per group: for charts.' })
  activity(
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'The calls to count.' }) filter: ApiCallFilter | null,
    @Arg('interval', () => ActivityInterval, { defaultValue: ActivityInterval.HOUR, description: 'Bucket width.' }) interval: ActivityInterval,
    @Arg('groupBy', () => ActivityGroupBy, { nullable: true, description: 'Split each bucket by this key; without it, one series.' }) groupBy: ActivityGroupBy | null,
    @Ctx() ctx: RequestContext,
  ) {
    return ctx.graph.activity(filter, interval, groupBy);
  }

  @Query(() => ResourceHistory, { description: 'Who created, changed and deleted an IoT Events resource (detector model, input, alarm model) in the window.' })
  resource(
    @Arg('name', { description: 'The detector model, input or alarm model name.' }) name: string,
    @Arg('filter', () => ApiCallFilter, { nullable: true, description: 'The calls to look in (window, accounts, regions, ...).' }) filter: ApiCallFilter | null,
    @Ctx() ctx: RequestContext,
  ): Promise<ResourceHistoryRecord> {
    return ctx.graph.resource(name, filter);
  }
}
