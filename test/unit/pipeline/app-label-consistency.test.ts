/**
 * One app per flow: every event a flow produces — its analyzer events, `tls.handshake`
 * included, and its end-of-flow event — names the same `app`. Checked over every corpus
 * capture, and over a hand-built AnyDesk session without SNI that only AnyDesk's own
 * certificate names (the flow is relabelled from `tls` while its handshake is read).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { Direction } from '../../../protocols/stream.js';
import { analyzeFiles } from '../../support/analyze.js';
import { runFrames } from '../../support/frames.js';
import { CORPUS } from '../../support/streams.js';
import { tcpSession } from '../remote/build.js';
import { appData, ccs, certificate, clientHello, handshake, record, serverHello, serverHelloDone, serverKeyExchange } from '../tls/build.js';

/** Flows whose events name an app other than the one the flow ended with: "id: event app ≠ flow app". */
function disagreements(events: MuvaktEvent[]): string[] {
  const finalApp = new Map<string, string>();
  for (const e of events) if (e.type === 'flow') finalApp.set(e.flow.id, e.app);
  const out: string[] = [];
  for (const e of events) {
    if (!('flow' in e) || e.flow === undefined) continue;
    const want = finalApp.get(e.flow.id);
    if (want === undefined) out.push(`${e.flow.id}: ${e.type} without a flow event`);
    else if (e.flow.app !== want) out.push(`${e.flow.id}: ${e.type} says ${e.flow.app}, the flow ${want}`);
  }
  return out;
}

/** A self-signed P-256 certificate (DER) named like the one AnyDesk makes for itself. */
function anyDeskCertificate(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-anydesk-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.der'), '-outform', 'DER', '-days', '3650', '-subj', '/CN=AnyDesk Client'], { stdio: 'pipe' });
    return readFileSync(join(dir, 'c.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('one app label per flow across its events', () => {
  it('every corpus capture: each flow’s events carry the app its flow event ends with', async () => {
    const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f));
    expect(files.length).toBeGreaterThan(25);
    let checked = 0;
    for (const f of files) {
      // 27_malformed_truncated ends mid-record on purpose: what came before it is still reported.
      const { events } = await analyzeFiles([join(CORPUS, f)]);
      expect(disagreements(events), f).toEqual([]);
      checked += events.filter((e) => e.type !== 'flow' && 'flow' in e).length;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('AnyDesk without SNI, on a port that is not its own: named by its certificate, and its tls.handshake says anydesk', () => {
    const cert = anyDeskCertificate();
    const flight = Buffer.concat([serverHello({ legacy: 0x0303, suite: 0xc02f }), certificate([cert]), serverKeyExchange(), serverHelloDone()]);
    const frames = tcpSession('10.77.20.31', '10.77.90.12', 50555, 44321, [
      [Direction.ToServer, record(22, clientHello({ legacy: 0x0303, suites: [0xc02f, 0xc030, 0x009c] }), 0x0301)],
      [Direction.ToClient, record(22, flight)],
      [Direction.ToServer, Buffer.concat([record(22, handshake(16, Buffer.alloc(66, 5))), ccs(), record(22, Buffer.alloc(40, 0x99))])],
      [Direction.ToClient, Buffer.concat([ccs(), record(22, Buffer.alloc(40, 0x98)), appData(500)])],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'anydesk', encrypted: true });
    const hs = events.filter((e) => e.type === 'tls.handshake');
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ flow: { app: 'anydesk' }, certificate: { issuer: 'CN=AnyDesk Client' } });
    expect(hs[0]).not.toHaveProperty('sni');
    const ra = events.filter((e) => e.type === 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ protocol: 'anydesk', detection: 'certificate', encrypted: true, flow: { app: 'anydesk' } });
    expect(disagreements(events)).toEqual([]);
  });

  it('an ordinary TLS server without SNI on the same port stays tls', () => {
    const frames = tcpSession('10.77.20.31', '10.77.90.12', 50556, 44321, [
      [Direction.ToServer, record(22, clientHello({ legacy: 0x0303, suites: [0xc02f] }), 0x0301)],
      [Direction.ToClient, record(22, Buffer.concat([serverHello({ legacy: 0x0303, suite: 0xc02f }), serverHelloDone()]))],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows[0].app).toBe('tls');
    expect(events.filter((e) => e.type === 'remote_access')).toEqual([]);
    expect(disagreements(events)).toEqual([]);
  });
});
