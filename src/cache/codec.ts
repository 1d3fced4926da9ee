/**
 * How an answer is stored: a header (magic, format, compression, body length), an HMAC-SHA256
 * over the key, the header and the payload, then the JSON of the rows, brotli-compressed when
 * large. Reading checks the MAC first, so bytes this service did not write for this very key
 * (forged, corrupt, or written for another key) are rejected before anything is inflated or
 * parsed; the inflated size is bounded by the length the authenticated header declares.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Row } from '../query/engine';

const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** JSON bodies larger than this are compressed. */
export const COMPRESS_THRESHOLD_BYTES = 16 * 1024;

const MAGIC_0 = 0x54; // 'T'
const MAGIC_1 = 0x51; // 'Q'
const FORMAT = 2;
const PLAIN = 0;
const BROTLI = 1;
/** Magic (2), format, compression, body length (uint32 big-endian). */
const HEADER_BYTES = 8;
const MAC_BYTES = 32;
/** A body larger than this is never written nor read. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
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

function mac(secret: string, key: string, header: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update(key, 'utf8').update(Buffer.from([0])).update(header).update(payload).digest();
}

/**
 * Header, MAC and payload for a JSON body stored under `key`. Exported so tests can write
 * authentic entries whose bodies are wrong.
 */
export async function sealBody(key: string, json: Buffer, secret: string, compress = json.length > COMPRESS_THRESHOLD_BYTES): Promise<Buffer> {
  if (json.length > MAX_BODY_BYTES) throw new InvalidEntryError(`body of ${json.length} bytes is over ${MAX_BODY_BYTES}`);
  const payload = compress
    ? await brotliCompress(json, {
        params: {
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: json.length,
        },
      })
    : json;
  const header = Buffer.from([MAGIC_0, MAGIC_1, FORMAT, compress ? BROTLI : PLAIN, 0, 0, 0, 0]);
  header.writeUInt32BE(json.length, 4);
  return Buffer.concat([header, mac(secret, key, header, payload), payload]);
}

export async function encodeEntry(key: string, entry: CacheEntry, secret: string): Promise<Buffer> {
  const body: Body = { k: key, t: entry.storedAt, rows: entry.rows };
  return sealBody(key, Buffer.from(JSON.stringify(body), 'utf8'), secret);
}

/** The JSON body length an entry's header declares (0 for bytes too short to hold a header). */
export function declaredBodyBytes(raw: Buffer): number {
  return raw.length < HEADER_BYTES ? 0 : raw.readUInt32BE(4);
}

/** The entry stored under `key` by a holder of `secret`; throws InvalidEntryError for anything else. */
export async function decodeEntry(key: string, raw: Buffer, secret: string): Promise<CacheEntry> {
  if (!Buffer.isBuffer(raw) || raw.length < HEADER_BYTES + MAC_BYTES || raw[0] !== MAGIC_0 || raw[1] !== MAGIC_1) throw new InvalidEntryError('not an entry');
  if (raw[2] !== FORMAT) throw new InvalidEntryError(`unknown format ${raw[2]}`);
  const header = raw.subarray(0, HEADER_BYTES);
  const payload = raw.subarray(HEADER_BYTES + MAC_BYTES);
  if (!timingSafeEqual(raw.subarray(HEADER_BYTES, HEADER_BYTES + MAC_BYTES), mac(secret, key, header, payload))) {
    throw new InvalidEntryError('MAC does not match (not written by this service for this key)');
  }
  const length = header.readUInt32BE(4);
  if (length > MAX_BODY_BYTES) throw new InvalidEntryError(`declared body of ${length} bytes is over ${MAX_BODY_BYTES}`);
  let json: Buffer;
  if (raw[3] === PLAIN) json = payload;
  else if (raw[3] === BROTLI) {
    try {
      // Small payloads inflate faster in line than through the thread pool's round trip.
      const options = { maxOutputLength: Math.max(1, length) };
      json = payload.length <= SYNC_INFLATE_MAX_BYTES ? zlib.brotliDecompressSync(payload, options) : await brotliDecompress(payload, options);
    } catch (err) {
      throw new InvalidEntryError(`cannot decompress: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else throw new InvalidEntryError(`unknown compression ${raw[3]}`);
  if (json.length !== length) throw new InvalidEntryError(`body is ${json.length} bytes, header says ${length}`);
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
