/**
 * One sync run with the configured settings: rate-limited clients per region (the default
 * credential chain), progress on a terminal. Used by `npm run sync` and the in-service schedule.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EventHistoryConfig } from '../config';
import { ProgressLine } from '../trail/progress';
import { ClientOptions, RateLimits, cloudTrailClient, credentialsAccount } from './client';
import { SyncProgress, SyncResult, syncEventHistory } from './sync';

export interface RunOptions {
  readonly trailDir: string;
  readonly eventSources: readonly string[];
  readonly settings: EventHistoryConfig;
  readonly signal?: AbortSignal;
  /** Show progress on stderr when it is a terminal. */
  readonly progress?: boolean;
  readonly clientExtra?: ClientOptions['extra'];
}

/** "3 min 20 s" */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The progress text: events, pages, rate, and the time left at the allowed request rate. */
export function progressText(p: SyncProgress, requestsPerSecond: number): string {
  const rate = p.elapsedMs > 0 ? (p.pages * 1000) / p.elapsedMs : 0;
  const pagesLeft = p.covered > 0 ? (p.pages * (1 - p.covered)) / p.covered : 0;
  const left = p.covered < 1 && p.covered > 0 ? `, ~${duration((pagesLeft / requestsPerSecond) * 1000)} left at ${requestsPerSecond} req/s` : '';
  return `${p.region} ${p.source}: ${p.events.toLocaleString('en-US')} events, ${p.pages} pages, ${rate.toFixed(1)} pages/s${left}`;
}

export async function runSync(options: RunOptions): Promise<SyncResult[]> {
  const { settings } = options;
  const limits = new RateLimits(settings.requestsPerSecond);
  const clients = new Map<string, CloudTrailClient>();
  const line = options.progress ? new ProgressLine('event history') : undefined;
  try {
    // Known before any walk: the state continued is this account's, whoever synced the folder before.
    const { account, clockOffsetMs } = await credentialsAccount(settings.regions[0] ?? 'us-east-1', { maxAttempts: settings.maxAttempts, extra: options.clientExtra }, options.signal);
    return await syncEventHistory({
      trailDir: options.trailDir,
      regions: settings.regions,
      account,
      // AWS's time, not this host's: a walk that ended at a clock running ahead would record as
      // synced a stretch Event history had not reached, and the next run would start after it.
      now: () => new Date(Date.now() + clockOffsetMs),
      eventSources: options.eventSources,
      days: settings.days,
      overlapMinutes: settings.overlapMinutes,
      signal: options.signal,
      // LookupEvents reads the credentials' own account: one limiter per region is one per account and region.
      client: (region) => {
        let c = clients.get(region);
        if (!c) {
          c = cloudTrailClient(region, limits.limiter(region), { maxAttempts: settings.maxAttempts, requestsPerSecond: settings.requestsPerSecond, extra: options.clientExtra });
          clients.set(region, c);
        }
        return c;
      },
      onProgress: line ? (p) => line.note(progressText(p, settings.requestsPerSecond)) : undefined,
    });
  } finally {
    line?.done();
    for (const c of clients.values()) c.destroy();
    await limits.stop();
  }
}
