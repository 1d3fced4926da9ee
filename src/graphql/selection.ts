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

/** Whether the resolved field's own selection names `field` (false when the selection cannot be read). */
export function asksFor(info: GraphQLResolveInfo, field: string): boolean {
  return selectedFields(info, [])?.has(field) ?? false;
}
