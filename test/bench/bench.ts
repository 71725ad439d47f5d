/**
 * npm run bench -- [FILE] [--runs N] [--no-cli] [--no-big] [--no-tshark] [--flows N]
 *
 * Throughput of the capture reader and of the packet pipeline (decode → flows → reassembly →
 * analyzer dispatch) on one capture, against `tcpdump -r FILE -w /dev/null` timed in the same
 * invocation. FILE defaults to the capture made by fixtures/corpus/scripts/make-bench.sh.
 *
 * Then the process as a user runs it: `muvakt analyze` on a capture of four copies of FILE with
 * non-overlapping timestamps (over 1 GB; built next to FILE once), plain and with the example
 * policy and a store, against tcpdump and tshark (DICOM and HL7 dissected) on the same file; and
 * peak RSS with many concurrent open flows (concurrent-flows.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCaptureFile } from '../../agent/capture/capture-file.js';
import { defaultRegistry } from '../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../agent/analyzers/environment.js';
import { labelOnlyAnalyzers, tlsLabelAnalyzer } from '../support/classifiers.js';
import { AnalyzerRegistry } from '../../agent/analyzers/registry.js';
import type { EventSink, MuvaktEvent } from '../../agent/events/types.js';
import { AlertingSink } from '../../agent/alerts.js';
import { compilePolicyFile } from '../../agent/policy-file.js';
import { SqliteStore } from '../../agent/store/index.js';
import { Pipeline } from '../../agent/pipeline.js';
import { InventorySink } from '../../agent/inventory/sink.js';
import { concurrentFlowsRss } from './concurrent-flows.js';
import { buildBigCapture } from './big-capture.js';
import { workerRows } from './workers.js';
import { Inventory } from '../../agent/inventory/inventory.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '5' },
    'no-cli': { type: 'boolean', default: false },
    'no-big': { type: 'boolean', default: false },
    'no-tshark': { type: 'boolean', default: false },
    flows: { type: 'string', default: '100000' },
  },
});
const file = positionals[0] ?? process.env.MUVAKT_BENCH_FILE ?? '/tmp/bench.pcap';
const runs = Number(values.runs);
const size = statSync(file).size;
const cli = join(dirname(fileURLToPath(import.meta.url)), '../../agent/cli/muvakt.cjs');
const POLICY = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/policy.example.yaml');
/** A small capture (a DICOM C-ECHO): its whole run is start-up, the first packet its first moment of work. */
const SMALL = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/corpus/01_dicom_cecho.pcap');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeCommand(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/**
 * Start-up as a user meets it, from exec: the moment the first packet has been through the
 * pipeline (analyze prints it, on the monotonic clock every process shares, when
 * MUVAKT_MARK_FIRST_PACKET=1) less the moment just before spawning; and the whole run of the
 * small capture. Both in ms.
 */
function timeToFirstPacket(extra: string[] = []): { firstMs: number; wholeMs: number } {
  const spawnedAt = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...process.execArgv, cli, 'analyze', SMALL, '--quiet', ...extra], { encoding: 'utf8', env: { ...process.env, MUVAKT_MARK_FIRST_PACKET: '1' } });
  const endedAt = process.hrtime.bigint();
  const mark = /first packet at hrtime (\d+) ns/.exec(r.stderr);
  if (r.status !== 0 || mark === null) throw new Error(`analyze ${SMALL} gave no first-packet mark: ${r.stderr}`);
  return { firstMs: Number(BigInt(mark[1]) - spawnedAt) / 1e6, wholeMs: Number(endedAt - spawnedAt) / 1e6 };
}

type Stage = 'reader' | 'foundation' | 'dicom-hl7' | 'tls-remote-cleartext' | 'no-dicom' | 'all' | 'inventory' | 'rules' | 'full';

/** Every analyzer of `all` (TCP, UDP and the PHI fallbacks) except the TCP apps named. */
function allBut(all: AnalyzerRegistry, apps: string[]): AnalyzerRegistry {
  const r = new AnalyzerRegistry();
  for (const app of all.apps) if (!apps.includes(app)) r.register(all.forPort(0).find((f) => f.app === app)!);
  for (const f of all.udpFactories) r.registerUdp(f);
  r.fallbackTcp = all.fallbackTcp;
  r.fallbackUdp = all.fallbackUdp;
  return r;
}

/** The foundation's stages only: dispatch runs, protocols are recognised and labelled, none parsed. */
function registryFor(stage: Stage): AnalyzerRegistry {
  const env = defaultEnvironment(Buffer.alloc(32, 7));
  if (stage === 'all' || stage === 'inventory' || stage === 'rules' || stage === 'full') return defaultRegistry(env);
  const r = new AnalyzerRegistry();
  const all = defaultRegistry(env);
  if (stage === 'tls-remote-cleartext') {
    // The foundation with the TLS, remote-access and cleartext analyzers only (with PHI, DNS and
    // DHCP); DICOM and HL7 left unparsed (their flows then meet the PHI fallback scanner).
    return allBut(all, ['dicom', 'hl7']);
  }
  if (stage === 'no-dicom') {
    // Everything but the DICOM parser (DICOM flows are then left unrecognised and detached).
    return allBut(all, ['dicom']);
  }
  if (stage === 'dicom-hl7') {
    // The foundation with DICOM and HL7 parsed, TLS/HTTP/SMB only labelled, and no TLS,
    // remote-access, cleartext, PHI, DNS or DHCP analyzers.
    for (const app of ['dicom', 'hl7']) r.register(all.forPort(0).find((f) => f.app === app)!);
  }
  r.register(tlsLabelAnalyzer(env.dicomPorts));
  for (const f of labelOnlyAnalyzers()) r.register(f);
  return r;
}

const eventCounts = new Map<string, number>();

async function timeInProcess(stage: Stage): Promise<{ s: number; packets: number }> {
  const t = process.hrtime.bigint();
  let packets = 0;
  if (stage !== 'reader') {
    eventCounts.clear();
    const count = (e: MuvaktEvent) => eventCounts.set(e.type, (eventCounts.get(e.type) ?? 0) + 1);
    let events: EventSink = { write: count, flush() {}, close() {} };
    let alerting: AlertingSink | null = null;
    // The device inventory on top of every analyzer, as every `analyze` run keeps one.
    if (stage === 'inventory') events = new InventorySink(events, null);
    let inventory: InventorySink | null = null;
    if (stage === 'rules' || stage === 'full') {
      // Rules and the alert store (in memory) on top of every analyzer, as `analyze --policy`
      // runs; `full` adds the inventory under them, zoned by the policy and saved at the end.
      const policy = compilePolicyFile(POLICY);
      if (stage === 'full') events = inventory = new InventorySink(events, policy);
      const sink = await AlertingSink.create(events, policy, SqliteStore.open(':memory:'));
      alerting = sink;
      events = sink;
    }
    const p = new Pipeline({ events, registry: registryFor(stage) });
    await readCaptureFile(file, p.handle);
    p.finish();
    await alerting?.finish();
    if (inventory !== null && alerting !== null) await inventory.save(alerting.store, await alerting.allAlerts());
    await alerting?.store.close();
    packets = p.stats.packets;
  } else {
    await readCaptureFile(file, (rec) => {
      packets += rec.buf[rec.off + 12] >= 0 ? 1 : 0;
    });
  }
  return { s: Number(process.hrtime.bigint() - t) / 1e9, packets };
}

readFileSync(file); // warm the page cache so every contender reads from memory
const firstPacket = [] as number[];
const smallWhole = [] as number[];
const bareNode = [] as number[];
/** The same with the example policy (YAML, its schema, the rules, an in-memory alert store). */
const firstPacketPolicy = [] as number[];
if (!values['no-cli']) {
  // One run first, untimed: it writes the CLI's code cache, as any earlier run of `analyze` has.
  timeToFirstPacket();
  timeToFirstPacket(['--policy', POLICY]);
  // Start-up is short and noisy: more runs than the throughput rows, bare `node -e 0` beside it.
  for (let i = 0; i < Math.max(runs * 3, 15); i++) {
    const t = timeToFirstPacket();
    firstPacket.push(t.firstMs);
    smallWhole.push(t.wholeMs);
    bareNode.push(timeCommand(process.execPath, [...process.execArgv, '-e', '0']) * 1000);
    firstPacketPolicy.push(timeToFirstPacket(['--policy', POLICY]).firstMs);
  }
}
const tcpdump = [] as number[];
const reader = [] as number[];
const foundation = [] as number[];
const dicomHl7 = [] as number[];
const tlsRemoteCleartext = [] as number[];
const noDicom = [] as number[];
const all = [] as number[];
const inventory = [] as number[];
const rules = [] as number[];
const full = [] as number[];
const cliRuns = [] as number[];
let packets = 0;
for (let i = 0; i < runs; i++) {
  tcpdump.push(timeCommand('tcpdump', ['-r', file, '-w', '/dev/null']));
  const r = await timeInProcess('reader');
  reader.push(r.s);
  packets = r.packets;
  foundation.push((await timeInProcess('foundation')).s);
  dicomHl7.push((await timeInProcess('dicom-hl7')).s);
  tlsRemoteCleartext.push((await timeInProcess('tls-remote-cleartext')).s);
  noDicom.push((await timeInProcess('no-dicom')).s);
  // Alternate which of the pair goes first: the inventory's cost is a few per cent, no more than the drift.
  if (i % 2 === 0) {
    all.push((await timeInProcess('all')).s);
    inventory.push((await timeInProcess('inventory')).s);
  } else {
    inventory.push((await timeInProcess('inventory')).s);
    all.push((await timeInProcess('all')).s);
  }
  // As for the inventory: alternate which of the pair goes first.
  if (i % 2 === 0) {
    rules.push((await timeInProcess('rules')).s);
    full.push((await timeInProcess('full')).s);
  } else {
    full.push((await timeInProcess('full')).s);
    rules.push((await timeInProcess('rules')).s);
  }
  if (!values['no-cli']) cliRuns.push(timeCommand(process.execPath, [...process.execArgv, cli, 'analyze', file, '--quiet']));
}

/**
 * The inventory's own work: the events it was given in one run (sampled as `InventorySink`
 * samples them), recorded in an untimed pass and replayed into a fresh inventory.
 */
async function inventoryReplay(): Promise<{ ms: number; events: number }> {
  const recorded: MuvaktEvent[] = [];
  const sink = new InventorySink({ write() {}, flush() {}, close() {} }, null);
  sink.inventory.observe = (e: MuvaktEvent) => void recorded.push(e);
  const p = new Pipeline({ events: sink, registry: registryFor('all') });
  await readCaptureFile(file, p.handle);
  p.finish();
  const ms: number[] = [];
  for (let i = 0; i < 50; i++) {
    const inv = new Inventory();
    const t = process.hrtime.bigint();
    for (const e of recorded) inv.observe(e);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (inv.devices().next().done) throw new Error('the replayed inventory found no device');
  }
  return { ms: median(ms), events: recorded.length };
}
const replay = await inventoryReplay();

const ref = median(tcpdump);
const row = (name: string, s: number) => {
  const pps = packets / s;
  const mbs = size / 1e6 / s;
  return `${name.padEnd(44)} ${s.toFixed(3).padStart(8)} s ${Math.round(pps).toLocaleString('en-US').padStart(12)} pkt/s ${mbs.toFixed(0).padStart(7)} MB/s ${(ref / s).toFixed(2).padStart(6)}× tcpdump`;
};
console.log(`muvakt bench: ${file}, ${packets.toLocaleString('en-US')} packets, ${(size / 1e6).toFixed(1)} MB, node ${process.version}${process.execArgv.length > 0 ? ` ${process.execArgv.join(' ')}` : ''}, median of ${runs}`);
console.log(row('tcpdump -r FILE -w /dev/null (reference)', ref));
console.log(row('capture reader only (in-process)', median(reader)));
console.log(row('foundation: decode+flows+reassembly+dispatch', median(foundation)));
console.log(row('foundation + DICOM + HL7', median(dicomHl7)));
console.log(row('foundation + TLS, remote, cleartext, PHI, DNS/DHCP', median(tlsRemoteCleartext)));
console.log(row('all analyzers but DICOM', median(noDicom)));
console.log(row('all analyzers (DICOM, HL7, TLS, remote, cleartext…)', median(all)));
console.log(row('all analyzers + device inventory', median(inventory)));
console.log(row('all analyzers + rules + alert store', median(rules)));
console.log(row('+ device inventory: all `analyze --policy` does', median(full)));
if (cliRuns.length > 0) console.log(row('muvakt analyze FILE --quiet (whole process)', median(cliRuns)));
if (firstPacket.length > 0) {
  console.log(
    `time to first packet (exec → first packet processed): ${median(firstPacket).toFixed(0)} ms; whole \`analyze\` of a ${statSync(SMALL).size}-byte capture ${median(smallWhole).toFixed(0)} ms; bare \`node -e 0\` ${median(bareNode).toFixed(0)} ms (medians of ${firstPacket.length})`,
  );
  console.log(`time to first packet with --policy (the example policy; rules, an in-memory alert store): ${median(firstPacketPolicy).toFixed(0)} ms`);
}
console.log(`DICOM on / off rate: ${(median(noDicom) / median(all)).toFixed(2)}×`);
console.log(`all analyzers / foundation rate: ${(median(foundation) / median(all)).toFixed(2)}×`);
console.log(`TLS, remote-access, cleartext, PHI, DNS/DHCP analyzers on / off: ${(median(foundation) / median(tlsRemoteCleartext)).toFixed(2)}× on the foundation alone, ${(median(dicomHl7) / median(all)).toFixed(2)}× with DICOM and HL7 parsed`);
// The inventory's share is a few per cent, less than the drift between runs on a shared
// machine: each run's inventory time is set against the all-analyzers run next to it, and the
// median of those paired differences is reported with its quartiles.
const pairedShare = (withIt: number[], without: number[] = all) => {
  const d = withIt.map((t, i) => (t - without[i]) / without[i]).sort((a, b) => a - b);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `${pct(d[Math.floor(d.length / 2)])} (quartiles ${pct(d[Math.floor(d.length / 4)])}–${pct(d[Math.floor((3 * d.length) / 4)])}, paired runs)`;
};
console.log(`the device inventory adds ${pairedShare(inventory)} to the analysis time; its own work on the ${replay.events.toLocaleString('en-US')} events it takes, replayed warm: ${replay.ms.toFixed(1)} ms (${((replay.ms / 1000 / median(all)) * 100).toFixed(1)}%)`);
console.log(`with rules and the alert store on (as \`analyze --policy\` runs), the inventory (zoned by the policy, saved to the store) adds ${pairedShare(full, rules)}`);
console.log(`rules add ${pairedShare(rules)} to the analysis time`);
const hl7 = eventCounts.get('hl7.message') ?? 0;
if (hl7 > 0) console.log(`HL7: ${hl7.toLocaleString('en-US')} messages, ${Math.round(hl7 / median(all)).toLocaleString('en-US')} messages/s through the whole pipeline`);
console.log(`events (last run): ${[...eventCounts.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}`);

// ---- the process as a user runs it, on a capture over 1 GB ----------------------------------
if (!values['no-big']) {
  const big = buildBigCapture(file);
  const bigSize = statSync(big.path).size;
  readFileSync(big.path); // page cache, as for FILE
  const storeDir = mkdtempSync(join(tmpdir(), 'muvakt-bench-store-'));
  const bigTcpdump: number[] = [];
  const bigPlain: number[] = [];
  const bigPolicy: number[] = [];
  const bigRuns = Math.max(3, Math.ceil(runs / 2));
  try {
    for (let i = 0; i < bigRuns; i++) {
      bigTcpdump.push(timeCommand('tcpdump', ['-r', big.path, '-w', '/dev/null']));
      bigPlain.push(timeCommand(process.execPath, [...process.execArgv, cli, 'analyze', big.path, '--quiet']));
      const db = join(storeDir, `run-${i}.db`);
      bigPolicy.push(timeCommand(process.execPath, [...process.execArgv, cli, 'analyze', big.path, '--quiet', '--policy', POLICY, '--db', db]));
      rmSync(db, { force: true });
    }
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
  const bigRef = median(bigTcpdump);
  const bigRow = (name: string, s: number) =>
    `${name.padEnd(52)} ${s.toFixed(3).padStart(8)} s ${Math.round(big.packets / s).toLocaleString('en-US').padStart(12)} pkt/s ${(bigSize / 1e6 / s).toFixed(0).padStart(7)} MB/s ${(bigRef / s).toFixed(2).padStart(6)}× tcpdump`;
  console.log(`\nwhole process on ${big.path}: ${big.packets.toLocaleString('en-US')} packets, ${(bigSize / 1e6).toFixed(0)} MB (four copies of FILE, timestamps not overlapping), median of ${bigRuns}`);
  console.log(bigRow('tcpdump -r FILE -w /dev/null (reference)', bigRef));
  console.log(bigRow('muvakt analyze FILE --quiet', median(bigPlain)));
  console.log(bigRow('muvakt analyze FILE --quiet --policy --db', median(bigPolicy)));
  if (!values['no-tshark']) {
    // tshark with the DICOM and HL7 dissectors on the bench's ports and a display filter that
    // needs them, so every packet is dissected (with TCP reassembly, tshark's default).
    const ts = timeCommand('tshark', ['-n', '-r', big.path, '-d', 'tcp.port==104,dicom', '-d', 'tcp.port==2575,hl7', '-Y', 'dicom || hl7', '-q']);
    console.log(bigRow('tshark -Y "dicom || hl7" (DICOM and HL7 dissected), one run', ts));
    console.log(`muvakt analyze vs tshark: ${(ts / median(bigPlain)).toFixed(1)}× faster (plain), ${(ts / median(bigPolicy)).toFixed(1)}× (with --policy --db)`);
  }
  // ---- several cores: the same process with one and two analysis workers ---------------------
  console.log('');
  for (const row of workerRows(big.path, 3, [1, 2])) console.log(row);
  // The same traffic from four times as many devices: the workers are given whole address pairs,
  // and the capture above has eight, nearly all of whose bytes hash to one of two workers.
  for (const row of workerRows(buildBigCapture(file, true).path, 3, [1, 2])) console.log(row);
}

// ---- memory with many concurrent open flows --------------------------------------------------
const flowCount = Number(values.flows);
if (flowCount > 0) {
  const flowsFile = join(tmpdir(), `muvakt-open-flows-${flowCount}.pcap`);
  const r = await concurrentFlowsRss(flowCount, flowsFile);
  console.log(`\n${flowCount.toLocaleString('en-US')} concurrent open flows (DICOM, HL7, TLS, HTTP, each mid-message; ${flowsFile}), whole process, every analyzer on:`);
  console.log(`  muvakt analyze --quiet                 peak RSS ${r.plain.peakMb.toFixed(0)} MB`);
  console.log(`  muvakt analyze --quiet --policy --db   peak RSS ${r.withPolicy.peakMb.toFixed(0)} MB`);
}
