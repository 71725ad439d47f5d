/**
 * The events' view of a flow: the `flow` object every event carries, and the end-of-flow
 * event with its enrichment (MAC vendors from the IEEE registry, countries of public peers
 * from the offline database).
 */
import { IpProto } from '../../protocols/packet.js';
import { macVendorOf } from '../enrich/mac-vendor.js';
import { countryOfWords } from '../enrich/country.js';
import { ipToString, isoMicro, macFromHalves, protoName } from '../events/format.js';
import type { FlowEvent, FlowRef } from '../events/types.js';
import { TCP_STATE_NAMES, TcpState, type Flow, type FlowEndReason } from './flow.js';
import { flowId } from './flow-table.js';
import { closedByPeers } from './tcp-state.js';

function flowState(f: Flow): 'new' | 'established' | 'closed' {
  if (f.proto === IpProto.Tcp) {
    switch (f.tcpState) {
      case TcpState.SynSent:
      case TcpState.SynReceived:
        return 'new';
      case TcpState.Closed:
      case TcpState.Reset:
        return 'closed';
      default:
        return 'established';
    }
  }
  return f.pktsToClient > 0 && f.pktsToServer > 0 ? 'established' : 'new';
}

/**
 * The `flow` event of a flow that ended for `reason`, with the bytes its reassembly could not
 * see in each direction.
 */
export function flowEndEvent(f: Flow, reason: FlowEndReason, gapBytesToServer: number, gapBytesToClient: number): FlowEvent {
  const e: FlowEvent = {
    ts: isoMicro(f.lastSec, f.lastNsec),
    type: 'flow',
    flow: flowRef(f),
    app: f.app,
    state: flowState(f),
    reason: reason === 'timeout' && closedByPeers(f) ? 'closed' : reason,
    pkts_toserver: f.pktsToServer,
    pkts_toclient: f.pktsToClient,
    bytes_toserver: f.bytesToServer,
    bytes_toclient: f.bytesToClient,
    start: isoMicro(f.startSec, f.startNsec),
    end: isoMicro(f.lastSec, f.lastNsec),
    encrypted: f.encrypted,
    ip_version: f.ipVersion,
  };
  if (f.proto === IpProto.Tcp) {
    e.tcp_state = TCP_STATE_NAMES[f.tcpState];
    if (!f.roleBySyn) e.midstream = true;
    if (gapBytesToServer > 0) e.gap_bytes_toserver = gapBytesToServer;
    if (gapBytesToClient > 0) e.gap_bytes_toclient = gapBytesToClient;
  }
  if (f.clientMacHi >= 0) {
    e.client_mac = macFromHalves(f.clientMacHi, f.clientMacLo);
    const v = macVendorOf(f.clientMacHi, f.clientMacLo);
    if (v !== null) e.client_vendor = v;
  }
  if (f.serverMacHi >= 0) {
    e.server_mac = macFromHalves(f.serverMacHi, f.serverMacLo);
    const v = macVendorOf(f.serverMacHi, f.serverMacLo);
    if (v !== null) e.server_vendor = v;
  }
  // Country of public peers, offline (MU 4.9.1: transfers outside the EU/EEA).
  const ref = e.flow;
  const srcCountry = countryOfWords(f.ipVersion, f.c0, f.c1, f.c2, f.c3, () => ref.src_ip);
  if (srcCountry !== null) e.src_country = srcCountry;
  const dstCountry = countryOfWords(f.ipVersion, f.s0, f.s1, f.s2, f.s3, () => ref.dst_ip);
  if (dstCountry !== null) e.dst_country = dstCountry;
  return e;
}

/**
 * The `flow` object every event carries. Analyzer events share one per flow (`cache`); the
 * flow's own end event does not store it, because a short-lived object hung on a long-lived
 * flow teaches V8 to allocate all of them in the old generation (pretenuring), and a SYN
 * flood then fills the heap with garbage faster than the major GC collects it.
 */
export function flowRef(f: Flow, cache = false): FlowRef {
  if (f.ref !== null) return f.ref;
  const ref = buildFlowRef(f);
  if (cache) f.ref = ref;
  return ref;
}

function buildFlowRef(f: Flow): FlowRef {
  const vlan: number[] = [];
  if (f.vlanCount > 0) vlan.push(f.vlanOuter);
  if (f.vlanCount > 1) vlan.push(f.vlanInner);
  const ref: FlowRef = {
    id: flowId(f),
    vlan,
    src_ip: ipToString(f.ipVersion, f.c0, f.c1, f.c2, f.c3),
    src_port: f.cport,
    dst_ip: ipToString(f.ipVersion, f.s0, f.s1, f.s2, f.s3),
    dst_port: f.sport,
    proto: protoName(f.proto),
    app: f.app,
  };
  if (f.tunnel !== null) ref.tunnel = f.tunnel;
  if (f.controlFlowId !== null) ref.control_flow_id = f.controlFlowId;
  return ref;
}

