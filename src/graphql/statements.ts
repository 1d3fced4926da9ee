/**
 * Whether an operation asks for what one statement answers, read from its fields before it runs.
 * The engine uses it to prepare nothing for statements that will not come (a lone statement over
 * JSON files reads them itself rather than copying them for others, src/engines/duckdb/shared-scans.ts).
 * Only a hint: an operation that asks for more than it seemed to is answered all the same, its
 * second statement over the same files making the reading then.
 */
import { DocumentNode, Kind, visit } from 'graphql';
import type { FieldArguments } from './prevalidate';

/** Root fields one statement answers (with the nested fields below that come with it). */
const ONE_STATEMENT_ROOTS: ReadonlySet<string> = new Set([
  'Query.actions',
  'Query.activity',
  'Query.apiCall',
  'Query.apiCalls',
  'Query.caller',
  'Query.callers',
  'Query.sourceIp',
  'Query.sourceIps',
  'Query.untimedRecords',
]);

/** Root fields that read no trail. */
const NO_STATEMENT_ROOTS: ReadonlySet<string> = new Set(['Query.trailHealth']);

/** Nested fields answered by a statement of their own, always. */
const OWN_STATEMENT: ReadonlySet<string> = new Set([
  'ActionSummary.errorsByCode',
  'ApiCallConnection.untimedRecords',
  'Caller.actions',
  'Caller.sourceIps',
  'SourceIp.callers',
]);

/** Fields between a grouped root field and its nodes (also how prevalidate.ts hands a root's window to them). */
export const TO_NODES: ReadonlySet<string> = new Set(['CallerConnection.edges', 'CallerConnection.nodes', 'CallerEdge.node', 'SourceIpConnection.edges', 'SourceIpConnection.nodes', 'SourceIpEdge.node']);

/** The fields of a page of a root connection whose `totalCount` is a statement of its own beside the page, by the count's coordinate. */
const PAGE_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['ApiCallConnection.totalCount', new Set(['ApiCallConnection.edges', 'ApiCallConnection.nodes', 'ApiCallConnection.pageInfo'])],
  ['UntimedRecordConnection.totalCount', new Set(['UntimedRecordConnection.edges', 'UntimedRecordConnection.nodes', 'UntimedRecordConnection.pageInfo'])],
]);

/** Filter fields that look source addresses up before the statement (a statement of their own). */
const LOOKUP_FILTERS = ['asns', 'countries'];

/** Whether a filter (or a filter it negates) has one of `keys` set. */
function filterHas(filter: unknown, keys: readonly string[]): boolean {
  if (filter === null || typeof filter !== 'object') return false;
  const f = filter as Record<string, unknown>;
  return keys.some((k) => given(f[k])) || filterHas(f.not, keys);
}

/** Whether a filter says more than a window: its statement is then not the one its nodes' calls could share. */
const beyondWindow = (filter: unknown) => filter !== null && typeof filter === 'object' && Object.entries(filter).some(([k, v]) => k !== 'from' && k !== 'to' && given(v));

/** The root field a node field hangs from through edges and nodes only; undefined when another field is between. */
function rootOfNode(field: FieldArguments): FieldArguments | undefined {
  let up = field.parent;
  while (up && TO_NODES.has(up.coordinate)) up = up.parent;
  return up?.root ? up : undefined;
}

const given = (v: unknown) => v !== null && v !== undefined;

/** Whether `field`, below a root field, is answered by a statement of its own. */
function ownStatement(field: FieldArguments, all: readonly FieldArguments[]): boolean {
  const { coordinate, args } = field;
  if (OWN_STATEMENT.has(coordinate)) return true;
  if (coordinate === 'Caller.stats' || coordinate === 'SourceIp.stats') {
    // A grouped list's or lookup's node carries its statistics, unless asked under a filter of their own.
    return given(args.filter) || rootOfNode(field) === undefined;
  }
  if (coordinate === 'Caller.calls' || coordinate === 'SourceIp.calls') {
    // A grouped list's first page of each node's calls comes with the list (nested-ahead.ts) when
    // the list's filter is its window alone (the nested calls take only the window).
    const root = rootOfNode(field);
    const grouped = root?.coordinate === 'Query.callers' || root?.coordinate === 'Query.sourceIps';
    const siblings = all.filter((f) => f.coordinate === coordinate && f.parent && rootOfNode(f) === root).length;
    return !grouped || siblings !== 1 || given(args.filter) || given(args.after) || beyondWindow(root.args.filter);
  }
  const page = PAGE_FIELDS.get(coordinate);
  if (page && field.parent?.root) {
    // Asked alone it is the statement; beside a page it may be one more. (A grouped list's nodes'
    // calls count theirs with the list; other nested calls are a statement of their own already.)
    const connection = field.parent;
    return all.some((f) => f.parent === connection && page.has(f.coordinate));
  }
  return false;
}

/** Whether a selection of the document carries a directive (`@include`, `@skip`): the read-ahead of nested calls then stands aside. */
function selectionDirectives(document: DocumentNode): boolean {
  let found = false;
  const mark = (node: { readonly directives?: readonly unknown[] }) => {
    if (node.directives?.length) found = true;
  };
  visit(document, { [Kind.FIELD]: mark, [Kind.INLINE_FRAGMENT]: mark, [Kind.FRAGMENT_SPREAD]: mark, [Kind.FRAGMENT_DEFINITION]: mark });
  return found;
}

/**
 * Whether the operation's fields (`operationFields` of `document`) ask for what one statement
 * answers. Not known before the run, and so not foreseen: a grouped list longer than
 * CACHE_GROUP_LIST_MAX (read whole first, then by page), a grouped page after its last group
 * asked for its total.
 */
export function asksOneStatement(fields: readonly FieldArguments[], document: DocumentNode): boolean {
  const roots = fields.filter((f) => f.root && !NO_STATEMENT_ROOTS.has(f.coordinate));
  if (roots.length !== 1 || !ONE_STATEMENT_ROOTS.has(roots[0]!.coordinate)) return false;
  if (filterHas(roots[0]!.args.filter, LOOKUP_FILTERS) || selectionDirectives(document)) return false;
  return !fields.some((f) => !f.root && ownStatement(f, fields));
}
