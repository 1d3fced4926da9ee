/**
 * Checks every argument of the whole operation before any resolver runs, so a bad value in a
 * nested field is refused before its parent's engine query starts. Beyond the windows and
 * cursors fields carry (below), it knows no field by name: it walks the operation (fragments followed, variables coerced as execution will) and runs the
 * query guards on every argument by its name (`filter`, `first`, `from`, `to`, `after`, `key`,
 * `arn`, `address`, `eventId`, `name`, `baselineDays`), the same checks the services apply again
 * when they build their plans. An `after` is checked for its signature, its shape and the
 * connection it names (`CURSOR_CONNECTIONS`), and on a nested field for the caller or address it
 * was issued under where that parent is known up front (`fitsKnownParent`); the rest of the query
 * it belongs to (its filter, or a parent found by a list) is checked once the parent has answered.
 *
 * A window given by one bound is checked whole where the window its other bound falls back on is
 * known before execution: an `after`'s, or the window of the caller or address its field is
 * selected on. A caller or address carries the window of the field that found it (a list, a
 * lookup, a call's `caller` and `sourceIp`, an insight's `principal` and `sourceIp`, a `node` id),
 * and a call the window of the connection or lookup that found it.
 */
import { ApolloServerPlugin } from '@apollo/server';
import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  FragmentSpreadNode,
  GraphQLIncludeDirective,
  GraphQLNamedType,
  GraphQLSchema,
  GraphQLSkipDirective,
  InlineFragmentNode,
  Kind,
  OperationDefinitionNode,
  OperationTypeNode,
  SelectionSetNode,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  visit,
} from 'graphql';
import { BadInputError, NotAQueryError } from '../errors';
import { CallFilter, validateFilter } from '../query/filter';
import { CursorCodec, connectionOfQuery, foreignCursor, parentTagOf, parentTagOfQuery } from '../query/cursor';
import { NULL_PARENT } from '../services/nested-batches';
import { MAX_INPUT_DEPTH, Scope, Window, WindowRules, applyScope, checkBaselineDays, checkBound, checkCallerKey, checkEventId, lookedUpCallerKey, checkInputDepth, checkPageSize, checkSourceAddress, resolveWindow } from '../query/guards';
import { decodeId, decodeIds } from './node/global-id';
import { TO_NODES, asksOneStatement } from './statements';
import { checkSize } from './shape';

export interface ArgumentRules {
  /** Event sources served (`[]` = all). */
  readonly eventSources: readonly string[];
  readonly window: WindowRules;
  readonly page: { readonly defaultSize: number; readonly maxSize: number };
  /** Checks an `after` cursor's signature and shape. */
  readonly cursors: Pick<CursorCodec, 'verify'>;
}

/** One field of the operation as execution will see it. */
export interface FieldArguments {
  /** `Type.field`, for messages and tests. */
  readonly coordinate: string;
  /** A field of the root operation type (its window has no parent to fall back on). */
  readonly root: boolean;
  readonly args: Readonly<Record<string, unknown>>;
  /** The field it is selected on, if any. */
  readonly parent?: FieldArguments;
}

/**
 * Every field selected by `operation`, with its arguments coerced. Returns undefined when the
 * variables do not coerce (execution reports that itself, as bad input).
 */
export function operationFields(schema: GraphQLSchema, doc: DocumentNode, operation: OperationDefinitionNode, inputs: Record<string, unknown>): FieldArguments[] | undefined {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], inputs);
  if (coerced.errors) return undefined;
  const variables = coerced.coerced;
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const out: FieldArguments[] = [];
  // A selection execution skips (`@skip(if: true)`, `@include(if: false)`) has no arguments to check.
  const included = (sel: FieldNode | FragmentSpreadNode | InlineFragmentNode) =>
    getDirectiveValues(GraphQLSkipDirective, sel, variables)?.if !== true && getDirectiveValues(GraphQLIncludeDirective, sel, variables)?.if !== false;
  const walk = (set: SelectionSetNode | undefined, type: GraphQLNamedType | null | undefined, parent: FieldArguments | undefined, seen: ReadonlySet<string>): void => {
    if (!set) return;
    for (const sel of set.selections) {
      if (!included(sel)) continue;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type, parent, seen);
      } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (frag && !seen.has(name)) walk(frag.selectionSet, schema.getType(frag.typeCondition.name.value), parent, new Set([...seen, name]));
      } else if (isObjectType(type) || isInterfaceType(type)) {
        const def = type.getFields()[sel.name.value];
        if (!def) continue;
        const field: FieldArguments = { coordinate: `${type.name}.${def.name}`, root: !parent, args: getArgumentValues(def, sel, variables), ...(parent ? { parent } : {}) };
        out.push(field);
        walk(sel.selectionSet, getNamedType(def.type), field, seen);
      }
    }
  };
  walk(operation.selectionSet, schema.getRootType(operation.operation), undefined, new Set());
  return out;
}

/** Documents whose literals were found shallow enough (Apollo reuses the parsed document of a known query text). */
const shallowDocuments = new WeakSet<DocumentNode>();

/**
 * Refuses variables, and literals of the document (arguments, variables' defaults), nested deeper
 * than MAX_INPUT_DEPTH objects and lists: coercing them (getVariableValues, valueFromAST) recurses
 * once per level. Every plugin that coerces calls it first. `visit` keeps a stack of its own.
 */
export function checkInputNesting(document: DocumentNode, operation: OperationDefinitionNode | null | undefined, variables: Readonly<Record<string, unknown>>): void {
  // Only the variables the operation declares are ever read: others are ignored, however deep.
  const declared = (operation?.variableDefinitions ?? []).map((d) => d.variable.name.value).filter((name) => Object.hasOwn(variables, name));
  checkInputDepth(Object.fromEntries(declared.map((name) => [name, variables[name]])), 'variables');
  if (shallowDocuments.has(document)) return;
  let depth = 0;
  const enter = () => {
    depth += 1;
    if (depth > MAX_INPUT_DEPTH) throw new BadInputError(`query: a value nested deeper than ${MAX_INPUT_DEPTH} levels of objects and lists`, 'query');
  };
  const leave = () => {
    depth -= 1;
  };
  visit(document, { [Kind.OBJECT]: { enter, leave }, [Kind.LIST]: { enter, leave } });
  shallowDocuments.add(document);
}

const isDate = (v: unknown): v is Date => v instanceof Date;

/**
 * Root fields whose objects carry the field's window (its bounds over its cursor's window): the
 * window GraphService and TrailService give the callers, addresses and calls they answer with.
 */
const WINDOW_ROOTS: ReadonlySet<string> = new Set(['Query.apiCall', 'Query.apiCalls', 'Query.caller', 'Query.callers', 'Query.insights', 'Query.resource', 'Query.sourceIp', 'Query.sourceIps']);
/** Fields of a caller or address whose objects carry the field's window (its bounds over its cursor's window, else over its node's). */
const WINDOW_NESTED: ReadonlySet<string> = new Set(['Caller.calls', 'Caller.sourceIps', 'SourceIp.callers', 'SourceIp.calls']);
/**
 * Fields whose objects carry the window of the object they are selected on: a connection's
 * edges and nodes, a call's caller and address (`nodeOfCall`), an insight's principal and address,
 * a breakdown's caller or address, a resource's calls. An insight's `evidence` is not one: its
 * window is clamped to each finding's calls, known only once the insights have run.
 */
const CARRIES_WINDOW: ReadonlySet<string> = new Set([
  ...TO_NODES,
  'ApiCall.caller',
  'ApiCall.sourceIp',
  'ApiCallConnection.edges',
  'ApiCallConnection.nodes',
  'ApiCallEdge.node',
  'CallerSourceIp.sourceIp',
  'CallerSourceIpConnection.edges',
  'CallerSourceIpConnection.nodes',
  'CallerSourceIpEdge.node',
  'Insight.principal',
  'Insight.sourceIp',
  'InsightConnection.edges',
  'InsightConnection.nodes',
  'InsightEdge.node',
  'ResourceHistory.changes',
  'ResourceHistory.created',
  'ResourceHistory.deleted',
  'ResourceHistory.failedAttempts',
  'ResourceHistory.instances',
  'ResourceHistory.lastUpdated',
  'ResourceInstance.created',
  'ResourceInstance.deleted',
  'ResourceInstance.failedAttempts',
  'ResourceInstance.lastUpdated',
  'SourceIpCaller.caller',
  'SourceIpCallerConnection.edges',
  'SourceIpCallerConnection.nodes',
  'SourceIpCallerEdge.node',
]);
/**
 * The connections whose cursors each field with an `after` takes (the names its service pages
 * under; a caller's fields page under its grouping's name). A cursor naming another is refused
 * before any statement runs: on a nested field, its parent's would run first.
 */
export const CURSOR_CONNECTIONS: Readonly<Record<string, readonly string[]>> = {
  'Query.apiCalls': ['apiCalls'],
  'Query.callers': ['callers:ARN', 'callers:PRINCIPAL'],
  'Query.insights': ['insights'],
  'Query.sourceIps': ['sourceIps'],
  'Query.untimedRecords': ['untimedRecords'],
  'Caller.actions': ['callerActions:caller:bySource', 'callerActions:principal:bySource'],
  'Caller.calls': ['caller.calls', 'principal.calls'],
  'Caller.sourceIps': ['callerSourceIps:caller', 'callerSourceIps:principal'],
  'Insight.evidence': ['insightEvidence'],
  'SourceIp.callers': ['sourceIpCallers'],
  'SourceIp.calls': ['sourceIp.calls'],
};

/** The connections of a caller grouped by principal (`Query.caller(groupBy: PRINCIPAL)`, a principal's node id). */
const PRINCIPAL_CONNECTIONS: ReadonlySet<string> = new Set(['principal.calls', 'callerActions:principal:bySource', 'callerSourceIps:principal']);

/**
 * The caller key or source address a nested field's connection pages under, when its parent is
 * known before execution: a lookup's argument (`caller`, `sourceIp`) or a `node` id. Under a list,
 * or a call's caller, the parent is known only once its statement has answered.
 */
function knownParentOf(field: FieldArguments, schema: GraphQLSchema | undefined): { key: string; principal?: boolean } | undefined {
  const parent = field.parent;
  const type = field.coordinate.split('.')[0];
  if (!parent) return undefined;
  const { args } = parent;
  if (parent.coordinate === 'Query.caller' && type === 'Caller') {
    const key = args.key ?? args.arn;
    return typeof key === 'string' ? { key, principal: args.groupBy === 'PRINCIPAL' } : undefined;
  }
  if (parent.coordinate === 'Query.sourceIp' && type === 'SourceIp') return typeof args.address === 'string' ? { key: args.address } : undefined;
  if (parent.coordinate === 'Query.node' && schema && typeof args.id === 'string') {
    const ref = decodeId(schema, args.id, 'id');
    if (ref.type !== type) return undefined;
    if (ref.type === 'Caller') return { key: ref.key, principal: ref.grouping === 'PRINCIPAL' };
    if (ref.type === 'SourceIp') return { key: ref.address ?? NULL_PARENT };
  }
  return undefined;
}

/**
 * Whether a nested field's cursor (its query `q`) may belong to the field's parent: where the
 * parent is known up front, the cursor must have been issued under that very caller or address,
 * and for a caller under its grouping. Elsewhere its service checks the whole binding.
 */
function fitsKnownParent(q: string, field: FieldArguments, schema: GraphQLSchema | undefined): boolean {
  const known = knownParentOf(field, schema);
  if (!known) return true;
  if (known.principal !== undefined && PRINCIPAL_CONNECTIONS.has(connectionOfQuery(q)) !== known.principal) return false;
  return parentTagOfQuery(q) === parentTagOf(known.key);
}

/** Types whose filtered fields fall back on their node's window. */
const NODE_TYPES = new Set(['Caller', 'SourceIp']);

/**
 * The window the objects of a field carry, when known before execution. `type`: the one type of
 * objects it holds, when the field's type is the Node interface (`node`, `nodes`): a fragment on
 * another type is never run on them.
 */
export interface CarriedWindow {
  readonly window: Window;
  readonly type?: string;
}

/** The window of the object `field` is selected on, when known. */
function windowAbove(field: FieldArguments, carried: ReadonlyMap<FieldArguments, CarriedWindow | undefined> | undefined): Window | undefined {
  const above = field.parent ? carried?.get(field.parent) : undefined;
  return above && (above.type === undefined || field.coordinate.startsWith(`${above.type}.`)) ? above.window : undefined;
}

/**
 * Runs the guards on one field's arguments; throws the guard's BAD_USER_INPUT or FORBIDDEN.
 * A window is checked whole where it does not depend on a parent or a cursor (a root field
 * without `after`, or both bounds given), or where what it falls back on is known: its `after`'s
 * window, else its node's (`carried`: the windows the objects of the fields checked before it
 * carry); otherwise each bound is checked on its own. Returns the window its objects carry, when
 * they carry one and it is known.
 */
export function checkFieldArguments(
  field: FieldArguments,
  rules: ArgumentRules,
  scope: Scope,
  now: Date,
  carried?: ReadonlyMap<FieldArguments, CarriedWindow | undefined>,
  /** To read a `node` id its field is selected on. */
  schema?: GraphQLSchema,
): CarriedWindow | undefined {
  const { args } = field;
  // Absent, null or a number (execution has coerced it): the page size guard judges it.
  checkPageSize(args.first as number | null | undefined, rules.page.defaultSize, rules.page.maxSize);
  const cursor = typeof args.after === 'string' ? rules.cursors.verify(args.after) : undefined;
  if (cursor && !CURSOR_CONNECTIONS[field.coordinate]?.includes(connectionOfQuery(cursor.q))) {
    throw foreignCursor();
  }
  if (cursor && !fitsKnownParent(cursor.q, field, schema)) throw foreignCursor();
  if (field.coordinate === 'Query.caller') lookedUpCallerKey(args.key as string | null | undefined, args.arn as string | null | undefined);
  if (typeof args.key === 'string') checkCallerKey(args.key);
  if (typeof args.arn === 'string') checkCallerKey(args.arn, 'arn');
  if (typeof args.address === 'string') checkSourceAddress(args.address);
  if (typeof args.eventId === 'string') checkEventId(args.eventId);
  if (typeof args.baselineDays === 'number') checkBaselineDays(args.baselineDays, rules.window.maxDays);
  const filter = (args.filter ?? undefined) as CallFilter | undefined;
  const bounds = filter ?? { from: isDate(args.from) ? args.from : null, to: isDate(args.to) ? args.to : null };
  const standalone = field.root && (args.after === undefined || args.after === null);
  const nodeWindow = NODE_TYPES.has(field.coordinate.split('.')[0]!) ? windowAbove(field, carried) : undefined;
  const cursorWindow = cursor ? { from: new Date(cursor.from), to: new Date(cursor.to) } : undefined;
  const fallback = cursorWindow ?? nodeWindow;
  // Bounds given as the field's own arguments (apiCall's from/to) are named as such.
  const path = filter ? 'filter' : '';
  let own: Window | undefined;
  if (standalone || (bounds.from && bounds.to)) {
    own = resolveWindow(bounds, rules.window, now, undefined, path);
  } else if (fallback && (bounds.from || bounds.to)) {
    own = resolveWindow(bounds, rules.window, now, fallback, path);
  } else {
    checkBound('from', bounds.from);
    checkBound('to', bounds.to);
  }
  // Its objects carry the window its statement reads (TrailService.window(filter, fallback)):
  // `own` when found, else (no bound given) what it falls back on, when that is known.
  const windowed = WINDOW_ROOTS.has(field.coordinate) || WINDOW_NESTED.has(field.coordinate);
  const handedWindow = windowed
    ? (own ?? (field.root || fallback ? resolveWindow(bounds, rules.window, now, fallback, path) : undefined))
    : CARRIES_WINDOW.has(field.coordinate)
      ? windowAbove(field, carried)
      : undefined;
  const handed = handedWindow && { window: handedWindow };
  // A resource's name is checked as its filter's resourceName (as the `resource` query does).
  const named = typeof args.name === 'string' ? { ...filter, resourceName: args.name } : filter;
  if (!named) return handed;
  const v = validateFilter(named, rules.eventSources, { readPayloads: scope.readPayloads });
  // The window only matters to applyScope as part of a scan; the scope check is on accounts and regions.
  applyScope({ from: now, to: now, eventSources: v.eventSources, regions: v.regions, accounts: v.accounts }, scope);
  return handed;
}

/**
 * Decodes the global ids of a root field's `id` or `ids` argument (`node`, `nodes`) and checks
 * the filters they carry as a `filter` argument is checked, except for scope: an id outside the
 * caller's scope is answered null by its lookup, as if it named nothing. Returns the type and
 * window of the objects they name when every id names the same (NodeService looks a call up in its
 * id's window, anything else under its id's filter, whose window is pinned).
 */
export function checkNodeIds(schema: GraphQLSchema, field: FieldArguments, rules: ArgumentRules, scope: Scope, now: Date): CarriedWindow | undefined {
  if (!field.root) return undefined;
  const { id, ids } = field.args;
  const refs = typeof id === 'string' ? [decodeId(schema, id, 'id')] : Array.isArray(ids) ? decodeIds(schema, ids as string[]) : [];
  const named: CarriedWindow[] = [];
  for (const ref of refs) {
    if (ref.type === 'ApiCall') {
      named.push({ type: ref.type, window: resolveWindow(ref.window, rules.window, now) });
      continue;
    }
    named.push({ type: ref.type, window: resolveWindow(ref.filter, rules.window, now) });
    // A resource's name is checked as the `resource` query checks it: as its filter's resourceName.
    const filter = ref.type === 'ResourceInstance' || ref.type === 'ResourceHistory' ? { ...ref.filter, resourceName: ref.name } : ref.filter;
    validateFilter(filter, rules.eventSources, { readPayloads: scope.readPayloads });
  }
  const [one] = named;
  const same = (c: CarriedWindow) => c.type === one!.type && c.window.from.getTime() === one!.window.from.getTime() && c.window.to.getTime() === one!.window.to.getTime();
  return one && named.every(same) ? one : undefined;
}

/** Runs the guards on every field of an operation (`operationFields`), in its order. */
export function checkOperationFields(schema: GraphQLSchema, fields: readonly FieldArguments[], rules: ArgumentRules, scope: Scope, now: Date): void {
  // A field comes after the field it is selected on: its node's window is known by then.
  const carried = new Map<FieldArguments, CarriedWindow | undefined>();
  for (const field of fields) {
    const handed = checkFieldArguments(field, rules, scope, now, carried, schema);
    carried.set(field, checkNodeIds(schema, field, rules, scope, now) ?? handed);
  }
}

/** What the plugin needs from a request's context. */
export interface CallerOf<C> {
  (context: C): { readonly scope: Scope; readonly now: Date; readonly expectOneStatement?: () => void };
}

export function prevalidatePlugin<C extends object>(rules: ArgumentRules, callerOf: CallerOf<C>): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          if (operation.operation !== OperationTypeNode.QUERY) throw new NotAQueryError(operation.operation);
          checkInputNesting(document, operation, request.variables ?? {});
          // Before the walk below visits each field at each spread (the limits plugin's refusal does not stop this one).
          checkSize(document, operation);
          const fields = operationFields(schema, document, operation, request.variables ?? {});
          if (!fields) return;
          const { scope, now, expectOneStatement } = callerOf(contextValue);
          checkOperationFields(schema, fields, rules, scope, now);
          if (expectOneStatement && asksOneStatement(fields, document)) expectOneStatement();
        },
      };
    },
  };
}
