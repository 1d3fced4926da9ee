/**
 * Global ids: what `Node.id` holds and `node(id:)` reads. An id is the base64url of a JSON array
 * naming the object: its type, its key, and the window its counts and nested fields cover (for
 * objects whose fields count calls, callers, addresses, actions or list a resource's changes, the
 * whole filter they are under, with the window pinned, written as a GraphQL literal of `ApiCallFilter`). The same object in the same window under the same filter has
 * the same id in every request and every process; a different window or filter is a different
 * object (its counts differ), so a client cache never mixes them.
 *
 * Ids are not secrets and not signed: decoding one coerces its filter exactly as an argument would
 * be, and the lookup applies the caller's scope, so a made-up id can ask nothing an argument could
 * not. An id is taken only in the form encoding writes it, so an object has one id. Anything
 * that does not decode is BAD_USER_INPUT.
 */
import {
  GraphQLInputObjectType,
  GraphQLInputType,
  GraphQLSchema,
  Kind,
  ObjectFieldNode,
  ValueNode,
  astFromValue,
  isInputObjectType,
  isListType,
  isNonNullType,
  parseValue,
  print,
  valueFromAST,
} from 'graphql';
import { z } from 'zod';
import { BadInputError } from '../../errors';
import type { CallFilter } from '../../query/filter';
import { isEventId } from '../../query/guards';
import type { NodeRef } from '../../services/node.service';

/** At most this many ids in one `nodes` field. */
export const MAX_NODE_IDS = 100;
/** Longer ids are refused unread (an id holds a filter, which has bounded lists). */
export const MAX_NODE_ID_LENGTH = 16_384;

function filterType(schema: GraphQLSchema): GraphQLInputObjectType {
  const type = schema.getType('ApiCallFilter');
  if (!isInputObjectType(type)) throw new Error('the schema has no ApiCallFilter input');
  return type;
}

/** A filter with its window pinned, as the filter part of an id. */
export function pinned(filter: object | null | undefined, window: { from: Date; to: Date }): CallFilter {
  return { ...(filter ?? {}), from: window.from, to: window.to } as CallFilter;
}

/**
 * `value` as a literal of `type`: graphql's astFromValue, except for date-times, whose scalar
 * serialises to a Date (no literal) and is written as its ISO string.
 */
function literal(value: unknown, type: GraphQLInputType): ValueNode | null {
  const t = isNonNullType(type) ? type.ofType : type;
  if (value === null || value === undefined) return null;
  if (isListType(t) && Array.isArray(value)) {
    return { kind: Kind.LIST, values: value.map((v) => literal(v, t.ofType) ?? { kind: Kind.NULL }) };
  }
  if (isInputObjectType(t)) {
    const fields: ObjectFieldNode[] = [];
    for (const f of Object.values(t.getFields())) {
      const v = literal((value as Record<string, unknown>)[f.name], f.type);
      if (v) fields.push({ kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: f.name }, value: v });
    }
    return { kind: Kind.OBJECT, fields };
  }
  if (value instanceof Date) return { kind: Kind.STRING, value: value.toISOString() };
  return astFromValue(value, t) ?? null;
}

function literalOf(schema: GraphQLSchema, filter: CallFilter): string {
  return print(literal(filter, filterType(schema))!);
}

export function encodeId(schema: GraphQLSchema, ref: NodeRef): string {
  const parts =
    ref.type === 'ApiCall'
      ? [ref.type, ref.eventId, ref.time.getTime(), ref.account, ref.region, ref.window.from.getTime(), ref.window.to.getTime()]
      : ref.type === 'Caller'
        ? [ref.type, ref.grouping, ref.key, literalOf(schema, ref.filter)]
        : ref.type === 'SourceIp'
          ? [ref.type, ref.address, literalOf(schema, ref.filter)]
          : ref.type === 'ActionSummary'
            ? [ref.type, ref.action, ref.eventSource, literalOf(schema, ref.filter)]
            : ref.type === 'ResourceInstance'
              ? [ref.type, ref.kind, ref.name, ref.account, ref.region, literalOf(schema, ref.filter)]
              : [ref.type, ref.name, literalOf(schema, ref.filter)];
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

const text = (max: number) => z.string().min(1).max(max);
/** A value as CloudTrail wrote it, "" included: the groups and calls holding it have ids too. */
const written = (max: number) => z.string().max(max);
const TIME = z.number().int().min(0).max(253_402_300_799_999);
const PARTS = z.union([
  z.tuple([z.literal('ApiCall'), z.string().refine(isEventId), TIME, written(64).nullable(), written(64).nullable(), TIME, TIME]),
  z.tuple([z.literal('Caller'), z.enum(['ARN', 'PRINCIPAL']), written(2048), z.string()]),
  z.tuple([z.literal('SourceIp'), written(256).nullable(), z.string()]),
  z.tuple([z.literal('ActionSummary'), written(256).nullable(), written(256).nullable(), z.string()]),
  z.tuple([z.literal('ResourceInstance'), z.enum(['detectorModel', 'input', 'alarmModel']), text(256), text(64).nullable(), text(64).nullable(), z.string()]),
  z.tuple([z.literal('ResourceHistory'), text(256), z.string()]),
]);

/**
 * The object an id names; BAD_USER_INPUT (on `field`) when it is not an id this service made. An
 * object has one id: what decodes is taken only when encoding it again gives the id as sent
 * (coercing a filter alone drops a field ApiCallFilter has not, and base64url and JSON take other
 * spellings of the same parts).
 */
export function decodeId(schema: GraphQLSchema, id: string, field: string): NodeRef {
  const bad = (why: string) => new BadInputError(`${field}: not a node id (${why})`, field);
  if (id.length > MAX_NODE_ID_LENGTH) throw bad('too long');
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw bad('malformed');
  let parts: z.infer<typeof PARTS>;
  try {
    parts = PARTS.parse(JSON.parse(Buffer.from(id, 'base64url').toString('utf8')));
  } catch {
    throw bad('malformed');
  }
  const ref = refOf(schema, parts);
  if (!ref) throw bad('malformed');
  if (encodeId(schema, ref) !== id) throw bad('not written by this service');
  return ref;
}

function refOf(schema: GraphQLSchema, parts: z.infer<typeof PARTS>): NodeRef | undefined {
  if (parts[0] === 'ApiCall') {
    return { type: 'ApiCall', eventId: parts[1], time: new Date(parts[2]), account: parts[3], region: parts[4], window: { from: new Date(parts[5]), to: new Date(parts[6]) } };
  }
  let filter: CallFilter | undefined;
  try {
    filter = valueFromAST(parseValue(parts[parts.length - 1] as string), filterType(schema)) as CallFilter | undefined;
  } catch {
    filter = undefined;
  }
  if (!filter || !filter.from || !filter.to) return undefined;
  switch (parts[0]) {
    case 'Caller':
      return { type: 'Caller', grouping: parts[1], key: parts[2], filter };
    case 'SourceIp':
      return { type: 'SourceIp', address: parts[1], filter };
    case 'ActionSummary':
      return { type: 'ActionSummary', action: parts[1], eventSource: parts[2], filter };
    case 'ResourceInstance':
      return { type: 'ResourceInstance', kind: parts[1], name: parts[2], account: parts[3], region: parts[4], filter };
    case 'ResourceHistory':
      return { type: 'ResourceHistory', name: parts[1], filter };
  }
}

/** The ids of a `nodes` field: at most MAX_NODE_IDS, each decoded. */
export function decodeIds(schema: GraphQLSchema, ids: readonly string[]): NodeRef[] {
  if (ids.length > MAX_NODE_IDS) throw new BadInputError(`ids: at most ${MAX_NODE_IDS} ids at once`, 'ids');
  return ids.map((id) => decodeId(schema, id, 'ids'));
}
