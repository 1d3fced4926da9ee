/**
 * Checks a statement against what Trino (Athena engine v3) refuses and DuckDB lets pass, so the
 * Athena-on-DuckDB shim cannot prove a statement Athena would reject: the third-party Trino
 * grammar, implicit casts between text and numbers, and regular expressions whose meaning
 * differs between Java's engine (Trino) and RE2 (DuckDB).
 */
import { CLOUDTRAIL_COLUMNS } from '../../src/engines/athena/ddl';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser } = require('node-sql-parser/build/trino') as { Parser: new () => { astify(sql: string, opt: object): unknown } };

const parser = new Parser();

/** Varchar columns of the table (top level, and the partition columns). */
const VARCHAR_COLUMNS = new Set([...CLOUDTRAIL_COLUMNS.filter((c) => c.type === 'STRING').map((c) => c.name), 'region', 'timestamp', 'account']);
const NUMBER_TYPES = /^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|REAL|DOUBLE|DECIMAL)/i;
const NUMBER_FUNCTIONS = new Set(['length', 'strpos', 'count', 'row_number', 'bit_count']);
const TEXT_FUNCTIONS = new Set(['lower', 'upper', 'substr', 'lpad', 'split_part', 'replace', 'reverse', 'json_extract_scalar', 'json_format', 'concat']);
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/**
 * Constructs that Java's regex engine and RE2 read differently or that only one supports:
 * lookaround, backreferences, possessive and atomic forms, quoting, POSIX and Unicode classes,
 * named groups (spelt differently) and Java-only escapes.
 */
const UNPORTABLE_REGEX: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(\?<?[=!]/, 'lookaround'],
  [/\\[1-9]/, 'a backreference'],
  [/[*+?}]\+/, 'a possessive quantifier'],
  [/\(\?>/, 'an atomic group'],
  [/\\[QE]/, 'quoting with \\Q...\\E'],
  [/\[\[:/, 'a POSIX class'],
  [/\\[pP]\{/, 'a Unicode class'],
  [/\(\?P?</, 'a named group'],
  [/\\[hHRXGZ]/, 'an escape only Java knows'],
];

type Node = Record<string, unknown>;
type Kind = 'number' | 'varchar' | 'unknown';

/**
 * The statement as the grammar reads it alike: the IP types and `ARRAY(JSON)` are Trino's own (the
 * grammar knows no such names, nor any parameterised type, so they parse as VARCHAR), and a backslash in a text literal is only a character in
 * Trino, while the grammar reads it as an escape (`'x\'` would never end): it is doubled, which the
 * grammar reads back as one.
 */
export const forGrammar = (sql: string): string =>
  sql.replace(/ AS (IPADDRESS|IPPREFIX|ARRAY\(JSON\))\)/g, ' AS VARCHAR)').replace(/'(?:[^']|'')*'/g, (text) => text.replace(/\\/g, '\\\\'));

function functionName(n: Node): string {
  const name = n.name as { name?: Array<{ value?: string }> } | string | undefined;
  if (typeof name === 'string') return name.toLowerCase();
  return (name?.name?.map((p) => p.value ?? '').join('.') ?? '').toLowerCase();
}

function columnName(n: Node): string | undefined {
  if (n.type === 'double_quote_string') return String(n.value);
  if (n.type !== 'column_ref' || n.table) return undefined;
  const col = n.column as { expr?: { value?: string } } | string;
  return typeof col === 'string' ? col : col.expr?.value;
}

function kindOf(n: unknown): Kind {
  if (typeof n !== 'object' || n === null) return 'unknown';
  const node = n as Node;
  switch (node.type) {
    case 'number':
      return 'number';
    case 'single_quote_string':
      return 'varchar';
    case 'cast': {
      const target = (node.target as Array<{ dataType?: string }> | undefined)?.[0]?.dataType ?? '';
      return NUMBER_TYPES.test(target) ? 'number' : /^(VARCHAR|CHAR)/i.test(target) ? 'varchar' : 'unknown';
    }
    case 'binary_expr':
      if (['+', '-', '*', '/', '%'].includes(String(node.operator))) return 'number';
      return node.operator === '||' ? 'varchar' : 'unknown';
    case 'function':
    case 'aggr_func': {
      const name = functionName(node);
      return NUMBER_FUNCTIONS.has(name) ? 'number' : TEXT_FUNCTIONS.has(name) ? 'varchar' : 'unknown';
    }
    default: {
      const column = columnName(node);
      return column !== undefined && VARCHAR_COLUMNS.has(column.toLowerCase()) ? 'varchar' : 'unknown';
    }
  }
}

const clash = (a: Kind, b: Kind): boolean => (a === 'number' && b === 'varchar') || (a === 'varchar' && b === 'number');

function walk(n: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(n)) for (const item of n) walk(item, visit);
  else if (typeof n === 'object' && n !== null) {
    visit(n as Node);
    for (const v of Object.values(n)) walk(v, visit);
  }
}

/** Why a regular expression is not read alike by Trino and DuckDB, or undefined when it is. */
export function unportableRegex(pattern: string): string | undefined {
  return UNPORTABLE_REGEX.find(([re]) => re.test(pattern))?.[1];
}

/**
 * Throws when `sql` (parameters already substituted) would not parse with the Trino grammar,
 * compares or concatenates text with a number without a cast, or uses a regular expression that
 * is not a literal both engines read alike.
 */
export function checkTrinoStatement(sql: string): void {
  let ast: unknown;
  try {
    ast = parser.astify(forGrammar(sql), { database: 'trino' });
  } catch (err) {
    throw new Error(`not Trino SQL: ${(err as Error).message.slice(0, 300)}`);
  }
  walk(ast, (node) => {
    if (node.type === 'binary_expr') {
      const op = String(node.operator).toUpperCase();
      const left = kindOf(node.left);
      const right = node.right as Node;
      const others = op === 'BETWEEN' || op === 'NOT BETWEEN' || op === 'IN' || op === 'NOT IN' ? ((right?.value as unknown[]) ?? []) : [right];
      if ((COMPARISONS.has(op) || op.endsWith('BETWEEN') || op.endsWith('IN')) && others.some((o) => clash(left, kindOf(o)))) {
        throw new Error(`Trino has no implicit cast between varchar and numbers: ${op} in ${sql.slice(0, 200)}`);
      }
      if (op === '||' && (left === 'number' || kindOf(right) === 'number')) {
        throw new Error('Trino does not concatenate numbers with ||: cast them to varchar');
      }
    }
    if (node.type === 'function' && ['regexp_like', 'regexp_extract'].includes(functionName(node))) {
      const pattern = ((node.args as Node | undefined)?.value as Node[] | undefined)?.[1];
      if (pattern?.type !== 'single_quote_string') throw new Error('a regular expression must be a literal the shim can check');
      const why = unportableRegex(String(pattern.value));
      if (why) throw new Error(`regular expression ${String(pattern.value)} uses ${why}, which Trino and DuckDB read differently`);
    }
  });
}
