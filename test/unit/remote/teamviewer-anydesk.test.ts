/** TeamViewer by content, AnyDesk/TeamViewer over TLS by SNI, and the well-known port fallback. */
import { describe, expect, it } from 'vitest';
import {
  remoteAccessFromPort,
  remoteAccessFromTls,
  remoteAccessFromTlsSni,
  tlsRemoteAccessRecord,
} from '../../../agent/analyzers/remote-analyzers.js';
import { probeTeamViewer } from '../../../protocols/remote/probes.js';
import { SKIP_REST } from '../../../protocols/remote/records.js';
import { TeamViewerStreamParser } from '../../../protocols/remote/teamviewer.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH, Direction } from '../../../protocols/stream.js';
import { drive, rng, type Segment } from '../../support/streams.js';
import { collect } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

/** CMD_IDENTIFY as libprotoident matches it: 17 24 0a 20 … (37 bytes). */
function frame(magic: number, cmd: number, bodyLen = 32): Buffer {
  const b = Buffer.alloc(5 + bodyLen, 0x33);
  b.writeUInt16BE(magic, 0);
  b[2] = cmd;
  b.writeUInt16LE(bodyLen, 3);
  return b;
}

describe('TeamViewer', () => {
  it('reads both sides’ first frame header, then detaches', () => {
    for (const chunking of ['segments', 'tiny', 'whole'] as const) {
      const c = collect();
      const p = new TeamViewerStreamParser(c.opts);
      const d = drive(p, [{ dir: TS, data: Buffer.concat([frame(0x1724, 10), frame(0x1724, 16)]) }, { dir: TC, data: frame(0x1724, 36, 100) }], chunking);
      p.end('fin');
      expect(d.detached).toBe(true);
      expect(c.access()).toEqual([
        expect.objectContaining({ protocol: 'teamviewer', encrypted: true, weak: false, detection: 'content', teamviewer_version: 2, client_command: 'identify', server_command: 'ok' }),
      ]);
    }
  });

  it('skips the client once its header is read, and reports a lone side as incomplete', () => {
    const c = collect();
    const p = new TeamViewerStreamParser(c.opts);
    expect(p.data(TS, frame(0x1130, 11), 0, 37, 1, 0)).toBe(SKIP_REST);
    p.end('rst');
    expect(c.access()[0]).toMatchObject({ teamviewer_version: 1, client_command: 'request-connect', incomplete: true });
    const q = new TeamViewerStreamParser(collect().opts);
    q.data(TS, frame(0x1724, 10), 0, 37, 1, 0);
    expect(q.data(TC, Buffer.from('HTTP/1.1 400'), 0, 12, 1, 0)).toBe(DETACH);
    expect(q.counters.bad_magic).toBe(1);
  });

  it('never throws on random bytes', () => {
    const rand = rng(9);
    for (let i = 0; i < 200; i++) {
      const segs: Segment[] = [0, 1, 2].map((k) => ({ dir: k % 2 ? TC : TS, data: Buffer.from(Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 256))) }));
      const c = collect();
      const p = new TeamViewerStreamParser(c.opts);
      drive(p, segs, 'tiny');
      p.end('fin');
      expect(c.access()).toHaveLength(1);
    }
  });

  it('probe: magic and a known command', () => {
    expect(probeTeamViewer(frame(0x1724, 10), 0, 37)).toBe(ProbeVerdict.Yes);
    expect(probeTeamViewer(frame(0x1130, 113), 0, 37)).toBe(ProbeVerdict.Yes);
    expect(probeTeamViewer(frame(0x1724, 10), 0, 2)).toBe(ProbeVerdict.NeedMore);
    expect(probeTeamViewer(frame(0x1724, 5), 0, 37)).toBe(ProbeVerdict.No);
    expect(probeTeamViewer(frame(0x1725, 10), 0, 37)).toBe(ProbeVerdict.No);
    expect(probeTeamViewer(Buffer.from('160301', 'hex'), 0, 3)).toBe(ProbeVerdict.No);
  });
});

describe('remote access inside TLS', () => {
  it('recognises AnyDesk and TeamViewer by SNI, but not TeamViewer’s web pages', () => {
    expect(remoteAccessFromTlsSni('relay-5d8f2a1b.net.anydesk.com')).toBe('anydesk');
    expect(remoteAccessFromTlsSni('Relay-1.NET.AnyDesk.com.')).toBe('anydesk');
    expect(remoteAccessFromTlsSni('anydesk.com')).toBeNull();
    expect(remoteAccessFromTlsSni('download.anydesk.com')).toBeNull();
    expect(remoteAccessFromTlsSni('router15.teamviewer.com')).toBe('teamviewer');
    expect(remoteAccessFromTlsSni('master7.teamviewer.com')).toBe('teamviewer');
    expect(remoteAccessFromTlsSni('www.teamviewer.com')).toBeNull();
    expect(remoteAccessFromTlsSni('teamviewer.com')).toBeNull();
    expect(remoteAccessFromTlsSni('evilteamviewer.com')).toBeNull();
    expect(remoteAccessFromTlsSni('pacs.hospital.example')).toBeNull();
  });

  it('falls back to the well-known port only without a telling SNI', () => {
    expect(remoteAccessFromPort(7070)).toBe('anydesk');
    expect(remoteAccessFromPort(443)).toBeNull();
    expect(remoteAccessFromTls('relay-1.net.anydesk.com', 443)).toEqual({ protocol: 'anydesk', detection: 'sni' });
    expect(remoteAccessFromTls(undefined, 7070)).toEqual({ protocol: 'anydesk', detection: 'port' });
    expect(remoteAccessFromTls('pacs.hospital.example', 443)).toBeNull();
    expect(tlsRemoteAccessRecord('anydesk', 'port', 5, 6)).toMatchObject({ type: 'remote_access', protocol: 'anydesk', encrypted: true, detection: 'port', initiator: 'client', ts_sec: 5 });
  });
});
