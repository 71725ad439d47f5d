import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../support/analyze.js';
import { tsharkConversations, tsharkDirectionBytes } from '../support/tshark.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');
const captures = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).sort();

interface Dir {
  frames: number;
  bytes: number;
}

/**
 * Our flows, keyed like tshark's conversations. tshark does not separate conversations by
 * VLAN (capture 20 shows each segment once per VLAN leg), so flows that differ only in their
 * tags are summed before comparing; the VLAN split itself is checked in vlan tests.
 */
function ourConversations(flows: Awaited<ReturnType<typeof analyzeFiles>>['flows']) {
  const m = new Map<string, { c: Dir; s: Dir }>();
  for (const f of flows) {
    const r = f.flow;
    const key = `${r.proto} ${r.src_ip}:${r.src_port} ${r.dst_ip}:${r.dst_port}`;
    const e = m.get(key) ?? { c: { frames: 0, bytes: 0 }, s: { frames: 0, bytes: 0 } };
    e.c.frames += f.pkts_toserver;
    e.c.bytes += f.bytes_toserver;
    e.s.frames += f.pkts_toclient;
    e.s.bytes += f.bytes_toclient;
    m.set(key, e);
  }
  return m;
}

describe('flows equal tshark conversations on every corpus capture', () => {
  it.each(captures)('%s', async (file) => {
    const path = join(CORPUS, file);
    const { flows, error } = await analyzeFiles([path]);
    if (file.startsWith('27_')) expect(error?.message).toMatch(/truncated.*byte offset \d+/);
    else expect(error).toBeUndefined();
    const ours = ourConversations(flows);
    const theirs = tsharkConversations(path);
    const exact = tsharkDirectionBytes(path);
    expect(theirs.length).toBeGreaterThan(0);
    const matched = new Set<string>();
    for (const c of theirs) {
      // tshark's A/B order is its own; find our flow in either orientation.
      const ab = `${c.proto} ${c.a}:${c.aPort} ${c.b}:${c.bPort}`;
      const ba = `${c.proto} ${c.b}:${c.bPort} ${c.a}:${c.aPort}`;
      const fwd = ours.get(ab);
      const rev = ours.get(ba);
      const key = fwd ? ab : ba;
      const e = fwd ?? rev;
      expect(e, `flow ${ab} missing in ${file}`).toBeDefined();
      matched.add(key);
      const aToB = fwd ? e!.c : e!.s;
      const bToA = fwd ? e!.s : e!.c;
      expect([aToB.frames, bToA.frames], `${file} ${ab} frames`).toEqual([c.framesAtoB, c.framesBtoA]);
      if (c.exactBytes) {
        expect([aToB.bytes, bToA.bytes], `${file} ${ab} bytes`).toEqual([c.bytesAtoB, c.bytesBtoA]);
      } else {
        const xa = exact.get(`${c.proto} ${c.a}:${c.aPort} ${c.b}:${c.bPort}`);
        const xb = exact.get(`${c.proto} ${c.b}:${c.bPort} ${c.a}:${c.aPort}`);
        expect([aToB.bytes, bToA.bytes], `${file} ${ab} bytes`).toEqual([xa?.bytes ?? 0, xb?.bytes ?? 0]);
      }
    }
    expect([...ours.keys()].filter((k) => !matched.has(k)), `flows tshark does not report in ${file}`).toEqual([]);
  });
});
