import { decodeInnerEthernet, decodeLink, EtherType, isSupportedLinkType } from '../protocols/link/link.js';
import { decodeIpTunnel, decodeUdpTunnel, ENCAP_KIND_COUNT, ENCAP_KIND_NAMES, EncapKind, isTunnelProto, isTunnelUdp, MAX_ENCAP_DEPTH, TunnelEtherType } from '../protocols/link/tunnel.js';
import { decodeIpv4 } from '../protocols/ip/ipv4.js';
import { decodeIpv6 } from '../protocols/ip/ipv6.js';
import { DEFAULT_FRAGMENT_LIMITS, FragmentReassembler, type FragmentLimits } from '../protocols/ip/fragments.js';
import { decodeTcp } from '../protocols/transport/tcp.js';
import { decodeUdp } from '../protocols/transport/udp.js';
import { DecodeStatus, DecodedPacket, IpProto, TcpFlag } from '../protocols/packet.js';
import { Direction, type StreamEndReason } from '../protocols/stream.js';
import type { PacketRecord } from './capture/packet-record.js';
import { Flow, TimeoutClass, type FlowEndReason } from './flows/flow.js';
import { DEFAULT_FLOW_LIMITS, FlowTable, type FlowTableLimits } from './flows/flow-table.js';
import { flowEndEvent } from './flows/flow-event.js';
import { closedByPeers, initialTcpState, synStartsNewConnection, tcpTimeoutClass, trackSegment } from './flows/tcp-state.js';
import { udpAppForPorts } from './flows/udp-apps.js';
import { DEFAULT_FTP_DATA_LIMITS, FtpDataExpectations, type FtpDataLimits } from './flows/ftp-data-expectations.js';
import type { FlowHistory } from './flows/flow-history.js';
import { DEFAULT_REASSEMBLY_LIMITS, ReassemblyBudget, TcpReassembler, type ReassemblyLimits } from './reassembly/tcp-reassembler.js';
import { AnalyzerDispatcher, AnalyzerRegistry, type AnalyzerContext, type TcpAnalyzerFactory } from './analyzers/registry.js';
import { FlowContext, type FlowContextHost } from './analyzers/flow-context.js';
import { dispatchDatagram, UDP_PROBE_DATAGRAMS, udpWantsDatagrams } from './analyzers/udp-probing.js';
import { isoMicro } from './events/format.js';
import type { EventSink, MuvaktEvent } from './events/types.js';

/** Decode failures, counted per layer (the `layer` label of muvakt_decode_errors_total). */
export class DecodeErrors {
  link = 0;
  ipv4 = 0;
  ipv6 = 0;
  fragment = 0;
  tcp = 0;
  udp = 0;
  /** Tunnel headers (PPPoE, GRE, ERSPAN, VXLAN, IP-in-IP, GTP-U) that were cut short or impossible. */
  encap = 0;
}

export class PipelineStats {
  packets = 0;
  bytes = 0;
  /** Frames of a link type we do not decode. */
  unsupportedLink = 0;
  /** Valid frames that carry no IP (ARP, LLDP, STP…). */
  nonIp = 0;
  icmp = 0;
  /** IP packets of protocols without flows (ESP, PPTP's GRE, GRE keepalives, …). */
  otherIp = 0;
  fragments = 0;
  /** Tunnel layers peeled, by EncapKind (a VXLAN inside GRE counts once for each). */
  readonly decapsulated: number[] = new Array<number>(ENCAP_KIND_COUNT).fill(0);
  /** Frames dropped because their tunnels nest deeper than MAX_ENCAP_DEPTH. */
  encapTooDeep = 0;
  /** TCP streams no analyzer recognised (detached after the probe window). */
  unrecognisedStreams = 0;
  readonly decodeErrors = new DecodeErrors();
  readonly flowsByApp = new Map<string, number>();
  firstTs = -1;
  lastTs = -1;
  /** Analyzer states ended to make room for a new one (`maxAnalyzerStates`), oldest first. */
  analyzerStateEvictions = 0;
  /** Flows left without analysis because the process was near its memory ceiling. */
  analyzerStatesShed = 0;
  /** `decapsulated` by kind name, the kinds seen only (for the summary and the metrics snapshot). */
  decapsulatedByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let k = 1; k < ENCAP_KIND_COUNT; k++) if (this.decapsulated[k] > 0) out[ENCAP_KIND_NAMES[k]] = this.decapsulated[k];
    return out;
  }
}

/**
 * Protocol parser state held per flow at once (DICOM, HL7, TLS, HTTP… parsers with their
 * reassembly, or a UDP parser): about 2 KB each plus buffered payload (docs/performance.md).
 */
export const DEFAULT_MAX_ANALYZER_STATES = 100_000;

/** Packets between two looks at the process's memory: often enough to act within a fraction of a second at line rate. */
const MEMORY_CHECK_PACKETS = 0x3fff;

/**
 * Ended flows between two looks: an ended flow makes an event, rule findings and inventory work
 * (kilobytes, most of it garbage the collector has not yet reached), and the flush at the end of
 * a capture ends hundreds of thousands at once, with no packet in between.
 */
const MEMORY_CHECK_FLOW_ENDS = 0x3ff;

/** What the pipeline asks of a memory ceiling (sensor/memory-guard.ts): looked at every MEMORY_CHECK_PACKETS packets, every MEMORY_CHECK_FLOW_ENDS ended flows and each tick. */
export interface MemoryCheck {
  /** True while the process is near its ceiling: no new analyzer state is made and the flow table is squeezed. */
  check(): boolean;
}

export interface PipelineOptions {
  events: EventSink;
  registry: AnalyzerRegistry;
  flowLimits?: FlowTableLimits;
  reassemblyLimits?: ReassemblyLimits;
  fragmentLimits?: FragmentLimits;
  /** Flow aggregates by time bucket for the store (a sensor with a store); none by default. */
  history?: FlowHistory;
  /** Flows with analyzer state at once (default DEFAULT_MAX_ANALYZER_STATES); the oldest is ended for a new one. */
  maxAnalyzerStates?: number;
  memory?: MemoryCheck;
  /**
   * Told before a flow's end is reported (its analyzers' last events, then its `flow` event),
   * and with null after: an analysis worker orders those events as one pipeline would.
   */
  flowEnding?: (f: Flow | null) => void;
  /** FTP data connections awaited at once, and for how long (default DEFAULT_FTP_DATA_LIMITS). */
  ftpDataLimits?: FtpDataLimits;
}

const END_REASON: Record<FlowEndReason, StreamEndReason> = {
  closed: 'fin',
  timeout: 'timeout',
  evicted: 'evicted',
  shutdown: 'shutdown',
  reused: 'fin',
};

/**
 * capture → decode → flows → reassembly → analyzers. One instance per capture session; the
 * capture source calls `handle` for every frame. The steady-state path (a packet of a known
 * flow, in order) allocates nothing: decoders write into one DecodedPacket, the flow lookup
 * hashes numbers, and payload reaches the analyzer as a view.
 *
 * This class orchestrates; the parts live with their kind: the TCP state machine in
 * flows/tcp-state.ts, UDP probing next to the TCP dispatcher in analyzers/udp-probing.ts, the
 * end-of-flow event and its enrichment in flows/flow-event.ts.
 */
export class Pipeline {
  readonly stats = new PipelineStats();
  readonly flows: FlowTable;
  readonly reassembly: ReassemblyBudget;
  readonly fragments: FragmentReassembler;
  /** FTP data connections the control channels announced, awaiting their flow. */
  readonly ftpData: FtpDataExpectations;
  private readonly d = new DecodedPacket();
  private readonly events: EventSink;
  private readonly registry: AnalyzerRegistry;
  private readonly history: FlowHistory | null;
  private lastExpirySec = -1;
  /** Per-flow protocol timers (HL7 ACK timeouts…), dropped when their flow ends. */
  private readonly tickers = new Set<{ flow: Flow; generation: number; fn: (tsSec: number, tsNsec: number) => void }>();
  private flowsEnded = 0;
  /** Gap bytes of the stream endAnalysis last ended (out-values, so ending one allocates nothing). */
  private gapToServer = 0;
  private gapToClient = 0;
  private lastTsSec = 0;
  private lastTsNsec = 0;
  /**
   * Flows holding analyzer state, oldest first (a Set keeps insertion order): touched when a
   * flow gets its state and when it ends, never per packet.
   */
  private readonly analyzed = new Set<Flow>();
  private readonly maxAnalyzerStates: number;
  private readonly memory: MemoryCheck | null;
  private readonly flowEnding: ((f: Flow | null) => void) | null;
  /** Near the memory ceiling: flows are still tracked and counted, but get no analyzer. */
  private shedding = false;
  /** contextFor as a value, made once: UDP probing creates contexts through it. */
  private readonly contextOf = (f: Flow): AnalyzerContext => this.contextFor(f);
  /** What every flow's analyzer context shares. */
  private readonly contextHost: FlowContextHost;
  /** Counts a stream no analyzer recognised (one function for all dispatchers). */
  private readonly countUnrecognised = (): void => {
    this.stats.unrecognisedStreams++;
  };

  constructor(opts: PipelineOptions) {
    this.events = opts.events;
    this.registry = opts.registry;
    this.history = opts.history ?? null;
    this.maxAnalyzerStates = opts.maxAnalyzerStates ?? DEFAULT_MAX_ANALYZER_STATES;
    this.memory = opts.memory ?? null;
    this.flowEnding = opts.flowEnding ?? null;
    this.flows = new FlowTable(opts.flowLimits ?? DEFAULT_FLOW_LIMITS, (f, r) => this.flowEnded(f, r));
    this.reassembly = new ReassemblyBudget(opts.reassemblyLimits ?? DEFAULT_REASSEMBLY_LIMITS);
    this.fragments = new FragmentReassembler(opts.fragmentLimits ?? DEFAULT_FRAGMENT_LIMITS);
    this.ftpData = new FtpDataExpectations(opts.ftpDataLimits ?? DEFAULT_FTP_DATA_LIMITS);
    this.contextHost = {
      events: this.events,
      ftpData: this.ftpData,
      captureTime: () => this.lastTsSec + this.lastTsNsec * 1e-9,
      addTicker: (flow, generation, fn) => {
        this.tickers.add({ flow, generation, fn });
      },
    };
  }

  readonly handle = (rec: PacketRecord): void => {
    const st = this.stats;
    st.packets++;
    st.bytes += rec.origLen;
    if ((st.packets & MEMORY_CHECK_PACKETS) === 0 && this.memory !== null) this.lookAtMemory(this.memory);
    const tsSec = rec.tsSec;
    const tsNsec = rec.tsNsec;
    const now = tsSec + tsNsec * 1e-9;
    if (st.firstTs < 0) st.firstTs = now;
    if (now > st.lastTs) st.lastTs = now;
    this.lastTsSec = tsSec;
    this.lastTsNsec = tsNsec;
    if (tsSec !== this.lastExpirySec) this.advanceClock(tsSec, tsNsec);
    if (!isSupportedLinkType(rec.linkType)) {
      st.unsupportedLink++;
      return;
    }
    const d = this.d;
    let buf = rec.buf;
    /** The buffer the MAC offsets point into: a reassembled tunnel payload may carry the frame. */
    let macBuf = buf;
    let end = rec.off + rec.capLen;
    let status = decodeLink(rec.linkType, buf, rec.off, end, d);
    if (status !== DecodeStatus.Ok) {
      if (status === DecodeStatus.NotIp) st.nonIp++;
      else if (d.etherType === EtherType.PppoeSession) st.decodeErrors.encap++;
      else st.decodeErrors.link++;
      return;
    }
    if (d.encapDepth !== 0) {
      st.decapsulated[EncapKind.Pppoe]++;
      end = d.innerEnd;
    }
    let frames = 1;
    let frameBytes = rec.origLen;
    let proto: number;
    // One turn per IP header: plain traffic leaves at its transport header on the first turn,
    // tunnels go round once per layer peeled.
    for (;;) {
      d.resetL3();
      if (d.etherType === EtherType.Ipv4) {
        status = decodeIpv4(buf, end, d);
        if (status !== DecodeStatus.Ok) {
          st.decodeErrors.ipv4++;
          return;
        }
      } else {
        status = decodeIpv6(buf, end, d);
        if (status !== DecodeStatus.Ok) {
          st.decodeErrors.ipv6++;
          return;
        }
      }
      if (d.isFragment) {
        st.fragments++;
        const whole = this.fragments.add(buf, d, now, rec.origLen);
        if (whole === null) {
          return;
        }
        // Decode the rebuilt upper-layer segment as if it had arrived in one packet.
        buf = whole.payload;
        d.l4Off = 0;
        d.ipEnd = whole.payload.length;
        d.ipTruncated = false;
        d.payloadMissing = 0;
        frames = whole.frames;
        frameBytes = whole.frameBytes;
      }
      proto = d.l4Proto;
      if (proto === IpProto.Tcp) {
        if (decodeTcp(buf, d) !== DecodeStatus.Ok) {
          st.decodeErrors.tcp++;
          return;
        }
        break;
      }
      if (proto === IpProto.Udp) {
        if (decodeUdp(buf, d) !== DecodeStatus.Ok) {
          st.decodeErrors.udp++;
          return;
        }
        if (!isTunnelUdp(d.sport, d.dport)) break;
        status = decodeUdpTunnel(buf, d);
        // GTP-U signalling on the tunnel port: an ordinary UDP flow.
        if (status === DecodeStatus.NotIp) break;
      } else if (isTunnelProto(proto)) {
        status = decodeIpTunnel(buf, d);
        if (status === DecodeStatus.NotIp) {
          st.otherIp++;
          return;
        }
      } else {
        if (proto === IpProto.Icmp || proto === IpProto.Icmpv6) st.icmp++;
        else st.otherIp++;
        return;
      }
      if (status !== DecodeStatus.Ok) {
        st.decodeErrors.encap++;
        return;
      }
      if (d.encapDepth > MAX_ENCAP_DEPTH) {
        st.encapTooDeep++;
        return;
      }
      st.decapsulated[d.lastEncapKind]++;
      end = d.innerEnd;
      if (d.innerType === TunnelEtherType.Ethernet) {
        const depth = d.encapDepth;
        status = decodeInnerEthernet(buf, d.innerOff, end, d);
        if (status !== DecodeStatus.Ok) {
          if (status === DecodeStatus.NotIp) st.nonIp++;
          else if (d.etherType === EtherType.PppoeSession) st.decodeErrors.encap++;
          else st.decodeErrors.link++;
          return;
        }
        if (d.encapDepth !== depth) {
          if (d.encapDepth > MAX_ENCAP_DEPTH) {
            st.encapTooDeep++;
            return;
          }
          st.decapsulated[EncapKind.Pppoe]++;
          end = d.innerEnd;
        }
        macBuf = buf;
      } else {
        // An IP tunnel's link header is the tunnel endpoint's, not the mirrored device's.
        d.etherType = d.innerType;
        d.ipOff = d.innerOff;
        d.srcMacOff = -1;
        d.dstMacOff = -1;
      }
    }

    const table = this.flows;
    let f = table.lookup(d);
    if (f !== null && proto === IpProto.Tcp && (d.tcpFlags & (TcpFlag.Syn | TcpFlag.Ack)) === TcpFlag.Syn && synStartsNewConnection(f, table.toServer)) {
      // A fresh SYN on a finished connection's 5-tuple: port reuse, a new conversation.
      table.end(f, 'reused');
      f = null;
    }
    if (f === null) {
      f = table.create(d, tsSec, tsNsec);
      this.flowStarted(f);
    }
    const toServer = table.toServer;
    if (toServer) {
      f.pktsToServer += frames;
      f.bytesToServer += frameBytes;
    } else {
      f.pktsToClient += frames;
      f.bytesToClient += frameBytes;
    }
    const mac = d.srcMacOff;
    if (mac >= 0) {
      if (toServer) {
        if (f.clientMacHi < 0) {
          f.clientMacHi = macBuf.readUInt16BE(mac);
          f.clientMacLo = macBuf.readUInt32BE(mac + 2);
        }
      } else if (f.serverMacHi < 0) {
        f.serverMacHi = macBuf.readUInt16BE(mac);
        f.serverMacLo = macBuf.readUInt32BE(mac + 2);
      }
    }
    if (proto === IpProto.Tcp) {
      this.tcpPacket(f, toServer, buf, tsSec, tsNsec);
    } else {
      table.touch(f, TimeoutClass.Udp, tsSec, tsNsec);
      if (d.payloadLen > 0 && udpWantsDatagrams(f)) {
        const fresh = f.udpParser === null;
        if (fresh && this.shedding) {
          this.stats.analyzerStatesShed++;
          f.udpProbed = UDP_PROBE_DATAGRAMS + 1;
          return;
        }
        dispatchDatagram(this.registry, this.contextOf, f, toServer ? Direction.ToServer : Direction.ToClient, buf, d.payloadOff, d.payloadLen, tsSec, tsNsec);
        if (fresh && f.udpParser !== null) this.stateOpened(f);
      }
    }
  };

  /**
   * Capture time entered a new second: timeouts, the flow history's bucket and protocol timers
   * run. Once per capture second, never per packet. `handle` calls it; the analysis workers are
   * told by the capture reader, so every worker runs it at the same packet as one pipeline would.
   */
  advanceClock(tsSec: number, tsNsec: number): void {
    this.lastExpirySec = tsSec;
    const now = tsSec + tsNsec * 1e-9;
    // A new time bucket closes the last one.
    const h = this.history;
    if (h !== null && h.due(tsSec)) h.advance(this.flows, tsSec);
    this.flows.expire(now);
    if (this.fragments.pending > 0) this.fragments.expire(now);
    if (this.ftpData.size > 0) this.ftpData.expire(now);
    if (this.tickers.size > 0) this.runTickers(tsSec, tsNsec);
  }

  /** Advances flow timeouts on wall-clock time when a live capture is quiet. */
  tick(nowSec: number): void {
    if (this.memory !== null) this.lookAtMemory(this.memory);
    const h = this.history;
    if (h !== null && h.currentBucket !== -1 && h.due(Math.floor(nowSec))) h.advance(this.flows, Math.floor(nowSec));
    this.flows.expire(nowSec);
    this.fragments.expire(nowSec);
    this.runTickers(Math.floor(nowSec), Math.floor((nowSec % 1) * 1e9));
  }

  private runTickers(tsSec: number, tsNsec: number): void {
    for (const t of this.tickers) {
      if (t.flow.generation !== t.generation) this.tickers.delete(t);
      else t.fn(tsSec, tsNsec);
    }
  }

  /** Counts what open flows carried so far into the flow history's current bucket (before a periodic write). */
  sweepHistory(): void {
    this.history?.sweep(this.flows);
  }

  /** Ends every flow (end of capture or shutdown) so each one is reported. */
  finish(reason: FlowEndReason = 'shutdown'): void {
    this.flows.flushAll(reason);
    this.events.flush();
  }

  /**
   * finish() a batch of flows at a time, awaiting `pause` after each batch's events are flushed.
   * Ended in one synchronous run, hundreds of thousands of flows leave everything they feed
   * (the alert writer's batches, the flow history, the remote-session log) unable to commit
   * until the last one has ended: their queues fill to their caps and, held that long, outlive
   * the young generation into the old one. Between batches the commits go through.
   */
  async finishInBatches(reason: FlowEndReason = 'shutdown', pause: () => Promise<void> = nextTurn, batch = FINISH_BATCH): Promise<void> {
    for (;;) {
      const left = this.flows.flushOldest(reason, batch);
      this.events.flush();
      if (left === 0) return;
      await pause();
    }
  }

  private flowStarted(f: Flow): void {
    const d = this.d;
    if (f.proto === IpProto.Tcp) {
      f.tcpState = initialTcpState(f, d.tcpFlags);
      if (this.ftpData.size > 0) this.ftpDataStarted(f);
    } else if (f.proto === IpProto.Udp) {
      f.app = udpAppForPorts(f.cport, f.sport);
    }
  }

  /** A new TCP flow an FTP control channel announced: ftp-data with its control flow's id (a TLS session's: once it opens with TLS). */
  private ftpDataStarted(f: Flow): void {
    const m = this.ftpData.match(f, f.startSec + f.startNsec * 1e-9);
    if (m === null) return;
    if (m.tls) {
      f.ftpDataCandidate = m.controlId;
      return;
    }
    f.app = 'ftp-data';
    f.controlFlowId = m.controlId;
  }

  private tcpPacket(f: Flow, toServer: boolean, buf: Buffer, tsSec: number, tsNsec: number): void {
    const d = this.d;
    const flags = d.tcpFlags;
    const dir = toServer ? Direction.ToServer : Direction.ToClient;
    const syn = (flags & TcpFlag.Syn) !== 0;
    const fin = (flags & TcpFlag.Fin) !== 0;
    trackSegment(f, toServer, flags, d.seq, d.payloadLen);

    let stream = f.stream;
    const carries = d.payloadLen > 0 || d.payloadMissing > 0;
    if (stream === null && carries && !f.streamDone) {
      if (this.shedding) {
        this.stats.analyzerStatesShed++;
        f.streamDone = true;
      } else {
        stream = this.openStream(f, dir, syn);
        this.stateOpened(f);
      }
    }
    if (stream !== null) {
      if (carries || syn || fin) {
        stream.segment(dir, d.seq, syn, fin, buf, d.payloadOff, d.payloadLen, d.payloadMissing, tsSec, tsNsec);
      }
      if ((flags & TcpFlag.Ack) !== 0) stream.acknowledged(toServer ? Direction.ToClient : Direction.ToServer, d.ack);
    }

    this.flows.touch(f, tcpTimeoutClass(f), tsSec, tsNsec);
  }

  /** Reassembly and analyzer dispatch start with a connection's first payload byte. */
  private openStream(f: Flow, dir: Direction, syn: boolean): TcpReassembler {
    const reassembler = new TcpReassembler(null, this.reassembly);
    reassembler.setParser(new AnalyzerDispatcher(this.factoriesFor(f), this.contextFor(f), reassembler, this.countUnrecognised, this.registry.fallbackTcp));
    // Replay the handshake we saw so sequence numbers start at the ISNs, not at this segment.
    const ts = this.lastTsSec;
    const tn = this.lastTsNsec;
    if (f.isnToServer >= 0 && !(syn && dir === Direction.ToServer)) reassembler.segment(Direction.ToServer, f.isnToServer, true, false, EMPTY, 0, 0, 0, ts, tn);
    if (f.isnToClient >= 0 && !(syn && dir === Direction.ToClient)) reassembler.segment(Direction.ToClient, f.isnToClient, true, false, EMPTY, 0, 0, 0, ts, tn);
    f.stream = reassembler;
    return reassembler;
  }

  /** The analyzers a new stream is offered to: an FTP data connection's own, or all by the server port's hint. */
  private factoriesFor(f: Flow): readonly TcpAnalyzerFactory[] {
    const r = this.registry;
    if (f.controlFlowId !== null && r.ftpDataTls !== null && r.ftpDataClear !== null) return [r.ftpDataTls, r.ftpDataClear];
    if (f.ftpDataCandidate !== null && r.ftpDataTls !== null) return [r.ftpDataTls, ...r.forPort(f.sport)];
    return r.forPort(f.sport);
  }

  /** A flow got analyzer state: the oldest state is ended first when the cap is reached. */
  private stateOpened(f: Flow): void {
    const held = this.analyzed;
    if (held.size >= this.maxAnalyzerStates) {
      const oldest = held.values().next().value;
      if (oldest !== undefined) {
        held.delete(oldest);
        if (this.endAnalysis(oldest, 'evicted')) this.stats.analyzerStateEvictions++;
      }
    }
    held.add(f);
  }

  /**
   * Ends a flow's analyzer state (the parsers report what they have, as at a flow's end) and
   * leaves the flow tracked without analysis. True when there was state to end; a stream's
   * reassembly gaps are left in gapToServer/gapToClient.
   */
  private endAnalysis(f: Flow, reason: StreamEndReason): boolean {
    let ended = false;
    const stream = f.stream;
    if (stream !== null) {
      stream.end(reason);
      this.gapToServer = stream.counters(Direction.ToServer).gapBytes;
      this.gapToClient = stream.counters(Direction.ToClient).gapBytes;
      f.stream = null;
      ended = true;
    }
    f.streamDone = true;
    if (f.udpParser !== null) {
      f.udpParser.end();
      f.udpParser = null;
      f.udpProbed = UDP_PROBE_DATAGRAMS + 1;
      ended = true;
    }
    return ended;
  }

  private contextFor(f: Flow): AnalyzerContext {
    return new FlowContext(f, this.contextHost);
  }

  private lookAtMemory(m: MemoryCheck): void {
    const shedding = m.check();
    if (shedding !== this.shedding) {
      this.shedding = shedding;
      this.flows.squeeze(shedding);
    }
  }

  private flowEnded(f: Flow, reason: FlowEndReason): void {
    this.flowEnding?.(f);
    if ((++this.flowsEnded & MEMORY_CHECK_FLOW_ENDS) === 0 && this.memory !== null) this.lookAtMemory(this.memory);
    let gapS = 0;
    let gapC = 0;
    if (this.analyzed.delete(f) || f.stream !== null || f.udpParser !== null) {
      this.gapToServer = this.gapToClient = 0;
      // A connection that closed before the flush (end of capture) ended by FIN/RST, not by us.
      const byPeers = f.stream !== null && closedByPeers(f);
      this.endAnalysis(f, f.rstSeen && (reason === 'closed' || byPeers) ? 'rst' : byPeers ? 'fin' : END_REASON[reason]);
      gapS = this.gapToServer;
      gapC = this.gapToClient;
    }
    f.streamDone = true;
    if (f.ftpTlsSession) this.ftpData.controlEnded(f);
    const st = this.stats;
    st.flowsByApp.set(f.app, (st.flowsByApp.get(f.app) ?? 0) + 1);
    this.history?.flowEnded(f);
    this.events.write(flowEndEvent(f, reason, gapS, gapC));
    this.flowEnding?.(null);
  }
}

const EMPTY = Buffer.alloc(0);

/** Flows ended between two pauses of finishInBatches: the writers' queues stay far below their caps. */
const FINISH_BATCH = 2048;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
