import { closeSync, openSync, writeSync } from 'node:fs';
import type { EventSink, MuvaktEvent } from './types.js';

/**
 * Writes events as NDJSON to a file or stdout ("-"), batched into large writes. Writes are
 * synchronous so an event is on disk (or in the pipe) before the process reports success.
 */
export class NdjsonSink implements EventSink {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private parts: string[] = [];
  private pendingChars = 0;
  count = 0;

  constructor(target: string) {
    if (target === '-') {
      this.fd = 1;
      this.ownsFd = false;
    } else {
      // Events hold pseudonyms and addresses: owner and group only, whatever the umask.
      this.fd = openSync(target, 'w', 0o640);
      this.ownsFd = true;
    }
  }

  write(event: MuvaktEvent): void {
    const line = JSON.stringify(event);
    this.parts.push(line);
    this.pendingChars += line.length + 1;
    this.count++;
    if (this.pendingChars >= 256 * 1024) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const data = Buffer.from(this.parts.join('\n') + '\n');
    this.parts = [];
    this.pendingChars = 0;
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off);
      } catch (e) {
        // stdout may be a non-blocking pipe: wait for the reader instead of losing events.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }

  close(): void {
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}
