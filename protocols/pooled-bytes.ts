/**
 * Small, zeroed, long-lived per-connection buffers (header scratch, flags) carved from Node's
 * shared 8 KiB pool. `Buffer.alloc` gives every call an ArrayBuffer of its own with a separate
 * backing store; at 100,000 open connections those few bytes cost about 200 each in headers and
 * allocator overhead. Pool slices share one backing store (which stays alive while any slice
 * does: fine for state that lives as long as its connection).
 */
export function pooledBytes(n: number): Buffer {
  // allocUnsafe takes from the pool below Buffer.poolSize / 2; zero it since callers expect alloc's contract.
  return Buffer.allocUnsafe(n).fill(0);
}
