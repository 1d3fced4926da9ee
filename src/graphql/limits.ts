/**
 * Refuses queries that are too deep, too wide or too costly before any resolver runs, so no
 * engine query starts. Complexity counts connection sizes: a field taking `first: n` costs
 * n times its selection.
 */
import { createHash } from 'node:crypto';
import { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, getVariableValues, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { TooComplexError } from '../errors';
import { checkInputNesting } from './prevalidate';
import { checkSize, operationShape } from './shape';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxComplexity: number;
  readonly maxAliases: number;
  /** Page size assumed for connection fields asked without `first`. */
  readonly defaultPageSize: number;
  /** Larger `first` values are refused by the resolvers as bad input; they cost no more than this here. */
  readonly maxPageSize: number;
}

/** Cost of a field with `first`: its selection, `first` times; of a field with `ids` (`nodes`): its selection per id. */
function connectionEstimator(defaultSize: number, maxSize: number): ComplexityEstimator {
  return ({ args, childComplexity, field }) => {
    if (Array.isArray(args.ids)) return 1 + args.ids.length * Math.max(1, childComplexity);
    const takesFirst = field.args.some((a) => a.name === 'first');
    if (!takesFirst) return undefined;
    const n = typeof args.first === 'number' && args.first > 0 ? Math.min(args.first, maxSize) : defaultSize;
    return 1 + n * Math.max(1, childComplexity);
  };
}

export function checkLimits(schema: GraphQLSchema, doc: DocumentNode, operation: OperationDefinitionNode | undefined, variables: Record<string, unknown>, limits: QueryLimits): void {
  if (!operation) return;
  const { depth, aliases } = operationShape(doc, operation);
  if (depth > limits.maxDepth) throw new TooComplexError(`query depth ${depth} is over the limit of ${limits.maxDepth}`);
  if (aliases > limits.maxAliases) throw new TooComplexError(`${aliases} aliases is over the limit of ${limits.maxAliases}`);
  // Before the complexity estimate walks every field at every spread.
  checkSize(doc, operation);
  // Variables that do not coerce are the client's mistake, reported by execution as BAD_USER_INPUT.
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return;
  const complexity = getComplexity({
    schema,
    query: doc,
    operationName: operation.name?.value,
    variables,
    estimators: [connectionEstimator(limits.defaultPageSize, limits.maxPageSize), simpleEstimator({ defaultComplexity: 1 })],
  });
  if (complexity > limits.maxComplexity) {
    throw new TooComplexError(`query complexity ${complexity} is over the limit of ${limits.maxComplexity}; ask for smaller pages or fewer nested fields`);
  }
}

/** Verdicts kept per operation and variables of one parsed document (Apollo reuses the parsed document of a known query text). */
const VERDICTS_PER_DOCUMENT = 64;

/**
 * What a verdict is kept under: the operation and the values of the variables it declares (the
 * only ones the analysis reads; set or not, as a default applies only to one not set), hashed so a
 * kept verdict holds a few bytes whatever a request sends. Undefined when the values cannot be
 * written out (nested past what JSON.stringify can walk): the request is then analysed unkept.
 */
export function verdictKey(operation: OperationDefinitionNode | undefined, variables: Record<string, unknown>): string | undefined {
  const declared = (operation?.variableDefinitions ?? []).map((d) => {
    const name = d.variable.name.value;
    return Object.hasOwn(variables, name) ? [name, variables[name]] : [name];
  });
  try {
    return createHash('sha256').update(JSON.stringify([operation?.name?.value ?? null, declared])).digest('base64');
  } catch {
    return undefined;
  }
}

export function limitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  // The analysis depends on nothing but the document, the operation and the variables (the schema
  // and limits are fixed): its verdict is kept, so a repeated query is analysed once.
  const verdicts = new WeakMap<DocumentNode, Map<string, string | null>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          const variables = request.variables ?? {};
          // First: the analysis coerces the variables and reads the literals by recursion.
          checkInputNesting(document, operation, variables);
          const key = verdictKey(operation, variables);
          let known = verdicts.get(document);
          const kept = key === undefined ? undefined : known?.get(key);
          if (kept !== undefined) {
            if (kept !== null) throw new TooComplexError(kept);
            return;
          }
          let verdict: string | null = null;
          try {
            checkLimits(schema, document, operation, variables, limits);
          } catch (err) {
            if (!(err instanceof TooComplexError)) throw err;
            verdict = err.message;
          }
          if (key !== undefined) {
            if (!known) verdicts.set(document, (known = new Map()));
            if (known.size >= VERDICTS_PER_DOCUMENT) known.clear();
            known.set(key, verdict);
          }
          if (verdict !== null) throw new TooComplexError(verdict);
        },
      };
    },
  };
}
