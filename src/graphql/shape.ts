/**
 * The shape of an operation as execution meets it, every fragment spread counted where it is
 * spread: how deep it goes, how many aliased fields and how many fields in all it asks for. The
 * limits plugin judges depth and aliases by it; both analysing plugins (limits and prevalidate)
 * refuse an operation too large to walk before they walk it field by field.
 */
import { DocumentNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { TooComplexError } from '../errors';

export interface Shape {
  readonly depth: number;
  readonly aliases: number;
  /** Fields selected, each fragment's counted at each spread (execution's, before any list). */
  readonly fields: number;
}

/**
 * The most fields an operation may select, fragments spread: a query of every field of a call,
 * its caller and its address is a few hundred. Fragments that spread fragments twice, twenty
 * deep, select a million: walking them field by field (the complexity estimate, the arguments'
 * check) would hold the process for seconds.
 */
export const MAX_FIELDS = 2000;

const NO_SHAPE: Shape = { depth: 0, aliases: 0, fields: 0 };

/**
 * The shape of a selection set. A fragment's own shape is worked out once and reused at each
 * spread, so measuring costs no more than parsing whatever the spreads multiply. Introspection
 * fields add no depth. A fragment spread inside itself (validation refuses the cycle first) adds
 * nothing.
 */
function shapeOf(set: SelectionSetNode | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>, known: Map<string, Shape>, open: Set<string>): Shape {
  let depth = 0;
  let aliases = 0;
  let fields = 0;
  for (const sel of set?.selections ?? []) {
    if (sel.kind === Kind.FIELD) {
      const inner = shapeOf(sel.selectionSet, fragments, known, open);
      if (!sel.name.value.startsWith('__')) depth = Math.max(depth, 1 + inner.depth);
      aliases += (sel.alias ? 1 : 0) + inner.aliases;
      fields += 1 + inner.fields;
    } else {
      const inner = sel.kind === Kind.INLINE_FRAGMENT ? shapeOf(sel.selectionSet, fragments, known, open) : fragmentShape(sel.name.value, fragments, known, open);
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
      fields += inner.fields;
    }
  }
  return { depth, aliases, fields };
}

function fragmentShape(name: string, fragments: ReadonlyMap<string, FragmentDefinitionNode>, known: Map<string, Shape>, open: Set<string>): Shape {
  const kept = known.get(name);
  if (kept) return kept;
  const frag = fragments.get(name);
  if (!frag || open.has(name)) return NO_SHAPE;
  open.add(name);
  const shape = shapeOf(frag.selectionSet, fragments, known, open);
  open.delete(name);
  known.set(name, shape);
  return shape;
}

/** Shapes kept per parsed document (Apollo reuses the parsed document of a known query text) and operation. */
const shapes = new WeakMap<DocumentNode, WeakMap<OperationDefinitionNode, Shape>>();

/** The shape of `operation`, a fragment of `doc` spread counted at each spread. */
export function operationShape(doc: DocumentNode, operation: OperationDefinitionNode): Shape {
  let ofDoc = shapes.get(doc);
  if (!ofDoc) shapes.set(doc, (ofDoc = new WeakMap()));
  let shape = ofDoc.get(operation);
  if (!shape) {
    const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    shape = shapeOf(operation.selectionSet, fragments, new Map(), new Set());
    ofDoc.set(operation, shape);
  }
  return shape;
}

/** The operation's shape; refuses one that selects more than MAX_FIELDS fields (QUERY_TOO_COMPLEX). */
export function checkSize(doc: DocumentNode, operation: OperationDefinitionNode): Shape {
  const shape = operationShape(doc, operation);
  if (shape.fields > MAX_FIELDS) throw new TooComplexError(`${shape.fields} fields selected (fragments counted at each spread) is over the limit of ${MAX_FIELDS}`);
  return shape;
}
