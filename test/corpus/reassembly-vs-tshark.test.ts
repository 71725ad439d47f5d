import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../support/analyze.js';
import { streamCaptureRegistry } from '../support/stream-capture-analyzer.js';
import { tsharkFollowTcp, tsharkTcpStreamCount } from '../support/tshark.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');
// Every capture with TCP payload except the truncated copy (tshark's follow stops at the cut too,
// but the last stream there is incomplete by construction; it is covered by the capture tests).
const captures = readdirSync(CORPUS)
  .filter((f) => /\.pcap(ng)?$/.test(f) && !f.startsWith('27_'))
  .sort();

describe('reassembled TCP streams are byte-identical to tshark follow,tcp,raw', () => {
  it.each(captures)('%s', async (file) => {
    const path = join(CORPUS, file);
    const { registry, streams } = streamCaptureRegistry();
    // Small reads force records across chunk boundaries as well.
    const { error } = await analyzeFiles([path], { registry, chunkSize: 4096 });
    expect(error).toBeUndefined();
    const n = tsharkTcpStreamCount(path);
    for (let i = 0; i < n; i++) {
      const t = tsharkFollowTcp(path, i);
      if (t.toServer.length === 0 && t.toClient.length === 0) continue;
      // Capture 20 carries each connection once per VLAN leg; every copy must match.
      const ours = streams.filter((s) => (s.src === t.client && s.dst === t.server) || (s.src === t.server && s.dst === t.client));
      expect(ours.length, `${file} stream ${i} (${t.client} -> ${t.server}) not reassembled`).toBeGreaterThan(0);
      for (const s of ours) {
        const flipped = s.src !== t.client;
        const up = Buffer.concat(flipped ? s.toClient : s.toServer);
        const down = Buffer.concat(flipped ? s.toServer : s.toClient);
        expect(up.equals(t.toServer), `${file} stream ${i} client→server (${up.length} vs ${t.toServer.length} bytes)`).toBe(true);
        expect(down.equals(t.toClient), `${file} stream ${i} server→client (${down.length} vs ${t.toClient.length} bytes)`).toBe(true);
        expect(s.gaps).toEqual([0, 0]);
      }
    }
  });
});
