/**
 * What every trailql element shares: the endpoint, filter and token inputs, one request at a
 * time (a newer one aborts the older), and the loading, error and empty states.
 */
import { LitElement, PropertyDeclarations, PropertyValues, TemplateResult, css, html, nothing } from 'lit';
import { AnswerWarning, RequestFailure, TokenProvider, graphqlAnswer, parseFilter } from './client';

export const themeStyles = css`
  :host {
    display: block;
    font-family: var(--trailql-font, system-ui, sans-serif);
    font-size: var(--trailql-font-size, 14px);
    color: var(--trailql-fg, #1d2330);
    background: var(--trailql-bg, #ffffff);
    border: 1px solid var(--trailql-border, #d6dae3);
    border-radius: var(--trailql-radius, 6px);
    padding: var(--trailql-padding, 12px);
    box-sizing: border-box;
  }
  :host([hidden]) { display: none; }
  h2 { font-size: 1em; margin: 0 0 8px; font-weight: 600; }
  .status { padding: 16px 8px; color: var(--trailql-muted, #5b6475); }
  .error {
    padding: 10px 12px;
    border-left: 4px solid var(--trailql-error, #b42318);
    background: var(--trailql-error-bg, #fdf0ee);
    color: var(--trailql-fg, #1d2330);
  }
  .error code { font-weight: 600; color: var(--trailql-error, #b42318); }
  .warning {
    padding: 8px 12px;
    margin: 0 0 8px;
    border-left: 4px solid var(--trailql-warning, #b54708);
    background: var(--trailql-warning-bg, #fffaeb);
    color: var(--trailql-fg, #1d2330);
  }
  .warning code { font-weight: 600; color: var(--trailql-warning, #b54708); }
  .muted { color: var(--trailql-muted, #5b6475); }
  button { font: inherit; cursor: pointer; }
  button:focus-visible, a:focus-visible { outline: 2px solid var(--trailql-accent, #2f6fde); outline-offset: 1px; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

export type LoadState<T> =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'error'; failure: RequestFailure }
  /** `warnings`: what the answers shown say they lack. */
  | { kind: 'done'; data: T; warnings: readonly AnswerWarning[] };

export abstract class TrailqlElement<T> extends LitElement {
  static override properties: PropertyDeclarations = {
    endpoint: { type: String },
    filter: { attribute: 'filter' },
    token: { attribute: false },
    tokenProvider: { attribute: false },
    state: { state: true },
  };

  /** The GraphQL endpoint, e.g. https://trailql.example.com/graphql. */
  declare endpoint: string;
  /** An ApiCallFilter: JSON text as an attribute, or an object as a property. */
  declare filter: string | Record<string, unknown> | undefined;
  /** A bearer token; used for requests, never written anywhere. */
  declare token: string | undefined;
  /** Called before every request for the bearer token (takes precedence over `token`). */
  declare tokenProvider: TokenProvider | undefined;
  declare protected state: LoadState<T>;
  private inflight: AbortController | undefined;
  /** Where the answers of the load in progress put their warnings. */
  private collecting: AnswerWarning[] = [];

  constructor() {
    super();
    this.endpoint = '/graphql';
    this.state = { kind: 'idle' };
  }

  /** Properties whose change means asking again. */
  protected abstract readonly inputs: readonly string[];
  /** Runs the element's query; undefined means "nothing to ask yet". */
  protected abstract fetchData(filter: Record<string, unknown> | undefined, signal: AbortSignal): Promise<T> | undefined;

  protected override willUpdate(changed: PropertyValues): void {
    const keys = ['endpoint', 'filter', 'token', 'tokenProvider', ...this.inputs];
    if (keys.some((k) => changed.has(k))) void this.reload();
  }

  /** Asks again with the current inputs. */
  async reload(): Promise<void> {
    this.inflight?.abort();
    const abort = new AbortController();
    this.inflight = abort;
    const warnings: AnswerWarning[] = [];
    this.collecting = warnings;
    try {
      const pending = this.fetchData(parseFilter(this.filter), abort.signal);
      if (!pending) {
        this.state = { kind: 'idle' };
        return;
      }
      this.state = { kind: 'loading' };
      const data = await pending;
      if (!abort.signal.aborted) this.state = { kind: 'done', data, warnings };
    } catch (err) {
      if (abort.signal.aborted) return;
      const failure = err instanceof RequestFailure ? err : new RequestFailure(String(err), 'CLIENT_ERROR', null);
      this.state = { kind: 'error', failure };
    } finally {
      if (this.inflight === abort) {
        this.inflight = undefined;
        this.dispatchEvent(new CustomEvent('trailql-state', { detail: { state: this.state.kind }, bubbles: true, composed: true }));
      }
    }
  }

  protected async query<R>(query: string, variables: Record<string, unknown>, signal: AbortSignal): Promise<R> {
    const into = this.collecting;
    const answer = await graphqlAnswer<R>({ endpoint: this.endpoint, query, variables, signal, token: () => this.currentToken() });
    for (const w of answer.warnings) if (!into.some((x) => x.code === w.code && x.message === w.message)) into.push(w);
    return answer.data;
  }

  protected currentToken(): string | undefined | Promise<string | undefined> {
    return this.tokenProvider ? this.tokenProvider() : this.token;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.inflight?.abort();
  }

  /** Whatever was rendered, text from a trail included, shows its direction controls by name. */
  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    showDirectionControls(this.renderRoot);
  }

  /**
   * What the answers shown say they lack (files left out, Event history not synced), above the
   * data: an answer that is not whole must not look whole.
   */
  protected renderWarnings(): TemplateResult | typeof nothing {
    if (this.state.kind !== 'done' || this.state.warnings.length === 0) return nothing;
    return html`${this.state.warnings.map(
      (w) => html`<div class="warning" part="warning" role="status"><code class="code">${w.code}</code> Incomplete answer. ${w.message}</div>`,
    )}`;
  }

  /** The loading and error states, or `nothing` when there is data to show. */
  protected renderStatus(what: string): TemplateResult | typeof nothing {
    switch (this.state.kind) {
      case 'idle':
        return html`<div class="status" part="status">${what}: nothing to show yet.</div>`;
      case 'loading':
        return html`<div class="status" part="status" role="status" aria-live="polite">Loading ${what}…</div>`;
      case 'error': {
        const { failure } = this.state;
        return html`<div class="error" part="error" role="alert">
          <div><code class="code">${failure.code}</code> ${failure.message}</div>
          ${failure.requestId ? html`<div class="muted">Request id: <code class="request-id">${failure.requestId}</code></div>` : nothing}
        </div>`;
      }
      default:
        return nothing;
    }
  }
}

export const formatTime = (iso: string | null | undefined): string => (iso ? iso.replace('T', ' ').replace(/\.000Z$|Z$/, ' UTC') : '–');

/**
 * Unicode's direction controls (embeddings, overrides, isolates, marks). In text a trail holds
 * they would make what is shown differ from what is there: `user/\u202Enimda` displays as
 * `user/admin`. They are shown by name instead; the data (and what is asked with it) is unchanged.
 */
const DIRECTION_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
const DIRECTION_CONTROLS = new RegExp(DIRECTION_CONTROL.source, 'g');

export const withVisibleControls = (text: string): string =>
  text.replace(DIRECTION_CONTROLS, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);

/** The text nodes and the titles and labels under `root`, each with its direction controls named. */
export function showDirectionControls(root: Node): void {
  const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const text = node as Text;
    if (DIRECTION_CONTROL.test(text.data)) text.data = withVisibleControls(text.data);
  }
  for (const el of (root as ParentNode).querySelectorAll('[title], [aria-label]')) {
    for (const name of ['title', 'aria-label']) {
      const value = el.getAttribute(name);
      if (value !== null && DIRECTION_CONTROL.test(value)) el.setAttribute(name, withVisibleControls(value));
    }
  }
}
