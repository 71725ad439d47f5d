/** A one-line progress bar on stderr, redrawn at most four times a second; only on a TTY. */
export class ProgressBar {
  private last = 0;
  private readonly start = Date.now();
  readonly enabled: boolean;

  constructor(private readonly label: string) {
    this.enabled = Boolean(process.stderr.isTTY);
  }

  update(bytesDone: number, bytesTotal: number, packets: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const frac = bytesTotal > 0 ? Math.min(1, bytesDone / bytesTotal) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const pps = secs > 0 ? Math.round(packets / secs) : 0;
    const eta = frac > 0 ? Math.max(0, secs / frac - secs) : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${(bytesDone / 1e6).toFixed(1)}/${(bytesTotal / 1e6).toFixed(1)} MB ${pps.toLocaleString('en-US')} pkt/s ETA ${eta.toFixed(0)} s`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
