/**
 * npm run bench:ab -- OLD_DIST [NEW_DIST] [--stage all|inventory|tls-remote-cleartext] [--rounds N] [--file F] [--history]
 *
 * The same stage from two builds, run alternately in one process on the same capture: the
 * paired difference per round cancels the drift of a shared machine (±10 % between minutes
 * here), which separate bench runs cannot. Build the old side from a worktree, e.g.
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && ln -s $PWD/node_modules && npx tsc)
 *   npm run bench:ab -- /tmp/old/dist
 * NEW_DIST defaults to this checkout's dist/. Prints the medians and the median paired change
 * with its quartiles; a change inside the quartiles of an A/A run is noise.
 * --history: a build that has the flow history (agent/flows/flow-history.js) runs with it (rows
 * drained as a store write would), so against a build without it the figure is its whole cost.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stage: { type: 'string', default: 'all' },
    rounds: { type: 'string', default: '21' },
    file: { type: 'string', default: '/tmp/bench.pcap' },
    history: { type: 'boolean', default: false },
  },
});
if (positionals.length < 1) {
  console.error('usage: npm run bench:ab -- OLD_DIST [NEW_DIST] [--stage all|inventory|tls-remote-cleartext] [--rounds N] [--file F] [--history]');
  process.exit(2);
}
const stage = values.stage!;
if (!['all', 'inventory', 'tls-remote-cleartext'].includes(stage)) {
  console.error(`--stage: expected all, inventory or tls-remote-cleartext, got ${stage}`);
  process.exit(2);
}
const rounds = Number(values.rounds);
const file = values.file!;
statSync(file);
const here = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const roots = [resolve(positionals[0]), resolve(positionals[1] ?? here)];

type Run = () => Promise<number>;

/** One build's pipeline for the stage, loaded from its own dist/ (separate module instances). */
async function load(root: string): Promise<Run> {
  const imp = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { readCaptureFile } = await imp('agent/capture/capture-file.js');
  const { defaultRegistry } = await imp('agent/analyzers/default-registry.js');
  const { defaultEnvironment } = await imp('agent/analyzers/environment.js');
  const { AnalyzerRegistry } = await imp('agent/analyzers/registry.js');
  const { Pipeline } = await imp('agent/pipeline.js');
  const { InventorySink } = await imp('agent/inventory/sink.js');
  const flowHistory = values.history ? await imp('agent/flows/flow-history.js').catch(() => null) : null;
  // Zones as a sensor with the example policy looks them up (once per flow).
  const zonesOf = flowHistory
    ? (await imp('agent/sensor/flow-history-writer.js')).policyZones((await imp('agent/policy-file.js')).compilePolicyFile(join(root, '../deploy/policy.example.yaml')))
    : null;
  const registry = () => {
    const all = defaultRegistry(defaultEnvironment(Buffer.alloc(32, 7)));
    if (stage !== 'tls-remote-cleartext') return all;
    // As the bench's row: every analyzer but DICOM and HL7 (TLS, remote access, cleartext, PHI, DNS/DHCP).
    const r = new AnalyzerRegistry();
    for (const app of all.apps as string[]) if (app !== 'dicom' && app !== 'hl7') r.register(all.forPort(0).find((f: { app: string }) => f.app === app));
    for (const f of all.udpFactories) r.registerUdp(f);
    r.fallbackTcp = all.fallbackTcp;
    r.fallbackUdp = all.fallbackUdp;
    return r;
  };
  return async () => {
    let events: unknown = { write() {}, flush() {}, close() {} };
    if (stage === 'inventory') events = new InventorySink(events, null);
    let history: { drain(): unknown[] } | undefined;
    if (flowHistory !== null) {
      const h = new flowHistory.FlowHistory({ sensor: 'bench', zonesOf, onReady: () => h.drain() });
      history = h;
    }
    const p = new Pipeline({ events, registry: registry(), history });
    const t = process.hrtime.bigint();
    await readCaptureFile(file, p.handle);
    p.finish();
    history?.drain();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
}

const [a, b] = [await load(roots[0]), await load(roots[1])];
for (let i = 0; i < 3; i++) {
  await a();
  await b();
}
const ta: number[] = [];
const tb: number[] = [];
const change: number[] = [];
for (let i = 0; i < rounds; i++) {
  // Alternate which goes first: the second of a pair runs on a heap the first has grown.
  let x: number;
  let y: number;
  if (i % 2 === 0) {
    x = await a();
    y = await b();
  } else {
    y = await b();
    x = await a();
  }
  ta.push(x);
  tb.push(y);
  change.push((y - x) / x);
}
const at = (v: number[], q: number) => [...v].sort((p, r) => p - r)[Math.min(v.length - 1, Math.floor(v.length * q))];
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(`stage ${stage}${values.history ? ' (flow history where built)' : ''}, ${file}, ${rounds} rounds, node ${process.version}${process.execArgv.length > 0 ? ` ${process.execArgv.join(' ')}` : ''}`);
console.log(`A ${roots[0]}: ${at(ta, 0.5).toFixed(1)} ms`);
console.log(`B ${roots[1]}: ${at(tb, 0.5).toFixed(1)} ms`);
console.log(`B vs A: ${pct(at(change, 0.5))} (quartiles ${pct(at(change, 0.25))} … ${pct(at(change, 0.75))})`);
