/**
 * Folding one device's facts into another's when identity resolution finds they are one host
 * (an IP-keyed device whose MAC turns out to belong to a known device). Counts add up, lists
 * are joined within their caps; addresses and seen-times are identity's part (see identity.ts).
 */
import type { DeviceLists } from './device-record.js';
import type { Device, DicomCounters } from './types.js';

export function foldDevice(into: Device, from: Device, lists: DeviceLists): void {
  into.events += from.events;
  const join = <T>(a: T[], b: T[], name: string, key: (x: T) => string = (x) => JSON.stringify(x)) => {
    const seen = new Set(a.map(key));
    for (const x of b) if (!seen.has(key(x))) (a.length < lists.maxList ? a.push(x) : lists.drop(into, name));
  };
  join(into.vlans, from.vlans, 'vlans');
  join(into.names, from.names, 'names');
  join(into.software, from.software, 'software');
  const dI = into.dicom;
  const dF = from.dicom;
  join(dI.calling_aes, dF.calling_aes, 'calling_aes');
  join(dI.called_aes, dF.called_aes, 'called_aes');
  join(dI.implementations, dF.implementations, 'implementations');
  join(dI.phi_fields, dF.phi_fields, 'dicom_phi_fields');
  for (const ds of dF.datasets) {
    const same = dI.datasets.find((x) => JSON.stringify({ ...x, count: 0 }) === JSON.stringify({ ...ds, count: 0 }));
    if (same) same.count += ds.count;
    else join(dI.datasets, [ds], 'datasets');
  }
  for (const k of Object.keys(dI.issued) as (keyof DicomCounters)[]) {
    dI.issued[k] += dF.issued[k];
    dI.answered[k] += dF.answered[k];
  }
  dI.stores_forwarded += dF.stores_forwarded;
  dI.stores_retrieved += dF.stores_retrieved;
  const hI = into.hl7;
  const hF = from.hl7;
  join(hI.applications, hF.applications, 'hl7_applications');
  join(hI.addressed_as, hF.addressed_as, 'hl7_addressed_as');
  join(hI.equipment_ids, hF.equipment_ids, 'equipment_ids');
  join(hI.message_types_sent, hF.message_types_sent, 'message_types');
  join(hI.phi_fields, hF.phi_fields, 'hl7_phi_fields');
  hI.sent += hF.sent;
  hI.received += hF.received;
  hI.acks_sent += hF.acks_sent;
  for (const s of from.services_offered) {
    const have = into.services_offered.find((x) => x.proto === s.proto && x.port === s.port);
    if (have) have.count += s.count;
    else join(into.services_offered, [s], 'services_offered');
  }
  for (const s of from.services_used) {
    const have = into.services_used.find((x) => x.app === s.app);
    if (have) have.count += s.count;
    else join(into.services_used, [s], 'services_used');
  }
  for (const [app, ips] of Object.entries(from.peers)) for (const ip of ips) lists.addPeer(into, app, ip);
  for (const r of from.remote_access) {
    const have = into.remote_access.find((x) => x.protocol === r.protocol && x.direction === r.direction && x.peer === r.peer);
    if (have) {
      have.count += r.count;
      have.encrypted &&= r.encrypted;
      if (r.first_seen < have.first_seen) have.first_seen = r.first_seen;
      if (r.last_seen > have.last_seen) have.last_seen = r.last_seen;
    } else join(into.remote_access, [r], 'remote_access');
  }
  for (const p of from.external_peers) {
    const have = into.external_peers.find((x) => x.ip === p.ip && x.direction === p.direction);
    if (have) {
      have.count += p.count;
      for (const a of p.apps) lists.add(into, have.apps, a, 'external_peer_apps', 8);
    } else join(into.external_peers, [p], 'external_peers');
  }
  join(into.countries, from.countries, 'countries');
  join(into.phi.protocols, from.phi.protocols, 'phi_protocols');
  join(into.phi.kinds, from.phi.kinds, 'phi_kinds');
  into.phi.sent += from.phi.sent;
  into.phi.received += from.phi.received;
  into.phi.sent_external += from.phi.sent_external;
  join(into.credentials_cleartext.protocols, from.credentials_cleartext.protocols, 'credential_protocols');
  into.credentials_cleartext.as_client += from.credentials_cleartext.as_client;
  into.credentials_cleartext.as_server += from.credentials_cleartext.as_server;
  join(into.tls.contacted_names, from.tls.contacted_names, 'contacted_names');
  join(into.tls.versions, from.tls.versions, 'tls_versions');
  into.tls.weak_as_client += from.tls.weak_as_client;
  into.tls.weak_as_server += from.tls.weak_as_server;
  for (const [k, n] of Object.entries(from.dropped)) into.dropped[k] = (into.dropped[k] ?? 0) + n;
  if (into.zone.kind === 'unknown') into.zone = from.zone;
}
