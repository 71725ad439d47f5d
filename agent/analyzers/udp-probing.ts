/**
 * Analyzer dispatch for UDP, the datagram counterpart of AnalyzerDispatcher: the first
 * datagrams of a flow are offered to the UDP analyzers' probes; the first to say yes gets the
 * flow, and a flow nobody claims goes to the fallback scanner. `udpProbed` past the limit
 * means "decided, no parser".
 */
import { DETACH, type Direction } from '../../protocols/stream.js';
import { ProbeVerdict } from '../../protocols/probe.js';
import type { Flow } from '../flows/flow.js';
import type { AnalyzerContext, AnalyzerRegistry } from './registry.js';

/** Datagrams of a UDP flow offered to the probes before it is handed to the fallback. */
export const UDP_PROBE_DATAGRAMS = 4;

/** Whether this flow's datagrams still go anywhere (a parser, or probes still undecided). */
export function udpWantsDatagrams(f: Flow): boolean {
  return f.udpProbed <= UDP_PROBE_DATAGRAMS;
}

/** Hands one datagram's payload (buf[off, off+len)) to the flow's parser, probing for one first. */
export function dispatchDatagram(
  registry: AnalyzerRegistry,
  contextFor: (f: Flow) => AnalyzerContext,
  f: Flow,
  dir: Direction,
  buf: Buffer,
  off: number,
  len: number,
  tsSec: number,
  tsNsec: number,
): void {
  let p = f.udpParser;
  if (p === null) {
    f.udpProbed++;
    const factories = registry.udpFactories;
    let pending = false;
    for (let i = 0; i < factories.length; i++) {
      const v = factories[i].probe(dir, buf, off, len, f.sport, f.cport);
      if (v === ProbeVerdict.Yes) {
        const ctx = contextFor(f);
        ctx.setApp(factories[i].app, factories[i].encrypted);
        p = factories[i].create(ctx);
        break;
      }
      if (v === ProbeVerdict.NeedMore) pending = true;
    }
    if (p === null) {
      if (pending && f.udpProbed < UDP_PROBE_DATAGRAMS) return;
      const fb = registry.fallbackUdp;
      if (fb === null) {
        f.udpProbed = UDP_PROBE_DATAGRAMS + 1;
        return;
      }
      p = fb.create(contextFor(f));
    }
    f.udpParser = p;
  }
  if (p.datagram(dir, buf, off, len, tsSec, tsNsec) === DETACH) {
    f.udpParser = null;
    f.udpProbed = UDP_PROBE_DATAGRAMS + 1;
    p.end();
  }
}
