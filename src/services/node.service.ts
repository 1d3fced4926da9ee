/**
 * Objects by global id (`node`, `nodes`). What an id names is decoded in the GraphQL layer; here
 * each reference is looked up through the same loaders the lists use, so many ids cost one
 * statement per kind (and per filter), and the caller's scope decides what exists: a reference
 * outside it is null, exactly like one that names nothing, and costs no statement.
 */
import type { ActionSummaryRecord, ApiCallNode, CallerNode, SourceIpNode } from '../domain/graph';
import { stableStringify } from '../query/cursor';
import { CallFilter } from '../query/filter';
import type { IotEventsResourceKind } from '../domain/iotevents-resources';
import { GraphService } from './graph.service';
import { ResourceHistoryRecord, ResourceInstanceRecord } from './resource-history';
import type { Window } from '../query/guards';
import { TrailService } from './trail.service';

/** What a global id names. `filter` has the window pinned (from and to set). */
export type NodeRef =
  | {
      readonly type: 'ApiCall';
      readonly eventId: string;
      readonly time: Date;
      readonly account: string | null;
      readonly region: string | null;
      /** The window of the list it came from, which its nested fields cover. */
      readonly window: Window;
    }
  | { readonly type: 'Caller'; readonly grouping: 'ARN' | 'PRINCIPAL'; readonly key: string; readonly filter: CallFilter }
  | { readonly type: 'SourceIp'; readonly address: string | null; readonly filter: CallFilter }
  | { readonly type: 'ActionSummary'; readonly action: string | null; readonly eventSource: string | null; readonly filter: CallFilter }
  | {
      readonly type: 'ResourceInstance';
      readonly kind: IotEventsResourceKind;
      readonly name: string;
      readonly account: string | null;
      readonly region: string | null;
      /** The filter of the `resource` query it came from, which its figures are under. */
      readonly filter: CallFilter;
    }
  | { readonly type: 'ResourceHistory'; readonly name: string; readonly filter: CallFilter };

type Found = ApiCallNode | CallerNode | SourceIpNode | ActionSummaryRecord | ResourceInstanceRecord | ResourceHistoryRecord;
/** A found object, tagged with its GraphQL type. */
export type NodeObject = Found & { readonly __typename: NodeRef['type'] };

export class NodeService {
  /** One actions summary per distinct filter, however many action ids ask for it. */
  private readonly actionSummaries = new Map<string, Promise<ActionSummaryRecord[]>>();

  constructor(
    private readonly trail: TrailService,
    private readonly graph: GraphService,
  ) {}

  async node(ref: NodeRef): Promise<NodeObject | null> {
    if (!this.inScope(ref)) return null;
    const found = await this.lookup(ref);
    return found ? { ...found, __typename: ref.type } : null;
  }

  /** False when the reference names accounts or regions the caller may not see. */
  private inScope(ref: NodeRef): boolean {
    const { accounts, regions } = this.trail.scope;
    const within = (asked: readonly (string | null)[], allowed: readonly string[]) => allowed.length === 0 || asked.every((a) => a !== null && allowed.includes(a));
    if (ref.type === 'ApiCall') return within([ref.account], accounts) && within([ref.region], regions);
    if (ref.type === 'ResourceInstance' && !(within([ref.account], accounts) && within([ref.region], regions))) return false;
    return within(ref.filter.accounts ?? [], accounts) && within(ref.filter.regions ?? [], regions);
  }

  private async lookup(ref: NodeRef): Promise<Found | null> {
    switch (ref.type) {
      case 'ApiCall':
        return this.trail.callAt(ref.eventId, ref.time, this.trail.window(ref.window), ref.account, ref.region);
      case 'Caller':
        return this.graph.caller(ref.key, ref.filter, ref.grouping);
      case 'SourceIp':
        return this.graph.sourceIp(ref.address, ref.filter);
      case 'ActionSummary': {
        const id = stableStringify(ref.filter);
        let all = this.actionSummaries.get(id);
        if (!all) {
          all = this.graph.actions(ref.filter);
          this.actionSummaries.set(id, all);
        }
        return (await all).find((a) => a.action === ref.action && a.eventSource === ref.eventSource) ?? null;
      }
      case 'ResourceInstance': {
        const history = await this.graph.resource(ref.name, ref.filter);
        return history.instances.find((i) => i.kind === ref.kind && i.account === ref.account && i.region === ref.region) ?? null;
      }
      case 'ResourceHistory': {
        // Like an address: a name no call in the window changed (within the scope) is nothing.
        const history = await this.graph.resource(ref.name, ref.filter);
        return history.changes.length ? history : null;
      }
    }
  }
}
