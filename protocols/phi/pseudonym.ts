import { nodeCrypto } from '../node-crypto.js';

/**
 * Keyed pseudonyms: the same patient value yields the same token across flows and days (so
 * analysts can correlate) but cannot be reversed or brute-forced without the site key —
 * a plain hash of an 11-digit number with a date prefix would be enumerable in seconds.
 */
export type Pseudonymize = (kind: string, value: string) => string;

/** 16 hex digits (64 bits): collisions are negligible at the volumes one site produces. */
export const PSEUDONYM_HEX_LENGTH = 16;

export interface PseudonymizerOptions {
  /**
   * Recent tokens remembered (default 4096, 0 = off). The same patient recurs in message after
   * message and one HMAC costs more than parsing an HL7 message. The cache is keyed by a
   * per-process salted 53-bit hash, never by the value, so it keeps no identifier in memory.
   */
  cacheSize?: number;
}

const MIN_KEY_BYTES = 16;
const DEFAULT_CACHE = 4096;

export function createPseudonymizer(key: Buffer, opts: PseudonymizerOptions = {}): Pseudonymize {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new RangeError(`pseudonym key must be at least ${MIN_KEY_BYTES} bytes`);
  }
  // Copy so that a caller zeroing or reusing its buffer cannot change our tokens.
  const k = Buffer.from(key);
  // The kind is part of the MAC input: the same digits as an fnr and as an order number
  // must not be linkable through their tokens.
  const mac = (input: string) => `${input.slice(0, input.indexOf('\0'))}:${nodeCrypto().createHmac('sha256', k).update(input, 'utf8').digest('hex').slice(0, PSEUDONYM_HEX_LENGTH)}`;

  const cacheSize = opts.cacheSize ?? DEFAULT_CACHE;
  if (cacheSize <= 0) return (kind, value) => mac(`${kind}\0${value}`);

  // The salt is drawn at the first value, with the first HMAC: node:crypto is loaded then.
  let s1 = 0;
  let s2 = 0;
  let salted = false;
  const cache = new Map<number, string>();
  return (kind: string, value: string): string => {
    if (!salted) {
      const salt = nodeCrypto().randomBytes(8);
      s1 = salt.readUInt32LE(0);
      s2 = salt.readUInt32LE(4);
      salted = true;
    }
    const input = `${kind}\0${value}`;
    // Two independent 32-bit multiplicative hashes, combined into a 53-bit map key.
    let h1 = s1 ^ input.length;
    let h2 = s2;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0xc2b2ae35);
    h1 ^= h1 >>> 16;
    const id = (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
    let token = cache.get(id);
    if (token === undefined) {
      token = mac(input);
      // Wholesale reset keeps the bound without LRU bookkeeping; a refill costs cacheSize HMACs.
      if (cache.size >= cacheSize) cache.clear();
      cache.set(id, token);
    }
    return token;
  };
}
