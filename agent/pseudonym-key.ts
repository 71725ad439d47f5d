import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * The site's pseudonym key (HMAC secret). With a key file, the same patient identifier gets
 * the same pseudonym across runs and sensors of one site; without one, a random key lives only
 * as long as the process, so pseudonyms cannot be linked to anything outside this run.
 */
export function loadPseudonymKey(file: string | undefined): { key: Buffer; ephemeral: boolean } {
  if (!file) return { key: randomBytes(32), ephemeral: true };
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    throw new ConfigError(`cannot read pseudonym key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (key.length < 16) throw new ConfigError(`pseudonym key file ${file}: needs at least 16 bytes of secret, has ${key.length}`);
  return { key, ephemeral: false };
}
