import type { TcpReassembler } from '../reassembly/tcp-reassembler.js';
import type { DatagramParser } from '../../protocols/datagram.js';
import type { FlowRef } from '../events/types.js';

export type FlowTunnel = NonNullable<FlowRef['tunnel']>;

/** TCP connection state as far as a passive observer can tell. */
export const enum TcpState {
  /** Only the client's SYN so far. */
  SynSent = 0,
  /** SYN-ACK seen, handshake not completed. */
  SynReceived = 1,
  Established = 2,
  /** One side sent FIN. */
  Closing = 3,
  /** Both sides sent FIN. */
  Closed = 4,
  Reset = 5,
  /** Picked up without seeing the handshake. */
  Midstream = 6,
  /** Not TCP. */
  None = 7,
}

export const TCP_STATE_NAMES = ['syn_sent', 'syn_received', 'established', 'closing', 'closed', 'reset', 'midstream', 'none'] as const;

/** Which idle timeout applies; each class is its own LRU list in the flow table. */
export const enum TimeoutClass {
  /** Handshake not completed: SYN floods and scans end up here, so the timeout is short. */
  New = 0,
  Established = 1,
  /** FIN/RST seen: wait briefly for the last ACKs and retransmissions. */
  Closed = 2,
  Udp = 3,
  Other = 4,
}
export const TIMEOUT_CLASS_COUNT = 5;

export type FlowEndReason = 'closed' | 'timeout' | 'evicted' | 'shutdown' | 'reused';

/**
 * One bidirectional conversation. Addresses are stored as numbers (see DecodedPacket) and
 * turned into text only when the flow is reported.
 */
export class Flow {
  // key: the client (initiator) side first
  vlanCount = 0;
  vlanOuter = 0;
  vlanInner = 0;
  ipVersion = 0;
  proto = 0;
  c0 = 0;
  c1 = 0;
  c2 = 0;
  c3 = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  cport = 0;
  sport = 0;
  /** The full 32-bit hash of the flow's key; its bucket is this masked by the table's current size. */
  hash = 0;
  /** Next flow in the same hash bucket. */
  bucketNext: Flow | null = null;
  // LRU list (one per timeout class), most recently seen at the tail
  lruPrev: Flow | null = null;
  lruNext: Flow | null = null;
  timeoutClass: TimeoutClass = TimeoutClass.Other;

  startSec = 0;
  startNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  /** lastSec + lastNsec·1e-9, kept for cheap timeout comparisons. */
  lastSeen = 0;
  pktsToServer = 0;
  pktsToClient = 0;
  bytesToServer = 0;
  bytesToClient = 0;
  /** Source MACs per direction as 16 + 32 bit halves (-1 = not seen): numbers, not strings, so a flow holds no garbage-to-be. */
  clientMacHi = -1;
  clientMacLo = 0;
  serverMacHi = -1;
  serverMacLo = 0;
  /**
   * The tunnel the first packet came through (kind, id, outer addresses): which mirror delivered
   * the flow. Not part of the flow's identity. Made once, as the events show it, and only for a
   * tunnelled flow: most flows carry no field for it.
   */
  tunnel: FlowTunnel | null = null;

  tcpState: TcpState = TcpState.None;
  /** How the client/server roles were decided. */
  roleBySyn = false;
  synSeen = false;
  finToServer = false;
  finToClient = false;
  rstSeen = false;

  /** Protocol label: set by the analyzer that recognised the stream, or from a port hint. */
  app = 'unknown';
  encrypted = false;
  /** Initial sequence numbers from the SYNs (-1 until seen), so a stream opened later starts there. */
  isnToServer = -1;
  isnToClient = -1;
  stream: TcpReassembler | null = null;
  /** The stream was ended; late segments are counted but not reassembled again. */
  streamDone = false;
  /** UDP: the parser chosen for this flow's datagrams, and how many datagrams were probed. */
  udpParser: DatagramParser | null = null;
  udpProbed = 0;
  /**
   * Bumped each time the object is recycled for another conversation, so a holder of a stale
   * reference (an analyzer context) can tell the flow it knew has ended.
   */
  generation = 0;
  /** The `flow` object of this flow's events, built on first use (cleared when the app changes). */
  ref: FlowRef | null = null;
  /** Analyzer events emitted for this flow (the `flowSeq` sinks are given). */
  eventsEmitted = 0;
  /** An analyzer reported patient data in the clear on this flow (see agent/events/phi-seen.ts). */
  phiSeen = false;
  /** An FTP data connection: the id of the control flow that announced it (in `flow.control_flow_id`). */
  controlFlowId: string | null = null;
  /** Between the hosts of an FTP control flow under AUTH TLS: its id, until the flow opens with TLS (then controlFlowId). */
  ftpDataCandidate: string | null = null;
  /** An FTP control flow whose AUTH TLS session expects data connections (dropped when it ends). */
  ftpTlsSession = false;
  /** What the flow history (agent/flows/flow-history.ts) has counted of this flow; null until it first does (and without a store). */
  hist: FlowHistoryMarks | null = null;

  /**
   * Clears the object for reuse. The flow table recycles ended flows: under a SYN flood the
   * steady state then allocates no new flow objects and leaves no old-generation garbage.
   */
  reset(): void {
    this.vlanCount = 0;
    this.vlanOuter = 0;
    this.vlanInner = 0;
    this.ipVersion = 0;
    this.proto = 0;
    this.c0 = this.c1 = this.c2 = this.c3 = 0;
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.cport = 0;
    this.sport = 0;
    this.hash = 0;
    this.bucketNext = null;
    this.lruPrev = null;
    this.lruNext = null;
    this.timeoutClass = TimeoutClass.Other;
    this.startSec = this.startNsec = this.lastSec = this.lastNsec = this.lastSeen = 0;
    this.pktsToServer = this.pktsToClient = this.bytesToServer = this.bytesToClient = 0;
    this.clientMacHi = -1;
    this.clientMacLo = 0;
    this.serverMacHi = -1;
    this.serverMacLo = 0;
    this.tunnel = null;
    this.tcpState = TcpState.None;
    this.roleBySyn = false;
    this.synSeen = false;
    this.finToServer = false;
    this.finToClient = false;
    this.rstSeen = false;
    this.app = 'unknown';
    this.encrypted = false;
    this.isnToServer = -1;
    this.isnToClient = -1;
    this.stream = null;
    this.streamDone = false;
    this.udpParser = null;
    this.udpProbed = 0;
    this.ref = null;
    this.eventsEmitted = 0;
    this.phiSeen = false;
    this.controlFlowId = null;
    this.ftpDataCandidate = null;
    this.ftpTlsSession = false;
    this.hist = null;
    this.generation++;
  }
}

/** What has been counted of one flow into the flow history's time buckets so far. */
export class FlowHistoryMarks {
  /** Bytes (both directions) already counted into a bucket. */
  bytes = 0;
  /** Start (s) of the last bucket the flow was counted in as a flow, and as a PHI flow; -1 = none. */
  bucket = -1;
  phiBucket = -1;
  /** The same for the per-address-pair rows (hourly). */
  peerBucket = -1;
  peerPhiBucket = -1;

  constructor(
    /** Zones of client and server, looked up once per flow (policy zone names: no per-sweep strings). */
    readonly zoneSrc: string,
    readonly zoneDst: string,
    /** Client and server address as text, made once per flow. */
    readonly client: string,
    readonly server: string,
  ) {}
}
