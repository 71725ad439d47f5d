import { credentialFields, type CredentialKind } from '../credentials.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import type { CleartextEmit, CredentialRecord } from './records.js';

/** Distinct credentials reported per connection; a keep-alive flow sending Basic on every request reports it once. */
const MAX_DISTINCT = 16;

/**
 * Turns a username and secret into a `credential.cleartext` record at once (through
 * credentialFields: only the pseudonym and the fingerprint are kept) and reports each distinct
 * credential once per connection.
 */
export class CredentialLog {
  private readonly seen: string[] = [];
  /** Records not reported because they repeated one already reported. */
  repeats = 0;

  constructor(
    private readonly pseudonymize: Pseudonymize,
    private readonly protocol: string,
    private readonly emit: CleartextEmit,
  ) {}

  record(kind: CredentialKind, username: string | undefined, secret: string | undefined, tsSec: number, tsNsec: number): CredentialRecord {
    const f = credentialFields(this.pseudonymize, this.protocol, kind, username, secret);
    return { type: 'credential.cleartext', ts_sec: tsSec, ts_nsec: tsNsec, ...f };
  }

  report(rec: CredentialRecord): void {
    const key = `${rec.kind}|${rec.username_pseudonym ?? ''}|${rec.secret_fingerprint ?? ''}|${rec.success ?? ''}`;
    if (this.seen.includes(key)) {
      this.repeats++;
      return;
    }
    if (this.seen.length < MAX_DISTINCT) this.seen.push(key);
    this.emit(rec);
  }
}
