/** Figures the benchmarks share: the median of runs, and a process's memory as the kernel counts it. */
import * as fs from 'node:fs';

/** The middle figure (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A memory figure of a process from `/proc/<pid>/status`, in bytes: VmRSS its resident set now,
 * VmHWM its peak. NaN when the field is missing; throws when the status cannot be read.
 */
export function procMemory(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
