/**
 * Event history sync inside the running service: once at start, then every interval, never two
 * runs at once: an interval that ends while a run is still going is skipped (the sync is
 * incremental, so the next run fetches what the skipped one would have). A run's failure is
 * logged and the next one tries again (from where it stopped). `stop()` ends the schedule, aborts
 * a run in flight and waits for it.
 */
import { EventHistoryConfig } from '../config';
import { Logger } from '../logger';
import { runSync } from './run';
import { SyncFailedError } from './sync';

export interface SyncSchedule {
  stop(): Promise<void>;
}

export interface ScheduleOptions {
  readonly trailDir: string;
  readonly eventSources: readonly string[];
  readonly settings: EventHistoryConfig;
  readonly logger: Logger;
}

export function scheduleSync(options: ScheduleOptions): SyncSchedule {
  const { settings, logger } = options;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const once = async () => {
    try {
      const results = await runSync({ trailDir: options.trailDir, eventSources: options.eventSources, settings, signal: abort.signal });
      for (const r of results) logger.info({ ...r }, 'event history synced');
    } catch (err) {
      if (abort.signal.aborted) return;
      // The regions and sources that did not fail ran to their end.
      for (const r of err instanceof SyncFailedError ? err.results : []) logger.info({ ...r }, 'event history synced');
      logger.error({ err }, 'event history sync failed; the next run continues from where it stopped');
    }
  };
  const tick = () => {
    if (abort.signal.aborted) return;
    if (running) {
      logger.info('event history sync still running; this interval is skipped');
      return;
    }
    running = once().finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, settings.intervalMinutes * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
