/**
 * Progress of long work (generating a large sample trail, compacting, benchmarking) on a terminal:
 * one self-rewriting line on stderr with what is done, the rate and the time left. Nothing at all
 * when stderr is not a terminal (pipes, logs, CI).
 */
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * One self-rewriting status line on stderr, only when stderr is a terminal (quiet in pipes, logs
 * and CI); at most ten redraws a second.
 */
export class ProgressLine {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string) {}

  /** `done` of `total` units (`unit`, e.g. "files"), with extra text, a rate and the time left. */
  update(done: number, total: number, unit: string, elapsedMs: number, extra = ''): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const pct = total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 100;
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const left = rate > 0 && total > done ? `, ${duration(((total - done) / rate) * 1000)} left` : '';
    const text = `${this.label} ${pct}%  ${fmt(done)}/${fmt(total)} ${unit}${extra ? `, ${extra}` : ''}, ${fmt(rate)} ${unit}/s${left}`;
    process.stderr.write(`\r${text.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`);
  }

  /** A plain status text (no counts). */
  note(text: string): void {
    if (!this.tty) return;
    process.stderr.write(`\r${`${this.label} ${text}`.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}
