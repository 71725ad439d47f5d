/**
 * Seeds from real traffic: the corpus captures run through the pipeline once, with every analyzer
 * wrapped so that what it is handed (chunks as reassembly delivers them, gaps, skipped spans,
 * datagrams) is written down as a script for its target. The capture reader and the pipeline get
 * the captures themselves: the reader their first bytes, the pipeline their first frames in windows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../agent/analyzers/environment.js';
import { AnalyzerRegistry, type TcpAnalyzerFactory, type UdpAnalyzerFactory } from '../../agent/analyzers/registry.js';
import { readCaptureFile } from '../../agent/capture/capture-file.js';
import type { EventSink } from '../../agent/events/types.js';
import { tunnelPacketScripts } from './tunnel-seeds.js';
import { Pipeline } from '../../agent/pipeline.js';
import { DETACH, Direction, type StreamParser } from '../../protocols/stream.js';
import { TEST_PSEUDONYM_KEY } from '../support/keys.js';
import { repoRoot } from '../support/repo-root.js';
import { protocolSeeds } from './protocol-seeds.js';
import { RecordFlag, ScriptWriter } from './script.js';

const CORPUS = join(repoRoot(), 'fixtures/corpus');
/** Seeds are cut here: mutations far into a 5 MB image only re-test the pixel skip. */
const MAX_SEED = 48 * 1024;
const MAX_SEEDS_PER_TARGET = 64;
/**
 * A capture seed holds the file header, the interface blocks and a few dozen records: all the
 * reader's framing. Larger seeds only made each input slower (mutation and parse copy it whole).
 */
const CAPTURE_SEED = 8 * 1024;
/**
 * Packet scripts for the pipeline: the first 96 KiB of each capture in windows of about 16 KiB.
 * Small inputs run ~4× more per second than one 96 KiB script, and together the windows still
 * cover the same frames (a later window starts mid-connection, which the pipeline must handle).
 */
const PACKET_WINDOW = 16 * 1024;
const PACKET_PREFIX = 96 * 1024;

/** Cuts a capture's frames into packet scripts: `[link type u16]` then `[length u16][frame]`… */
class PacketWindows {
  private readonly done: Buffer[] = [];
  private parts: Buffer[] = [];
  private size = 0;
  private total = 0;
  private link = -1;

  add(linkType: number, frame: Buffer): void {
    if (this.total >= PACKET_PREFIX) return;
    if (this.parts.length > 0 && (this.size >= PACKET_WINDOW || linkType !== this.link)) this.close();
    if (this.parts.length === 0) {
      const l = Buffer.alloc(2);
      l.writeUInt16BE(linkType);
      this.parts.push(l);
      this.link = linkType;
    }
    const len = Math.min(frame.length, 0xffff);
    const hdr = Buffer.alloc(2);
    hdr.writeUInt16BE(len);
    this.parts.push(hdr, Buffer.from(frame.subarray(0, len)));
    this.size += 2 + len;
    this.total += 2 + len;
  }

  scripts(): Buffer[] {
    this.close();
    return this.done;
  }

  private close(): void {
    if (this.parts.length > 1) this.done.push(Buffer.concat(this.parts));
    this.parts = [];
    this.size = 0;
  }
}

export function corpusCaptures(): string[] {
  return readdirSync(CORPUS)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort()
    .map((f) => join(CORPUS, f));
}

const nullSink: EventSink = { write() {}, flush() {}, close() {} };

/** A new script for one connection of target `name`, kept with the target's others. */
function newScript(out: Map<string, ScriptWriter[]>, name: string): ScriptWriter {
  const w = new ScriptWriter(MAX_SEED);
  const list = out.get(name) ?? [];
  list.push(w);
  out.set(name, list);
  return w;
}

function recordingStream(f: TcpAnalyzerFactory, name: string, out: Map<string, ScriptWriter[]>): TcpAnalyzerFactory {
  return {
    app: f.app,
    encrypted: f.encrypted,
    probe: (dir, buf, off, len) => f.probe(dir, buf, off, len),
    create(ctx) {
      const inner = f.create(ctx);
      const w = newScript(out, name);
      const skip = [0, 0];
      const parser: StreamParser = {
        data(dir, buf, off, len, s, n) {
          // The reassembler has dropped what the parser asked to skip: the script says so.
          if (skip[dir] > 0) {
            w.skipped(dir, skip[dir]);
            skip[dir] = 0;
          }
          w.data(dir, buf, off, len);
          const r = inner.data(dir, buf, off, len, s, n);
          if (r > 0) skip[dir] = r;
          return r;
        },
        gap(dir, len) {
          skip[dir] = Math.max(0, skip[dir] - len);
          w.gap(dir, len);
          inner.gap(dir, len);
        },
        end(reason) {
          inner.end(reason);
        },
      };
      return parser;
    },
  };
}

function recordingDatagram(f: UdpAnalyzerFactory, name: string, out: Map<string, ScriptWriter[]>): UdpAnalyzerFactory {
  return {
    app: f.app,
    encrypted: f.encrypted,
    probe: (dir, buf, off, len, port, cport) => f.probe(dir, buf, off, len, port, cport),
    create(ctx) {
      const inner = f.create(ctx);
      const w = newScript(out, name);
      return {
        datagram(dir, buf, off, len, s, n) {
          w.data(dir, buf, off, Math.min(len, 0xffff));
          return inner.datagram(dir, buf, off, len, s, n);
        },
        end() {
          inner.end();
        },
      };
    },
  };
}

/** A hand-made seed per stream target, so a target the corpus never reaches still starts somewhere. */
function fallbackSeed(): Buffer {
  const text = Buffer.from('HELLO\r\nUSER admin\r\nPASS secret\r\n');
  const h = Buffer.from([0, 0, text.length]);
  const back = Buffer.from('+OK ready\r\n');
  return Buffer.concat([h, text, Buffer.from([RecordFlag.ToClient, 0, back.length]), back]);
}

export interface Seeds {
  byTarget: Map<string, Buffer[]>;
}

/** Target name → seed inputs. Names match `allTargets()` (same registry order, same naming). */
export async function collectSeeds(targetNames: readonly string[]): Promise<Map<string, Buffer[]>> {
  const base = defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY));
  const scripts = new Map<string, ScriptWriter[]>();
  const rec = new AnalyzerRegistry();
  const tcpNames = targetNames.filter((n) => n.startsWith('tcp-'));
  const udpNames = targetNames.filter((n) => n.startsWith('udp-'));
  base.tcpFactories.forEach((f, i) => rec.register(recordingStream(f, tcpNames[i], scripts)));
  if (base.fallbackTcp) rec.fallbackTcp = recordingStream(base.fallbackTcp, 'tcp-phi-fallback', scripts);
  base.udpFactories.forEach((f, i) => rec.registerUdp(recordingDatagram(f, udpNames[i], scripts)));
  if (base.fallbackUdp) rec.fallbackUdp = recordingDatagram(base.fallbackUdp, 'udp-phi-fallback', scripts);

  const captures = corpusCaptures();
  const packetScripts: Buffer[] = [];
  for (const file of captures) {
    const pipeline = new Pipeline({ events: nullSink, registry: rec });
    const windows = new PacketWindows();
    await readCaptureFile(file, (r) => {
      pipeline.handle(r);
      windows.add(r.linkType, r.buf.subarray(r.off, r.off + r.capLen));
    }).catch(() => undefined);
    pipeline.finish('shutdown');
    packetScripts.push(...windows.scripts());
  }

  const out = new Map<string, Buffer[]>();
  for (const name of targetNames) {
    const list = (scripts.get(name) ?? []).map((w) => w.toBuffer()).filter((b) => b.length > 0);
    // Many corpus connections look alike (300 C-ECHOs): keep distinct ones, largest first.
    const distinct = [...new Map(list.map((b) => [b.toString('latin1'), b])).values()].sort((a, b) => b.length - a.length);
    out.set(name, distinct.slice(0, MAX_SEEDS_PER_TARGET));
  }
  for (const [name, built] of protocolSeeds()) if (out.has(name)) out.set(name, [...(out.get(name) ?? []), ...built]);
  for (const name of targetNames) if ((out.get(name) ?? []).length === 0) out.set(name, [fallbackSeed()]);
  out.set(
    'capture-reader',
    captures.map((f) => readFileSync(f).subarray(0, CAPTURE_SEED)),
  );
  out.set('pipeline', [...packetScripts, ...tunnelPacketScripts()]);
  return out;
}

export { DETACH, Direction };
