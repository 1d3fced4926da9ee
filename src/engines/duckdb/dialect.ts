import { PartitionSpec } from '../engine';
import { CompileContext, Dialect } from '../../query/compiler';
import { RECORDS_COLUMNS, RECORD_COLUMN_NAMES } from './record-schema';

/**
 * One row per record of the `{"Records":[...]}` files in `fileList` (a list expression or `?`),
 * with the CloudTrail record's columns.
 */
export function jsonRecords(fileList: string): string {
  return (
    `(SELECT unnest(r) FROM (SELECT unnest("Records") AS r FROM read_json(${fileList}, columns = ${RECORDS_COLUMNS}, ` +
    `format = 'unstructured', maximum_object_size = 1073741824)))`
  );
}

/**
 * The same rows from Parquet files written by `compact` (see parquet-store.ts): the same columns,
 * named and typed alike and in the same order, so the two can be combined with UNION ALL.
 */
export function parquetRecords(fileList: string): string {
  const columns = RECORD_COLUMN_NAMES.map((c) => `"${c}"`).join(', ');
  return `(SELECT ${columns} FROM read_parquet(${fileList}, hive_partitioning = false))`;
}

/** The FROM item every DuckDB statement reads: the JSON files the driver binds to its first `?`. */
export const JSON_SOURCE = `${jsonRecords('?')} AS trail`;

/**
 * The FROM item when the driver serves some days from the Parquet store: the Parquet files bound
 * to the first `?`, the JSON files of the other days to the second (when there are any).
 */
export function columnarSource(withJson: boolean): string {
  return withJson
    ? `(SELECT * FROM ${parquetRecords('?')} UNION ALL SELECT * FROM ${jsonRecords('?')}) AS trail`
    : `${parquetRecords('?')} AS trail`;
}

/**
 * DuckDB over a local folder in the S3 layout. The source reads the files the driver lists for the
 * plan's partitions: the first `?` of every DuckDB statement is that file list, bound by the
 * driver (which may swap the source for `columnarSource` when the Parquet store holds some of the
 * days). Each record becomes one row with the CloudTrail table's columns (DuckDB resolves the
 * lower-case names case-insensitively).
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  source(_ctx: CompileContext, _partitions: PartitionSpec): string {
    return JSON_SOURCE;
  },
  partitionPredicates: () => [],
  jsonText: (of, path) =>
    `CASE WHEN json_type(${of}, ${path}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(${of}, ${path}) END`,
  regexpLike: (of, pattern) => `regexp_matches(${of}, ${pattern})`,
  toJson: (of) => `CAST(to_json(${of}) AS VARCHAR)`,
  distinctValues: (of, limit) =>
    `CAST(to_json(list_slice(list_sort(list(DISTINCT ${of}) FILTER (WHERE ${of} IS NOT NULL)), 1, ${limit})) AS VARCHAR)`,
};
