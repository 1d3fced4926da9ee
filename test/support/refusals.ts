/**
 * Helpers of the guard unit tests: constants and the refusal a guard throws.
 */
import { TrailqlError } from '../../src/errors';

export const A = '111122223333';
export const B = '444455556666';
export const SECRET = 'a-jwt-secret-of-at-least-32-characters!';
export const HOUR = 3_600_000;
export const NOW = new Date('2026-03-14T12:00:00Z');
export const RULES = { defaultHours: 24, maxDays: 31 };
export const SOURCES = ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'];

/** The code (and HTTP status) `fn` is refused with; fails when it is not refused. */
export function refusal(fn: () => unknown): { code: unknown; status: unknown; message: string; field: unknown } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TrailqlError)) throw err;
    return { code: err.extensions.code, status: (err.extensions.http as { status?: number } | undefined)?.status, message: err.message, field: err.extensions.field };
  }
  throw new Error('not refused');
}
export async function refusalOf(p: Promise<unknown>): Promise<{ code: unknown; status: unknown; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { extensions: Record<string, unknown>; message: string };
    return { code: e.extensions.code, status: (e.extensions.http as { status?: number }).status, message: e.message };
  }
  throw new Error('not refused');
}

