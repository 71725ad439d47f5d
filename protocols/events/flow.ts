import * as Type from 'typebox';
import { type Static } from 'typebox';
import { flowEventSchema, oneOf } from './common.js';

export const FlowEventSchema = flowEventSchema('flow', 'One per flow, when it ends (FIN/RST, timeout, eviction or end of capture)', {
  app: Type.String({ description: 'Application the analyzers recognised, or unknown; the same as flow.app of every event of the flow' }),
  state: oneOf(['new', 'established', 'closed'], 'new: handshake never completed (or one-way UDP); established; closed: FIN or RST seen'),
  tcp_state: Type.Optional(Type.String({ description: 'TCP: last state of the connection (syn_sent, established, closed, reset, midstream …)' })),
  reason: oneOf(['closed', 'timeout', 'evicted', 'shutdown', 'reused'], 'Why the flow was reported: closed by the peers, idle timeout, evicted at the flow limit, end of capture, or its 5-tuple reused'),
  pkts_toserver: Type.Integer({ description: 'Frames from client to server' }),
  pkts_toclient: Type.Integer({ description: 'Frames from server to client' }),
  bytes_toserver: Type.Integer({ description: 'Frame bytes from client to server' }),
  bytes_toclient: Type.Integer({ description: 'Frame bytes from server to client' }),
  start: Type.String({ description: 'Capture time of the first packet (ISO 8601 UTC, microseconds)' }),
  end: Type.String({ description: 'Capture time of the last packet (ISO 8601 UTC, microseconds)' }),
  encrypted: Type.Boolean({ description: 'The application protocol in use encrypts its content' }),
  ip_version: Type.Integer({ description: '4 or 6' }),
  client_mac: Type.Optional(Type.String({ description: 'Client MAC address (first frame seen from it)' })),
  server_mac: Type.Optional(Type.String({ description: 'Server MAC address' })),
  client_vendor: Type.Optional(Type.String({ description: 'Manufacturer of the client MAC, from the IEEE OUI registry' })),
  server_vendor: Type.Optional(Type.String({ description: 'Manufacturer of the server MAC' })),
  src_country: Type.Optional(Type.String({ description: 'ISO country of a public client address (offline database)' })),
  dst_country: Type.Optional(Type.String({ description: 'ISO country of a public server address' })),
  midstream: Type.Optional(Type.Boolean({ description: 'TCP: the capture missed the handshake; client and server were inferred' })),
  gap_bytes_toserver: Type.Optional(Type.Integer({ description: 'TCP stream bytes the capture missed, client to server' })),
  gap_bytes_toclient: Type.Optional(Type.Integer({ description: 'TCP stream bytes the capture missed, server to client' })),
});
export type FlowEvent = Static<typeof FlowEventSchema>;
