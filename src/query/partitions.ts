import { PartitionSpec } from './engine';
import { Scan } from './plan';

import { dayPath } from '../trail/layout';

const DAY_MS = 86_400_000;

/**
 * Day folders a window needs. Records land in the folder of the file that delivered them, after
 * the event, so the range runs from the window's first day to its last day plus the delivery
 * margin; never earlier than the first day.
 */
export function partitionsFor(scan: Scan, marginDays: number): PartitionSpec {
  const first = Date.UTC(scan.from.getUTCFullYear(), scan.from.getUTCMonth(), scan.from.getUTCDate());
  // `to` is exclusive: a window ending exactly at midnight does not need that day for itself.
  const lastInstant = new Date(Math.max(scan.from.getTime(), scan.to.getTime() - 1));
  const last = Date.UTC(lastInstant.getUTCFullYear(), lastInstant.getUTCMonth(), lastInstant.getUTCDate()) + marginDays * DAY_MS;
  const days: string[] = [];
  for (let t = first; t <= last; t += DAY_MS) days.push(dayPath(new Date(t)));
  return { days, regions: [...scan.regions].sort(), accounts: [...scan.accounts].sort() };
}
