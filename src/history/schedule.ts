/**
 * Event history sync inside the running service: once at start, then every interval, never two
 * runs at once; a run's failure is logged and the next one tries again (from where it stopped).
 * `stop()` aborts a run in flight and waits for it.
 */
import { EventHistoryConfig } from '../config';
import { Logger } from '../logger';
import { runSync } from './run';

export interface SyncSchedule {
  stop(): Promise<void>;
}

export function scheduleSync(options: { trailDir: string; eventSources: readonly string[]; settings: EventHistoryConfig; logger: Logger }): SyncSchedule {
  const { settings, logger } = options;
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  const once = async () => {
    try {
      const results = await runSync({ trailDir: options.trailDir, eventSources: options.eventSources, settings, signal: abort.signal });
      for (const r of results) logger.info({ ...r }, 'event history synced');
    } catch (err) {
      if (!abort.signal.aborted) logger.error({ err }, 'event history sync failed; the next run continues from where it stopped');
    }
  };
  const tick = () => {
    running = running.then(once);
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
