/**
 * Previewing a request: the statements and parameters it would run, and the partitions each
 * reads, without running any. An engine stand-in answers every statement with no rows, so a
 * preview shows the statements a request starts from; statements that depend on earlier answers
 * (nested fields of returned rows) do not appear.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledQuery, Engine, EngineResult, PartitionSpec, SqlValue } from './engine';

/** The HTTP header an admin key sends to receive statements instead of answers. */
export const EXPLAIN_HEADER = 'x-trailql-explain';

/** True when the request asks for a preview (`x-trailql-explain: 1`). */
export function wantsExplain(req: { readonly headers: IncomingHttpHeaders }): boolean {
  const value = req.headers[EXPLAIN_HEADER];
  return typeof value === 'string' && /^(1|true)$/i.test(value.trim());
}

/** One statement of a preview. */
export interface ExplainedStatement {
  readonly label: string;
  readonly sql: string;
  readonly params: readonly SqlValue[];
  readonly partitions: PartitionSpec;
}

/** An engine with `engine`'s name and identity that runs nothing and answers with no rows. */
export function explainEngine(engine: Pick<Engine, 'name' | 'capabilities' | 'sourceId'>): Engine {
  return {
    name: engine.name,
    capabilities: engine.capabilities,
    sourceId: engine.sourceId,
    execute: async (): Promise<EngineResult> => ({ rows: [], stats: { engineMs: 0, bytesScanned: 0, notRun: true } }),
    ping: async () => undefined,
    close: async () => undefined,
  };
}

export function explainStatements(compiled: readonly CompiledQuery[]): ExplainedStatement[] {
  return compiled.map((q) => ({ label: q.label, sql: q.sql, params: q.params, partitions: q.partitions }));
}
