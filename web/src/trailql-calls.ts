/**
 * `<trailql-calls>`: the calls matching a filter, one page at a time with the connection's
 * keyset cursors, each row expandable to the whole call, with CSV and NDJSON download links.
 * Events out: `trailql-caller-select` ({ key }) when a caller is clicked.
 */
import { css, html, nothing, PropertyValues } from 'lit';
import { TrailqlElement, formatTime, themeStyles } from './base';
import { AnswerWarning, RequestFailure, fileNameOf } from './client';

export interface CallRow {
  eventId: string;
  eventTime: string;
  action: string;
  eventSource: string;
  account: string | null;
  region: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  readOnly: boolean | null;
  userAgent: string | null;
  sourceIpAddress: string | null;
  sourceIp: { address: string; kind: string } | null;
  caller: {
    key: string;
    arn: string | null;
    principal: string;
    category: string;
    identityType: string;
    accessKeyId: string | null;
    mfaAuthenticated: boolean | null;
    invokedBy: string | null;
  };
  iotEventsResources: { kind: string; name: string }[];
  resources: { arn: string | null; type: string | null; accountId: string | null }[];
  requestParameters: unknown;
}
interface CallsPage {
  apiCalls: {
    window: { from: string; to: string };
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: CallRow }[];
  };
}

const QUERY = `query TrailqlCalls($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    window { from to }
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      eventId eventTime action eventSource account region errorCode errorMessage readOnly userAgent sourceIpAddress
      sourceIp { address kind }
      caller { key arn principal category identityType accessKeyId mfaAuthenticated invokedBy }
      iotEventsResources { kind name }
      resources { arn type accountId }
      requestParameters
    } }
  }
}`;

/** `arn:aws:iam::111122223333:role/ops` -> `111122223333 role/ops`; other names as they are. */
export function shortName(principal: string): string {
  const m = /^arn:aws[\w-]*:[\w-]+::(\d{12}):(.+)$/.exec(principal);
  return m ? `${m[1]} ${m[2]}` : principal;
}

export class TrailqlCalls extends TrailqlElement<CallsPage> {
  static override properties = {
    pageSize: { type: Number, attribute: 'page-size' },
    exportEndpoint: { type: String, attribute: 'export-endpoint' },
    order: { state: true },
    expanded: { state: true },
    page: { state: true },
    downloadFailure: { state: true },
    downloadWarning: { state: true },
  };
  static override styles = [
    themeStyles,
    css`
      :host { overflow-x: auto; }
      .bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
      .bar .spacer { flex: 1; }
      table { width: 100%; border-collapse: collapse; table-layout: fixed; min-width: 640px; }
      col.c-toggle { width: 2em; } col.c-time { width: 13.5em; } col.c-action { width: 20%; } col.c-source { width: 22%; } col.c-result { width: 8em; }
      th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--trailql-border, #d6dae3); vertical-align: top; }
      th { font-weight: 600; white-space: nowrap; }
      td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
      tr.detail td { background: var(--trailql-detail-bg, #f6f8fb); }
      .toggle, .link { background: none; border: 0; padding: 0 2px; color: var(--trailql-accent, #2f6fde); }
      .link { text-align: left; }
      td.who, td.src { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      td.act { overflow-wrap: anywhere; }
      .toggle { width: 1.6em; }
      .err { color: var(--trailql-error, #b42318); font-weight: 600; }
      .ok { color: var(--trailql-ok, #2b8a3e); }
      dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; }
      dt { color: var(--trailql-muted, #5b6475); }
      /* A value of any length (a 200,000-character user agent) scrolls in a box of its own. */
      dd { margin: 0; overflow-wrap: anywhere; max-height: 16em; overflow: auto; }
      pre { margin: 0; white-space: pre-wrap; font-size: 0.9em; }
      .pager button, a.download { border: 1px solid var(--trailql-border, #d6dae3); border-radius: 4px; background: var(--trailql-bg, #fff); color: var(--trailql-fg, #1d2330); padding: 3px 10px; text-decoration: none; }
      .pager button[disabled] { opacity: 0.5; cursor: default; }
    `,
  ];

  /** Rows per page (the service caps it). */
  declare pageSize: number;
  /** Export endpoint; default `/export/api-calls` next to `endpoint`. */
  declare exportEndpoint: string | undefined;
  /** Order of the rows shown: the service's newest first, or the same page reversed. */
  declare protected order: 'desc' | 'asc';
  /** Rows whose details are open, by account, region and eventId. */
  declare protected expanded: ReadonlySet<string>;
  /** Index of the page shown; cursors[i] is the `after` that fetched page i. */
  declare protected page: number;
  declare protected downloadFailure: RequestFailure | undefined;
  /** What the last download said it lacks (its `x-trailql-complete` and `x-trailql-warnings` headers). */
  declare protected downloadWarning: AnswerWarning | undefined;
  private cursors: (string | null)[] = [null];

  protected readonly inputs = ['pageSize'];

  constructor() {
    super();
    this.pageSize = 25;
    this.order = 'desc';
    this.expanded = new Set();
    this.page = 0;
  }

  protected override willUpdate(changed: PropertyValues): void {
    // A new filter starts over at the first page.
    if (['endpoint', 'filter', 'token', 'tokenProvider', 'pageSize'].some((k) => changed.has(k))) {
      this.cursors = [null];
      this.page = 0;
    }
    super.willUpdate(changed);
  }

  protected fetchData(filter: Record<string, unknown> | undefined, signal: AbortSignal) {
    this.expanded = new Set();
    // What the last download said belongs to the filter and page it was taken from.
    this.downloadFailure = undefined;
    this.downloadWarning = undefined;
    return this.query<CallsPage>(QUERY, { filter, first: this.pageSize, after: this.cursors[this.page] }, signal);
  }

  private go(delta: 1 | -1) {
    if (this.state.kind !== 'done') return;
    if (delta === 1) {
      const { endCursor, hasNextPage } = this.state.data.apiCalls.pageInfo;
      if (!hasNextPage || !endCursor) return;
      this.cursors = [...this.cursors.slice(0, this.page + 1), endCursor];
    } else if (this.page === 0) return;
    this.page += delta;
    void this.reload();
  }

  private toggle(key: string) {
    const next = new Set(this.expanded);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    this.expanded = next;
  }

  /** Up and down arrows move between rows' toggles; Home and End to the first and last. */
  private onKey(e: KeyboardEvent) {
    const target = e.target as HTMLElement;
    if (!target.classList.contains('toggle') || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const toggles = [...this.renderRoot.querySelectorAll<HTMLButtonElement>('button.toggle')];
    const i = toggles.indexOf(target as HTMLButtonElement);
    const j = e.key === 'Home' ? 0 : e.key === 'End' ? toggles.length - 1 : i + (e.key === 'ArrowDown' ? 1 : -1);
    if (toggles[j]) {
      e.preventDefault();
      toggles[j].focus();
    }
  }

  private selectCaller(key: string) {
    this.dispatchEvent(new CustomEvent('trailql-caller-select', { detail: { key }, bubbles: true, composed: true }));
  }

  /** The export endpoint and this table's filter, pinned to the window the table reads. */
  private exportRequest(): { endpoint: URL; filter: Record<string, unknown> } | undefined {
    if (this.state.kind !== 'done') return undefined;
    const filter = typeof this.filter === 'string' ? (JSON.parse(this.filter || '{}') as Record<string, unknown>) : { ...(this.filter ?? {}) };
    const { from, to } = this.state.data.apiCalls.window;
    const endpoint = new URL(this.exportEndpoint ?? '/export/api-calls', new URL(this.endpoint, document.baseURI));
    // A link is followed: only to a web address (never `javascript:` or `data:`, whatever the page sets).
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') return undefined;
    return { endpoint, filter: { ...filter, from, to } };
  }

  /** The export URL for this table's filter, pinned to the window the table reads. */
  exportUrl(format: 'csv' | 'ndjson'): string | undefined {
    const request = this.exportRequest();
    if (!request) return undefined;
    request.endpoint.searchParams.set('format', format);
    request.endpoint.searchParams.set('filter', JSON.stringify(request.filter));
    return request.endpoint.toString();
  }

  /** With a token, a plain link cannot send it: fetch the file and hand it to the browser. */
  private async download(e: Event, format: 'csv' | 'ndjson') {
    // Without a token (dev mode) the link is the download. With one, the link is stopped before
    // anything is awaited: once the handler yields, the browser would already be following it.
    if (!this.tokenProvider && !this.token) return;
    e.preventDefault();
    const request = this.exportRequest();
    if (!request) return;
    const { endpoint, filter } = request;
    this.downloadFailure = undefined;
    this.downloadWarning = undefined;
    try {
      // A provider with no token to give (the console before one is typed, in dev mode): asked
      // without one, as the link would be; a service that needs one answers 401, shown here.
      const token = await this.currentToken();
      // POSTed: a long filter would not fit in a link.
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
        body: JSON.stringify({ format, filter }),
        credentials: 'omit',
      });
      if (!res.ok) throw new RequestFailure(`The export answered ${res.status}.`, `HTTP_${res.status}`, res.headers.get('x-request-id'));
      if (res.headers.get('x-trailql-complete') === 'false') {
        const unreadable = Number(res.headers.get('x-trailql-unreadable-files') ?? 0);
        const warned = (res.headers.get('x-trailql-warnings') ?? '').split(/,\s*/);
        const what = [
          ...(unreadable ? [`${unreadable} trail file${unreadable === 1 ? '' : 's'} could not be read and ${unreadable === 1 ? 'was' : 'were'} left out`] : []),
          ...(warned.includes('HISTORY_NOT_SYNCED') ? ['Event history has not been synced for all of the window'] : []),
          ...(warned.includes('HISTORY_EVENTS_LEFT_OUT') ? ['some Event history events of the window could not be written by the sync'] : []),
        ];
        this.downloadWarning = {
          code: res.headers.get('x-trailql-warnings') ?? 'INCOMPLETE',
          message: `The download is incomplete${what.length ? `: ${what.join('; ')}` : ''}.`,
        };
      }
      const blob = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = blob;
      // The service's name says the window, and `_incomplete` when files were left out.
      a.download = fileNameOf(res.headers.get('content-disposition'), `api-calls.${format}`);
      a.click();
      setTimeout(() => URL.revokeObjectURL(blob), 10_000);
    } catch (err) {
      this.downloadFailure = err instanceof RequestFailure ? err : new RequestFailure(String(err), 'NETWORK_ERROR', null);
    }
  }

  private renderDetail(c: CallRow, id: string) {
    const dash = '–';
    return html`<tr class="detail" id=${id}>
      <td></td>
      <td colspan="5">
        <dl>
          <dt>Event id</dt><dd>${c.eventId}</dd>
          <dt>Event source</dt><dd>${c.eventSource}</dd>
          <dt>Account / region</dt><dd>${c.account ?? dash} / ${c.region ?? dash}</dd>
          <dt>Caller ARN</dt><dd>${c.caller.arn ?? dash}</dd>
          <dt>Principal</dt><dd>${c.caller.principal}</dd>
          <dt>Identity</dt><dd>${c.caller.identityType} (${c.caller.category})${c.caller.mfaAuthenticated ? ', MFA' : ''}</dd>
          <dt>Access key</dt><dd>${c.caller.accessKeyId ?? dash}</dd>
          ${c.caller.invokedBy ? html`<dt>Invoked by</dt><dd>${c.caller.invokedBy}</dd>` : nothing}
          <dt>Source address</dt><dd>${c.sourceIpAddress ?? dash}${c.sourceIp ? html` <span class="muted">(${c.sourceIp.kind})</span>` : nothing}</dd>
          <dt>User agent</dt><dd>${c.userAgent ?? dash}</dd>
          <dt>Resources</dt><dd>${c.iotEventsResources.length ? c.iotEventsResources.map((r) => `${r.kind} ${r.name}`).join(', ') : dash}
            ${c.resources.map((r) => html`<div class="muted">${r.arn ?? r.type ?? dash}</div>`)}</dd>
          <dt>Result</dt><dd>${c.errorCode ? html`<span class="err">${c.errorCode}</span> ${c.errorMessage ?? ''}` : 'success'}</dd>
          <dt>Read only</dt><dd>${c.readOnly == null ? dash : String(c.readOnly)}</dd>
          ${c.requestParameters != null ? html`<dt>Request parameters</dt><dd><pre>${JSON.stringify(c.requestParameters, null, 2)}</pre></dd>` : nothing}
        </dl>
      </td>
    </tr>`;
  }

  override render() {
    const status = this.renderStatus('calls');
    if (this.state.kind !== 'done') return html`<h2 part="heading">Calls</h2>${status}`;
    const { edges, pageInfo, window } = this.state.data.apiCalls;
    // Each row with its place in the connection: the id of its details, whichever way the page is shown.
    const placed = edges.map(({ node }, i) => ({ node, id: `detail-${i}` }));
    const rows = this.order === 'desc' ? placed : placed.reverse();
    const [csv, ndjson] = [this.exportUrl('csv'), this.exportUrl('ndjson')];
    const sortLabel = this.order === 'desc' ? 'newest first' : 'oldest first';
    return html`
      <div class="bar">
        <h2 part="heading">Calls <span class="muted">${formatTime(window.from)} – ${formatTime(window.to)}</span></h2>
        <span class="spacer"></span>
        ${csv && ndjson
          ? html`<a class="download" part="download" href=${csv} download="api-calls.csv" @click=${(e: Event) => this.download(e, 'csv')}>CSV</a>
              <a class="download" part="download" href=${ndjson} download="api-calls.ndjson" @click=${(e: Event) => this.download(e, 'ndjson')}>NDJSON</a>`
          : html`<span class="error download-unavailable" role="status">No download: export-endpoint is not an http(s) address.</span>`}
      </div>
      ${this.renderWarnings()}
      ${this.downloadFailure
        ? html`<div class="error" role="alert"><code>${this.downloadFailure.code}</code> ${this.downloadFailure.message}
            ${this.downloadFailure.requestId ? html`<span class="muted">Request id: ${this.downloadFailure.requestId}</span>` : nothing}</div>`
        : nothing}
      ${this.downloadWarning ? html`<div class="warning download-warning" part="warning" role="status"><code>${this.downloadWarning.code}</code> ${this.downloadWarning.message}</div>` : nothing}
      ${edges.length === 0
        ? html`<div class="status empty" part="status">No calls match this filter in the window.</div>`
        : html`<table part="table" @keydown=${this.onKey}>
            <colgroup><col class="c-toggle" /><col class="c-time" /><col class="c-action" /><col /><col class="c-source" /><col class="c-result" /></colgroup>
            <thead>
              <tr>
                <th scope="col"><span class="visually-hidden">Details</span></th>
                <th scope="col" aria-sort=${this.order === 'desc' ? 'descending' : 'ascending'}>
                  <button class="link sort" @click=${() => (this.order = this.order === 'desc' ? 'asc' : 'desc')} title="Sort this page by time">Time (${sortLabel}) ${this.order === 'desc' ? '▼' : '▲'}</button>
                </th>
                <th scope="col">Action</th>
                <th scope="col">Caller</th>
                <th scope="col">Source</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(({ node: c, id }) => {
                // One call per account, region and eventId (two accounts' calls may share an eventId).
                const key = JSON.stringify([c.account, c.region, c.eventId]);
                const open = this.expanded.has(key);
                return html`<tr class="call" data-event-id=${c.eventId}>
                    <td><button class="toggle" aria-expanded=${open} aria-controls=${id} aria-label="Details of ${c.action} at ${c.eventTime}" @click=${() => this.toggle(key)}>${open ? '▾' : '▸'}</button></td>
                    <td class="time">${formatTime(c.eventTime)}</td>
                    <td class="act">${c.action}</td>
                    <td class="who"><button class="link caller" title="Show ${c.caller.key}" @click=${() => this.selectCaller(c.caller.key)}>${shortName(c.caller.principal)}</button></td>
                    <td class="src">${c.sourceIpAddress ?? '–'}${c.sourceIp ? html` <span class="muted">${c.sourceIp.kind}</span>` : nothing}</td>
                    <td>${c.errorCode ? html`<span class="err">${c.errorCode}</span>` : html`<span class="ok">OK</span>`}</td>
                  </tr>
                  ${open ? this.renderDetail(c, id) : nothing}`;
              })}
            </tbody>
          </table>`}
      <div class="bar pager">
        <button class="prev" ?disabled=${this.page === 0} @click=${() => this.go(-1)}>← Newer</button>
        <span class="muted page">Page ${this.page + 1}</span>
        <button class="next" ?disabled=${!pageInfo.hasNextPage} @click=${() => this.go(1)}>Older →</button>
      </div>`;
  }
}

customElements.define('trailql-calls', TrailqlCalls);
declare global {
  interface HTMLElementTagNameMap {
    'trailql-calls': TrailqlCalls;
  }
}
