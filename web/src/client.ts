/**
 * The components' GraphQL client: one POST per request, the token asked for at request time and
 * never kept, and every failure turned into a {@link RequestFailure} carrying the GraphQL error
 * code and the request id the service gave the response.
 */

/** Returns the bearer token to send, or undefined for none (dev mode). */
export type TokenProvider = () => string | undefined | Promise<string | undefined>;

export class RequestFailure extends Error {
  constructor(
    message: string,
    /** `extensions.code` of the first GraphQL error, or a client-side code (NETWORK_ERROR, BAD_FILTER_JSON, HTTP_<status>). */
    readonly code: string,
    /** `extensions.requestId` of the response (or its x-request-id header); null when the service never answered. */
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = 'RequestFailure';
  }
}

export interface GraphqlRequest {
  readonly endpoint: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly token: TokenProvider;
  readonly signal?: AbortSignal;
}

interface GraphqlBody {
  data?: unknown;
  errors?: { message?: string; extensions?: { code?: unknown } }[];
  extensions?: { requestId?: unknown; complete?: unknown; warnings?: unknown };
}

/** What an answer says it lacks (`extensions.warnings`): files left out, Event history not synced. */
export interface AnswerWarning {
  readonly code: string;
  readonly message: string;
}

/** The data of an answer, and what it says it lacks. */
export interface Answer<T> {
  readonly data: T;
  readonly warnings: readonly AnswerWarning[];
}

/** The warnings of a response's extensions, each with a code and a message (others are left out). */
export function warningsOf(extensions: GraphqlBody['extensions']): AnswerWarning[] {
  const list = Array.isArray(extensions?.warnings) ? (extensions.warnings as unknown[]) : [];
  const warnings = list.flatMap((w) => {
    const { code, message } = (w ?? {}) as { code?: unknown; message?: unknown };
    return typeof code === 'string' ? [{ code, message: typeof message === 'string' ? message : '' }] : [];
  });
  // An answer that says it is incomplete without saying why still says so.
  if (extensions?.complete === false && warnings.length === 0) warnings.push({ code: 'INCOMPLETE', message: 'The service says this answer is incomplete.' });
  return warnings;
}

export async function graphql<T>(request: GraphqlRequest): Promise<T> {
  return (await graphqlAnswer<T>(request)).data;
}

export async function graphqlAnswer<T>(request: GraphqlRequest): Promise<Answer<T>> {
  const token = await request.token();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(request.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: request.query, variables: request.variables }),
      signal: request.signal,
      credentials: 'omit',
    });
  } catch (err) {
    if (request.signal?.aborted) throw err;
    throw new RequestFailure(`Could not reach ${request.endpoint}.`, 'NETWORK_ERROR', null);
  }
  const headerId = res.headers.get('x-request-id');
  let body: GraphqlBody;
  try {
    body = (await res.json()) as GraphqlBody;
  } catch {
    throw new RequestFailure(`The service answered ${res.status} without a GraphQL response.`, `HTTP_${res.status}`, headerId);
  }
  const requestId = typeof body.extensions?.requestId === 'string' ? body.extensions.requestId : headerId;
  const first = body.errors?.[0];
  if (first) {
    const code = typeof first.extensions?.code === 'string' ? first.extensions.code : `HTTP_${res.status}`;
    throw new RequestFailure(first.message ?? 'The request failed.', code, requestId);
  }
  if (!res.ok || body.data == null) throw new RequestFailure(`The service answered ${res.status}.`, `HTTP_${res.status}`, requestId);
  return { data: body.data as T, warnings: warningsOf(body.extensions) };
}

/** The file name a `Content-Disposition` header gives (`attachment; filename="..."`), else `fallback`. */
export function fileNameOf(contentDisposition: string | null, fallback: string): string {
  const name = /filename="([^"/\\]+)"/.exec(contentDisposition ?? '')?.[1];
  return name && name.trim() ? name : fallback;
}

/** The filter attribute (JSON text) or property (an object) as an object; undefined when absent. */
export function parseFilter(filter: unknown): Record<string, unknown> | undefined {
  if (filter == null || filter === '') return undefined;
  if (typeof filter === 'object') return filter as Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(String(filter));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new RequestFailure('The filter attribute must be a JSON object (an ApiCallFilter).', 'BAD_FILTER_JSON', null);
}
