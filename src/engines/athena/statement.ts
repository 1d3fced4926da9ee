/**
 * What crosses the wire to Athena, as text: bound values encoded as execution parameters, the
 * statement's size check and reuse marker, and result cells decoded back into row values.
 */
import { createHash } from 'node:crypto';
import type { ColumnInfo, Row as AthenaRow } from '@aws-sdk/client-athena';
import { MAX_BOUND_VALUE_LENGTH, type Row, type SqlValue } from '../../query/engine';
import { BadInputError, TooComplexError } from '../../errors';
import { literal } from '../../query/compiler';

/** Athena's limit on the text of one statement (QueryString), in bytes of UTF-8. */
export const MAX_STATEMENT_BYTES = 262_144;

/**
 * Encodes one bound value the way Athena's `ExecutionParameters` wants it: as SQL literal text
 * substituted for its `?`. Strings become single-quoted literals with `'` doubled (backslashes
 * and any Unicode are kept as they are: Trino string literals have no other escapes); integers
 * become decimal text without exponent or fraction, other numbers the shortest text JavaScript
 * prints (`0.5`, or `1e-7`, which Trino reads as a DOUBLE); booleans `true`/`false`.
 *
 * Throws {@link BadInputError} for NaN/Infinity and for an encoded value longer than 1,024
 * characters (counted as UTF-16 code units, which never undercounts).
 */
export function encodeExecutionParameter(value: SqlValue): string {
  let text: string;
  if (typeof value === 'string') {
    text = literal(value);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new BadInputError(`cannot bind the number ${String(value)} as a query parameter`);
    if (Number.isInteger(value)) {
      // BigInt prints large integers in full where String(1e21) would give '1e+21'.
      text = Number.isSafeInteger(value) ? String(value === 0 ? 0 : value) : BigInt(value).toString();
    } else {
      text = String(value);
    }
  } else if (typeof value === 'boolean') {
    text = value ? 'true' : 'false';
  } else {
    throw new BadInputError(`cannot bind a value of type ${typeof value} as a query parameter`);
  }
  if (text.length < 1 || text.length > MAX_BOUND_VALUE_LENGTH) {
    throw new BadInputError(
      `a query value is too long: ${text.length} characters once quoted, Athena accepts at most ${MAX_BOUND_VALUE_LENGTH}`,
    );
  }
  return text;
}

/**
 * Decodes one Athena result cell by its column type (`ColumnInfo.Type`).
 *
 * - missing `VarCharValue` (SQL NULL) -> `null`
 * - `boolean` -> `true`/`false`
 * - `tinyint`, `smallint`, `integer`, `bigint`, `real`, `float`, `double`, `decimal` -> number
 *   (`Number(text)`; a bigint beyond 2^53 loses precision)
 * - `timestamp` (`2023-07-10 11:42:18.000`) -> ISO-8601 UTC (`2023-07-10T11:42:18.000Z`);
 *   `timestamp with time zone` likewise when the zone is UTC or a numeric offset, raw text otherwise
 * - `date` -> `yyyy-MM-dd` as sent (already ISO)
 * - everything else (`varchar`, `char`, `json`, `array`, `map`, `row`, ...) -> the text as sent
 */
export function decodeAthenaValue(type: string | undefined, text: string | undefined): string | number | boolean | null {
  if (text === undefined) return null;
  const base = (type ?? 'varchar').toLowerCase().replace(/\(.*$/, '').trim();
  switch (base) {
    case 'boolean':
      return text === 'true';
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint':
    case 'real':
    case 'float':
    case 'double':
    case 'decimal':
      return Number(text);
    case 'timestamp':
    case 'timestamp with time zone':
      return isoTimestamp(text);
    default:
      return text;
  }
}

const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ?(UTC|Z|[+-]\d{2}:\d{2}))?$/;

function isoTimestamp(text: string): string {
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return text;
  const zone = m[3] === undefined || m[3] === 'UTC' || m[3] === 'Z' || m[3] === '+00:00' ? 'Z' : m[3];
  return `${m[1]}T${m[2]}${zone}`;
}

export function decodeRow(row: AthenaRow, columns: readonly ColumnInfo[], names: readonly string[]): Row {
  const out: Row = {};
  const data = row.Data ?? [];
  for (let i = 0; i < columns.length; i++) {
    out[names[i]!] = decodeAthenaValue(columns[i]!.Type, data[i]?.VarCharValue);
  }
  return out;
}

/**
 * Refuses a statement Athena would refuse for its length, before anything is sent: a
 * QUERY_TOO_COMPLEX error naming the size (the request asked for more than one statement holds).
 */
export function checkStatementSize(sql: string): void {
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > MAX_STATEMENT_BYTES) {
    throw new TooComplexError(
      `the query would need a statement of ${bytes} bytes; Athena accepts at most ${MAX_STATEMENT_BYTES}. Ask for fewer values in one filter`,
    );
  }
}

/**
 * The statement text sent when result reuse is on: the SQL preceded by a comment holding a hash of
 * the encoded parameters. Athena matches reusable results by query text, and does not document
 * whether ExecutionParameters take part; with the hash in the text, a result computed for one set
 * of parameters (one tenant's accounts) can never answer another set.
 */
export function reusableStatement(sql: string, parameters: readonly string[]): string {
  const hash = createHash('sha256').update(JSON.stringify(parameters)).digest('hex');
  return `/* trailql parameters sha256:${hash} */\n${sql}`;
}
