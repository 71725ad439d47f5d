import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { nodeCrypto } from '../protocols/node-crypto.js';
import { ConfigError } from './errors.js';

/**
 * The site's pseudonym key (HMAC secret). With a key file, the same patient identifier gets
 * the same pseudonym across runs and sensors of one site; without one, a random key lives only
 * as long as the process, so pseudonyms cannot be linked to anything outside this run.
 */
export function loadPseudonymKey(file: string | undefined): { key: Buffer; ephemeral: boolean } {
  if (!file) return { key: ephemeralKey(), ephemeral: true };
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    throw new ConfigError(`cannot read pseudonym key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (key.length < 16) throw new ConfigError(`pseudonym key file ${file}: needs at least 16 bytes of secret, has ${key.length}`);
  return { key, ephemeral: false };
}

/**
 * 32 random bytes from the kernel's generator, the one node:crypto seeds from, read directly:
 * loading node:crypto here would cost its ~5 ms of start-up before the first packet, and a run
 * may never need it.
 */
function ephemeralKey(): Buffer {
  const key = Buffer.alloc(32);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, key, 0, 32, null) === 32) return key;
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom (a bare container): node:crypto's generator below.
  }
  return nodeCrypto().randomBytes(32);
}
