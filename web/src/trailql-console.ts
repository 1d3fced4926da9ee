/**
 * `<trailql-console>`: the /ui page, built from the three components: a filter bar, the chart,
 * the table and a caller drill-down. Its first state comes from the page's query string
 * (`window`, `end`, `action`, `caller`, `address`, `errors`, `group`; the window's preset sets the
 * chart's interval), so a view can be
 * shared as a link; the token field's value is only read when a request is made.
 */
import { LitElement, css, html } from 'lit';
import { themeStyles } from './base';
import { ConsoleInputs, GROUPS, WINDOWS, filterFrom, windowPreset } from './console-filter';
import './trailql-activity';
import './trailql-calls';
import './trailql-caller';

export class TrailqlConsole extends LitElement {
  static override properties = {
    endpoint: { type: String },
    inputs: { state: true },
    filter: { state: true },
    selected: { state: true },
  };
  static override styles = [
    themeStyles,
    css`
      :host { border: 0; padding: 0; background: transparent; }
      form { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: end; padding: 12px; margin-bottom: 12px;
        background: var(--trailql-bg, #fff); border: 1px solid var(--trailql-border, #d6dae3); border-radius: var(--trailql-radius, 6px); }
      label { display: flex; flex-direction: column; gap: 2px; font-size: 0.85em; color: var(--trailql-muted, #5b6475); }
      label.check { flex-direction: row; align-items: center; gap: 6px; }
      input, select { font: inherit; font-size: 1.1em; padding: 3px 6px; color: var(--trailql-fg, #1d2330); border: 1px solid var(--trailql-border, #d6dae3); border-radius: 4px; }
      input.wide { width: 20em; }
      button[type='submit'] { font: inherit; padding: 5px 16px; border-radius: 4px; border: 0; color: #fff; background: var(--trailql-accent, #2f6fde); }
      .grid { display: grid; gap: 12px; grid-template-columns: minmax(0, 2fr) minmax(280px, 1fr); }
      .grid > * { min-width: 0; }
      .grid > trailql-calls { grid-column: 1; }
      .grid > trailql-caller { grid-column: 2; grid-row: 1 / span 2; align-self: start; }
      @media (max-width: 900px) { .grid { grid-template-columns: 1fr; } .grid > trailql-caller { grid-column: 1; grid-row: auto; } }
    `,
  ];

  declare endpoint: string;
  declare protected inputs: ConsoleInputs;
  declare protected filter: Record<string, unknown>;
  declare protected selected: string;
  private readonly tokenProvider = () => this.renderRoot.querySelector<HTMLInputElement>('input[name=token]')?.value.trim() || undefined;

  constructor() {
    super();
    this.endpoint = '/graphql';
    const q = new URLSearchParams(location.search);
    this.inputs = {
      // A name that is no preset is the last 24 hours, in the filter and in the list alike.
      window: Object.hasOwn(WINDOWS, q.get('window') ?? '') ? q.get('window')! : '24h',
      end: q.get('end') ?? '',
      action: q.get('action') ?? '',
      caller: q.get('caller') ?? '',
      address: q.get('address') ?? '',
      errors: q.get('errors') === 'true',
      // A grouping the list does not offer would be drawn but not shown as chosen: none instead.
      group: GROUPS.includes(q.get('group') ?? '') ? q.get('group')! : '',
    };
    this.filter = filterFrom(this.inputs, new Date());
    this.selected = '';
  }

  private apply(e: Event) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const text = (k: string) => String(data.get(k) ?? '');
    this.inputs = { window: text('window'), end: text('end'), action: text('action'), caller: text('caller'), address: text('address'), errors: data.get('errors') === 'on', group: text('group') };
    this.filter = filterFrom(this.inputs, new Date());
  }

  override render() {
    const i = this.inputs;
    const interval = windowPreset(i.window).interval;
    return html`
      <form part="filter-bar" @submit=${this.apply} aria-label="Filter">
        <label>Window
          <select name="window">${Object.entries(WINDOWS).map(([k, w]) => html`<option value=${k} ?selected=${k === i.window}>${w.label}</option>`)}</select>
        </label>
        <label>Ending (UTC, empty: now)<input name="end" .value=${i.end} placeholder="2026-03-15T12:00:00Z" size="20" /></label>
        <label>Action<input name="action" .value=${i.action} placeholder="CreateDetectorModel" /></label>
        <label>Caller ARN<input class="wide" name="caller" .value=${i.caller} placeholder="arn:aws:iam::111122223333:user/alice" /></label>
        <label>Address or CIDR<input name="address" .value=${i.address} placeholder="203.0.113.0/24" /></label>
        <label class="check"><input type="checkbox" name="errors" ?checked=${i.errors} />Errors only</label>
        <label>Chart by
          <select name="group">${GROUPS.map((g) => html`<option value=${g} ?selected=${g === i.group}>${g ? g.toLowerCase().replace('_', ' ') : 'calls and errors'}</option>`)}</select>
        </label>
        <label>Token (empty in dev mode)<input name="token" type="password" autocomplete="off" /></label>
        <button type="submit">Apply</button>
      </form>
      <div class="grid" @trailql-caller-select=${(e: CustomEvent<{ key: string }>) => (this.selected = e.detail.key)}>
        <trailql-activity .endpoint=${this.endpoint} .filter=${this.filter} .interval=${interval} .groupBy=${i.group} .tokenProvider=${this.tokenProvider}></trailql-activity>
        <trailql-calls .endpoint=${this.endpoint} .filter=${this.filter} .tokenProvider=${this.tokenProvider}></trailql-calls>
        <trailql-caller .endpoint=${this.endpoint} .filter=${this.filter} .caller=${this.selected} .tokenProvider=${this.tokenProvider}></trailql-caller>
      </div>`;
  }
}

customElements.define('trailql-console', TrailqlConsole);
declare global {
  interface HTMLElementTagNameMap {
    'trailql-console': TrailqlConsole;
  }
}
