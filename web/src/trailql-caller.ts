/**
 * `<trailql-caller>`: one caller's summary within the filter's window: identity, counts, source
 * addresses and actions. `caller` is the caller's key (its ARN, or an AWS service name);
 * `group-by="PRINCIPAL"` summarises every session of a role instead.
 */
import { css, html, nothing } from 'lit';
import { TrailqlElement, formatTime, themeStyles } from './base';

interface CallerData {
  caller: null | {
    key: string;
    arn: string | null;
    principal: string;
    category: string;
    identityType: string;
    accountId: string | null;
    invokedBy: string | null;
    stats: { calls: number; errors: number; distinctActions: number; distinctSourceIps: number; firstSeen: string | null; lastSeen: string | null; accessKeyIds: string[] };
    sourceIps: { nodes: { calls: number; errors: number; sourceIp: { address: string; kind: string } | null }[] };
    actions: { nodes: { action: string | null; eventSource: string | null; calls: number; errors: number }[] };
  };
}

const QUERY = `query TrailqlCaller($key: String!, $filter: ApiCallFilter, $groupBy: CallerGrouping!) {
  caller(key: $key, filter: $filter, groupBy: $groupBy) {
    key arn principal category identityType accountId invokedBy
    stats { calls errors distinctActions distinctSourceIps firstSeen lastSeen accessKeyIds }
    sourceIps(first: 20) { nodes { calls errors sourceIp { address kind } } }
    actions(first: 20) { nodes { action eventSource calls errors } }
  }
}`;

export class TrailqlCaller extends TrailqlElement<CallerData> {
  static override properties = {
    caller: { type: String },
    groupBy: { type: String, attribute: 'group-by' },
  };
  static override styles = [
    themeStyles,
    css`
      dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; }
      dt { color: var(--trailql-muted, #5b6475); }
      dd { margin: 0; word-break: break-all; }
      .stats { display: flex; gap: 16px; flex-wrap: wrap; margin: 8px 0; }
      .stat { display: flex; flex-direction: column; }
      .stat b { font-size: 1.4em; font-variant-numeric: tabular-nums; }
      .cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
      table { border-collapse: collapse; width: 100%; }
      th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--trailql-border, #d6dae3); }
      td.n { text-align: right; font-variant-numeric: tabular-nums; }
      h3 { font-size: 0.95em; margin: 4px 0; }
    `,
  ];

  /** The caller's key: its ARN (a principal ARN with group-by PRINCIPAL), or an AWS service name. */
  declare caller: string;
  /** ARN (default) or PRINCIPAL. */
  declare groupBy: 'ARN' | 'PRINCIPAL';

  protected readonly inputs = ['caller', 'groupBy'];

  constructor() {
    super();
    this.caller = '';
    this.groupBy = 'ARN';
  }

  protected fetchData(filter: Record<string, unknown> | undefined, signal: AbortSignal) {
    if (!this.caller) return undefined;
    return this.query<CallerData>(QUERY, { key: this.caller, filter, groupBy: this.groupBy }, signal);
  }

  override render() {
    const status = this.renderStatus('caller');
    if (this.state.kind === 'idle') return html`<h2 part="heading">Caller</h2><div class="status" part="status">Choose a caller to see its summary.</div>`;
    if (this.state.kind !== 'done') return html`<h2 part="heading">Caller</h2>${status}`;
    const c = this.state.data.caller;
    if (!c) return html`<h2 part="heading">Caller</h2>${this.renderWarnings()}<div class="status empty" part="status">No calls by ${this.caller} in this window.</div>`;
    const s = c.stats;
    return html`<h2 part="heading">Caller <span class="principal">${c.principal}</span></h2>
      ${this.renderWarnings()}
      <dl>
        <dt>Key</dt><dd class="key">${c.key}</dd>
        ${c.arn && c.arn !== c.key ? html`<dt>ARN</dt><dd>${c.arn}</dd>` : nothing}
        <dt>Identity</dt><dd>${c.identityType} (${c.category})</dd>
        <dt>Account</dt><dd>${c.accountId ?? '–'}</dd>
        ${c.invokedBy ? html`<dt>Invoked by</dt><dd>${c.invokedBy}</dd>` : nothing}
        <dt>Access keys</dt><dd>${s.accessKeyIds.length ? s.accessKeyIds.join(', ') : '–'}</dd>
        <dt>Seen</dt><dd>${formatTime(s.firstSeen)} – ${formatTime(s.lastSeen)}</dd>
      </dl>
      <div class="stats" part="stats">
        <span class="stat"><b class="calls">${s.calls}</b>calls</span>
        <span class="stat"><b class="errors">${s.errors}</b>errors</span>
        <span class="stat"><b>${s.distinctActions}</b>actions</span>
        <span class="stat"><b>${s.distinctSourceIps}</b>source addresses</span>
      </div>
      <div class="cols">
        <section>
          <h3>Source addresses</h3>
          <table>
            <thead><tr><th scope="col">Address</th><th scope="col">Kind</th><th scope="col">Calls</th></tr></thead>
            <tbody>${c.sourceIps.nodes.map((ip) => html`<tr><td>${ip.sourceIp?.address ?? '(none)'}</td><td>${ip.sourceIp?.kind ?? ''}</td><td class="n">${ip.calls}</td></tr>`)}</tbody>
          </table>
        </section>
        <section>
          <h3>Actions</h3>
          <table>
            <thead><tr><th scope="col">Action</th><th scope="col">Service</th><th scope="col">Calls</th><th scope="col">Errors</th></tr></thead>
            <tbody>${c.actions.nodes.map(
              (a) => html`<tr><td>${a.action ?? '(none)'}</td><td>${a.eventSource?.replace(/\.amazonaws\.com$/, '') ?? '(none)'}</td><td class="n">${a.calls}</td><td class="n">${a.errors}</td></tr>`,
            )}</tbody>
          </table>
        </section>
      </div>`;
  }
}

customElements.define('trailql-caller', TrailqlCaller);
declare global {
  interface HTMLElementTagNameMap {
    'trailql-caller': TrailqlCaller;
  }
}
