/**
 * Insights for a filter: runs the rules' grouped questions through the request's service (scope,
 * window guards, cache and cost report apply as to every answer), judges the rows, and pages the
 * findings with signed keyset cursors. Findings come most severe first, then most recent.
 */
import { createHash } from 'node:crypto';
import { ApiCallNode, Window } from '../domain/graph';
import { BadInputError } from '../errors';
import { CallFilter } from '../query/filter';
import { checkBaselineDays } from '../query/guards';
import { Row } from '../query/engine';
import { Connection, Edge, PageInfo, TrailService, lazyEdge, lazyPageInfo } from '../services/trail.service';
import { EvidenceSpec, Finding, InsightKind, InsightsConfig, RULES, RULE_ROW_LIMIT, RuleQuery, SEVERITY_RANK, Severity } from './rules';

/** A finding as served: with its id and the window and filter it was found in. */
export interface InsightRecord extends Finding {
  readonly id: string;
  /** The window of the query that found it (the principal and address resolve within it). */
  readonly window: Window;
  /** The filter the insight was asked with; evidence stays within it. */
  readonly filter: CallFilter;
}

export interface InsightPage {
  readonly edges: Edge<InsightRecord>[];
  readonly nodes: InsightRecord[];
  readonly pageInfo: PageInfo;
  readonly totalCount: number;
  /** False when a rule's grouped rows were cut at the row limit: more findings may exist. */
  readonly complete: boolean;
  readonly window: Window;
  readonly baseline: Window;
  /** Every insight of the answer (all pages), for summaries. */
  readonly all: readonly InsightRecord[];
}

/** Insights of an answer per AS number or country of their source address. */
export interface InsightGroupRecord {
  /** AS number as text, or country; null for insights about no address or an address not placed. */
  readonly key: string | null;
  readonly insights: number;
  /** Calls the group's insights count (a call proving two insights counts twice). */
  readonly calls: number;
  /** The most severe of the group's insights. */
  readonly severity: Severity;
}

/**
 * The insights of an answer folded per AS number or country of their source address: most
 * insights first, then by key (AS numbers by value), null last.
 */
export function insightsBySource(all: readonly InsightRecord[], keyOf: (address: string | null) => string | null, numeric: boolean): InsightGroupRecord[] {
  const groups = new Map<string | null, { key: string | null; insights: number; calls: number; severity: Severity }>();
  for (const r of all) {
    const key = keyOf(r.sourceIp);
    const g = groups.get(key) ?? { key, insights: 0, calls: 0, severity: r.severity };
    g.insights += 1;
    g.calls += r.count;
    if (SEVERITY_RANK[r.severity] > SEVERITY_RANK[g.severity]) g.severity = r.severity;
    groups.set(key, g);
  }
  const byKey = (a: string, b: string) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);
  return [...groups.values()].sort((a, b) => b.insights - a.insights || (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : byKey(a.key, b.key)));
}

const DAY_MS = 86_400_000;

const clamp = (e: EvidenceSpec, w: Window): EvidenceSpec => {
  const from = new Date(Math.max(e.from.getTime(), w.from.getTime()));
  const to = new Date(Math.min(e.to.getTime(), w.to.getTime()));
  return { ...e, from, to: to.getTime() > from.getTime() ? to : new Date(from.getTime() + 1000) };
};

function idOf(f: Finding, window: Window): string {
  const h = createHash('sha256')
    // Every predicate of the evidence, not only the fields shown: two findings of one rule may
    // differ in a grouping column alone (an access key), and each must keep its own id and evidence.
    .update(JSON.stringify([f.kind, f.principal, f.sourceIp, f.action, f.evidence.where, f.evidence.from.getTime(), f.evidence.to.getTime(), window.from.getTime(), window.to.getTime()]))
    .digest('base64url')
    .slice(0, 22);
  return `Insight:${h}`;
}

type SortKey = [number, number, string];
const sortKey = (r: InsightRecord): SortKey => [SEVERITY_RANK[r.severity], r.lastSeen.getTime(), r.id];

/**
 * True when `a` comes after the place `b` in the order: severity desc, lastSeen desc, id asc. The
 * id (a hash, made when first read) is read only between findings of one severity and time.
 */
function comesAfter(a: InsightRecord, b: SortKey): boolean {
  const rank = SEVERITY_RANK[a.severity];
  if (rank !== b[0]) return rank < b[0];
  const last = a.lastSeen.getTime();
  if (last !== b[1]) return last < b[1];
  return a.id > b[2];
}

/** The order of findings as a comparison: severity desc, lastSeen desc, id asc (read only on a tie). */
function inOrder(a: InsightRecord, b: InsightRecord): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.lastSeen.getTime() - a.lastSeen.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class InsightsService {
  constructor(
    private readonly trail: TrailService,
    private readonly config: InsightsConfig,
  ) {}

  async insights(
    filter: CallFilter | null | undefined,
    baselineDays: number | null | undefined,
    kinds: readonly InsightKind[] | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<InsightPage> {
    const size = this.trail.pageSize(first);
    const days = baselineDays ?? this.config.baselineDays;
    const maxDays = this.trail.deps.config.window.maxDays;
    checkBaselineDays(days, maxDays);
    const wanted = kinds?.length ? new Set(kinds) : undefined;
    const fp = this.trail.fingerprintOf('insights', { filter: filter ?? {}, days, kinds: wanted ? [...wanted].sort() : null });
    const cursor = after !== null && after !== undefined ? this.trail.deps.cursors.decode(after, fp) : undefined;
    const [rank, last, lastId] = cursor?.k ?? [];
    if (cursor && (typeof rank !== 'number' || typeof last !== 'number' || typeof lastId !== 'string')) throw new BadInputError('invalid cursor: malformed', 'after');
    const window = this.trail.window(filter, cursor ? { from: new Date(cursor.from), to: new Date(cursor.to) } : undefined);
    const baseline: Window = { from: new Date(window.from.getTime() - days * DAY_MS), to: window.from };

    const rules = RULES.filter((r) => !wanted || wanted.has(r.kind));
    const enrichment = this.trail.enrichment();
    const ctx = { window, thresholds: this.config, networkOf: (a: string) => enrichment.info(a) };
    // The rules' questions over the window are one statement, those over the baseline another:
    // each reads its files once, however many rules are asked. The baseline is scoped (which may
    // look up its source addresses) only when an asked rule reads it.
    const asked = rules.map((rule) => ({ rule, queries: rule.queries(ctx) }));
    const answers = new Map<RuleQuery, Row[]>();
    // A statement that read less than its window (files left out, Event history not synced over
    // it) may miss findings, and a baseline that did may make a "new" one of what it lacks.
    let whole = true;
    await Promise.all(
      (['window', 'baseline'] as const).map(async (over) => {
        const queries = asked.flatMap((a) => a.queries).filter((q) => q.over === over);
        if (queries.length === 0) return;
        const { scan, where } = await this.trail.scanFor(filter, over === 'window' ? window : baseline);
        const label = `insight:${asked.filter((a) => a.queries.some((q) => q.over === over)).map((a) => a.rule.kind).join('+')}`;
        const { rows, whole: read } = await this.trail.runPartsReported({ label, scan, where, parts: queries.map((q) => q.plan) });
        whole &&= read;
        queries.forEach((q, i) => answers.set(q, rows[i]));
      }),
    );
    let complete = whole;
    const perRule = asked.map(({ rule, queries }) => {
      const rows = queries.map((q) => answers.get(q) ?? []);
      if (rows.some((r) => r.length >= RULE_ROW_LIMIT)) complete = false;
      return rule.judge(rows, ctx);
    });

    const all: InsightRecord[] = perRule
      .flat()
      .map((f) => {
        const record = { ...f, evidence: clamp(f.evidence, window), window, filter: { ...(filter ?? {}) } } as InsightRecord;
        // Hashed when first read: by the order on a tie, a cursor, or a selection of the id.
        let id: string | undefined;
        Object.defineProperty(record, 'id', { enumerable: true, get: () => (id ??= idOf(record, window)) });
        return record;
      })
      .sort(inOrder);

    const rest = cursor ? all.filter((r) => comesAfter(r, [rank as number, last as number, lastId as string])) : all;
    const page = rest.slice(0, size);
    // Cursors are signed only when read.
    const edges = page.map((node) => lazyEdge(node, () => this.trail.deps.cursors.encode({ q: fp, from: window.from.getTime(), to: window.to.getTime(), k: sortKey(node) })));
    return {
      edges,
      nodes: page,
      pageInfo: lazyPageInfo(edges, rest.length > size, cursor !== undefined),
      totalCount: all.length,
      complete,
      window,
      baseline,
      all,
    };
  }

  /**
   * The calls proving a finding: an `apiCalls` page of the insight's filter, narrowed to them. First
   * pages (and their counts) of all the insights of a request share one statement each.
   */
  evidence(insight: InsightRecord, first: number | null | undefined, after: string | null | undefined): Promise<Connection<ApiCallNode>> {
    const { from, to, where } = insight.evidence;
    if (after === null || after === undefined) return this.trail.narrowedPage({ name: 'insightEvidence', key: insight.id, filter: insight.filter, window: { from, to }, where }, first);
    return this.trail.callsConnection('insightEvidence', { ...insight.filter, from, to }, [...where], first, after, { key: insight.id, window: { from, to } });
  }
}
