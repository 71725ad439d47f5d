import * as Type from 'typebox';
import { type Static, type TProperties } from 'typebox';

/**
 * Building blocks of the event contract: every event the sensor writes is one NDJSON object
 * with `ts` and `type`; analyzer events also name their flow. Each event type is one TypeBox
 * schema, so its TypeScript type, its published JSON Schema and its documentation are one
 * definition. Every object refuses fields it does not declare.
 */

export const TsSchema = Type.String({ description: 'ISO 8601 UTC with microseconds, e.g. 2026-11-23T14:08:27.123456Z (capture time)' });

/** A list of text values. */
export const Strings = (description: string) => Type.Array(Type.String(), { description });

export const WireDirectionSchema = Type.Union([Type.Literal('to_server'), Type.Literal('to_client')], {
  description: 'Direction the bytes travelled: to_server = from the flow\'s client (src) to its server (dst)',
});
export type { WireDirection } from './wire-direction.js';
export { wireDirection } from './wire-direction.js';

export const FlowRefSchema = Type.Object(
  {
    id: Type.String({ description: 'Flow id, stable for the connection (hash of the 5-tuple and VLANs)' }),
    vlan: Type.Array(Type.Integer(), { description: 'VLAN ids, outer first; empty when untagged' }),
    src_ip: Type.String({ description: 'Client (initiator) address' }),
    src_port: Type.Integer({ description: 'Client port' }),
    dst_ip: Type.String({ description: 'Server address' }),
    dst_port: Type.Integer({ description: 'Server port' }),
    proto: Type.String({ description: 'IP protocol name: tcp, udp, …' }),
    app: Type.String({ description: 'Application the analyzers recognised (dicom, hl7, tls, …) or unknown; one value for all events of a flow' }),
    control_flow_id: Type.Optional(Type.String({ description: 'An FTP data connection (app ftp-data): the id of the FTP control flow that announced it' })),
    tunnel: Type.Optional(
      Type.Object(
        {
          kind: Type.Unsafe<string>(
            Type.Enum(['pppoe', 'gre', 'gretap', 'erspan1', 'erspan2', 'erspan3', 'vxlan', 'ipip', 'sit', 'ip6tnl', 'gtpu'], {
              description: 'Outermost encapsulation: pppoe, gre (IP in GRE), gretap (Ethernet in GRE, RSPAN over GRE), erspan1/2/3, vxlan, ipip, sit (IPv6 in IPv4), ip6tnl (IP in IPv6), gtpu',
            }),
          ),
          id: Type.Optional(Type.Integer({ description: 'Its id: ERSPAN session, VXLAN VNI, GRE key, GTP-U TEID or PPPoE session; absent when it has none' })),
          outer_src_ip: Type.Optional(Type.String({ description: 'Source address of the outer IP header (the mirror or tunnel endpoint that sent it)' })),
          outer_dst_ip: Type.Optional(Type.String({ description: 'Destination address of the outer IP header' })),
        },
        { additionalProperties: false, description: 'The tunnel the flow arrived in (from a remote mirror: ERSPAN, RSPAN over GRE, VXLAN…), as seen on its first packet; src/dst above are the inner packet' },
      ),
    ),
  },
  { additionalProperties: false, description: 'The flow an event came from; the client (initiator) is src' },
);
export type FlowRef = Static<typeof FlowRefSchema>;

/** Capture time of the bytes that completed a parser's record; the event has it as `ts`. */
export interface CaptureTime {
  ts_sec: number;
  ts_nsec: number;
}

/**
 * The schema of an event an analyzer reports about a flow: `ts`, `type`, `flow`, then the
 * record's own fields.
 */
export function flowEventSchema<T extends string, P extends TProperties>(type: T, description: string, fields: P) {
  return Type.Object({ ts: TsSchema, type: Type.Literal(type, { description: 'Event type' }), flow: FlowRefSchema, ...fields }, { additionalProperties: false, title: type, description });
}

/** The schema of an event about the sensor itself (no flow). */
export function sensorEventSchema<T extends string, P extends TProperties>(type: T, description: string, fields: P) {
  return Type.Object({ ts: TsSchema, type: Type.Literal(type, { description: 'Event type' }), ...fields }, { additionalProperties: false, title: type, description });
}

/** What a parser emits for an event: its fields and `type`, with the capture time as numbers. */
export type RecordOf<E extends { ts: string; flow: FlowRef }> = Omit<E, 'ts' | 'flow'> & CaptureTime;

/** A closed object schema (nested values refuse unknown fields too). */
export function closed<P extends TProperties>(fields: P, description: string) {
  return Type.Object(fields, { additionalProperties: false, description });
}

/** One of a fixed set of strings. */
export function oneOf<const L extends readonly string[]>(values: L, description: string) {
  return Type.Unsafe<L[number]>(Type.Enum([...values], { description }));
}
