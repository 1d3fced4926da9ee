import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { ApiCallNode, CallerNode, SourceIpNode } from '../../domain/graph';
import { sourceIpOf } from '../../domain/api-call';
import { InsightGroupRecord, InsightPage, InsightRecord, InsightsService, insightsBySource } from '../../insights/insights.service';
import { sourceKeyOf } from '../../services/activity-by-source';
import { ATTACK, InsightKind } from '../../insights/rules';
import type { Connection } from '../../services/trail.service';
import { ApiCallFilter } from '../api-call/api-call.input';
import { ApiCallConnection, Caller, SourceIp } from '../api-call/api-call.type';
import { RequestContext } from '../context';
import { Insight, InsightConnection, InsightGroup, InsightSourceGrouping } from './insight.type';

@ArgsType()
class InsightsArgs {
  @Field(() => ApiCallFilter, { nullable: true, description: 'The calls to look at (window, accounts, actions, ...); the default window when omitted.' })
  filter?: ApiCallFilter | null;

  @Field(() => Int, { nullable: true, description: 'Days before the window that rules compare with (default configured, 7 out of the box).' })
  baselineDays?: number | null;

  @Field(() => [InsightKind], { nullable: true, description: 'Only these kinds (default: all).' })
  kinds?: InsightKind[] | null;

  @Field(() => Int, { nullable: true, description: 'Page size (default and maximum as for apiCalls).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page; bound to the same arguments.' })
  after?: string | null;
}

@ArgsType()
class EvidenceArgs {
  @Field(() => Int, { nullable: true, description: 'Page size (default and maximum as for apiCalls).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous evidence page.' })
  after?: string | null;
}

const service = (ctx: RequestContext) => new InsightsService(ctx.service, ctx.service.deps.config.insights);

@Resolver(() => Insight)
export class InsightResolver {
  @Query(() => InsightConnection, { description: 'Security findings over the calls a filter selects, each with the calls that prove it.' })
  insights(@Args() { filter, baselineDays, kinds, first, after }: InsightsArgs, @Ctx() ctx: RequestContext): Promise<InsightPage> {
    return service(ctx).insights(filter, baselineDays, kinds, first, after);
  }

  @FieldResolver(() => Caller, { nullable: true, description: 'The principal the finding is about (grouped by principal), within the searched window.' })
  principal(@Root() insight: InsightRecord, @Ctx() ctx: RequestContext): Promise<CallerNode | null> | null {
    if (insight.principal === null) return null;
    return ctx.graph.caller(insight.principal, { ...insight.filter, from: insight.window.from, to: insight.window.to }, 'PRINCIPAL');
  }

  @FieldResolver(() => SourceIp, { nullable: true, description: 'The source address the finding is about, when it is about one.' })
  sourceIp(@Root() insight: InsightRecord): SourceIpNode | null {
    return insight.sourceIp === null ? null : sourceIpOf(insight.sourceIp, { window: insight.window });
  }

  @FieldResolver(() => [String], { description: 'MITRE ATT&CK technique ids this kind is evidence of (docs/insights.md).' })
  attack(@Root() insight: InsightRecord): readonly string[] {
    return ATTACK[insight.kind];
  }

  @FieldResolver(() => ApiCallConnection, { description: 'The calls that prove the finding, newest first: each is one `apiCalls` returns for the same filter.' })
  evidence(@Root() insight: InsightRecord, @Args() { first, after }: EvidenceArgs, @Ctx() ctx: RequestContext): Promise<Connection<ApiCallNode>> {
    return service(ctx).evidence(insight, first, after);
  }
}

@Resolver(() => InsightConnection)
export class InsightConnectionResolver {
  @FieldResolver(() => [InsightGroup], {
    description: 'Every insight of the answer (all pages) per AS number or country of its source address: most insights first, then by key, null last.',
  })
  bySource(
    @Root() page: InsightPage,
    @Arg('groupBy', () => InsightSourceGrouping, { description: 'AS number or country.' }) groupBy: InsightSourceGrouping,
    @Ctx() ctx: RequestContext,
  ): InsightGroupRecord[] {
    return insightsBySource(page.all, sourceKeyOf(ctx.service.enrichment(), groupBy), groupBy === InsightSourceGrouping.ASN);
  }
}
