/**
 * The explicit schema DuckDB reads CloudTrail records with: CloudTrail's own key spelling (JSON
 * keys match case-sensitively), the Athena table's types. Objects whose shape varies by service
 * (requestParameters, ...) stay JSON text, so a value that changes type between records, a missing
 * key or a null never fails a read or drops a record. Scalars declared VARCHAR keep any JSON value
 * as its text.
 */
import { CLOUDTRAIL_RECORD, type FieldKind, type RecordField } from '../../domain/record-model';

type FieldType = string | readonly [FieldType] | { readonly [key: string]: FieldType };

/** DuckDB's type for a field of the record model: scalars VARCHAR, varying objects JSON. */
function fieldType(kind: FieldKind): FieldType {
  if (kind === 'text') return 'VARCHAR';
  if (kind === 'json' || kind === 'textMap') return 'JSON';
  if ('listOf' in kind) return [fieldType(kind.listOf)];
  return structOf(kind.fields);
}

function structOf(fields: readonly RecordField[]): { readonly [key: string]: FieldType } {
  return Object.fromEntries(fields.map((f) => [f.name, fieldType(f.kind)]));
}

/** The record's structure, from the engine-free record model. */
const RECORD = structOf(CLOUDTRAIL_RECORD);

function typeText(t: FieldType): string {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return `${typeText(t[0])}[]`;
  return `STRUCT(${Object.entries(t).map(([k, v]) => `"${k}" ${typeText(v)}`).join(', ')})`;
}

/** The `columns` argument of read_json for a `{"Records":[...]}` file. */
export const RECORDS_COLUMNS = `{'Records': '${typeText(RECORD).replace(/'/g, "''")}[]'}`;

/** The record's top-level columns, in the order the JSON source yields them (CloudTrail's spelling). */
export const RECORD_COLUMN_NAMES: readonly string[] = Object.keys(RECORD);

/**
 * The columns of the engine's source (JSON reader and Parquet store alike): the record's, with
 * eventTime in canonical UTC, eventID never NULL (a synthetic one when the record has none),
 * eventTimeRaw, eventTime's original text, and sourceFile, the key of the delivery file the record
 * came from (see dialect.ts `jsonRecords`).
 */
export const SOURCE_COLUMN_NAMES: readonly string[] = [...RECORD_COLUMN_NAMES, 'eventTimeRaw', 'sourceFile'];

const kept = (names: readonly string[] | undefined) => (names ? Object.fromEntries(Object.entries(RECORD).filter(([k]) => names.includes(k))) : RECORD);

/**
 * The record schema (or only some top-level columns of it) as the structure `json_transform`
 * takes: the same fields and types as `RECORDS_COLUMNS`, for records read as JSON first.
 */
export function recordStructure(names?: readonly string[]): string {
  const structure = (t: FieldType): unknown => {
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) return [structure(t[0])];
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, structure(v as FieldType)]));
  };
  return JSON.stringify(structure(kept(names)));
}
