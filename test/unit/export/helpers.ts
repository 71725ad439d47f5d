import { mkdtempSync } from 'node:fs';
import { createServer as netServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as tlsServer } from 'node:tls';
import type { Alert } from '../../../agent/store/index.js';

export const tempDir = (p = 'muvakt-export-') => mkdtempSync(join(tmpdir(), p));

export function alert(i: number, over: Partial<Alert> = {}): Alert {
  const t = new Date(Date.UTC(2026, 0, 5, 8, 0, 0) + i * 1000).toISOString();
  return {
    id: `al-${String(i).padStart(6, '0')}`,
    rule_id: 'mu-device-to-external',
    title: 'Medical device talks to the internet',
    severity: 'high',
    guide_refs: ['MU 3.7'],
    first_seen: t,
    last_seen: t,
    count: i + 1,
    status: 'open',
    subject: { src_ip: `10.77.10.${(i % 250) + 1}`, dst_ip: '198.51.100.7', zone_src: 'mu-radiology', zone_dst: 'external' },
    evidence: { app: 'https', dst_port: 443, country: 'US' },
    recommendation: 'Block the flow or allow it in the policy.',
    updated_at: t,
    ...over,
  };
}

/** Parses octet-counted frames (RFC 6587); throws on a bad frame. */
export class FrameParser {
  private buf = Buffer.alloc(0);
  readonly messages: string[] = [];
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const sp = this.buf.indexOf(0x20);
      if (sp < 0) {
        if (this.buf.length > 10) throw new Error('bad frame: no length');
        return;
      }
      const lenText = this.buf.toString('ascii', 0, sp);
      if (!/^[1-9]\d{0,5}$/.test(lenText)) throw new Error(`bad frame length ${JSON.stringify(lenText)}`);
      const len = Number(lenText);
      if (this.buf.length < sp + 1 + len) return;
      this.messages.push(this.buf.toString('utf8', sp + 1, sp + 1 + len));
      this.buf = this.buf.subarray(sp + 1 + len);
    }
  }
}

/** A syslog collector on 127.0.0.1 that can be stopped and started again on the same port. */
export class Collector {
  readonly messages: string[] = [];
  errors: string[] = [];
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly tls?: { key: Buffer; cert: Buffer }) {}

  async start(): Promise<void> {
    const onConn = (s: Socket) => {
      this.sockets.add(s);
      const p = new FrameParser();
      s.on('data', (d: Buffer) => {
        try {
          p.push(d);
          this.messages.push(...p.messages.splice(0));
        } catch (e) {
          this.errors.push((e as Error).message);
          s.destroy();
        }
      });
      s.on('error', () => {});
      s.on('close', () => this.sockets.delete(s));
    };
    const server = this.tls ? tlsServer({ key: this.tls.key, cert: this.tls.cert }, onConn) : netServer(onConn);
    server.on('tlsClientError', (e: Error) => this.errors.push(`tls: ${e.message}`));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.port, '127.0.0.1', () => res());
    });
    this.port = (server.address() as { port: number }).port;
  }

  /** Closes the listener and every connection abruptly (a SIEM going down). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((res) => s.close(() => res()));
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The alert id in a message's structured data. */
export const sdId = (m: string) => /\[muvakt@32473 id="([^"]*)"/.exec(m)?.[1];
