import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../errors';

/**
 * Opaque keyset cursors. A cursor carries the position (sort key of the last row), the window the
 * first page resolved (so "last 24 hours" does not slide while paging), and a hash of the query it
 * belongs to; it is signed, so it cannot be edited or replayed against another filter or scope.
 */
export interface CursorPayload {
  /**
   * The query it belongs to (`queryOf`): its connection's name, then a fingerprint of the filter
   * as given, the scope and what else binds it. The name is readable, so an `after` given to
   * another connection's field is refused before any statement runs (`connectionOfQuery`).
   */
  readonly q: string;
  /** Window the first page resolved, epoch milliseconds. */
  readonly from: number;
  readonly to: number;
  /** Sort key of the last row returned, e.g. [eventTime, eventId, account/region] or [count, key]. */
  readonly k: readonly (string | number | null)[];
  /**
   * Grouped walks: digest of the whole ordered list the first page was cut from (`listDigest`).
   * Later pages are cut from that same list, or refused when it can no longer be had.
   */
  readonly w?: string;
}

export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  encode(payload: CursorPayload): string {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    return `${body.toString('base64url')}.${this.sign(body).toString('base64url')}`;
  }

  /** Verifies the signature and that the cursor belongs to this query; throws BAD_USER_INPUT otherwise. */
  decode(cursor: string, fingerprint: string): CursorPayload {
    const payload = this.verify(cursor);
    if (payload.q !== fingerprint) throw foreignCursor();
    return payload;
  }

  /**
   * Verifies the signature and the payload's shape, whatever query the cursor belongs to: what
   * can be checked of an `after` before its connection (and so its fingerprint) is known.
   */
  verify(cursor: string): CursorPayload {
    const bad = (why: string) => new BadInputError(`invalid cursor: ${why}`, 'after');
    if (cursor.length > 2048) throw bad('too long');
    const [bodyText, sigText, extra] = cursor.split('.');
    if (!bodyText || !sigText || extra !== undefined) throw bad('malformed');
    const body = Buffer.from(bodyText, 'base64url');
    const sig = Buffer.from(sigText, 'base64url');
    const expected = this.sign(body);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw bad('signature does not match');
    let payload: CursorPayload;
    try {
      payload = JSON.parse(body.toString('utf8')) as CursorPayload;
    } catch {
      throw bad('malformed');
    }
    const key = (v: unknown) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    const shaped =
      typeof payload === 'object' && payload !== null && typeof payload.q === 'string' && Number.isFinite(payload.from) && Number.isFinite(payload.to) && Array.isArray(payload.k) && payload.k.every(key) && (payload.w === undefined || typeof payload.w === 'string');
    if (!shaped) throw bad('malformed');
    return payload;
  }

  private sign(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}

/** The refusal of a cursor issued for another query. */
export function foreignCursor(): BadInputError {
  return new BadInputError('invalid cursor: it was issued for a different query; start again without "after"', 'after');
}

/**
 * The query a cursor belongs to: `connection`'s name, then a fingerprint of what binds it. A
 * nested connection's cursor is issued under a parent (`parent`: the caller key, source address or
 * finding it pages under); its fingerprint then starts with a tag of that parent alone, so an
 * `after` of another parent is refused before any statement where the parent is known up front
 * (a lookup's argument, a node id), not only once the parent's statement has found it.
 */
export function queryOf(connection: string, binding: unknown, parent?: string): string {
  const tag = parent === undefined ? '' : `${parentTagOf(parent)}.`;
  return `${connection}/${tag}${fingerprint(binding)}`;
}

/** The tag `queryOf` gives a nested connection's parent key. */
export function parentTagOf(parentKey: string): string {
  return fingerprint({ parent: parentKey });
}

/** The parent tag of a cursor's query (`queryOf`), if it belongs to a nested connection. */
export function parentTagOfQuery(q: string): string | undefined {
  const rest = q.slice(q.lastIndexOf('/') + 1);
  const dot = rest.indexOf('.');
  return dot < 0 ? undefined : rest.slice(0, dot);
}

/** The connection a cursor's query (`queryOf`) names. */
export function connectionOfQuery(q: string): string {
  const end = q.lastIndexOf('/');
  return end < 0 ? '' : q.slice(0, end);
}

/** Stable hash of a JSON-able value with sorted keys. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('base64url').slice(0, 22);
}

export function stableStringify(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Keys in UTF-16 code unit order (the default sort of strings).
    const keys = Object.keys(record).filter((k) => record[k] !== undefined && record[k] !== null).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
