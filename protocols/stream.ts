/**
 * The contract between TCP reassembly (agent/) and the stateful protocol parsers in protocols/.
 *
 * A parser sees each direction of one connection as an ordered byte stream, delivered in
 * chunks that are views into the capture buffer: `buf` is only valid during the call and
 * must never be retained (copy the few header bytes you need; never copy bulk payload).
 */

/** Direction of a chunk relative to the connection's initiator (the client). */
export const enum Direction {
  ToServer = 0,
  ToClient = 1,
}

/** Returned by `data()` to stop receiving this connection's bytes (both directions). */
export const DETACH = -1;

export interface StreamParser {
  /**
   * In-order bytes of one direction. Returns how many bytes that follow this chunk in the
   * same direction the reassembler should drop without delivering (0 = deliver everything),
   * or DETACH. Skipping is how bulk payload (pixel data, encrypted records) stays off the
   * hot path: the reassembler only advances sequence numbers.
   */
  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number;
  /**
   * `len` bytes of this direction were never seen (capture loss) and will not be delivered.
   * A parser resynchronises or gives up (by returning DETACH from its next data()).
   * Any pending skip has already been reduced by the gap.
   */
  gap(dir: Direction, len: number): void;
  /** The connection ended (FIN, RST, timeout, eviction or end of capture). */
  end(reason: StreamEndReason): void;
}

export type StreamEndReason = 'fin' | 'rst' | 'timeout' | 'evicted' | 'shutdown';

/**
 * Where a parser's records go: a function, or an object with an `emit` method (an analyzer's
 * context), so that an open connection needs no closure of its own for it.
 */
export type RecordOut<R> = ((record: R) => void) | { emit(record: R): void };

export function emitTo<R>(out: RecordOut<R>, record: R): void {
  if (typeof out === 'function') out(record);
  else out.emit(record);
}
