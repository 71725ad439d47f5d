/**
 * The event contract (docs/events.md): NDJSON, one object per line, snake_case.
 * Every event names the flow it came from; the client (initiator) is `src`.
 */
export interface FlowRef {
  id: string;
  /** VLAN ids, outer first; empty when untagged. */
  vlan: number[];
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  proto: string;
  app: string;
}

export interface MuvaktEvent {
  ts: string;
  type: string;
  flow?: FlowRef;
  [field: string]: unknown;
}

export interface FlowEvent extends MuvaktEvent {
  type: 'flow';
  flow: FlowRef;
  app: string;
  /** new (handshake never completed) | established | closed (FIN or RST seen). */
  state: 'new' | 'established' | 'closed';
  tcp_state?: string;
  reason: string;
  pkts_toserver: number;
  pkts_toclient: number;
  bytes_toserver: number;
  bytes_toclient: number;
  start: string;
  end: string;
  encrypted: boolean;
  ip_version: number;
  client_mac?: string;
  server_mac?: string;
  /** Manufacturer from the IEEE OUI registry. */
  client_vendor?: string;
  server_vendor?: string;
  /** ISO country of a public address (offline database). */
  src_country?: string;
  dst_country?: string;
  midstream?: boolean;
  /** Bytes of the TCP streams that the capture missed, per direction. */
  gap_bytes_toserver?: number;
  gap_bytes_toclient?: number;
}

/** Where events go: an NDJSON file, stdout, the rules and the store, the inventory, or a test's array. */
export interface EventSink {
  /**
   * `flowSeq`: for an analyzer event, the number of analyzer events its connection has produced
   * so far, this one included (1, 2, …); undefined for flow events and events without a flow.
   * Lets a consumer sample per connection without a table of its own. Wrappers pass it on.
   */
  write(event: MuvaktEvent, flowSeq?: number): void;
  /** Flushes buffered output. */
  flush(): void;
  close(): void;
}
