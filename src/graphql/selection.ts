/**
 * What a GraphQL selection asks for, so resolvers can have the engine compute only that (fewer
 * columns read, fewer measures computed).
 */
import { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';

/** Names of the fields selected under `path` (e.g. edges.node) of the resolved field, fragments included; null when unsure. */
export function selectedFields(info: GraphQLResolveInfo, path: readonly string[]): Set<string> | null {
  const fragments = info.fragments as Record<string, FragmentDefinitionNode>;
  const out = new Set<string>();
  const walk = (set: SelectionSetNode | undefined, depth: number): boolean => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!walk(sel.selectionSet, depth)) return false;
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = fragments[sel.name.value];
        if (!frag || !walk(frag.selectionSet, depth)) return false;
      } else {
        const name = (sel as FieldNode).name.value;
        if (depth === path.length) out.add(name);
        else if (name === path[depth] && !walk(sel.selectionSet, depth + 1)) return false;
      }
    }
    return true;
  };
  for (const node of info.fieldNodes) if (!walk(node.selectionSet, 0)) return null;
  return out;
}

/**
 * What the fields selected at `path` need, from a table of field -> needs (column or measure
 * aliases), plus `always`, in the order of `all`; every item of `all` when a selected field is not
 * in the table or the selection cannot be read.
 */
export function neededFor(
  info: GraphQLResolveInfo,
  path: readonly string[],
  table: Readonly<Record<string, readonly string[]>>,
  all: readonly string[],
  always: readonly string[] = [],
): string[] {
  const fields = selectedFields(info, path);
  if (!fields) return [...all];
  const wanted = new Set<string>(always);
  for (const f of fields) {
    const needs = table[f];
    if (!needs) return [...all];
    needs.forEach((x) => wanted.add(x));
  }
  return all.filter((a) => wanted.has(a));
}

/**
 * Whether a connection's selection reads its page: edges, nodes or page info (true when the
 * selection cannot be read). `totalCount`, `untimedCount` or `downloadUrl` alone need no page.
 */
export function readsPage(info: GraphQLResolveInfo): boolean {
  const fields = selectedFields(info, []);
  return fields === null || ['edges', 'nodes', 'pageInfo'].some((f) => fields.has(f));
}

/**
 * Whether a connection's selection reads a cursor (`edges.cursor`, `pageInfo.startCursor` or
 * `pageInfo.endCursor`): without one, nothing can follow its page. True when the selection cannot
 * be read.
 */
export function asksForCursors(info: GraphQLResolveInfo): boolean {
  const fields = selectedFields(info, []);
  if (!fields) return true;
  const under = (field: string, names: readonly string[]) => {
    if (!fields.has(field)) return false;
    const sub = selectedFields(info, [field]);
    return !sub || names.some((n) => sub.has(n));
  };
  return under('edges', ['cursor']) || under('pageInfo', ['startCursor', 'endCursor']);
}

/** Whether the resolved field's own selection names `field` (false when the selection cannot be read). */
export function asksFor(info: GraphQLResolveInfo, field: string): boolean {
  return selectedFields(info, [])?.has(field) ?? false;
}

/**
 * What the nodes of a grouped connection need from their rows: the union, over `edges.node` and
 * `nodes`, of `nodeNeeds` (field -> needs) for each selected field, where the field `sub.field`
 * (e.g. `stats`) adds what its own selection needs from `sub.needs`. Every item of `all` when a
 * selected field is in neither table or a selection cannot be read.
 */
export function neededByNodes(
  info: GraphQLResolveInfo,
  nodeNeeds: Readonly<Record<string, readonly string[]>>,
  sub: { readonly field: string; readonly needs: Readonly<Record<string, readonly string[]>> },
  all: readonly string[],
): string[] {
  const wanted = new Set<string>();
  const add = (fields: Set<string> | null, table: Readonly<Record<string, readonly string[]>>, path: readonly string[]): boolean => {
    if (!fields) return false;
    for (const f of fields) {
      if (table === nodeNeeds && f === sub.field) {
        if (!add(selectedFields(info, [...path, f]), sub.needs, [])) return false;
        continue;
      }
      const needs = table[f];
      if (!needs) return false;
      needs.forEach((x) => wanted.add(x));
    }
    return true;
  };
  for (const path of [['edges', 'node'], ['nodes']]) {
    if (!add(selectedFields(info, path), nodeNeeds, path)) return [...all];
  }
  return all.filter((a) => wanted.has(a));
}
