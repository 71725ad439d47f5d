/**
 * Errors the library raises about what the operator gave it. They live here, not in the CLI,
 * so library code never imports the command line; the CLI maps them to exit code 2.
 */

/** A file or setting the operator named cannot be used: unreadable, invalid, or unopenable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
