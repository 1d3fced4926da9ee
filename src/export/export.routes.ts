/**
 * Downloads: `GET /export/api-calls?format=csv|ndjson&filter=<ApiCallFilter JSON>` and `POST
 * /export/api-calls` with `{ "format": ..., "filter": {...} }`. Every page is read by running the
 * `apiCalls` query of the GraphQL schema with a request context made exactly as for /graphql, so a
 * download has the caller's authentication, scope, payload withholding, window and page limits,
 * and its filter the same checks and coded errors. Pages (keyset, newest first) are written as they
 * arrive, so memory holds one page; a client that goes away aborts the engine query in flight and
 * stops the walk.
 *
 * A download says what it holds, as a GraphQL answer does: the first page counts the window's calls
 * (`x-trailql-total-count`) and so meets every file of the window; files that cannot be read are
 * left out, and the headers say so (`x-trailql-complete: false`, `x-trailql-unreadable-files`,
 * `_incomplete` in the file name); so do they when Event history has not been synced over the whole
 * window (`x-trailql-warnings` names what is lacking). The trailers give the rows written and the
 * completeness at the end. A file found unreadable only after the headers were sent cuts the download, which would
 * otherwise claim more than it holds.
 */
import express from 'express';
import { DocumentNode, ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema, execute, parse } from 'graphql';
import { stringify } from 'csv-stringify/sync';
import { RequestContext } from '../graphql/context';
import { BadInputError } from '../errors';
import { EXPLAIN_HEADER, wantsExplain } from '../query/explain';
import { checkInputDepth } from '../query/guards';
import { UnreadableFile } from '../query/engine';
import { FILES_UNREADABLE, RequestSpending, unreadableFiles } from '../query/runner';
import { HISTORY_EVENTS_LEFT_OUT, HISTORY_NOT_SYNCED, HistoryCoverage, HistoryGap, HistoryLeftOut } from '../history/coverage';
import { Logger } from '../logger';
import { requestIdOf } from '../ops/request-log';
import { fileStamp } from '../trail/layout';
import { CSV_COLUMNS, EXPORT_PAGE_QUERY, ExportedCall, csvRow, ndjsonLine } from './columns';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportDeps {
  readonly schema: GraphQLSchema;
  /**
   * The same context factory /graphql uses: authentication, scope, runner, services. `spentSoFar`:
   * a later page of a download whose first page ran: one download is one request, its pages
   * spending one engine-time (and scan) budget, and its queries go ahead of new requests'.
   */
  readonly context: (req: express.Request, requestId: string, signal: AbortSignal, spentSoFar?: RequestSpending) => Promise<RequestContext>;
  /** The same error formatting as GraphQL responses (codes kept, engine errors masked). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Rows asked for per page (the configured maximum page size). */
  readonly maxPageSize: number;
  readonly logger: Logger;
  /** What Event history has put on disk, when the trail folder is filled by it. */
  readonly history?: Pick<HistoryCoverage, 'report' | 'during'>;
  /** The caller's authentication, as /graphql checks it (a GraphQLError with its code when refused). */
  readonly authenticate: (req: express.Request) => Promise<unknown>;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** The HTTP status of a refusal, by error code: as /graphql answers them. */
const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  // The first page alone needs more engine time than one request may use: ask for less.
  ENGINE_BUDGET_EXHAUSTED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  ENGINE_TIMEOUT: 504,
  ENGINE_BUSY: 503,
  SHUTTING_DOWN: 503,
  TRAIL_UNAVAILABLE: 503,
};

/** RFC 4180: records end in CRLF. An empty text is quoted (`""`), a null left empty: what PostgreSQL's and DuckDB's CSV readers tell apart. */
const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /^$/ } as const;

/** Refusals a client may retry later: answered with a `Retry-After`. */
const RETRY_LATER = new Set(['ENGINE_BUSY', 'SHUTTING_DOWN']);

/** What a download's headers and trailers say of it. */
export const EXPORT_HEADERS = {
  totalCount: 'x-trailql-total-count',
  complete: 'x-trailql-complete',
  unreadableFiles: 'x-trailql-unreadable-files',
  /** The codes of what the download lacks, as a GraphQL answer's warnings name them. */
  warnings: 'x-trailql-warnings',
  rows: 'x-trailql-rows',
} as const;

/** The parameters a download takes; any other is a mistake the client would not see otherwise. */
const PARAMETERS: ReadonlySet<string> = new Set(['format', 'filter']);

interface Page {
  totalCount?: number;
  window: { from: string; to: string };
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: ExportedCall }[];
  /** Files the page's statements left out because they cannot be read. */
  unreadable: UnreadableFile[];
  /** Regions whose Event history does not reach over the window (read for the first page only). */
  gaps: HistoryGap[];
  /** Event history events of the window the sync could not write (read for the first page only). */
  historyLeftOut: HistoryLeftOut[];
}

/** A refusal or failure already formatted for the client, with its HTTP status. */
class ExportFailure extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly GraphQLFormattedError[],
    /** Headers the refusal comes with (a 401's `WWW-Authenticate`), as /graphql sends them. */
    readonly headers: ReadonlyMap<string, string> = new Map(),
  ) {
    super(errors[0]?.message ?? 'export failed');
  }
}

/**
 * An error as the client of a download sees it: what GraphQL would answer, without what only
 * served the /graphql response (its HTTP status and headers, which the download's own carry) or
 * pointed into the page query the client never sent (locations, path).
 */
function clientError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const { http: _http, ...extensions } = formatted.extensions ?? {};
  return { message: formatted.message, ...(Object.keys(extensions).length ? { extensions } : {}) };
}

/** The HTTP headers a GraphQL error asks for (`extensions.http.headers`). */
function httpHeaders(err: GraphQLError): ReadonlyMap<string, string> {
  const headers = (err.extensions?.http as { headers?: unknown } | undefined)?.headers;
  return headers instanceof Map ? (headers as Map<string, string>) : new Map();
}

/** The budgets a download's pages spend, carried from each page's runner to the next's. */
interface Spending {
  soFar?: RequestSpending;
}

/**
 * Ends a download cut midway so that every client sees it cut: a reset connection. Closing it
 * would not do for an HTTP/1.0 client (nginx's proxy default), whose body ends with the connection:
 * a closed one reads as a whole file.
 */
function cut(res: express.Response, failure: Error): void {
  const socket = res.socket;
  if (socket && !socket.destroyed) socket.resetAndDestroy();
  res.destroy(failure);
}

function badInput(message: string, field: string): ExportFailure {
  return new ExportFailure(400, [{ message, extensions: { code: 'BAD_USER_INPUT', field } }]);
}

/**
 * The file name of a download: what it holds and which window, e.g.
 * `api-calls_20260301T0000Z_20260302T0000Z.csv`; `_incomplete` before the extension when files of
 * the window could not be read (a browser saving it shows no header).
 */
export function exportFileName(window: { from: string; to: string }, format: ExportFormat, complete = true): string {
  return `api-calls_${fileStamp(new Date(window.from))}_${fileStamp(new Date(window.to))}${complete ? '' : '_incomplete'}.${format}`;
}

/** Reads format and filter from the query string (GET) or the JSON body (POST). */
function exportRequest(req: express.Request): { format: ExportFormat; filter: unknown } {
  // express.json leaves no body for another content type: a form or text body is not read as no filter.
  if (req.method === 'POST' && req.body === undefined) throw badInput('the body must be JSON, sent with Content-Type: application/json', 'body');
  const source: Record<string, unknown> = req.method === 'POST' ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
  if (typeof source !== 'object' || source === null || Array.isArray(source)) throw badInput('the body must be a JSON object', 'body');
  const unknown = Object.keys(source).filter((k) => !PARAMETERS.has(k));
  if (unknown.length) throw badInput(`unknown parameter${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}: a download takes format and filter`, unknown[0]!);
  const format = source.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') throw badInput('format: must be "csv" or "ndjson"', 'format');
  let filter: unknown = source.filter ?? null;
  if (req.method !== 'POST' && filter !== null) {
    if (typeof filter !== 'string') throw badInput('filter: give it once, as URL-encoded JSON', 'filter');
    try {
      filter = JSON.parse(filter) as unknown;
    } catch {
      throw badInput('filter: not valid JSON', 'filter');
    }
  }
  if (filter !== null && (typeof filter !== 'object' || Array.isArray(filter))) throw badInput('filter: must be a JSON object (an ApiCallFilter)', 'filter');
  // Refused before a page coerces it: coercion and type-graphql's conversion recurse once per level.
  try {
    checkInputDepth(filter, 'filter');
  } catch (err) {
    if (err instanceof BadInputError) throw badInput(err.message, 'filter');
    throw err;
  }
  return { format, filter };
}

/** Waits until the response can take more, or the client has gone. */
function drained(res: express.Response, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

export function exportRoutes(deps: ExportDeps): express.Router {
  const document: DocumentNode = parse(EXPORT_PAGE_QUERY);
  const router = express.Router();

  /**
   * One page through the schema; errors formatted as GraphQL formats them, with a status. The page
   * gets its own signal, aborted with the download's: signals derived from a signal
   * (`AbortSignal.any`, as the runner makes for itself and each query) stay registered with it
   * until it aborts, so derived from the download's own they would pile up page after page.
   */
  async function page(req: express.Request, requestId: string, signal: AbortSignal, filter: unknown, after: string | null, spending: Spending): Promise<Page> {
    let result: ExecutionResult;
    let unreadable: UnreadableFile[] = [];
    let gaps: HistoryGap[] = [];
    let historyLeftOut: HistoryLeftOut[] = [];
    const pageAbort = new AbortController();
    const abortPage = () => pageAbort.abort(signal.reason);
    if (signal.aborted) abortPage();
    else signal.addEventListener('abort', abortPage, { once: true });
    let contextValue: RequestContext | undefined;
    try {
      contextValue = await deps.context(req, requestId, pageAbort.signal, spending.soFar);
      spending.soFar = contextValue.runner.spending;
      result = await execute({ schema: deps.schema, document, contextValue, variableValues: { filter, first: deps.maxPageSize, after, withTotal: after === null } });
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      result = { errors: [err] };
    } finally {
      signal.removeEventListener('abort', abortPage);
      // The page is answered: engine work it left running is not needed.
      await contextValue?.runner.finish();
      if (contextValue) {
        unreadable = unreadableFiles(contextValue.runner.reports);
        // What Event history lacks is told once, in the headers: the first page's statements read the whole window.
        if (after === null && deps.history) ({ gaps, leftOut: historyLeftOut } = deps.history.report(contextValue.runner.compiled));
      }
    }
    if (result.errors?.length) {
      // Without data, the variables did not fit ApiCallFilter: the caller's input, as GraphQL says too.
      const request = result.data === undefined;
      const errors = result.errors.map((e) =>
        request && !e.path && !e.extensions?.code ? { message: e.message, extensions: { code: 'BAD_USER_INPUT' } } : clientError(deps.formatError(e.toJSON(), e)),
      );
      // A client that went away stopped the page's statements: no failure of the service.
      if (signal.aborted) deps.logger.info({ requestId }, 'export page stopped: the client went away');
      else for (const e of result.errors) if (!e.extensions?.code && e.path) deps.logger.error({ requestId, err: e.originalError ?? e }, 'export page failed');
      const code = String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
      throw new ExportFailure(STATUS[code] ?? 500, errors);
    }
    return { ...(result.data as { apiCalls: Omit<Page, 'unreadable' | 'gaps' | 'historyLeftOut'> }).apiCalls, unreadable, gaps, historyLeftOut };
  }

  const handler: express.RequestHandler = async (req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let started = false;
    try {
      // Who asks first, as on /graphql: a client without credentials learns nothing of its input.
      await deps.authenticate(req).catch((err: unknown) => {
        if (!(err instanceof GraphQLError)) throw err;
        const formatted = deps.formatError(err.toJSON(), err);
        throw new ExportFailure(STATUS[String(formatted.extensions?.code)] ?? 401, [clientError(formatted)], httpHeaders(err));
      });
      // A preview runs no statement: its download would be an empty file that looks like a real one.
      if (wantsExplain(req)) throw badInput(`${EXPLAIN_HEADER} previews /graphql requests; a download runs its statements`, EXPLAIN_HEADER);
      const { format, filter } = exportRequest(req);
      // The first page is read before anything is sent, so a refusal is a plain 4xx JSON answer;
      // it counts the window's calls, which reads every file the download will.
      const spending: Spending = {};
      let current = await page(req, requestId, abort.signal, filter, null, spending);
      const leftOut = new Set(current.unreadable.map((f) => f.path));
      const warnings = [
        ...(leftOut.size ? [FILES_UNREADABLE] : []),
        ...(current.gaps.length ? [HISTORY_NOT_SYNCED] : []),
        ...(current.historyLeftOut.length ? [HISTORY_EVENTS_LEFT_OUT] : []),
      ];
      const complete = warnings.length === 0;
      const totalCount = current.totalCount ?? 0;
      res.status(200);
      res.setHeader('content-type', CONTENT_TYPES[format]);
      res.setHeader('content-disposition', `attachment; filename="${exportFileName(current.window, format, complete)}"`);
      res.setHeader('cache-control', 'no-store');
      res.setHeader(EXPORT_HEADERS.totalCount, String(totalCount));
      res.setHeader(EXPORT_HEADERS.complete, String(complete));
      res.setHeader(EXPORT_HEADERS.unreadableFiles, String(leftOut.size));
      if (warnings.length) res.setHeader(EXPORT_HEADERS.warnings, warnings.join(', '));
      // Trailers ride on a chunked body: not for HTTP/1.0 clients (nginx's proxy default) nor HEAD.
      const head = req.method === 'HEAD';
      const trailers = !head && (req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1));
      if (trailers) res.setHeader('trailer', `${EXPORT_HEADERS.rows}, ${EXPORT_HEADERS.complete}`);
      if (leftOut.size) deps.logger.warn({ requestId, unreadableFiles: [...leftOut] }, 'download leaves out files that cannot be read');
      started = true;
      // HEAD asks for the headers: they are known after the first page.
      if (head) return void res.end();
      if (format === 'csv') res.write(stringify([CSV_COLUMNS.map((c) => c.header)], CSV_OPTIONS));
      let rows = 0;
      for (;;) {
        const nodes = current.edges.map((e) => e.node);
        rows += nodes.length;
        const text = format === 'csv' ? stringify(nodes.map(csvRow), CSV_OPTIONS) : nodes.map(ndjsonLine).join('');
        if (text && !res.write(text)) await drained(res, abort.signal);
        if (abort.signal.aborted || !current.pageInfo.hasNextPage || !current.pageInfo.endCursor) break;
        current = await page(req, requestId, abort.signal, filter, current.pageInfo.endCursor, spending);
        const more = current.unreadable.filter((f) => !leftOut.has(f.path));
        if (more.length) {
          deps.logger.warn({ requestId, unreadableFiles: more.map((f) => f.path) }, 'download cut: files became unreadable after its headers were sent');
          throw new ExportFailure(500, [{ message: 'trail files became unreadable during the download', extensions: { code: FILES_UNREADABLE } }]);
        }
      }
      if (abort.signal.aborted) return;
      // Fewer calls than the headers counted: files of the window went away while it ran (removed,
      // moved), and the file must not end as if whole. Or calls were delivered between the first
      // page and its count, newer than the page: counted again, those are still there.
      if (rows < totalCount && ((await page(req, requestId, abort.signal, filter, null, spending)).totalCount ?? 0) < totalCount) {
        deps.logger.warn({ requestId, rows, totalCount }, 'download cut: trail files went away after its headers were sent');
        throw new ExportFailure(500, [{ message: `${rows} of the ${totalCount} calls counted could be written: trail files went away during the download`, extensions: { code: FILES_UNREADABLE } }]);
      }
      if (trailers) res.addTrailers({ [EXPORT_HEADERS.rows]: String(rows), [EXPORT_HEADERS.complete]: String(complete) });
      res.end();
    } catch (err) {
      const failure = err instanceof ExportFailure ? err : new ExportFailure(500, [{ message: 'Internal error. Quote the request id when reporting it.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      if (!(err instanceof ExportFailure)) deps.logger.error({ requestId, err }, 'export failed');
      if (abort.signal.aborted) return;
      // Mid-stream, the status is gone: cut the connection so the download is visibly incomplete.
      if (started) {
        deps.logger.warn({ requestId, code: failure.errors[0]?.extensions?.code }, 'download cut');
        return void cut(res, failure);
      }
      for (const [name, value] of failure.headers) res.setHeader(name, value);
      const code = String(failure.errors[0]?.extensions?.code ?? '');
      if (RETRY_LATER.has(code)) res.setHeader('retry-after', String(Number(failure.errors[0]?.extensions?.retryAfterSeconds) || 1));
      res.status(failure.status).json({ errors: failure.errors, extensions: { requestId } });
    }
  };

  // What Event history had synced is taken before the download reads a file (HistoryCoverage.during).
  const history = deps.history;
  const download: express.RequestHandler = history ? (req, res, next) => history.during(() => handler(req, res, next)) : handler;
  router.get('/api-calls', download);
  router.post('/api-calls', express.json({ limit: '256kb' }), download);
  // Downloads only read: any other method is refused as such, in JSON like every refusal here.
  router.all('/api-calls', (req, res) => {
    res.setHeader('allow', 'GET, HEAD, POST');
    res.status(405).json({ errors: [{ message: `${req.method} is not a method of /export/api-calls: GET (or HEAD) with query parameters, or POST with a JSON body`, extensions: { code: 'BAD_REQUEST' } }], extensions: { requestId: requestIdOf(req) } });
  });
  return router;
}
