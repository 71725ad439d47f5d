/**
 * Which backend a `--db` names: `postgres://…` or `postgresql://…` is a PostgreSQL database
 * (a fleet store), anything else a SQLite file (`:memory:` for a one-off analysis). The
 * password of a URL never reaches a log line or an error: `redactDbUrl` before printing, and
 * better not in the URL at all (PGPASSWORD or PGPASSFILE, which node-postgres honours).
 */
export const DB_ENV = 'MUVAKT_DB';

export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** The location with any password replaced by `***` (a file path is returned as is). */
export function redactDbUrl(location: string): string {
  if (!isPostgresUrl(location)) return location;
  // user:password@host — not through URL(), which would also normalise what it does not understand.
  let out = location.replace(/^(postgres(?:ql)?:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@');
  // A password may also sit in the query string (?password=…).
  out = out.replace(/([?&]password=)[^&#]*/gi, '$1***');
  return out;
}

/** Removes a URL's password from a message (driver errors may quote what they were given). */
export function redactMessage(message: string, location: string): string {
  let out = message.split(location).join(redactDbUrl(location));
  const m = /^postgres(?:ql)?:\/\/[^:@/?#]*:([^@/?#]+)@/i.exec(location) ?? /[?&]password=([^&#]+)/i.exec(location);
  if (m !== null && m[1].length > 0) {
    for (const secret of new Set([m[1], safeDecode(m[1])])) if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `--db` if given, else $MUVAKT_DB, else the command's default. */
export function dbLocation(flag: string | undefined, fallback: string): string;
export function dbLocation(flag: string | undefined, fallback?: string): string | undefined;
export function dbLocation(flag: string | undefined, fallback?: string): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  const env = process.env[DB_ENV];
  if (env !== undefined && env !== '') return env;
  return fallback;
}

