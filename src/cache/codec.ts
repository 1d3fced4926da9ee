/**
 * How an answer is stored: a 4-byte header (magic, format, compression) and the JSON of the
 * rows, brotli-compressed when large. Reading validates everything: bytes that are not an entry
 * written for this very key are rejected, never served.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Row } from '../engines/engine';

const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** JSON bodies larger than this are compressed. */
export const COMPRESS_THRESHOLD_BYTES = 16 * 1024;

const MAGIC_0 = 0x54; // 'T'
const MAGIC_1 = 0x51; // 'Q'
const FORMAT = 1;
const PLAIN = 0;
const BROTLI = 1;
const HEADER_BYTES = 4;
/** A decompressed body larger than this is refused (a corrupt or hostile entry). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** Compressed payloads up to this size are inflated synchronously (well under a millisecond). */
export const SYNC_INFLATE_MAX_BYTES = 16 * 1024;

export class InvalidEntryError extends Error {
  constructor(message: string) {
    super(`invalid cache entry: ${message}`);
    this.name = 'InvalidEntryError';
  }
}

export interface CacheEntry {
  readonly rows: Row[];
  /** When the answer was computed (epoch ms). */
  readonly storedAt: number;
}

interface Body {
  k: string;
  t: number;
  rows: Row[];
}

export async function encodeEntry(key: string, entry: CacheEntry): Promise<Buffer> {
  const body: Body = { k: key, t: entry.storedAt, rows: entry.rows };
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const compress = json.length > COMPRESS_THRESHOLD_BYTES;
  const payload = compress
    ? await brotliCompress(json, {
        params: {
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: json.length,
        },
      })
    : json;
  return Buffer.concat([Buffer.from([MAGIC_0, MAGIC_1, FORMAT, compress ? BROTLI : PLAIN]), payload]);
}

/** The entry stored under `key`; throws InvalidEntryError for anything else. */
export async function decodeEntry(key: string, raw: Buffer): Promise<CacheEntry> {
  if (!Buffer.isBuffer(raw) || raw.length < HEADER_BYTES || raw[0] !== MAGIC_0 || raw[1] !== MAGIC_1) throw new InvalidEntryError('not an entry');
  if (raw[2] !== FORMAT) throw new InvalidEntryError(`unknown format ${raw[2]}`);
  const payload = raw.subarray(HEADER_BYTES);
  let json: Buffer;
  if (raw[3] === PLAIN) json = payload;
  else if (raw[3] === BROTLI) {
    try {
      // Small payloads inflate faster in line than through the thread pool's round trip.
      json = payload.length <= SYNC_INFLATE_MAX_BYTES ? zlib.brotliDecompressSync(payload, { maxOutputLength: MAX_BODY_BYTES }) : await brotliDecompress(payload, { maxOutputLength: MAX_BODY_BYTES });
    } catch (err) {
      throw new InvalidEntryError(`cannot decompress: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else throw new InvalidEntryError(`unknown compression ${raw[3]}`);
  let body: unknown;
  try {
    body = JSON.parse(json.toString('utf8'));
  } catch {
    throw new InvalidEntryError('not JSON');
  }
  if (!isObject(body)) throw new InvalidEntryError('not an object');
  if (body.k !== key) throw new InvalidEntryError('written for another key');
  if (typeof body.t !== 'number' || !Number.isFinite(body.t)) throw new InvalidEntryError('no timestamp');
  if (!Array.isArray(body.rows)) throw new InvalidEntryError('no rows');
  for (const row of body.rows) {
    if (!isObject(row)) throw new InvalidEntryError('a row is not an object');
    for (const v of Object.values(row)) {
      if (!(v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
        throw new InvalidEntryError('a row holds an unexpected value');
      }
    }
  }
  return { rows: body.rows as Row[], storedAt: body.t };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
