/**
 * What the fuzzer runs: every TCP and UDP analyzer the sensor registers (each parser straight,
 * past its probe, so mutated bytes reach deep states), the fallback PHI scanners, the capture
 * reader, and the whole pipeline with the example policy's rules. Each target takes one input and
 * returns what it emitted; the harness judges that (no throw, no hang, no planted value out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../agent/analyzers/environment.js';
import type { AnalyzerContext, AnalyzerRegistry, TcpAnalyzerFactory, UdpAnalyzerFactory } from '../../agent/analyzers/registry.js';
import { CaptureStreamReader } from '../../agent/capture/capture-file.js';
import { CaptureFormatError, type PacketRecord } from '../../agent/capture/packet-record.js';
import type { AnalyzerRecord, EventSink, MuvaktEvent } from '../../agent/events/types.js';
import { Flow } from '../../agent/flows/flow.js';
import { FtpDataExpectations } from '../../agent/flows/ftp-data-expectations.js';
import type { FtpDataEndpoint } from '../../protocols/cleartext/ftp-data.js';
import { DEFAULT_FLOW_LIMITS, type FlowTableLimits } from '../../agent/flows/flow-table.js';
import { Pipeline } from '../../agent/pipeline.js';
import { DETACH, Direction } from '../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type RuleEvent } from '../../rules/index.js';
import { TEST_PSEUDONYM_KEY } from '../support/keys.js';
import { repoRoot } from '../support/repo-root.js';
import { examplePolicy } from '../support/rules.js';
import { records, RecordFlag } from './script.js';

export type TargetKind = 'stream' | 'datagram' | 'capture' | 'pipeline';

export interface FuzzTarget {
  name: string;
  kind: TargetKind;
  /** Runs one input; returns what came out (events, findings) for the privacy check. Throws = crash. */
  run(input: Buffer): unknown[];
}

const CORPUS = join(repoRoot(), 'fixtures/corpus');

/**
 * The values the corpus planted that have the shape of patient data or a secret (names,
 * fødselsnumre, dates of birth, addresses, phone numbers, passwords and their encodings): none
 * may come out, whatever a mutation does. Plain tokens of up to 12 letters and digits (accession
 * numbers like `A24010`, user names like `admin` or `radtech01`) are left out here: bytes a mutation moves into an identifier field a
 * parser must report (an AE title, a syslog MSGID) are indistinguishable from a device's real
 * identifier. The corpus tests check every planted value, these included, on the real captures.
 */
export function plantedValues(): string[] {
  const m = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as {
    captures: { planted_secrets?: string[] }[];
    identities?: { patients?: { PatientName?: string; fodselsnummer?: string }[] };
  };
  const out = new Set<string>();
  for (const c of m.captures) for (const s of c.planted_secrets ?? []) if (!/^[A-Za-z0-9]{1,12}$/.test(s)) out.add(s);
  for (const p of m.identities?.patients ?? []) {
    if (p.PatientName) out.add(p.PatientName);
    if (p.fodselsnummer) out.add(p.fodselsnummer);
  }
  return [...out];
}

function fuzzFlow(proto: number): Flow {
  const f = new Flow();
  f.ipVersion = 4;
  f.proto = proto;
  f.c0 = 10;
  f.c3 = 21;
  f.s0 = 10;
  f.s3 = 10;
  f.cport = 40_000;
  f.sport = proto === 6 ? 104 : 514;
  return f;
}

/** An analyzer context that keeps what the parser emits and runs its timers at the end. */
class CollectingContext implements AnalyzerContext {
  readonly out: unknown[] = [];
  readonly tickers: ((s: number, n: number) => void)[] = [];
  constructor(readonly flow: Flow) {}
  emit(rec: AnalyzerRecord): void {
    this.out.push(rec);
  }
  setApp(app: string, encrypted: boolean): void {
    this.flow.app = app;
    this.flow.encrypted = encrypted;
  }
  onTick(fn: (s: number, n: number) => void): void {
    this.tickers.push(fn);
  }
  /** A real, small table: FTP announcements reach it as in the pipeline. */
  readonly ftpData = new FtpDataExpectations({ max: 64, ttlSec: 120 });
  expectFtpDataEndpoint(ep: FtpDataEndpoint): void {
    this.ftpData.expectEndpoint(this.flow, ep, T0);
  }
  expectFtpTlsSession(): void {
    this.ftpData.expectTlsSession(this.flow);
  }
  /** Capture time moves on past every protocol timeout (HL7 ACKs wait 30 s). */
  runTimers(fromSec: number): void {
    for (const t of [fromSec + 1, fromSec + 31, fromSec + 3600]) for (const fn of this.tickers) fn(t, 0);
  }
}

const T0 = 1_767_225_600;

function streamTarget(name: string, factory: TcpAnalyzerFactory): FuzzTarget {
  return {
    name,
    kind: 'stream',
    run(input) {
      const ctx = new CollectingContext(fuzzFlow(6));
      const parser = factory.create(ctx);
      const skip = [0, 0];
      let detached = false;
      let t = 0;
      for (const r of records(input)) {
        if (detached) break;
        t++;
        if (r.gap || r.skipped) {
          skip[r.dir] = Math.max(0, skip[r.dir] - r.len);
          if (r.gap) parser.gap(r.dir, r.len);
          continue;
        }
        let off = r.off;
        let len = r.len;
        // The reassembler drops what the parser asked to skip.
        const drop = Math.min(skip[r.dir], len);
        skip[r.dir] -= drop;
        off += drop;
        len -= drop;
        if (len === 0) continue;
        const ret = parser.data(r.dir, input, off, len, T0 + (t >> 4), (t & 15) * 1000);
        if (ret === DETACH) detached = true;
        else if (ret > 0) skip[r.dir] = ret;
        else if (ret < 0 || !Number.isInteger(ret)) throw new Error(`data() returned ${ret}: only DETACH or a byte count is allowed`);
      }
      ctx.runTimers(T0 + (t >> 4));
      parser.end('fin');
      return ctx.out;
    },
  };
}

function datagramTarget(name: string, factory: UdpAnalyzerFactory): FuzzTarget {
  return {
    name,
    kind: 'datagram',
    run(input) {
      const ctx = new CollectingContext(fuzzFlow(17));
      const parser = factory.create(ctx);
      let t = 0;
      for (const r of records(input)) {
        if (r.gap || r.skipped) continue;
        if (parser.datagram(r.dir, input, r.off, r.len, T0 + t++, 0) === DETACH) break;
      }
      ctx.runTimers(T0 + t);
      parser.end();
      return ctx.out;
    },
  };
}

/** The capture reader over mutated files, fed in chunks whose size the input's last byte picks. */
const captureTarget: FuzzTarget = {
  name: 'capture-reader',
  kind: 'capture',
  run(input) {
    let packets = 0;
    let bytes = 0;
    const reader = new CaptureStreamReader('fuzz', (rec) => {
      packets++;
      bytes += rec.capLen;
      if (rec.off < 0 || rec.off + rec.capLen > rec.buf.length) throw new Error(`record view out of its buffer: ${rec.off}+${rec.capLen} > ${rec.buf.length}`);
    });
    const chunk = 1 + ((input.length > 0 ? input[input.length - 1] : 0) << 6);
    try {
      for (let i = 0; i < input.length; i += chunk) reader.push(input.subarray(i, i + chunk));
      reader.end();
    } catch (e) {
      // A corrupt or truncated capture is reported this way by design; anything else is a bug.
      if (!(e instanceof CaptureFormatError)) throw e;
    }
    return [{ packets, bytes }];
  },
};

class CollectingSink implements EventSink {
  readonly events: MuvaktEvent[] = [];
  write(e: MuvaktEvent): void {
    this.events.push(e);
  }
  flush(): void {}
  close(): void {}
}

/**
 * The sensor's flow table sized for one fuzz input: the default's half-million-flow hash array
 * took 97 % of each input's time to allocate and fill. An input holds at most a few thousand
 * frames, so past this capacity the eviction path runs too.
 */
const FUZZ_FLOW_LIMITS: FlowTableLimits = { ...DEFAULT_FLOW_LIMITS, maxFlows: 1024 };

/**
 * The whole pipeline and the rules over a packet script: `[link type u16]` then records
 * `[length u16][frame]`, one millisecond apart. Frames stay whole while their bytes mutate, so
 * decoding, flows, reassembly, dispatch, every analyzer and every rule are reached.
 */
function pipelineTarget(): FuzzTarget {
  const policy = examplePolicy();
  // Analyzer factories hold no per-flow state: one registry serves every input.
  const analyzers = registry();
  return {
    name: 'pipeline',
    kind: 'pipeline',
    run(input) {
      if (input.length < 2) return [];
      const sink = new CollectingSink();
      const pipeline = new Pipeline({ events: sink, registry: analyzers, flowLimits: FUZZ_FLOW_LIMITS });
      const rec: PacketRecord = { linkType: input.readUInt16BE(0), ifIndex: 0, buf: input, off: 0, capLen: 0, origLen: 0, tsSec: T0, tsNsec: 0 };
      let i = 2;
      let n = 0;
      while (i + 2 <= input.length) {
        const len = Math.min(input.readUInt16BE(i), input.length - i - 2);
        rec.off = i + 2;
        rec.capLen = len;
        rec.origLen = len;
        rec.tsSec = T0 + Math.floor(n / 1000);
        rec.tsNsec = (n % 1000) * 1_000_000;
        n++;
        pipeline.handle(rec);
        i += 2 + len;
      }
      pipeline.finish('shutdown');
      const findings: unknown[] = [];
      const engine = new RuleEngine(policy, ALL_RULES, (f) => findings.push(f));
      for (const e of sink.events) engine.evaluate(e as RuleEvent);
      // The engine counts a rule that throws and goes on (a sensor must); here it is a finding.
      if (engine.errors.size > 0) throw new Error(`rule threw: ${[...engine.errors.keys()].join(', ')}`);
      return [...sink.events, ...findings];
    },
  };
}

function registry(): AnalyzerRegistry {
  return defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY));
}

/** Every target, by name. Names are stable: regression inputs are filed under them. */
export function allTargets(): FuzzTarget[] {
  const r = registry();
  const out: FuzzTarget[] = [];
  const seen = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 2; seen.has(name); k++) name = `${base}-${k}`;
    seen.add(name);
    return name;
  };
  for (const f of r.tcpFactories) out.push(streamTarget(unique(`tcp-${f.app}`), f));
  if (r.fallbackTcp) out.push(streamTarget(unique('tcp-phi-fallback'), r.fallbackTcp));
  if (r.ftpDataClear) out.push(streamTarget(unique('tcp-ftp-data'), r.ftpDataClear));
  if (r.ftpDataTls) out.push(streamTarget(unique('tcp-ftp-data-tls'), r.ftpDataTls));
  for (const f of r.udpFactories) out.push(datagramTarget(unique(`udp-${f.app}`), f));
  if (r.fallbackUdp) out.push(datagramTarget(unique('udp-phi-fallback'), r.fallbackUdp));
  out.push(captureTarget, pipelineTarget());
  return out;
}

export { RecordFlag, Direction };
