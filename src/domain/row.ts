/** One result row: column name (lower case, as aliased in SQL) to decoded value. */
export type Row = Record<string, string | number | boolean | null>;
