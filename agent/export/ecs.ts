/**
 * One alert as an Elastic Common Schema (ECS 8.x) document, for Elastic and OpenSearch: one
 * JSON object a line, sent over the syslog exporter's TCP/TLS connection and spool (a Logstash
 * `tcp` input with the json_lines codec, an Elastic Agent/Filebeat `tcp` input with the ndjson
 * parser, a Fluent Bit `tcp` input). ECS_FIELDS is the complete set of fields a document can
 * carry (docs/alerts.md); fields of muvakt's own that ECS has no place for go under `muvakt.*`.
 */
import { ipTextVersion } from '../../protocols/ip/ip-text.js';
import { muvaktVersion } from '../version.js';
import { CEF_SEVERITY } from './cef.js';
import type { SiemRecord } from './siem-record.js';

export const ECS_VERSION = '8.11.0';

/** Every field (dotted path) an ECS document of ours may hold; those marked true always do. */
export const ECS_FIELDS: Readonly<Record<string, boolean>> = {
  '@timestamp': true,
  'ecs.version': true,
  message: true,
  'event.kind': true,
  'event.category': true,
  'event.type': true,
  'event.id': true,
  'event.action': true,
  'event.severity': true,
  'event.start': true,
  'event.end': true,
  'event.dataset': true,
  'event.module': true,
  'event.provider': true,
  'rule.id': true,
  'rule.name': true,
  'rule.reference': false,
  'rule.ruleset': true,
  'source.ip': true,
  'source.port': false,
  'destination.ip': true,
  'destination.port': false,
  'network.transport': false,
  'network.protocol': false,
  'network.type': true,
  'observer.name': true,
  'observer.hostname': true,
  'observer.product': true,
  'observer.vendor': true,
  'observer.type': true,
  'observer.version': true,
  'muvakt.alert.severity': true,
  'muvakt.alert.status': true,
  'muvakt.alert.count': true,
  'muvakt.alert.guide_refs': true,
  'muvakt.flow_id': false,
  'muvakt.zone_src': true,
  'muvakt.zone_dst': true,
};

export interface EcsOptions {
  hostname: string;
}

/** The ECS document (an object; formatEcs serialises it). */
export function ecsDocument(r: SiemRecord, o: EcsOptions): Record<string, unknown> {
  const network: Record<string, unknown> = { type: ipTextVersion(r.src) === 6 ? 'ipv6' : 'ipv4' };
  if (r.proto !== undefined) network.transport = r.proto;
  if (r.app !== undefined) network.protocol = r.app;
  const source: Record<string, unknown> = { ip: r.src };
  if (r.src_port !== undefined) source.port = r.src_port;
  const destination: Record<string, unknown> = { ip: r.dst };
  if (r.dst_port !== undefined) destination.port = r.dst_port;
  const rule: Record<string, unknown> = { id: r.rule, name: r.title, ruleset: 'muvakt' };
  // The guide sections the rule cites (Normen's guides: MU, LEV); ECS's rule.reference is a keyword.
  if (r.guide_refs.length > 0) rule.reference = r.guide_refs.join(', ');
  const muvakt: Record<string, unknown> = {
    alert: { severity: r.severity, status: r.status, count: r.count, guide_refs: r.guide_refs },
    zone_src: r.zone_src,
    zone_dst: r.zone_dst,
  };
  if (r.flow_id !== undefined) muvakt.flow_id = r.flow_id;
  return {
    '@timestamp': r.last_seen,
    ecs: { version: ECS_VERSION },
    message: r.title,
    event: {
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      type: ['info'],
      id: r.id,
      action: r.change,
      severity: CEF_SEVERITY[r.severity] ?? 5,
      start: r.first_seen,
      end: r.last_seen,
      dataset: 'muvakt.alert',
      module: 'muvakt',
      provider: 'muvakt',
    },
    rule,
    source,
    destination,
    network,
    observer: {
      // The sensor's name (--sensor); the host name when none is set.
      name: r.sensor ?? o.hostname,
      hostname: o.hostname,
      product: 'muvakt',
      vendor: 'muvakt',
      type: 'ids',
      version: muvaktVersion(),
    },
    muvakt,
  };
}

export function formatEcs(r: SiemRecord, o: EcsOptions): string {
  return JSON.stringify(ecsDocument(r, o));
}
