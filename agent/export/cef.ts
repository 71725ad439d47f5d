/**
 * ArcSight Common Event Format (CEF:0) for one alert, the form most SIEM alert content is
 * written for (ArcSight, Microsoft Sentinel's CommonSecurityLog, QRadar, Splunk's CEF add-on).
 *
 *   CEF:0|muvakt|muvakt|VERSION|RULE-ID|TITLE|SEVERITY|EXTENSION
 *
 * Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks (as \n,
 * \r). Severity on CEF's 0–10 scale: low 3, medium 5, high 8, critical 10. The keys are the
 * standard CEF dictionary (docs/alerts.md lists them); muvakt's own facts go to cs1…cs6 with
 * their labels. IPv6 addresses go to c6a2/c6a3 (CEF's src and dst are IPv4 only).
 */
import { ipTextVersion } from '../../protocols/ip/ip-text.js';
import type { Severity } from '../store/index.js';
import { muvaktVersion } from '../version.js';
import { epochMs, type SiemRecord } from './siem-record.js';

export const CEF_SEVERITY: Readonly<Record<Severity, number>> = { low: 3, medium: 5, high: 8, critical: 10 };

/** The custom string fields and their labels. */
export const CEF_LABELS = {
  cs1: 'srcZone',
  cs2: 'dstZone',
  cs3: 'guideRefs',
  cs4: 'flowId',
  cs5: 'change',
  cs6: 'status',
} as const;

export function cefHeaderEscape(v: string): string {
  return v.replace(/[\r\n]+/g, ' ').replace(/[\\|]/g, (c) => `\\${c}`);
}

export function cefExtensionEscape(v: string): string {
  return v.replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

export interface CefOptions {
  /** dvchost: the sensor's name (--sensor, default the host name). */
  hostname: string;
}

export function formatCef(r: SiemRecord, o: CefOptions): string {
  const ext: [string, string | number | undefined][] = [
    ['rt', epochMs(r.last_seen)],
    ['start', epochMs(r.first_seen)],
    ['end', epochMs(r.last_seen)],
    ['externalId', r.id],
    ['cnt', r.count],
    ['dvchost', o.hostname],
  ];
  const side = (ip: string, v4: string, v6: string, label: string) => {
    if (ipTextVersion(ip) === 4) ext.push([v4, ip]);
    else {
      ext.push([v6, ip]);
      ext.push([`${v6}Label`, label]);
    }
  };
  side(r.src, 'src', 'c6a2', 'Source IPv6 Address');
  ext.push(['spt', r.src_port]);
  side(r.dst, 'dst', 'c6a3', 'Destination IPv6 Address');
  ext.push(['dpt', r.dst_port]);
  ext.push(['proto', r.proto?.toUpperCase()]);
  ext.push(['app', r.app]);
  const cs: Record<keyof typeof CEF_LABELS, string | undefined> = {
    cs1: r.zone_src,
    cs2: r.zone_dst,
    cs3: r.guide_refs.length > 0 ? r.guide_refs.join(', ') : undefined,
    cs4: r.flow_id,
    cs5: r.change,
    cs6: r.status,
  };
  for (const k of Object.keys(CEF_LABELS) as (keyof typeof CEF_LABELS)[]) {
    if (cs[k] === undefined) continue;
    ext.push([k, cs[k]]);
    ext.push([`${k}Label`, CEF_LABELS[k]]);
  }
  const extension = ext
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${k}=${cefExtensionEscape(String(v))}`)
    .join(' ');
  const head = ['CEF:0', 'muvakt', 'muvakt', muvaktVersion(), r.rule, r.title, String(CEF_SEVERITY[r.severity] ?? 5)].map((h, i) => (i === 0 ? h : cefHeaderEscape(h)));
  return `${head.join('|')}|${extension}`;
}
