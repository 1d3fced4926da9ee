/**
 * `<trailql-activity>`: calls over time for a filter, as a uPlot chart; one series per group when
 * `group-by` is set, otherwise calls and errors. A data table with the same numbers follows the
 * chart for screen readers.
 */
import { css, html, nothing, PropertyValues, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import { TrailqlElement, formatTime, themeStyles, withVisibleControls } from './base';
import { ActivityBucket, ChartSeries, STEP_SECONDS, toSeries } from './series';

export type { ActivityBucket, ChartSeries };

interface ActivityData {
  activity: { window: { from: string; to: string }; buckets: ActivityBucket[] };
}

const QUERY = `query TrailqlActivity($filter: ApiCallFilter, $interval: ActivityInterval!, $groupBy: ActivityGroupBy) {
  activity(filter: $filter, interval: $interval, groupBy: $groupBy) { window { from to } buckets { start key calls errors } }
}`;

const PALETTE = ['#2f6fde', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#0b7285', '#e67700', '#5c7cfa', '#495057', '#a61e4d'];
export class TrailqlActivity extends TrailqlElement<ActivityData> {
  static override properties = {
    interval: { type: String },
    groupBy: { type: String, attribute: 'group-by' },
    heading: { type: String },
  };
  static override styles = [
    themeStyles,
    unsafeCSS(uplotCss),
    css`
      .chart { min-height: var(--trailql-chart-height, 240px); }
      .uplot { font-family: inherit; }
      .u-legend { font-size: 0.9em; }
      details { margin-top: 6px; font-size: 0.9em; }
      table { border-collapse: collapse; }
      td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid var(--trailql-border, #d6dae3); }
    `,
  ];

  /** HOUR, DAY or WEEK. */
  declare interval: 'HOUR' | 'DAY' | 'WEEK';
  /** An ActivityGroupBy value (ACTION, CALLER, CATEGORY, ...); empty for calls and errors. */
  declare groupBy: string;
  declare heading: string;
  private plot: uPlot | undefined;
  private resize: ResizeObserver | undefined;
  /** The series last drawn (also what the data table shows). */
  drawn: ChartSeries | undefined;

  protected readonly inputs = ['interval', 'groupBy'];

  constructor() {
    super();
    this.interval = 'HOUR';
    this.groupBy = '';
    this.heading = 'Activity';
  }

  protected fetchData(filter: Record<string, unknown> | undefined, signal: AbortSignal) {
    return this.query<ActivityData>(QUERY, { filter, interval: this.interval, groupBy: this.groupBy || null }, signal);
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (!changed.has('state')) return;
    this.plot?.destroy();
    this.plot = undefined;
    const host = this.renderRoot.querySelector<HTMLElement>('.chart');
    if (this.state.kind !== 'done' || !host || !this.drawn) return;
    const styles = getComputedStyle(this);
    const colour = (i: number) => styles.getPropertyValue(`--trailql-series-${i + 1}`).trim() || PALETTE[i % PALETTE.length]!;
    const width = Math.max(200, host.clientWidth || this.clientWidth - 24);
    const height = parseInt(styles.getPropertyValue('--trailql-chart-height'), 10) || 240;
    const drawn = this.drawn;
    // The window's buckets, first to last; a lone bucket is drawn with a bucket's room either side.
    const first = drawn.x[0]!;
    const last = drawn.x[drawn.x.length - 1]!;
    const step = STEP_SECONDS[this.interval] ?? STEP_SECONDS.HOUR;
    const extent: uPlot.Range.MinMax = last > first ? [first, last] : [first - step, first + step];
    this.plot = new uPlot(
      {
        width,
        height,
        // Times in UTC, as the rest of the page gives them (uPlot draws the browser's zone otherwise).
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true, range: () => extent } },
        axes: [{ stroke: styles.color }, { stroke: styles.color }],
        series: [{ label: 'time (UTC)' }, ...drawn.series.map((s, i) => ({ label: withVisibleControls(s.label), stroke: colour(i), width: 2, points: { show: drawn.x.length < 80 } }))],
      },
      [drawn.x, ...drawn.series.map((s) => s.values)],
      host,
    );
    this.resize ??= new ResizeObserver(() => {
      const box = this.renderRoot.querySelector<HTMLElement>('.chart');
      if (this.plot && box && box.clientWidth > 0 && Math.abs(box.clientWidth - this.plot.width) > 4) this.plot.setSize({ width: box.clientWidth, height: this.plot.height });
    });
    this.resize.observe(this);
  }

  /** The data uPlot holds, for checks: [x, ...series]. */
  get chartData(): number[][] | undefined {
    return this.plot?.data.map((d) => Array.from(d as ArrayLike<number>));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    this.resize = undefined;
    this.plot?.destroy();
    this.plot = undefined;
  }

  override render() {
    const status = this.renderStatus('activity');
    this.drawn = undefined;
    if (this.state.kind !== 'done') return html`<h2 part="heading">${this.heading}</h2>${status}`;
    const { buckets, window } = this.state.data.activity;
    const range = html`<span class="muted">${formatTime(window.from)} – ${formatTime(window.to)}</span>`;
    if (buckets.length === 0) return html`<h2 part="heading">${this.heading}</h2>${this.renderWarnings()}<div class="status empty" part="status">No calls in this window. ${range}</div>`;
    const drawn = toSeries(buckets, Boolean(this.groupBy), this.interval, window);
    this.drawn = drawn;
    return html`<h2 part="heading">${this.heading} ${range}</h2>
      ${this.renderWarnings()}
      <div class="chart" part="chart" role="img" aria-label="${this.heading}: ${drawn.x.length} buckets; the table below has the numbers"></div>
      <details>
        <summary>Data</summary>
        <table>
          <thead><tr><th scope="col">Start (UTC)</th>${drawn.series.map((s) => html`<th scope="col">${s.kind === 'group' ? s.label : html`<em>${s.label}</em>`}</th>`)}</tr></thead>
          <tbody>
            ${drawn.x.map((t, i) => html`<tr><th scope="row">${formatTime(new Date(t * 1000).toISOString())}</th>${drawn.series.map((s) => html`<td>${s.values[i]}</td>`)}</tr>`)}
          </tbody>
        </table>
      </details>
      ${nothing}`;
  }
}

customElements.define('trailql-activity', TrailqlActivity);
declare global {
  interface HTMLElementTagNameMap {
    'trailql-activity': TrailqlActivity;
  }
}
