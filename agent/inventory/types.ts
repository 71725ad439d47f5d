/**
 * The device record of the passive inventory (GUIDE-MAP G11). Plain JSON: the
 * inventory serialises with `toJSON()` and restores with `Inventory.fromJSON()`.
 *
 * PHI-free by construction: only addresses, names of devices and applications, AE titles,
 * protocol facts, counts and the *names* of patient fields are kept — never a field value,
 * a pseudonym, a URL or a username.
 */

export interface ZoneRef {
  name: string;
  kind: string;
}

/** Looks up the zone of an address (`CompiledPolicy.zoneOf`). */
export type ZoneOf = (ip: string, vlans: readonly number[]) => ZoneRef;

export interface AddressRecord {
  ip: string;
  version: 4 | 6;
  first_seen: string;
  last_seen: string;
}

export type NameSource = 'dhcp' | 'dns' | 'tls-sni' | 'tls-cert' | 'http-host' | 'syslog';

export interface NameRecord {
  name: string;
  source: NameSource;
}

/** `smb-ntlm`: the Windows version (major.minor.build) of the NTLM VERSION field of an SMB login. */
export type SoftwareSource = 'ssh' | 'http-server' | 'http-user-agent' | 'telnet' | 'vnc' | 'rdp' | 'remote-banner' | 'dhcp-vendor-class' | 'dicom-implementation' | 'smb-ntlm' | 'anydesk-discovery';

export interface SoftwareRecord {
  source: SoftwareSource;
  value: string;
}

export interface DicomImplementation {
  class_uid: string;
  version: string;
}

/** The Modality/Manufacturer/Model/SoftwareVersions/StationName of datasets this device sent. */
export interface DatasetDevice {
  modality: string;
  manufacturer: string;
  model: string;
  software_versions: string;
  station_name: string;
  /** `store-scu`: C-STORE on an association this device opened; `sub-op`: C-STORE it sent as the acceptor (C-GET/C-MOVE sub-operation, forwarding). */
  via: 'store-scu' | 'sub-op';
  count: number;
}

export interface DicomFacts {
  /** AE titles it uses as the calling AE (association requester). */
  calling_aes: string[];
  /** AE titles it answers to (called AE of accepted associations). */
  called_aes: string[];
  implementations: DicomImplementation[];
  datasets: DatasetDevice[];
  /** DIMSE requests it issued / answered, by kind. */
  issued: DicomCounters;
  answered: DicomCounters;
  /** C-STORE sub-operations (C-GET, or storage on an association the peer opened) sent / received. */
  stores_forwarded: number;
  stores_retrieved: number;
  /** Patient-module field names seen in its datasets or queries (names only). */
  phi_fields: string[];
}

export interface DicomCounters {
  echo: number;
  store: number;
  mwl_find: number;
  qr_find: number;
  qr_move: number;
  qr_get: number;
  other: number;
}

export interface Hl7Facts {
  /** APPLICATION^FACILITY it sends as (MSH-3/4 of messages it sent, including ACKs). */
  applications: string[];
  /** APPLICATION^FACILITY others address it as (MSH-5/6 of messages it received). */
  addressed_as: string[];
  equipment_ids: string[];
  message_types_sent: string[];
  /** Non-ACK messages sent / received, ACKs sent. */
  sent: number;
  received: number;
  acks_sent: number;
  phi_fields: string[];
}

export interface ServiceRecord {
  proto: string;
  port: number;
  app: string;
  count: number;
}

export interface UsedService {
  app: string;
  count: number;
}

export interface RemoteAccessRecord {
  protocol: string;
  /** inbound: this device is the server; outbound: it is the client. */
  direction: 'inbound' | 'outbound';
  peer: string;
  peer_external: boolean;
  peer_zone: string;
  peer_country?: string;
  encrypted: boolean;
  count: number;
  first_seen: string;
  last_seen: string;
}

export interface ExternalPeer {
  ip: string;
  country?: string;
  direction: 'inbound' | 'outbound';
  apps: string[];
  count: number;
}

export interface PhiFacts {
  protocols: string[];
  kinds: string[];
  /** phi.observed events where this device sent / received the data. */
  sent: number;
  received: number;
  /** Sent to an external peer. */
  sent_external: number;
}

export interface CredentialFacts {
  protocols: string[];
  /** Cleartext credentials presented by this device (client) / accepted by it (server). */
  as_client: number;
  as_server: number;
}

export interface TlsFacts {
  /** Names it asked for as a client (SNI), e.g. a vendor cloud. */
  contacted_names: string[];
  weak_as_server: number;
  weak_as_client: number;
  versions: string[];
}

export interface Device {
  /** `mac:<mac>` or `ip:<address>`. */
  id: string;
  keyed_by: 'mac' | 'ip';
  mac: string | null;
  /** For a device keyed by IP behind a router: the router MAC its frames carried. */
  via_mac: string | null;
  external: boolean;
  /** The MAC belongs to a router/gateway (many addresses behind it); its addresses are split off. */
  router: boolean;
  vendor: string | null;
  addresses: AddressRecord[];
  vlans: number[];
  zone: ZoneRef;
  names: NameRecord[];
  software: SoftwareRecord[];
  dicom: DicomFacts;
  hl7: Hl7Facts;
  services_offered: ServiceRecord[];
  services_used: UsedService[];
  /** app → peer addresses (bounded). */
  peers: Record<string, string[]>;
  remote_access: RemoteAccessRecord[];
  external_peers: ExternalPeer[];
  countries: string[];
  phi: PhiFacts;
  credentials_cleartext: CredentialFacts;
  tls: TlsFacts;
  events: number;
  first_seen: string;
  last_seen: string;
  /** Entries dropped because a per-device list was full, by list. */
  dropped: Record<string, number>;
}

export interface InventoryCounters {
  events: number;
  /** New devices refused because the inventory was full (internal / external caps). */
  devices_dropped: number;
  external_devices_dropped: number;
  /** Internal devices evicted (least recently seen) to make room for a new one. */
  devices_evicted: number;
  /** New devices not made because the process was near its memory ceiling. */
  devices_shed: number;
  /** Devices merged (an IP-keyed device whose MAC was learned later). */
  merged: number;
  /** MACs demoted to router/gateway. */
  routers: number;
  pending_names_dropped: number;
}
