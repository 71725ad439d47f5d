/**
 * Role inference from what a device offers and uses on the wire. Each role carries the facts
 * that made it, so an operator can check it; several roles may hold (a RIS is a worklist
 * server and an HL7 engine), the first in `ROLE_ORDER` is the primary one.
 */
import type { DatasetDevice, Device } from './types.js';

export type Role = 'modality' | 'pacs' | 'worklist' | 'hl7-engine' | 'hl7-sender' | 'viewer' | 'workstation' | 'vendor-endpoint' | 'router' | 'infrastructure' | 'unknown';

export const ROLE_ORDER: readonly Role[] = ['modality', 'pacs', 'worklist', 'hl7-engine', 'hl7-sender', 'viewer', 'workstation', 'vendor-endpoint', 'router', 'infrastructure', 'unknown'];

export interface RoleFinding {
  role: Role;
  facts: string[];
}

/** Looks up the device holding an address (for the zone of a peer). */
export type DeviceLookup = (ip: string) => Device | undefined;

const REMOTE_DESKTOP = new Set(['vnc', 'rdp', 'teamviewer', 'anydesk']);
const INFRA_APPS = new Set(['dns', 'dhcp', 'dhcpv6', 'syslog', 'ntp', 'snmp', 'tftp']);

/**
 * The device's own DICOM identity: a dataset it sent with C-STORE on an association it opened,
 * preferring the one whose StationName is one of its calling AE titles, else the most frequent.
 * None for a device that itself answers C-STORE (an archive forwarding others' images) unless
 * the StationName matches.
 */
export function ownDataset(d: Device): DatasetDevice | null {
  const sent = d.dicom.datasets.filter((x) => x.via === 'store-scu');
  const byStation = sent.find((x) => x.station_name !== '' && d.dicom.calling_aes.includes(x.station_name));
  if (byStation) return byStation;
  if (d.dicom.answered.store > 0 || sent.length === 0) return null;
  return sent.reduce((a, b) => (b.count > a.count ? b : a));
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export function inferRoles(d: Device, lookup?: DeviceLookup): RoleFinding[] {
  const out: RoleFinding[] = [];
  const dc = d.dicom;
  const aes = (l: string[]) => (l.length > 0 ? ` (AE ${l.join(', ')})` : '');

  const modality: string[] = [];
  const own = ownDataset(d);
  if (own && own.modality !== '') {
    modality.push(`sends its own images with C-STORE: Modality ${own.modality}${own.manufacturer ? `, Manufacturer ${own.manufacturer}` : ''}${own.station_name ? `, StationName ${own.station_name}` : ''}`);
  }
  if (dc.issued.mwl_find > 0) modality.push(`queries the modality worklist (${plural(dc.issued.mwl_find, 'MWL C-FIND')})${aes(dc.calling_aes)}`);
  if (modality.length === 0 && dc.issued.store > 0 && dc.answered.store === 0 && dc.answered.qr_find + dc.answered.qr_move + dc.answered.qr_get === 0) {
    modality.push(`sends C-STORE as the association requester (${plural(dc.issued.store, 'request')})${aes(dc.calling_aes)}`);
  }
  if (modality.length > 0) out.push({ role: 'modality', facts: modality });

  const pacs: string[] = [];
  if (dc.answered.store > 0) pacs.push(`answers C-STORE (${plural(dc.answered.store, 'request')})${aes(dc.called_aes)}`);
  const qr = dc.answered.qr_find + dc.answered.qr_move + dc.answered.qr_get;
  if (qr > 0) pacs.push(`answers query/retrieve (C-FIND ${dc.answered.qr_find}, C-MOVE ${dc.answered.qr_move}, C-GET ${dc.answered.qr_get})${aes(dc.called_aes)}`);
  if (pacs.length > 0) out.push({ role: 'pacs', facts: pacs });

  if (dc.answered.mwl_find > 0) out.push({ role: 'worklist', facts: [`answers modality worklist queries (${plural(dc.answered.mwl_find, 'MWL C-FIND')})${aes(dc.called_aes)}`] });

  const h = d.hl7;
  if (h.received > 0) {
    const as = h.addressed_as.length > 0 ? ` addressed to ${h.addressed_as.join(', ')}` : '';
    out.push({ role: 'hl7-engine', facts: [`receives ${plural(h.received, 'HL7 message')}${as}${h.acks_sent > 0 ? ` and acknowledges them (${plural(h.acks_sent, 'ACK')})` : ''}`] });
  }
  if (h.sent > 0) {
    out.push({ role: 'hl7-sender', facts: [`sends ${plural(h.sent, 'HL7 message')}${h.applications.length > 0 ? ` as ${h.applications.join(', ')}` : ''}${h.message_types_sent.length > 0 ? ` (${h.message_types_sent.join(', ')})` : ''}`] });
  }

  const viewer: string[] = [];
  const qrIssued = dc.issued.qr_find + dc.issued.qr_move + dc.issued.qr_get;
  if (qrIssued > 0) viewer.push(`queries/retrieves from an archive (C-FIND ${dc.issued.qr_find}, C-MOVE ${dc.issued.qr_move}, C-GET ${dc.issued.qr_get})${aes(dc.calling_aes)}`);
  if (dc.stores_retrieved > 0) viewer.push(`receives images it retrieved (${plural(dc.stores_retrieved, 'C-STORE sub-operation')})`);
  if (viewer.length > 0 && !out.some((r) => r.role === 'modality' || r.role === 'pacs')) out.push({ role: 'viewer', facts: viewer });

  const ws: string[] = [];
  for (const r of d.remote_access) {
    if (r.direction === 'inbound' && REMOTE_DESKTOP.has(r.protocol)) ws.push(`offers remote desktop (${r.protocol}) to ${r.peer}${r.peer_external ? ' (external)' : ''}`);
    if (r.direction === 'outbound' && !d.external) ws.push(`administers ${r.peer} over ${r.protocol}`);
  }
  if (ws.length > 0) out.push({ role: 'workstation', facts: [...new Set(ws)].slice(0, 8) });

  if (d.external) {
    const vendor: string[] = [];
    for (const r of d.remote_access) if (r.direction === 'outbound') vendor.push(`remote access (${r.protocol}) into ${r.peer} (zone ${r.peer_zone})`);
    if (lookup) {
      for (const [app, ips] of Object.entries(d.peers)) {
        if (REMOTE_DESKTOP.has(app) || app === 'ssh' || app === 'telnet') continue;
        for (const ip of ips) {
          const p = lookup(ip);
          if (p === undefined || p.external) continue;
          const offered = d.services_offered.length > 0;
          if (offered && (p.zone.kind === 'medical' || p.phi.sent_external > 0)) vendor.push(`contacted by ${ip} (zone ${p.zone.name}) over ${app}: call-home`);
        }
      }
    }
    if (d.phi.received > 0) vendor.push(`receives patient data (${d.phi.protocols.join(', ')})`);
    if (vendor.length > 0) out.push({ role: 'vendor-endpoint', facts: [...new Set(vendor)].slice(0, 8) });
  }

  const infra: string[] = [];
  for (const s of d.services_offered) if (INFRA_APPS.has(s.app)) infra.push(`serves ${s.app} (${s.proto}/${s.port})`);
  if (d.router) {
    // A gateway is part of the network's attack surface like any device (the inventory is to know what is
    // connected), so it is listed, with the evidence that made it one.
    out.push({ role: 'router', facts: [d.addresses.length > 0 ? 'routes for many addresses (its MAC is seen with many IPs): router/gateway' : 'carries the frames of hosts of other networks or zones: router/gateway'] });
  }
  if (infra.length > 0) out.push({ role: 'infrastructure', facts: infra });

  if (out.length === 0) out.push({ role: 'unknown', facts: ['no DICOM, HL7, remote-access or infrastructure service seen'] });
  out.sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role));
  return out;
}

export function primaryRole(d: Device, lookup?: DeviceLookup): Role {
  return inferRoles(d, lookup)[0].role;
}
