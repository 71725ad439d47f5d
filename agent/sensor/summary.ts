import type { PipelineFigures } from './pipeline-figures.js';

export interface RunFigures {
  wallSeconds: number;
  captureBytes: number;
  files: number;
  captureDrops?: number;
  /** Received by the kernel but still in its buffer when the capture stopped (the analysis was behind). */
  captureUnread?: number;
  error?: string;
  /** What the memory bounds cost: devices evicted or not made, and the memory-ceiling episodes. */
  bounds?: { devicesEvicted: number; devicesShed: number; devicesDropped: number; memoryEpisodes: number };
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The readable end-of-run table: what was seen, what could not be decoded, how fast. */
export function formatSummary(p: PipelineFigures, fig: RunFigures): string {
  const st = p.stats;
  const rows: [string, string][] = [];
  rows.push(['packets', fmtInt(st.packets)]);
  rows.push(['bytes (on the wire)', `${fmtInt(st.bytes)} (${fmtBytes(st.bytes)})`]);
  const span = st.firstTs >= 0 ? st.lastTs - st.firstTs : 0;
  rows.push(['capture span', `${span.toFixed(3)} s`]);
  rows.push(['flows', fmtInt(p.flows.created)]);
  const apps = [...st.flowsByApp.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [app, n] of apps) rows.push([`  ${app}`, fmtInt(n)]);
  if (p.flows.evictions > 0) rows.push(['flow evictions (table full)', fmtInt(p.flows.evictions)]);
  if (st.analyzerStateEvictions > 0) rows.push(['analyzer states evicted', fmtInt(st.analyzerStateEvictions)]);
  if (p.ftpData.evictions > 0) rows.push(['FTP data connections forgotten (table full)', fmtInt(p.ftpData.evictions)]);
  const b = fig.bounds;
  if (b !== undefined && b.devicesEvicted > 0) rows.push(['device evictions (inventory full)', fmtInt(b.devicesEvicted)]);
  if (b !== undefined && b.devicesDropped > 0) rows.push(['devices not added (external cap)', fmtInt(b.devicesDropped)]);
  if (st.analyzerStatesShed > 0 || p.flows.squeezed > 0 || (b !== undefined && (b.devicesShed > 0 || b.memoryEpisodes > 0))) {
    const episodes = b?.memoryEpisodes ?? 0;
    rows.push(['shed near memory ceiling', `analyzer states ${fmtInt(st.analyzerStatesShed)}, devices ${fmtInt(b?.devicesShed ?? 0)}, flows ended early ${fmtInt(p.flows.squeezed)} (${episodes} episode${episodes === 1 ? '' : 's'})`]);
  }
  rows.push(['non-IP frames', fmtInt(st.nonIp)]);
  if (st.icmp > 0) rows.push(['ICMP packets', fmtInt(st.icmp)]);
  if (st.otherIp > 0) rows.push(['other IP protocols', fmtInt(st.otherIp)]);
  if (st.fragments > 0) rows.push(['IP fragments', `${fmtInt(st.fragments)} (${fmtInt(p.fragments.stats.completed)} datagrams rebuilt)`]);
  const tunnels = Object.entries(st.decapsulatedByKind());
  if (tunnels.length > 0) rows.push(['decapsulated (tunnel layers)', tunnels.map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')]);
  if (st.encapTooDeep > 0) rows.push(['tunnels nested too deep', fmtInt(st.encapTooDeep)]);
  if (st.unsupportedLink > 0) rows.push(['unsupported link type', fmtInt(st.unsupportedLink)]);
  const errs = Object.entries(st.decodeErrors).filter(([, n]) => n > 0);
  rows.push(['decode errors', errs.length === 0 ? '0' : errs.map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')]);
  const r = p.reassembly;
  if (r.gaps > 0) rows.push(['TCP gaps (capture loss)', `${fmtInt(r.gaps)} (${fmtBytes(r.gapBytes)})`]);
  if (r.capHits > 0) rows.push(['reassembly cap hits', fmtInt(r.capHits)]);
  if (fig.captureDrops !== undefined) rows.push(['kernel drops', fmtInt(fig.captureDrops)]);
  if (fig.captureUnread !== undefined && fig.captureUnread > 0) rows.push(['left unread at stop', fmtInt(fig.captureUnread)]);
  rows.push(['duration', `${fig.wallSeconds.toFixed(2)} s`]);
  const pps = fig.wallSeconds > 0 ? st.packets / fig.wallSeconds : 0;
  const mbps = fig.wallSeconds > 0 ? fig.captureBytes / 1e6 / fig.wallSeconds : 0;
  rows.push(['throughput', `${fmtInt(Math.round(pps))} packets/s, ${mbps.toFixed(1)} MB/s`]);
  if (fig.error) rows.push(['stopped early', fig.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

/** Alerts by rule and severity, the last part of the summary. */
export function formatAlertSummary(alerts: { rule_id: string; severity: string; count: number }[], db?: string): string {
  if (alerts.length === 0) return `alerts             none${db ? ` (store: ${db})` : ''}\n`;
  const byRule = new Map<string, { severity: string; alerts: number; events: number }>();
  const rank: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };
  for (const a of alerts) {
    const r = byRule.get(a.rule_id) ?? { severity: a.severity, alerts: 0, events: 0 };
    if (rank[a.severity] > rank[r.severity]) r.severity = a.severity;
    r.alerts++;
    r.events += a.count;
    byRule.set(a.rule_id, r);
  }
  const rows = [...byRule.entries()].sort((a, b) => rank[b[1].severity] - rank[a[1].severity] || a[0].localeCompare(b[0]));
  const w = Math.max(...rows.map(([k]) => k.length));
  let s = `alerts by rule${db ? ` (store: ${db})` : ''}\n`;
  for (const [id, r] of rows) s += `  ${id.padEnd(w)}  ${r.severity.padEnd(8)}  ${r.alerts} alert${r.alerts === 1 ? '' : 's'}, ${r.events} event${r.events === 1 ? '' : 's'}\n`;
  return s;
}

/** Devices of the inventory by role and zone. */
export function formatDeviceSummary(c: { byZone: Map<string, number>; byRole: Map<string, number>; total: number }): string {
  if (c.total === 0) return 'devices            none\n';
  const list = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return `devices            ${c.total} (roles: ${list(c.byRole)}; zones: ${list(c.byZone)})\n`;
}
