import { carriesCleartextPhi } from '../events/phi-seen.js';
import type { EventOf, EventSink, FlowEvent, MuvaktEvent } from '../events/types.js';

type Counts = Record<string, number>;

/** Packets a one-direction TCP flow must carry to count: fewer are leftovers, not a mirror fault. */
const ONE_SIDED_MIN_PACKETS = 3;

/**
 * A TCP flow that ended with packets in one direction only, as a half-mirrored SPAN (only RX
 * or only TX of the monitored port copied) makes every connection look. Not counted: an
 * unanswered SYN (scans, filtered ports: the peer really said nothing) and a stray packet or
 * two of a connection the flow table had already closed.
 */
export function isOneSidedTcp(e: FlowEvent): boolean {
  if (e.tcp_state === 'syn_sent') return false;
  const toServer = Number(e.pkts_toserver ?? 0);
  const toClient = Number(e.pkts_toclient ?? 0);
  return (toServer === 0) !== (toClient === 0) && toServer + toClient >= ONE_SIDED_MIN_PACKETS;
}

function bump(c: Counts, key: string, n = 1): void {
  c[key] = (c[key] ?? 0) + n;
}

/**
 * Counts what the analyzers report, for /metrics: a few map increments per
 * event (events, not packets), never a prom-client call on the analysis path.
 */
export class EventCounters implements EventSink {
  readonly dicomAssociations: Counts = {};
  readonly dicomDimse: Counts = {};
  readonly hl7: Map<string, { message_type: string; ack_code: string; count: number }> = new Map();
  readonly tlsHandshakes: Counts = {};
  /** Flow ids already counted as carrying cleartext PHI (bounded), and the counts by protocol. */
  private readonly phiFlowIds = new Set<string>();
  readonly cleartextPhiFlows: Counts = {};
  readonly remoteAccess = new Map<string, { protocol: string; encrypted: boolean; count: number }>();
  /** TCP flows that ended, and those of them seen in one direction only (see `isOneSidedTcp`). */
  tcpFlowsEnded = 0;
  oneSidedTcpFlows = 0;

  constructor(private readonly inner: EventSink) {}

  write(e: MuvaktEvent, flowSeq?: number): void {
    this.inner.write(e, flowSeq);
    if (e.type === 'phi.observed' || e.type === 'dicom.dimse' || e.type === 'dicomweb.request' || e.type === 'hl7.message') this.countPhi(e);
    switch (e.type) {
      case 'flow': {
        if (e.flow.proto === 'tcp') {
          this.tcpFlowsEnded++;
          if (isOneSidedTcp(e)) this.oneSidedTcpFlows++;
        }
        return;
      }
      case 'dicom.association':
        bump(this.dicomAssociations, String(e.result));
        return;
      case 'dicom.dimse':
        bump(this.dicomDimse, String(e.command));
        return;
      case 'hl7.message': {
        if (e.acknowledgment) return; // the ACK itself is counted on the message it answers
        const type = String(e.message_type);
        const ack = typeof e.ack_code === 'string' ? e.ack_code : 'none';
        const key = `${type}\u0000${ack}`;
        const h = this.hl7.get(key);
        if (h) h.count++;
        else if (this.hl7.size < 1000) this.hl7.set(key, { message_type: type, ack_code: ack, count: 1 });
        return;
      }
      case 'tls.handshake':
        bump(this.tlsHandshakes, typeof e.version === 'string' ? e.version : 'unknown');
        return;
      case 'remote_access': {
        const protocol = String(e.protocol);
        const encrypted = e.encrypted === true;
        const key = `${protocol}|${encrypted}`;
        const r = this.remoteAccess.get(key);
        if (r) r.count++;
        else this.remoteAccess.set(key, { protocol, encrypted, count: 1 });
        return;
      }
      default:
    }
  }

  /** Patient data seen in the clear: phi.observed from any scanner, or DICOM/HL7 with patient fields; once per connection. */
  private countPhi(e: EventOf<'phi.observed' | 'dicom.dimse' | 'dicomweb.request' | 'hl7.message'>): void {
    const hasPhi = carriesCleartextPhi(e);
    const id = e.flow.id;
    if (!hasPhi || this.phiFlowIds.has(id)) return;
    if (this.phiFlowIds.size >= 100_000) this.phiFlowIds.clear();
    this.phiFlowIds.add(id);
    bump(this.cleartextPhiFlows, e.type === 'phi.observed' ? e.protocol : e.flow.app);
  }

  flush(): void {
    this.inner.flush();
  }

  close(): void {
    this.inner.close();
  }
}
