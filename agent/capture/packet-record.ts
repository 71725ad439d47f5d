/**
 * One captured frame as the capture readers hand it to the pipeline. The object is reused for
 * every packet (the per-packet path allocates nothing): consumers read the fields during the
 * callback and must not keep the object or `buf`.
 */
export interface PacketRecord {
  /** DLT/LINKTYPE_* value of the interface the frame was captured on. */
  linkType: number;
  /** Interface index (pcapng) or 0. */
  ifIndex: number;
  buf: Buffer;
  off: number;
  capLen: number;
  /** Length on the wire; larger than capLen when the snaplen cut the frame. */
  origLen: number;
  tsSec: number;
  tsNsec: number;
}

export function newPacketRecord(): PacketRecord {
  return { linkType: 0, ifIndex: 0, buf: Buffer.alloc(0), off: 0, capLen: 0, origLen: 0, tsSec: 0, tsNsec: 0 };
}

export type PacketHandler = (rec: PacketRecord) => void;

/** A capture file (or stream) that cannot be read further. Names where, so an operator can look. */
export class CaptureFormatError extends Error {
  constructor(
    readonly source: string,
    readonly byteOffset: number,
    readonly reason: string,
  ) {
    super(`${source}: ${reason} at byte offset ${byteOffset}`);
    this.name = 'CaptureFormatError';
  }
}

/** Interface statistics a capture source can report (pcapng ISB, tcpdump's counters). */
export interface CaptureStats {
  received: number;
  dropped: number;
  ifDropped: number;
  /** Packets the capture helper took from the kernel and passed on (tcpdump's "captured"; absent elsewhere). */
  captured?: number;
  /** How long the stop waited for the analysis to take what the kernel had received (it was that far behind). */
  drainMs?: number;
}

/** Packets the kernel received that the capture helper never took (left in its buffer at a stop); 0 when unknown. */
export function unreadAtStop(s: CaptureStats): number {
  return s.captured === undefined ? 0 : Math.max(0, s.received - s.dropped - s.captured);
}
