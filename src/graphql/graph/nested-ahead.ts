/**
 * What a grouped connection's nodes ask of their nested `calls` field, read before the nodes are
 * resolved, so the service can answer the page and every node's first page of calls with one
 * statement (GraphService.groupPage). Read only when it is unambiguous: exactly one `calls` field
 * under `edges.node` or `nodes`, without directives, asking a first page (no `after`) over the
 * parent's window (no `filter`). Anything else leaves the field to its own statement.
 */
import { FieldNode, FragmentDefinitionNode, GraphQLObjectType, GraphQLResolveInfo, Kind, SelectionSetNode, getArgumentValues } from 'graphql';
import type { NestedCallsAhead } from '../../services/graph.service';
import { connectionColumns } from '../api-call/selection';
import { asksFor } from '../selection';

/** The `calls` fields selected on the nodes of the resolved connection; null when a selection cannot be read or holds a directive. */
function nodeCallsFields(info: GraphQLResolveInfo): FieldNode[] | null {
  const fragments = info.fragments as Record<string, FragmentDefinitionNode>;
  const found: FieldNode[] = [];
  // The path to the nodes: `edges` then `node`, or `nodes`; at the nodes, `calls` is what is looked for.
  const walk = (set: SelectionSetNode | undefined, path: readonly string[]): boolean => {
    for (const sel of set?.selections ?? []) {
      if (sel.directives?.length) return false;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!walk(sel.selectionSet, path)) return false;
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments[sel.name.value];
        if (!frag || frag.directives?.length || !walk(frag.selectionSet, path)) return false;
      } else {
        const name = sel.name.value;
        if (path.length === 0) {
          if (name === 'calls') found.push(sel);
        } else if (name === path[0] && !walk(sel.selectionSet, path.slice(1))) return false;
      }
    }
    return true;
  };
  for (const node of info.fieldNodes) {
    if (!walk(node.selectionSet, ['edges', 'node']) || !walk(node.selectionSet, ['nodes'])) return null;
  }
  return found;
}

/** The nested calls page the nodes of type `nodeType` ask, when one statement may answer it with the page; undefined otherwise. */
export function nestedCallsAhead(info: GraphQLResolveInfo, nodeType: 'Caller' | 'SourceIp'): NestedCallsAhead | undefined {
  const fields = nodeCallsFields(info);
  if (!fields || fields.length !== 1) return undefined;
  const [field] = fields;
  const def = (info.schema.getType(nodeType) as GraphQLObjectType | undefined)?.getFields().calls;
  if (!def) return undefined;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(def, field, info.variableValues);
  } catch {
    // Arguments the field itself will refuse: it reports the error when it is resolved.
    return undefined;
  }
  if ((args.after !== null && args.after !== undefined) || (args.filter !== null && args.filter !== undefined)) return undefined;
  const first = args.first;
  if (first !== null && first !== undefined && typeof first !== 'number') return undefined;
  const own = { ...info, fieldNodes: [field] } as GraphQLResolveInfo;
  return { first: first ?? null, total: asksFor(own, 'totalCount'), columns: connectionColumns(own) };
}
