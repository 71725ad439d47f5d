import { ConfigError } from '../errors.js';

/**
 * A command-line mistake (unknown option, missing argument): exit code 2 and a pointer to
 * "muvakt help". A kind of ConfigError, so whatever handles bad configuration handles it too.
 */
export class UsageError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} expects a positive integer, got "${v}"`);
  return n;
}
