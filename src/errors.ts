import { GraphQLError } from 'graphql';

/**
 * Errors that reach GraphQL clients. Each carries a stable `extensions.code`; clients branch on
 * the code, never on the message.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'BAD_REQUEST'
  | 'STALE_CURSOR'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'QUERY_TOO_COMPLEX'
  | 'ENGINE_ERROR'
  | 'ENGINE_TIMEOUT'
  | 'TRAIL_UNAVAILABLE'
  | 'ENGINE_BUSY'
  | 'ENGINE_BUDGET_EXHAUSTED'
  | 'SHUTTING_DOWN'
  | 'INTERNAL_SERVER_ERROR';

/** HTTP status of a response refused with each code; codes not listed leave the status to Apollo. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  QUERY_TOO_COMPLEX: 400,
  STALE_CURSOR: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
};

export class TrailqlError extends GraphQLError {
  constructor(message: string, code: ErrorCode, extra: Record<string, unknown> = {}) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...extra, ...(status ? { http: { status } } : {}) } });
  }
}

/** The caller sent something we will not run: bad window, cursor, enum, page size, ... */
export class BadInputError extends TrailqlError {
  constructor(message: string, field?: string) {
    super(message, 'BAD_USER_INPUT', field ? { field } : {});
  }
}

/**
 * A grouped walk's later page whose list is kept no longer and now reads otherwise (late deliveries
 * moved its groups): cut from the new list it could meet a group twice or never. Start again.
 */
export class StaleCursorError extends TrailqlError {
  constructor(connection: string) {
    super(
      `invalid cursor: the ${connection} list this walk began on is no longer kept (WALK_KEEP_SECONDS) and has changed since (late deliveries moved its entries); start again without "after"`,
      'STALE_CURSOR',
      { field: 'after' },
    );
  }
}

/** An operation the service does not serve: it only reads (queries), nothing to change or subscribe to. */
export class NotAQueryError extends TrailqlError {
  constructor(kind: string) {
    super(`${kind} operations are not served: trailql only reads the trail (send a query)`, 'BAD_REQUEST');
  }
}

export class ForbiddenError extends TrailqlError {
  constructor(message: string) {
    super(message, 'FORBIDDEN');
  }
}

export class TooComplexError extends TrailqlError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, 'QUERY_TOO_COMPLEX', extra);
  }
}

/**
 * Refusals that are no fault of the query: the engine's queue is full or waited too long, or the
 * service is shutting down. The response is HTTP 503 with `Retry-After` (src/app.ts).
 */
export class UnavailableError extends TrailqlError {
  constructor(
    message: string,
    code: 'ENGINE_BUSY' | 'SHUTTING_DOWN',
    readonly retryAfterSeconds: number,
  ) {
    super(message, code, { retryAfterSeconds });
  }
}

/**
 * The request spent its engine budget: the queries still running were cancelled. The cost report
 * lists every query, the cancelled ones too.
 */
export class BudgetExhaustedError extends TrailqlError {
  constructor(resource: string, limit: number, spent: number) {
    super(`this request used up its ${resource} budget (${limit}); ask for less in one request`, 'ENGINE_BUDGET_EXHAUSTED', { resource, limit, spent: Math.round(spent) });
  }
}

/**
 * A failure inside an engine. `userError` is true when the engine blamed the query (syntax, bad
 * cast, ...) rather than itself; such errors are not retried. The message stays in the log: the
 * client sees a generic text and the request id.
 */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly engine: string,
    /** `bytesScanned`: what a failed or cancelled query had scanned (billed all the same), when the engine says. */
    readonly options: { userError?: boolean; retryable?: boolean; timeout?: boolean; cause?: unknown; queryId?: string; bytesScanned?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
  }
}

/**
 * The trail itself cannot be read (its folder or `AWSLogs/` is missing): not an empty trail.
 * Answered with `TRAIL_UNAVAILABLE` and HTTP 503 (graphql-js copies `extensions` from the original
 * error, and Apollo takes the status from them); nothing is cached from it.
 */
export class TrailUnavailableError extends EngineError {
  readonly extensions = { code: 'TRAIL_UNAVAILABLE', http: { status: 503 } };
  constructor(message: string, engine: string) {
    super(message, engine, { retryable: true });
    this.name = 'TrailUnavailableError';
  }
}
