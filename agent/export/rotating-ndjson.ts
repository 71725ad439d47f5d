import { closeSync, existsSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { alertRecord, type AlertExporter } from './alert-record.js';
import type { Alert } from '../store/index.js';

export interface RotatingNdjsonOptions {
  /** Rotate before the file would grow past this many bytes (default 100 MiB). */
  maxBytes?: number;
  /** Rotated files to keep: FILE.1 (newest) … FILE.N (default 5; 0 = discard on rotation). */
  keep?: number;
}

export const DEFAULT_NDJSON_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_NDJSON_KEEP = 5;

/**
 * Alerts as NDJSON (one whitelisted alert record a line, EVE-like) appended to a file, rotated
 * by size like logrotate's numbering (FILE → FILE.1 → FILE.2 …), each batch fsync'd before
 * `export` returns. A line never straddles two files.
 */
export class RotatingNdjsonFile implements AlertExporter {
  private fd: number;
  private size: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  written = 0;
  rotations = 0;

  constructor(readonly path: string, o: RotatingNdjsonOptions = {}) {
    this.maxBytes = o.maxBytes ?? DEFAULT_NDJSON_MAX_BYTES;
    this.keep = o.keep ?? DEFAULT_NDJSON_KEEP;
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1) throw new RangeError('maxBytes: expected a positive integer');
    if (!Number.isInteger(this.keep) || this.keep < 0 || this.keep > 1000) throw new RangeError('keep: expected an integer 0–1000');
    this.fd = openSync(path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  export(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const a of alerts) {
      const line = Buffer.from(JSON.stringify(alertRecord(a)) + '\n', 'utf8');
      if (this.size + batchBytes > 0 && this.size + batchBytes + line.length > this.maxBytes) {
        this.append(batch, batchBytes);
        batch = [];
        batchBytes = 0;
        if (this.size > 0) this.rotate();
      }
      batch.push(line);
      batchBytes += line.length;
    }
    this.append(batch, batchBytes);
    this.written += alerts.length;
  }

  close(): void {
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private append(parts: Buffer[], bytes: number): void {
    if (bytes === 0) return;
    const buf = Buffer.concat(parts, bytes);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    fsyncSync(this.fd);
    this.size += bytes;
  }

  private rotate(): void {
    closeSync(this.fd);
    const p = this.path;
    if (this.keep === 0) {
      unlinkSync(p);
    } else {
      if (existsSync(`${p}.${this.keep}`)) unlinkSync(`${p}.${this.keep}`);
      for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${p}.${i}`)) renameSync(`${p}.${i}`, `${p}.${i + 1}`);
      renameSync(p, `${p}.1`);
    }
    this.fd = openSync(p, 'a', 0o640);
    this.size = 0;
    this.rotations++;
  }
}
