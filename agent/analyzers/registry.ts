import { ProbeVerdict } from '../../protocols/probe.js';
import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../../protocols/stream.js';
import type { DatagramParser } from '../../protocols/datagram.js';
import type { Flow } from '../flows/flow.js';
import type { AnalyzerRecord } from '../events/types.js';
import type { FtpDataEndpoint } from '../../protocols/cleartext/ftp-data.js';

/** What an analyzer may do besides parsing: label its flow and report events about it. */
export interface AnalyzerContext {
  readonly flow: Flow;
  /** Reports a parser's record as an event of this flow (its capture time becomes `ts`). */
  emit(rec: AnalyzerRecord): void;
  setApp(app: string, encrypted: boolean): void;
  /** Calls `fn` once per second of capture time while the flow lives (timeouts inside a protocol). */
  onTick(fn: (tsSec: number, tsNsec: number) => void): void;
  /** An FTP control flow announced a data connection: the next TCP flow to it becomes ftp-data. */
  expectFtpDataEndpoint?(ep: FtpDataEndpoint): void;
  /** An FTP control flow went AUTH TLS: TLS connections between its two hosts become its ftp-data. */
  expectFtpTlsSession?(): void;
}

/**
 * A TCP protocol analyzer as the registry knows it: a cheap probe over the first bytes of a
 * direction, and a factory for the stream parser once the probe says yes.
 */
export interface TcpAnalyzerFactory {
  /** Flow label when this analyzer takes the flow (e.g. "dicom"). */
  readonly app: string;
  readonly encrypted: boolean;
  /** Directions whose first bytes identify the protocol (SSH: both; RFB: the server's). */
  probe(dir: Direction, buf: Buffer, off: number, len: number): ProbeVerdict;
  create(ctx: AnalyzerContext): StreamParser;
}

/**
 * A UDP protocol analyzer. Its probe sees single datagrams (the first few of a flow, either
 * direction); the server and client ports are passed as a hint for protocols whose content alone is
 * ambiguous, but content must still agree (a syslog PRI, an SNMP BER header…).
 */
export interface UdpAnalyzerFactory {
  readonly app: string;
  readonly encrypted: boolean;
  probe(dir: Direction, buf: Buffer, off: number, len: number, serverPort: number, clientPort: number): ProbeVerdict;
  create(ctx: AnalyzerContext): DatagramParser;
}

export interface AnalyzerHints {
  /** Ports the site policy declares for an app (e.g. DICOM on 4242): that app is probed first. */
  portApps: Map<number, string>;
}

/** The analyzer dispatcher keeps its probes' verdicts as one bit per factory and direction. */
const MAX_FACTORIES = 32;

/**
 * The analyzers in play, in probe order. Port numbers never decide a protocol; a hint only
 * changes which probe runs first.
 */
export class AnalyzerRegistry {
  private readonly factories: TcpAnalyzerFactory[] = [];
  /** Per hinted port, the factories with the hinted app moved to the front. */
  private readonly hinted = new Map<number, TcpAnalyzerFactory[]>();
  private hints: AnalyzerHints = { portApps: new Map() };

  private readonly udp: UdpAnalyzerFactory[] = [];
  /** Parser for TCP streams and UDP flows nobody recognised (the cleartext PHI scanner). */
  fallbackTcp: TcpAnalyzerFactory | null = null;
  /**
   * FTP data connections, probed instead of the others on a flow an FTP control channel
   * announced: TLS first (a TLS session's data), then everything else as cleartext ftp-data.
   */
  ftpDataTls: TcpAnalyzerFactory | null = null;
  ftpDataClear: TcpAnalyzerFactory | null = null;
  fallbackUdp: UdpAnalyzerFactory | null = null;

  register(f: TcpAnalyzerFactory): this {
    // One left for the TLS analyzer an FTP data connection is offered first.
    if (this.factories.length >= MAX_FACTORIES - 1) throw new Error(`at most ${MAX_FACTORIES - 1} TCP analyzers can be registered`);
    this.factories.push(f);
    this.rebuildHints();
    return this;
  }

  registerUdp(f: UdpAnalyzerFactory): this {
    this.udp.push(f);
    return this;
  }

  get udpFactories(): readonly UdpAnalyzerFactory[] {
    return this.udp;
  }

  /** The TCP analyzers in probe order (without the fallback). */
  get tcpFactories(): readonly TcpAnalyzerFactory[] {
    return this.factories;
  }

  setHints(hints: AnalyzerHints): void {
    this.hints = hints;
    this.rebuildHints();
  }

  get apps(): string[] {
    return this.factories.map((f) => f.app);
  }

  /** Factories to probe for a connection to `serverPort`. */
  forPort(serverPort: number): readonly TcpAnalyzerFactory[] {
    return this.hinted.get(serverPort) ?? this.factories;
  }

  private rebuildHints(): void {
    this.hinted.clear();
    for (const [port, app] of this.hints.portApps) {
      const first = this.factories.filter((f) => f.app === app);
      if (first.length === 0) continue;
      this.hinted.set(port, [...first, ...this.factories.filter((f) => f.app !== app)]);
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** Bytes per direction a connection may show before we give up recognising it. */
export const PROBE_WINDOW = 256;

/** Where a dispatcher's bytes come from: the connection's reassembler. */
export interface DispatchHost {
  /** Drop the next n bytes of a direction. */
  addSkip(dir: Direction, n: number): void;
  /** From now on, deliver the stream to `p` directly: the dispatcher has done its work. */
  setParser(p: StreamParser): void;
}

/**
 * Sits in front of every new TCP connection until one analyzer recognises it. It copies at
 * most PROBE_WINDOW bytes per direction (once per connection), then hands over — replaying
 * what it held in arrival order, and telling the host to deliver to the chosen parser from
 * then on, so an open connection keeps no dispatcher — or detaches so unrecognised traffic
 * costs nothing more.
 */
export class AnalyzerDispatcher implements StreamParser {
  private parser: StreamParser | null = null;
  private held0: Buffer | null = null;
  private held1: Buffer | null = null;
  private heldLen0 = 0;
  private heldLen1 = 0;
  /** Arrival order of held chunks: direction, length, direction, length… (≤ 2·PROBE_WINDOW entries). */
  private order: number[] | null = null;
  /** Per direction, a bit per factory: that probe said No. */
  private ruledOut0 = 0;
  private ruledOut1 = 0;
  private gaveUp = false;
  /** Capture time of the last chunk held, for records made when the stream is given up. */
  private lastTsSec = 0;
  private lastTsNsec = 0;

  constructor(
    private readonly factories: readonly TcpAnalyzerFactory[],
    private readonly ctx: AnalyzerContext,
    private readonly host: DispatchHost,
    /** Told when nobody recognised the stream (one function shared by all dispatchers). */
    private readonly onUnrecognised: () => void,
    /** Takes streams nobody recognised (the cleartext PHI scanner); null detaches them. */
    private readonly fallback: TcpAnalyzerFactory | null = null,
  ) {
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.parser !== null) return this.parser.data(dir, buf, off, len, tsSec, tsNsec);
    if (this.gaveUp) return DETACH;
    this.lastTsSec = tsSec;
    this.lastTsNsec = tsNsec;
    const have = dir === 0 ? this.heldLen0 : this.heldLen1;
    const take = Math.min(len, PROBE_WINDOW - have);
    const seen = have + take;
    // Nothing held yet in this direction (the common case): the probes read the segment where it
    // lies, and a copy is made only if they want more.
    let window = dir === 0 ? this.held0 : this.held1;
    let wOff = 0;
    if (have === 0) {
      window = buf;
      wOff = off;
    } else buf.copy(window!, have, off, off + take);
    let ruled = dir === 0 ? this.ruledOut0 : this.ruledOut1;
    const factories = this.factories;
    for (let i = 0; i < factories.length; i++) {
      if ((ruled & (1 << i)) !== 0) continue;
      const v = factories[i].probe(dir, window!, wOff, seen);
      if (v === ProbeVerdict.Yes) return this.handOver(factories[i], dir, buf, off, len, tsSec, tsNsec);
      if (v === ProbeVerdict.No) ruled |= 1 << i;
    }
    if (dir === 0) this.ruledOut0 = ruled;
    else this.ruledOut1 = ruled;
    // Bytes beyond the window could not be replayed to a parser chosen later.
    if (take < len) return this.giveUp(dir, buf, off, len, tsSec, tsNsec);
    if (have === 0) {
      // Its own memory, not a slice of Node's shared pool: the window is garbage once the
      // stream is recognised, and a pool slab stays alive while any of its slices does.
      const held = Buffer.from(new ArrayBuffer(PROBE_WINDOW));
      buf.copy(held, 0, off, off + take);
      if (dir === 0) this.held0 = held;
      else this.held1 = held;
    }
    if (dir === 0) this.heldLen0 = seen;
    else this.heldLen1 = seen;
    (this.order ??= []).push(dir, len);
    return this.allRuledOut() ? this.giveUp(dir, buf, off, 0, tsSec, tsNsec) : 0;
  }

  gap(dir: Direction, len: number): void {
    if (this.parser !== null) this.parser.gap(dir, len);
    else if (!this.gaveUp) {
      // Before recognition a gap breaks the probe window: what follows is not "first bytes".
      this.giveUp(dir, EMPTY, 0, 0, this.lastTsSec, this.lastTsNsec);
      (this.parser as StreamParser | null)?.gap(dir, len);
    }
  }

  end(reason: StreamEndReason): void {
    // Undecided when the connection ends (one side never spoke): the fallback still reads it.
    if (this.parser === null && !this.gaveUp && this.order !== null) this.giveUp(0, EMPTY, 0, 0, this.lastTsSec, this.lastTsNsec);
    if (this.parser !== null) this.parser.end(reason);
    this.release();
  }

  /** Every factory said No in both directions (a direction without data has not said No yet). */
  private allRuledOut(): boolean {
    if (this.heldLen0 === 0 || this.heldLen1 === 0) return false;
    const all = this.factories.length === MAX_FACTORIES ? -1 : (1 << this.factories.length) - 1;
    return (this.ruledOut0 & all) === all && (this.ruledOut1 & all) === all;
  }

  /**
   * Nobody recognised the stream. With a fallback, it gets the held bytes and the current
   * chunk (`len` may be 0 when that chunk was already held); otherwise the stream is detached.
   */
  private giveUp(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    this.gaveUp = true;
    this.onUnrecognised();
    if (this.fallback === null) {
      this.release();
      return DETACH;
    }
    return this.handOver(this.fallback, dir, buf, off, len, tsSec, tsNsec, false);
  }

  private handOver(f: TcpAnalyzerFactory, dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number, label = true): number {
    if (label) this.ctx.setApp(f.app, f.encrypted);
    const p = f.create(this.ctx);
    this.parser = p;
    this.host.setParser(p);
    // Replay held chunks in arrival order, then the current one from the caller's buffer,
    // honouring any skip the parser asks for along the way.
    let skip0 = 0;
    let skip1 = 0;
    let pos0 = 0;
    let pos1 = 0;
    const order = this.order;
    const held0 = this.held0;
    const held1 = this.held1;
    this.order = null;
    if (order !== null) {
      for (let i = 0; i < order.length; i += 2) {
        const d = order[i] as Direction;
        const n = order[i + 1];
        let from = d === 0 ? pos0 : pos1;
        if (d === 0) pos0 += n;
        else pos1 += n;
        let count = n;
        const s = Math.min(d === 0 ? skip0 : skip1, count);
        if (d === 0) skip0 -= s;
        else skip1 -= s;
        from += s;
        count -= s;
        if (count === 0) continue;
        const r = p.data(d, (d === 0 ? held0 : held1)!, from, count, tsSec, tsNsec);
        if (r === DETACH) {
          this.release();
          return DETACH;
        }
        if (d === 0) skip0 += r;
        else skip1 += r;
      }
    }
    this.release();
    const skipOther = dir === 0 ? skip1 : skip0;
    if (skipOther > 0) this.host.addSkip(dir === 0 ? 1 : 0, skipOther);
    const skipHere = dir === 0 ? skip0 : skip1;
    const s = Math.min(skipHere, len);
    const rest = skipHere - s;
    if (len - s === 0) return rest;
    const r = p.data(dir, buf, off + s, len - s, tsSec, tsNsec);
    return r === DETACH ? DETACH : r + rest;
  }

  private release(): void {
    this.held0 = null;
    this.held1 = null;
    this.order = null;
  }
}
