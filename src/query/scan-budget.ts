/**
 * What a request may scan on an engine billed by bytes (Athena), and what it is estimated to cost.
 * The budget is checked as each query finishes (an engine reports bytes only then): the query
 * that passes it fails the request with a coded error and cancels the request's other queries;
 * no new query starts after that. A single query can still scan more than the whole budget: the
 * hard stop per query is the workgroup's BytesScannedCutoffPerQuery (see athena/README.md).
 */
import { TrailqlError } from '../errors';
import { QueryReport, reachedEngine } from './runner';

/** Athena bills at least 10 MB a query, rounded up to the megabyte. */
export const MIN_BILLED_BYTES = 10 * 2 ** 20;
const MB = 2 ** 20;
const TB = 2 ** 40;

/** The request scanned more than its budget allows. */
export class ScanBudgetError extends TrailqlError {
  constructor(limitBytes: number, scannedBytes: number) {
    super(
      `this request scanned ${scannedBytes} bytes, over its budget of ${limitBytes}; its other queries were cancelled. Ask for a shorter window or fewer fields`,
      'QUERY_TOO_COMPLEX',
      { budget: 'bytesScanned', limitBytes, scannedBytes },
    );
  }
}

/** One request's bytes-scanned budget. */
export class ScanBudget {
  private scanned = 0;
  private error: ScanBudgetError | undefined;
  private readonly controller = new AbortController();

  constructor(readonly limitBytes: number) {}

  /** The error once the budget is spent, else undefined. */
  get exceeded(): ScanBudgetError | undefined {
    return this.error;
  }

  /** Throws once the budget is spent: no query starts after that. */
  check(): void {
    if (this.error) throw this.error;
  }

  /** Aborted when the budget is spent: the request's queries are cancelled. */
  get spent(): AbortSignal {
    return this.controller.signal;
  }

  /** Adds a finished query's bytes; past the budget, cancels the rest and throws. */
  charge(bytes: number): void {
    this.add(bytes);
    this.check();
  }

  /** Adds a query's bytes; past the budget, cancels the rest (a failed query's: its own error stands). */
  add(bytes: number): void {
    this.scanned += bytes;
    if (!this.error && this.scanned > this.limitBytes) {
      this.error = new ScanBudgetError(this.limitBytes, this.scanned);
      this.controller.abort(this.error);
    }
  }
}

/** Bytes Athena bills for one query: at least 10 MB, rounded up to the megabyte. */
export function billedBytes(scanned: number): number {
  return Math.max(MIN_BILLED_BYTES, Math.ceil(scanned / MB) * MB);
}

/**
 * The estimated price of a request's engine queries (cache hits cost nothing): billed bytes times
 * the configured price per TB (2^40 bytes).
 */
export function estimateCost(reports: readonly QueryReport[], pricePerTbUsd: number) {
  const billed = reports.filter(reachedEngine).reduce((sum, r) => sum + billedBytes(r.bytesScanned), 0);
  return { billedBytes: billed, pricePerTbUsd, usd: Number(((billed / TB) * pricePerTbUsd).toFixed(6)) };
}
