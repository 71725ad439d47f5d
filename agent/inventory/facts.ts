/**
 * Fact extraction: what each event type tells about the devices at its two ends — services
 * offered and used, peers, external peers and countries, DICOM AE titles, implementations,
 * commands and datasets, HL7 applications and message types, TLS names and versions, remote
 * access, patient-data and cleartext-credential exposure, names from DNS, DHCP, TLS, HTTP and
 * syslog. The devices come resolved (identity.ts); everything here only adds to their lists
 * and counts, within the caps of DeviceLists.
 */
import type { EventFields as MuvaktEvent } from '../events/types.js';
import { clean, strList, type DeviceLists } from './device-record.js';
import type { EndpointMemo } from './endpoint-memo.js';
import type { DatasetDevice, Device, DicomCounters, ServiceRecord, SoftwareSource, UsedService } from './types.js';

const MWL_FIND = '1.2.840.10008.5.1.4.31';
const QR_PREFIX = '1.2.840.10008.5.1.4.1.2.';

function str(e: MuvaktEvent, k: string): string {
  return clean(e[k]);
}

/** "a^b", or whichever of them is not empty. */
function joinNonEmpty(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}^${b}`;
}

function dimseKind(command: string, sop: string): keyof DicomCounters {
  if (command.startsWith('C-ECHO')) return 'echo';
  if (command.startsWith('C-STORE')) return 'store';
  if (command.startsWith('C-FIND')) return sop === MWL_FIND ? 'mwl_find' : sop.startsWith(QR_PREFIX) ? 'qr_find' : 'other';
  if (command.startsWith('C-MOVE')) return 'qr_move';
  if (command.startsWith('C-GET')) return 'qr_get';
  return 'other';
}

/** What fact extraction asks of identity resolution: who holds an address, and a place for names of addresses nobody holds yet. */
export interface AddressBook {
  byIp(ip: string): Device | undefined;
  holdNames(ip: string, names: readonly string[]): void;
}

export class DeviceFacts {
  constructor(
    private readonly lists: DeviceLists,
    private readonly addresses: AddressBook,
    /** Null: no shortcuts (see InventoryOptions.reuseEndpoints). */
    private readonly memo: EndpointMemo | null,
  ) {}

  /** Adds what an event tells about its client and server (either may be null: unroutable or over the bounds). */
  observe(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    switch (e.type) {
      case 'flow':
        return this.onFlow(e, client, server);
      case 'dicom.association':
        return this.onAssociation(e, client, server);
      case 'dicom.dimse':
        return this.onDimse(e, client, server);
      case 'hl7.message':
        return this.onHl7(e, client, server);
      case 'tls.handshake':
        return this.onTls(e, client, server);
      case 'remote_access':
        return this.onRemote(e, client, server);
      case 'credential.cleartext': {
        const p = str(e, 'protocol');
        if (client) {
          client.credentials_cleartext.as_client++;
          this.lists.add(client, client.credentials_cleartext.protocols, p, 'credential_protocols');
        }
        if (server) {
          server.credentials_cleartext.as_server++;
          this.lists.add(server, server.credentials_cleartext.protocols, p, 'credential_protocols');
        }
        return;
      }
      case 'phi.observed':
        return this.onPhi(e, client, server);
      case 'http':
        return this.onHttp(e, client, server);
      case 'smb':
        // The Windows version is what the end-of-support view reads; it names no person.
        if (server) this.lists.addSoftware(server, str(e, 'server_os_version'), 'smb-ntlm');
        if (client) this.lists.addSoftware(client, str(e, 'client_os_version'), 'smb-ntlm');
        return;
      case 'dns':
        return this.onDns(e);
      case 'syslog':
        if (client) this.lists.addName(client, str(e, 'hostname'), 'syslog');
        return;
      default:
        return;
    }
  }

  /** What a DHCP message says of the device it is about (identity.dhcpDevice). */
  observeDhcp(e: MuvaktEvent, d: Device): void {
    d.events++;
    this.lists.addName(d, str(e, 'hostname'), 'dhcp');
    this.lists.addSoftware(d, str(e, 'vendor_class'), 'dhcp-vendor-class');
  }

  private onHttp(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const ua = e.http_user_agent;
    const sv = e.http_server;
    const hn = e.hostname;
    // What the last exchange between the same two devices added need not be added again.
    if (this.memo !== null && this.memo.repeatsHttp(client, server, ua, sv, hn)) return;
    if (client) this.lists.addSoftware(client, clean(ua), 'http-user-agent');
    if (server) {
      this.lists.addSoftware(server, clean(sv), 'http-server');
      const host = clean(hn).replace(/:\d+$/, '');
      if (host !== '' && !/^[\d.]+$/.test(host) && !host.includes(':')) {
        if (server.external && client) this.lists.add(client, client.tls.contacted_names, host.toLowerCase(), 'contacted_names');
        else this.lists.addName(server, host, 'http-host');
      }
    }
  }

  private onFlow(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const f = e.flow!;
    const app = clean(e.app) || f.app || 'unknown';
    if (client && !client.vendor && client.keyed_by === 'mac') client.vendor = clean(e.client_vendor) || null;
    if (server && !server.vendor && server.keyed_by === 'mac') server.vendor = clean(e.server_vendor) || null;
    // A service is offered when it answered, or (one-way UDP: syslog, SNMP traps) when the
    // analyzers recognised its protocol.
    const answered = e.state !== 'new' || Number(e.pkts_toclient) > 0 || (f.proto === 'udp' && app !== 'unknown');
    // The next connection of a burst between the same two internal devices, to the same
    // service: only the counts move (peers are known, nothing external to record).
    const memo = this.memo;
    if (memo !== null && memo.countRepeatedFlow(client, server, app, f.proto, f.dst_port, f.src_ip, f.dst_ip, answered)) return;
    let offered: ServiceRecord | null = null;
    let used: UsedService | null = null;
    if (server && answered) {
      const s = server.services_offered.find((x) => x.proto === f.proto && x.port === f.dst_port);
      if (s) {
        s.count++;
        if (s.app === 'unknown' && app !== 'unknown') s.app = app;
        offered = s;
      } else if (server.services_offered.length >= this.lists.maxList) this.lists.drop(server, 'services_offered');
      else server.services_offered.push((offered = { proto: f.proto, port: f.dst_port, app, count: 1 }));
    }
    if (client) {
      const u = client.services_used.find((x) => x.app === app);
      if (u) {
        u.count++;
        used = u;
      } else if (client.services_used.length >= this.lists.maxList) this.lists.drop(client, 'services_used');
      else client.services_used.push((used = { app, count: 1 }));
    }
    if (memo !== null) memo.rememberFlow(client, server, app, f.proto, f.dst_port, f.src_ip, f.dst_ip, offered, used);
    if (client && server && client !== server) {
      this.lists.addPeer(client, app, f.dst_ip);
      this.lists.addPeer(server, app, f.src_ip);
      this.external(client, server, f.dst_ip, clean(e.dst_country), 'outbound', app);
      this.external(server, client, f.src_ip, clean(e.src_country), 'inbound', app);
    }
  }

  private external(d: Device, peer: Device, peerIp: string, country: string, direction: 'inbound' | 'outbound', app: string): void {
    if (!peer.external || d.external) return;
    let p = d.external_peers.find((x) => x.ip === peerIp && x.direction === direction);
    if (!p) {
      if (d.external_peers.length >= this.lists.maxList) return this.lists.drop(d, 'external_peers');
      p = { ip: peerIp, direction, apps: [], count: 0 };
      if (country) p.country = country;
      d.external_peers.push(p);
    }
    p.count++;
    this.lists.add(d, p.apps, app, 'external_peer_apps', 8);
    if (country) this.lists.add(d, d.countries, country, 'countries');
  }

  private onAssociation(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const rejected = e.result === 'rejected';
    if (client) {
      this.lists.add(client, client.dicom.calling_aes, str(e, 'calling_ae'), 'calling_aes');
      this.implementation(client, str(e, 'implementation_class_uid'), str(e, 'implementation_version'));
    }
    if (server && !rejected) {
      this.lists.add(server, server.dicom.called_aes, str(e, 'called_ae'), 'called_aes');
      this.implementation(server, str(e, 'acceptor_implementation_class_uid'), str(e, 'acceptor_implementation_version'));
    }
  }

  private implementation(d: Device, uid: string, version: string): void {
    if (uid === '' && version === '') return;
    if (d.dicom.implementations.some((x) => x.class_uid === uid && x.version === version)) return;
    if (d.dicom.implementations.length >= 8) return this.lists.drop(d, 'implementations');
    d.dicom.implementations.push({ class_uid: uid, version });
  }

  private onDimse(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const command = str(e, 'command');
    if (!command.endsWith('-RQ')) return;
    const toServer = e.direction !== 'to_client';
    const requester = toServer ? client : server;
    const responder = toServer ? server : client;
    // The SOP class only tells C-FIND kinds apart; cleaning a UID per echo would be wasted.
    const kind = dimseKind(command, command.startsWith('C-FIND') ? str(e, 'sop_class_uid') : '');
    // A C-STORE sent by the association acceptor is a sub-operation (C-GET) or forwarding: it
    // does not make the sender a modality nor the receiver an archive.
    const subOp = kind === 'store' && !toServer;
    if (requester) {
      if (subOp) requester.dicom.stores_forwarded++;
      else requester.dicom.issued[kind]++;
      for (const fld of strList(e.phi_fields)) this.lists.add(requester, requester.dicom.phi_fields, fld, 'dicom_phi_fields');
      const dev = e.device;
      if (kind === 'store' && dev !== null && typeof dev === 'object') {
        const o = dev as Record<string, unknown>;
        const rec: Omit<DatasetDevice, 'count'> = {
          modality: clean(o.modality),
          manufacturer: clean(o.manufacturer),
          model: clean(o.model ?? o.model_name),
          software_versions: clean(Array.isArray(o.software_versions) ? o.software_versions.join('\\') : o.software_versions),
          station_name: clean(o.station_name),
          via: toServer ? 'store-scu' : 'sub-op',
        };
        const same = requester.dicom.datasets.find(
          (x) => x.modality === rec.modality && x.manufacturer === rec.manufacturer && x.model === rec.model && x.software_versions === rec.software_versions && x.station_name === rec.station_name && x.via === rec.via,
        );
        if (same) same.count++;
        else if (requester.dicom.datasets.length >= this.lists.maxList) this.lists.drop(requester, 'datasets');
        else requester.dicom.datasets.push({ ...rec, count: 1 });
      }
    }
    if (responder) {
      if (subOp) responder.dicom.stores_retrieved++;
      else responder.dicom.answered[kind]++;
      if (kind === 'store') for (const fld of strList(e.phi_fields)) this.lists.add(responder, responder.dicom.phi_fields, fld, 'dicom_phi_fields');
    }
  }

  private onHl7(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const toServer = e.direction !== 'to_client';
    const sender = toServer ? client : server;
    const receiver = toServer ? server : client;
    const app = joinNonEmpty(str(e, 'sending_application'), str(e, 'sending_facility'));
    const to = joinNonEmpty(str(e, 'receiving_application'), str(e, 'receiving_facility'));
    const type = str(e, 'message_type');
    const ack = type.startsWith('ACK') || e.acknowledgment !== undefined;
    if (sender) {
      this.lists.add(sender, sender.hl7.applications, app, 'hl7_applications');
      for (const id of strList(e.equipment_ids)) this.lists.add(sender, sender.hl7.equipment_ids, id, 'equipment_ids');
      for (const fld of strList(e.phi_fields)) this.lists.add(sender, sender.hl7.phi_fields, fld, 'hl7_phi_fields');
      if (ack) sender.hl7.acks_sent++;
      else {
        sender.hl7.sent++;
        this.lists.add(sender, sender.hl7.message_types_sent, type, 'message_types');
      }
    }
    if (receiver) {
      this.lists.add(receiver, receiver.hl7.addressed_as, to, 'hl7_addressed_as');
      if (!ack) {
        receiver.hl7.received++;
        for (const fld of strList(e.phi_fields)) this.lists.add(receiver, receiver.hl7.phi_fields, fld, 'hl7_phi_fields');
      }
    }
  }

  private onTls(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const sni = str(e, 'sni');
    const weak = e.weak === true;
    const version = str(e, 'version');
    if (server) {
      if (sni !== '' && !server.external) this.lists.addName(server, sni, 'tls-sni');
      const cert = e.certificate as { subject?: unknown; san?: unknown } | undefined;
      const cn = clean(cert?.subject).match(/CN=([^,]+)/);
      if (cn && !server.external) this.lists.addName(server, cn[1], 'tls-cert');
      for (const n of strList(cert?.san)) if (!server.external) this.lists.addName(server, n.replace(/^DNS:/, ''), 'tls-cert');
      if (weak) server.tls.weak_as_server++;
      this.lists.add(server, server.tls.versions, version, 'tls_versions', 8);
    }
    if (client) {
      if (sni !== '') this.lists.add(client, client.tls.contacted_names, sni.toLowerCase(), 'contacted_names');
      if (weak) client.tls.weak_as_client++;
      this.lists.add(client, client.tls.versions, version, 'tls_versions', 8);
    }
  }

  private onRemote(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    // An AnyDesk discovery announcement says the announcer runs AnyDesk; nobody reached anybody,
    // so it is no remote access of either side (and its peer is mostly a broadcast address).
    if (e.discovery === true) {
      if (client) this.lists.addSoftware(client, 'AnyDesk', 'anydesk-discovery');
      return;
    }
    const f = e.flow!;
    const protocol = str(e, 'protocol') || f.app;
    const encrypted = e.encrypted === true;
    const ts = e.ts;
    const src: SoftwareSource = protocol === 'ssh' ? 'ssh' : protocol === 'vnc' ? 'vnc' : protocol === 'telnet' ? 'telnet' : protocol === 'rdp' ? 'rdp' : 'remote-banner';
    if (server) this.lists.addSoftware(server, str(e, 'server_banner'), src);
    if (client && protocol === 'ssh') this.lists.addSoftware(client, str(e, 'client_banner'), src);
    const rec = (d: Device, peer: Device | null, peerIp: string, direction: 'inbound' | 'outbound') => {
      let r = d.remote_access.find((x) => x.protocol === protocol && x.direction === direction && x.peer === peerIp);
      if (!r) {
        if (d.remote_access.length >= this.lists.maxList) return this.lists.drop(d, 'remote_access');
        r = { protocol, direction, peer: peerIp, peer_external: peer?.external ?? false, peer_zone: peer?.zone.name ?? 'unknown', encrypted, count: 0, first_seen: ts, last_seen: ts };
        d.remote_access.push(r);
      }
      r.count++;
      if (!encrypted) r.encrypted = false;
      if (ts > r.last_seen) r.last_seen = ts;
    };
    if (server) rec(server, client, f.src_ip, 'inbound');
    if (client) rec(client, server, f.dst_ip, 'outbound');
  }

  private onPhi(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const toServer = e.direction !== 'to_client';
    const sender = toServer ? client : server;
    const receiver = toServer ? server : client;
    const protocol = str(e, 'protocol') || e.flow!.app;
    const kinds = strList(e.kinds);
    for (const d of [sender, receiver]) {
      if (!d) continue;
      this.lists.add(d, d.phi.protocols, protocol, 'phi_protocols');
      for (const k of kinds) this.lists.add(d, d.phi.kinds, k, 'phi_kinds');
    }
    if (sender) {
      sender.phi.sent++;
      if (receiver?.external) sender.phi.sent_external++;
    }
    if (receiver) receiver.phi.received++;
  }

  private onDns(e: MuvaktEvent): void {
    if (e.dns_type !== 'response' || !Array.isArray(e.answers)) return;
    const qname = str(e, 'rrname');
    for (const a of e.answers as { rrname?: unknown; rrtype?: unknown; rdata?: unknown }[]) {
      if (a.rrtype !== 'A' && a.rrtype !== 'AAAA') continue;
      const ip = clean(a.rdata);
      if (ip === '') continue;
      const names = [qname, clean(a.rrname)].filter((n, i, arr) => n !== '' && arr.indexOf(n) === i);
      const d = this.addresses.byIp(ip);
      if (d) {
        for (const n of names) this.lists.addName(d, n, 'dns');
      } else {
        this.addresses.holdNames(ip, names);
      }
    }
  }
}
