import { DecodeErrors, PipelineStats, type Pipeline } from '../pipeline.js';

/**
 * What the summary and /metrics read of a pipeline: its counters, the flow table's, the
 * reassembly's and the fragment reassembler's. A Pipeline is one; the parallel pipeline's is
 * the sum of its workers' (`sumFigures`).
 */
export interface PipelineFigures {
  readonly stats: PipelineStats;
  readonly flows: { readonly created: number; readonly evictions: number; readonly squeezed: number; readonly size: number };
  readonly reassembly: ReassemblyFigures;
  readonly fragments: { readonly stats: FragmentFigures; readonly pending: number };
  readonly ftpData: { readonly evictions: number };
}

interface ReassemblyFigures {
  heldBytes: number;
  capHits: number;
  gaps: number;
  gapBytes: number;
  retransmittedBytes: number;
  outOfOrderSegments: number;
}

interface FragmentFigures {
  fragments: number;
  completed: number;
  timedOut: number;
  overLimit: number;
  overlaps: number;
  malformed: number;
}

/** A pipeline's figures as plain data, to post from a worker thread. */
export interface FiguresMessage {
  stats: Omit<PipelineStats, 'decapsulatedByKind' | 'flowsByApp' | 'decodeErrors' | 'decapsulated'> & { decapsulated: number[]; decodeErrors: DecodeErrors; flowsByApp: [string, number][] };
  flows: { created: number; evictions: number; squeezed: number; size: number };
  reassembly: ReassemblyFigures;
  fragments: { stats: FragmentFigures; pending: number };
  ftpData: { evictions: number };
}

const STAT_FIELDS = ['packets', 'bytes', 'unsupportedLink', 'nonIp', 'icmp', 'otherIp', 'fragments', 'encapTooDeep', 'unrecognisedStreams', 'analyzerStateEvictions', 'analyzerStatesShed'] as const;
const DECODE_ERROR_FIELDS = Object.keys(new DecodeErrors()) as (keyof DecodeErrors)[];
const REASSEMBLY_FIELDS = ['heldBytes', 'capHits', 'gaps', 'gapBytes', 'retransmittedBytes', 'outOfOrderSegments'] as const;
const FRAGMENT_FIELDS = ['fragments', 'completed', 'timedOut', 'overLimit', 'overlaps', 'malformed'] as const;

export function figuresMessage(p: Pipeline): FiguresMessage {
  const st = p.stats;
  const stats = { decapsulated: [...st.decapsulated], decodeErrors: { ...st.decodeErrors }, flowsByApp: [...st.flowsByApp], firstTs: st.firstTs, lastTs: st.lastTs } as FiguresMessage['stats'];
  for (const k of STAT_FIELDS) stats[k] = st[k];
  const reassembly = {} as ReassemblyFigures;
  for (const k of REASSEMBLY_FIELDS) reassembly[k] = p.reassembly[k];
  const fragments = {} as FragmentFigures;
  for (const k of FRAGMENT_FIELDS) fragments[k] = p.fragments.stats[k];
  return { stats, flows: { created: p.flows.created, evictions: p.flows.evictions, squeezed: p.flows.squeezed, size: p.flows.size }, reassembly, fragments: { stats: fragments, pending: p.fragments.pending }, ftpData: { evictions: p.ftpData.evictions } };
}

/** The figures of several pipelines as one: counts summed, the capture span from the earliest to the latest packet. */
export function sumFigures(parts: readonly FiguresMessage[]): PipelineFigures {
  const stats = new PipelineStats();
  const flows = { created: 0, evictions: 0, squeezed: 0, size: 0 };
  const reassembly: ReassemblyFigures = { heldBytes: 0, capHits: 0, gaps: 0, gapBytes: 0, retransmittedBytes: 0, outOfOrderSegments: 0 };
  const fragments: FragmentFigures = { fragments: 0, completed: 0, timedOut: 0, overLimit: 0, overlaps: 0, malformed: 0 };
  let pending = 0;
  const ftpData = { evictions: 0 };
  for (const m of parts) {
    const s = m.stats;
    for (const k of STAT_FIELDS) stats[k] += s[k];
    for (const k of DECODE_ERROR_FIELDS) stats.decodeErrors[k] += s.decodeErrors[k];
    for (let i = 0; i < stats.decapsulated.length; i++) stats.decapsulated[i] += s.decapsulated[i] ?? 0;
    for (const [app, n] of s.flowsByApp) stats.flowsByApp.set(app, (stats.flowsByApp.get(app) ?? 0) + n);
    if (s.firstTs >= 0 && (stats.firstTs < 0 || s.firstTs < stats.firstTs)) stats.firstTs = s.firstTs;
    if (s.lastTs > stats.lastTs) stats.lastTs = s.lastTs;
    flows.created += m.flows.created;
    flows.evictions += m.flows.evictions;
    flows.squeezed += m.flows.squeezed;
    flows.size += m.flows.size;
    for (const k of REASSEMBLY_FIELDS) reassembly[k] += m.reassembly[k];
    for (const k of FRAGMENT_FIELDS) fragments[k] += m.fragments.stats[k];
    pending += m.fragments.pending;
    ftpData.evictions += m.ftpData.evictions;
  }
  return { stats, flows, reassembly, fragments: { stats: fragments, pending }, ftpData };
}
