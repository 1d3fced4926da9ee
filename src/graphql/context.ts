import type { TrailHealth } from '../query/engine';
import { QueryRunner } from '../query/runner';
import { GraphService } from '../services/graph.service';
import { NodeService } from '../services/node.service';
import { TrailService } from '../services/trail.service';

/** What every resolver receives. Made fresh per request (with its own DataLoaders and runner). */
export interface RequestContext {
  readonly requestId: string;
  readonly service: TrailService;
  readonly graph: GraphService;
  /** Objects by global id (`node`, `nodes`). */
  readonly nodes: NodeService;
  readonly runner: QueryRunner;
  /** The engine's view of the trail (`trailHealth` query); absent when the engine cannot tell. */
  readonly trailHealth?: () => Promise<TrailHealth>;
  /** The request asked for its statements instead of answers (`x-trailql-explain: 1`). */
  readonly explain?: boolean;
  /** Where this request's answer is kept when it may be given again (src/graphql/response-reuse.ts). */
  readonly responseKey?: string;
}
