/**
 * Building blocks of the configuration schemas: how one environment variable is read (empty counts
 * as unset; whole numbers in a range; true/false; comma lists) and how problems are named. Each
 * concern (service, security, Athena, benchmarks) writes its schema from these; `./index.ts`
 * composes them and is the only reader of the process environment.
 */
import { z } from 'zod';

/** Environment variables, as in `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The process environment. The one place outside the schemas' defaults that reads it: command-line
 * tools pass it to the loaders of `./index.ts` rather than reading variables themselves.
 */
export function processEnvironment(): Env {
  return process.env;
}

/** Every problem of a configuration, one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const blank = (s: string | undefined): s is undefined => s === undefined || s.trim() === '';

/** A comma list; unset or empty gives `fallback`. */
export const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((s) => (blank(s) ? fallback : s.split(',').map((x) => x.trim()).filter(Boolean)));

/** A whole number from `min` to `max`, or undefined when unset (the caller picks the default). */
export const optionalInt = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (blank(s)) return undefined;
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${s}"` });
        return z.NEVER;
      }
      return n;
    });

/** A whole number from `min` to `max`; unset or empty gives `fallback`. */
export const int = (fallback: number, min: number, max: number) => optionalInt(min, max).transform((n) => n ?? fallback);

/** true/false (also 1/0, yes/no, on/off); unset or empty gives `fallback`. */
export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (blank(s)) return fallback;
      if (/^(1|true|yes|on)$/i.test(s)) return true;
      if (/^(0|false|no|off)$/i.test(s)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${s}"` });
      return z.NEVER;
    });

/** Each zod issue as `VARIABLE: message`. */
export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
}

/**
 * Reads one variable with `schema`; on failure pushes `NAME: message` to `problems` and gives
 * undefined, so a loader can go on and report every problem together.
 */
export function readVariable<T>(env: Env, name: string, schema: z.ZodType<T>, problems: string[]): T | undefined {
  const parsed = schema.safeParse(env[name]);
  if (parsed.success) return parsed.data;
  problems.push(...parsed.error.issues.map((i) => `${name}: ${i.message}`));
  return undefined;
}
