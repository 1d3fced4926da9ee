import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import type { ActionSummaryRecord, ApiCallNode, CallerNode, SourceIpNode } from '../../domain/graph';
import type { ResourceHistoryRecord, ResourceInstanceRecord } from '../../services/resource-history';
import type { NodeObject } from '../../services/node.service';
import { ApiCall, Caller, SourceIp } from '../api-call/api-call.type';
import { Node } from '../common/node.type';
import { RequestContext } from '../context';
import { ActionSummary, ResourceHistory, ResourceInstance } from '../graph/graph.type';
import { MAX_NODE_IDS, decodeId, decodeIds, encodeId, pinned } from './global-id';

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description: 'The object a global id names; null when it does not exist or is outside what this key may see (the two are not told apart).',
  })
  node(
    @Arg('id', () => ID, { description: 'A `Node.id`.' }) id: string,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<NodeObject | null> {
    return ctx.nodes.node(decodeId(info.schema, id, 'id'));
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `The objects some global ids name, in the order of the ids (null where \`node\` would give null); at most ${MAX_NODE_IDS} ids, looked up together (one statement per kind and filter).`,
  })
  nodes(
    @Arg('ids', () => [ID], { description: `Up to ${MAX_NODE_IDS} \`Node.id\` values.` }) ids: string[],
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<(NodeObject | null)[]> {
    return Promise.all(decodeIds(info.schema, ids).map((ref) => ctx.nodes.node(ref)));
  }
}

@Resolver(() => ApiCall)
export class ApiCallIdResolver {
  @FieldResolver(() => ID, {
    description: 'Global id of the call as reached here: its eventId, eventTime, account and region, and the window its `caller` and `sourceIp` cover.',
  })
  id(@Root() call: ApiCallNode, @Info() info: GraphQLResolveInfo): string {
    return encodeId(info.schema, { type: 'ApiCall', eventId: call.eventId, time: call.eventTime, account: call.account, region: call.region, window: call.caller.window });
  }
}

@Resolver(() => Caller)
export class CallerIdResolver {
  @FieldResolver(() => ID, {
    description: 'Global id of this caller (or principal) in this window, under the filter of the query that found it: what `stats` counts. The same caller in another window is another object.',
  })
  id(@Root() caller: CallerNode, @Info() info: GraphQLResolveInfo): string {
    const grouping = caller.keyKind === 'principal' ? 'PRINCIPAL' : 'ARN';
    return encodeId(info.schema, { type: 'Caller', grouping, key: caller.key, filter: pinned(caller.filter, caller.window) });
  }
}

@Resolver(() => SourceIp)
export class SourceIpIdResolver {
  @FieldResolver(() => ID, { description: 'Global id of this address in this window, under the filter of the query that found it: what `stats` counts.' })
  id(@Root() ip: SourceIpNode, @Info() info: GraphQLResolveInfo): string {
    return encodeId(info.schema, { type: 'SourceIp', address: ip.address, filter: pinned(ip.filter, ip.window) });
  }
}

@Resolver(() => ActionSummary)
export class ActionSummaryIdResolver {
  @FieldResolver(() => ID, { description: 'Global id of this action and event source in this window, under the filter of the `actions` query that listed it.' })
  id(@Root() action: ActionSummaryRecord, @Info() info: GraphQLResolveInfo): string {
    return encodeId(info.schema, { type: 'ActionSummary', action: action.action, eventSource: action.eventSource, filter: pinned(action.filter, action.window) });
  }
}

@Resolver(() => ResourceInstance)
export class ResourceInstanceIdResolver {
  @FieldResolver(() => ID, {
    description: 'Global id of this resource (kind, name, account and region) in this window, under the filter of the `resource` query that found it: what its created, lastUpdated, deleted and failedAttempts are read under.',
  })
  id(@Root() r: ResourceInstanceRecord, @Info() info: GraphQLResolveInfo): string {
    return encodeId(info.schema, { type: 'ResourceInstance', kind: r.kind, name: r.name, account: r.account, region: r.region, filter: pinned(r.filter, r.window) });
  }
}

@Resolver(() => ResourceHistory)
export class ResourceHistoryIdResolver {
  @FieldResolver(() => ID, { description: 'Global id of this name\'s history in this window, under the filter of the `resource` query that read it.' })
  id(@Root() r: ResourceHistoryRecord, @Info() info: GraphQLResolveInfo): string {
    return encodeId(info.schema, { type: 'ResourceHistory', name: r.name, filter: pinned(r.filter, r.window) });
  }
}

export const NODE_RESOLVERS = [
  NodeResolver,
  ApiCallIdResolver,
  CallerIdResolver,
  SourceIpIdResolver,
  ActionSummaryIdResolver,
  ResourceInstanceIdResolver,
  ResourceHistoryIdResolver,
];
