import type { Direction } from './stream.js';

/**
 * The contract between the flow table and parsers of datagram protocols (UDP: syslog, SNMP,
 * DNS, DHCP…). Each datagram of a flow is handed over whole, as a view valid only during the
 * call; nothing is reassembled.
 */
export interface DatagramParser {
  /** One datagram's payload. Return DETACH (-1) to stop receiving this flow's datagrams. */
  datagram(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number;
  /** The flow ended (timeout, eviction, end of capture). */
  end(): void;
}
