/**
 * The TCP connection state a passive observer can follow: from the flags of each segment, in
 * either direction, including what an asymmetric span port hides (a missed SYN-ACK, a
 * connection joined midstream). Pure functions over the flow; nothing allocated.
 */
import { TcpFlag } from '../../protocols/packet.js';
import { TcpState, TimeoutClass, type Flow } from './flow.js';

/** The state of a connection whose first segment had these flags (`roleBySyn`: the flow table saw a SYN decide the roles). */
export function initialTcpState(f: Flow, flags: number): TcpState {
  if (!f.roleBySyn) return TcpState.Midstream;
  return (flags & TcpFlag.Ack) !== 0 ? TcpState.SynReceived : TcpState.SynSent;
}

/** A bare SYN on this flow's 5-tuple starts a new conversation (port reuse) rather than retransmitting the first. */
export function synStartsNewConnection(f: Flow, toServer: boolean): boolean {
  if (!toServer) return true;
  return f.tcpState === TcpState.Closed || f.tcpState === TcpState.Reset;
}

/** Advances the flow's state (and ISNs, FIN/RST flags) by one segment. */
export function trackSegment(f: Flow, toServer: boolean, flags: number, seq: number, payloadLen: number): void {
  const syn = (flags & TcpFlag.Syn) !== 0;
  if (syn) {
    f.synSeen = true;
    if (toServer) f.isnToServer = seq;
    else f.isnToClient = seq;
    if ((flags & TcpFlag.Ack) !== 0 && f.tcpState === TcpState.SynSent) f.tcpState = TcpState.SynReceived;
  } else if (f.tcpState === TcpState.SynReceived && (flags & TcpFlag.Ack) !== 0 && toServer) {
    f.tcpState = TcpState.Established;
  } else if (f.tcpState === TcpState.SynSent && payloadLen > 0) {
    // We missed the SYN-ACK (asymmetric span): data flowing means the connection is up.
    f.tcpState = TcpState.Established;
  }
  if ((flags & TcpFlag.Fin) !== 0) {
    if (toServer) f.finToServer = true;
    else f.finToClient = true;
    if (f.tcpState !== TcpState.Reset) f.tcpState = f.finToServer && f.finToClient ? TcpState.Closed : TcpState.Closing;
  }
  if ((flags & TcpFlag.Rst) !== 0) {
    f.rstSeen = true;
    f.tcpState = TcpState.Reset;
  }
}

/** Which idle timeout applies to the connection in its current state. */
export function tcpTimeoutClass(f: Flow): TimeoutClass {
  switch (f.tcpState) {
    case TcpState.Established:
    case TcpState.Midstream:
    case TcpState.Closing:
      return TimeoutClass.Established;
    case TcpState.Closed:
    case TcpState.Reset:
      return TimeoutClass.Closed;
    default:
      return TimeoutClass.New;
  }
}

/** Closed by its peers (FIN both ways, or RST), as opposed to ended by us (timeout, eviction, end of capture). */
export function closedByPeers(f: Flow): boolean {
  return f.tcpState === TcpState.Closed || f.tcpState === TcpState.Reset;
}
