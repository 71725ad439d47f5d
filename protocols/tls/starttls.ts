/**
 * A cleartext protocol that switches to TLS inside its connection (SMTP STARTTLS, IMAP
 * STARTTLS, POP3 STLS, FTP AUTH TLS): the cleartext parser reads until the server's go-ahead,
 * then the rest of both directions goes to a TLS parser, so the upgraded connection gets the
 * same `tls.handshake` as direct TLS.
 */
import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../stream.js';

/** A cleartext parser that can hand its connection over to TLS. */
export interface UpgradableParser extends StreamParser {
  /**
   * After a data() call that returned DETACH because the server accepted the upgrade: the
   * offset in that chunk just past the go-ahead, where TLS begins. -1 otherwise.
   */
  readonly tlsFrom: number;
}

export class StartTlsStream implements StreamParser {
  private cleartext: UpgradableParser | null;
  private tls: StreamParser | null = null;

  constructor(
    cleartext: UpgradableParser,
    /** Called once, at the go-ahead. */
    private readonly makeTls: () => StreamParser,
  ) {
    this.cleartext = cleartext;
  }

  /** The TLS parser, once the connection was upgraded. */
  get upgraded(): StreamParser | null {
    return this.tls;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.tls !== null) return this.tls.data(dir, buf, off, len, tsSec, tsNsec);
    const c = this.cleartext;
    if (c === null) return DETACH;
    const r = c.data(dir, buf, off, len, tsSec, tsNsec);
    if (r !== DETACH) return r;
    this.cleartext = null;
    const from = c.tlsFrom;
    if (from < 0) return DETACH;
    const tls = (this.tls = this.makeTls());
    const end = off + len;
    return from < end ? tls.data(dir, buf, from, end - from, tsSec, tsNsec) : 0;
  }

  gap(dir: Direction, len: number): void {
    if (this.tls !== null) this.tls.gap(dir, len);
    else this.cleartext?.gap(dir, len);
  }

  end(reason: StreamEndReason): void {
    if (this.tls !== null) this.tls.end(reason);
    else this.cleartext?.end(reason);
    this.cleartext = null;
  }
}
