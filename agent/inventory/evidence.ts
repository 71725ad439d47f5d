/**
 * The evidence bundle of one device: what a risk assessment (ROS) or a
 * vendor follow-up needs — its properties (MU 5.1), usage scenario, exposure rank with the facts
 * behind it, peers, protocols, and its alerts with guide references and the rule texts in bokmål
 * and English. Rendered as JSON (the record as stored), and as Markdown and HTML from one
 * document model in bokmål or English.
 *
 * PHI-free: only what the store holds (device detail and alerts, both PHI-free by contract).
 */
import { acceptanceFor, isActive, listAcceptances, type RiskAcceptance } from '../risk-acceptances.js';
import { listProvenance, type SensorProvenance } from '../run-provenance.js';
import { muvaktVersion } from '../version.js';
import type { Store } from '../store/index.js';
import { ALL_RULES } from '../../rules/index.js';
import type { Alert, AlertHistoryEntry } from '../store/types.js';
import { SEVERITY_RANK } from '../store/types.js';
import { factIn, reasonInBokmal, type Language } from './reason-text.js';
import { alertsByIp, alertsFor, allDevices, highestSeverity, type InventoryReader } from './export.js';
import type { DeviceDetail } from './index.js';

export interface EvidenceAlert extends Alert {
  /** Status changes with who made them and their comments (acknowledgements, resolutions, reopenings). */
  history: AlertHistoryEntry[];
  rule: { title: { nb: string; en: string }; recommendation: { nb: string; en: string }; guide_refs: string[]; requirements: string[] } | null;
}

export interface EvidenceBundle {
  kind: 'muvakt.evidence';
  version: 1;
  generated_at: string;
  /** Where the findings come from: the sensors that saw the device, the muvakt version and policy each judged with, and the time observed. */
  provenance: EvidenceProvenance;
  device: DeviceDetail;
  alerts: EvidenceAlert[];
  /** Risk acceptances recorded for this device's findings (by device, address pair or zone), active or not: the decisions are part of the record. */
  risk_acceptances: (RiskAcceptance & { active: boolean })[];
  summary: { alerts: number; open_alerts: number; highest_open_severity: string | null; guide_refs: string[] };
}

export interface EvidenceProvenance {
  /** The muvakt that made this bundle. */
  muvakt_version: string;
  /** The sensors that saw the device or raised its alerts (names; empty for a store from before sensors had names). */
  sensors: string[];
  /** What each of those sensors last recorded of itself: muvakt version, policy site and SHA-256 (none for a sensor older than these records). */
  runs: SensorProvenance[];
  /** From the first to the last sighting of the device or its alerts. */
  observation_window: { from: string; to: string };
}

/** What the bundle reads: the inventory, the alerts with their history, acceptances and provenance. */
export type EvidenceReader = InventoryReader & Pick<Store, 'kvList' | 'getAlert'>;

/** A device by id (`mac:…` / `ip:…`) or by an address it holds; null when unknown. */
export async function findDevice(store: InventoryReader, idOrIp: string): Promise<DeviceDetail | null> {
  const direct = await store.getDevice(idOrIp);
  if (direct) return direct as DeviceDetail;
  for (const prefix of ['mac:', 'ip:']) {
    const d = await store.getDevice(`${prefix}${idOrIp.toLowerCase()}`);
    if (d) return d as DeviceDetail;
  }
  const hit = (await allDevices(store)).find((s) => s.ips.includes(idOrIp) || s.ips.includes(idOrIp.toLowerCase()));
  return hit ? (((await store.getDevice(hit.id)) as DeviceDetail | null) ?? null) : null;
}

/** The file-system-safe form of a device id: `mac:02:77:…` → `mac_02_77_…`. */
export function sanitizeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 120) || 'device';
}

export async function buildEvidence(store: EvidenceReader, device: DeviceDetail, now: Date = new Date()): Promise<EvidenceBundle> {
  const rules = new Map(ALL_RULES.map((r) => [r.id, r]));
  const ips = device.addresses.map((a) => a.ip);
  const sorted = alertsFor(ips, await alertsByIp(store, 'all')).sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0),
  );
  const alerts: EvidenceAlert[] = [];
  for (const a of sorted) {
    const r = rules.get(a.rule_id);
    const history = (await store.getAlert(a.id))?.history ?? [];
    alerts.push({ ...a, history, rule: r ? { title: { ...r.title }, recommendation: { ...r.recommendation }, guide_refs: [...r.guide_refs], requirements: [...r.requirements] } : null });
  }
  const ipSet = new Set(ips);
  const risk_acceptances = (await listAcceptances(store))
    .filter((x) => (x.scope === 'device' && x.device_id === device.id) || (x.scope === 'pair' && (ipSet.has(x.src_ip ?? '') || ipSet.has(x.dst_ip ?? ''))) || (x.scope === 'zones' && (x.zone_src === device.zone.name || x.zone_dst === device.zone.name)))
    .map((x) => ({ ...x, active: isActive(x, now.getTime()) }));
  const activeOnes = risk_acceptances.filter((x) => x.active);
  for (const a of alerts) {
    const x = acceptanceFor(a, activeOnes);
    if (x !== undefined) (a as EvidenceAlert & { accepted?: string }).accepted = x.id;
  }
  const open = alerts.filter((a) => a.status === 'open');
  const refs = new Set<string>();
  for (const x of device.exposure.reasons) for (const g of x.guide_ref.split(/,\s*/)) if (g) refs.add(g);
  for (const a of alerts) for (const g of a.guide_refs) refs.add(g);
  return {
    kind: 'muvakt.evidence',
    version: 1,
    generated_at: now.toISOString(),
    provenance: await provenanceOf(store, device, alerts),
    device,
    alerts,
    risk_acceptances,
    summary: { alerts: alerts.length, open_alerts: open.length, highest_open_severity: highestSeverity(open), guide_refs: [...refs].sort() },
  };
}

async function provenanceOf(store: Pick<Store, 'kvList'>, device: DeviceDetail, alerts: readonly Alert[]): Promise<EvidenceProvenance> {
  const named = new Set<string>((device as DeviceDetail & { sensors?: string[] }).sensors ?? []);
  for (const a of alerts) for (const s of a.sensors ?? []) named.add(s);
  named.delete('');
  const sensors = [...named].sort();
  const runs = (await listProvenance(store)).filter((p) => named.has(p.sensor));
  // By instant: the store writes alert times with microseconds, device times with milliseconds.
  let from = device.first_seen;
  let to = device.last_seen;
  for (const a of alerts) {
    if (Date.parse(a.first_seen) < Date.parse(from)) from = a.first_seen;
    if (Date.parse(a.last_seen) > Date.parse(to)) to = a.last_seen;
  }
  return { muvakt_version: muvaktVersion(), sensors, runs, observation_window: { from, to } };
}

// ---- document model, rendered to Markdown and HTML ----

export type Block = { h: 1 | 2 | 3; text: string } | { p: string } | { ul: string[] } | { table: { head: string[]; rows: string[][] } };

/** Each property's label: bokmål with the English in parentheses, and English. */
const PROPERTY_LABELS: Record<string, { nb: string; en: string }> = {
  health_data: { nb: 'Helse- og personopplysninger (health and personal data)', en: 'Health and personal data' },
  display: { nb: 'Visning (display)', en: 'Display' },
  print: { nb: 'Utskrift (print)', en: 'Print' },
  storage: { nb: 'Lagring (storage)', en: 'Storage' },
  network: { nb: 'Nettverkstilknytning (network)', en: 'Network' },
  integrations: { nb: 'Integrasjoner (integrations)', en: 'Integrations' },
  remote_access: { nb: 'Fjerntilgang (remote access)', en: 'Remote access' },
  cloud: { nb: 'Sky/eksterne tjenester (cloud/external)', en: 'Cloud/external services' },
  configuration_control: { nb: 'Konfigurasjonskontroll (configuration control)', en: 'Configuration control' },
};

/** A property's value in bokmål (the workbench's `prop.*` words). */
const PROPERTY_VALUES_NB: Record<string, string> = { yes: 'ja', 'not-seen': 'ikke sett', 'not-visible': 'ikke synlig på nettet' };

const HISTORY_ACTIONS: Record<string, string> = { ack: 'kvittert', resolve: 'løst', reopen: 'gjenåpnet' };

const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : '–');

/**
 * The bundle as a document in one language. `nb`: the labels in bokmål with the English in
 * parentheses, every fact and exposure reason in bokmål. `en`: all in English. The data seen
 * (addresses, names, AE titles, protocols) stays as seen in both.
 */
export function evidenceDocument(b: EvidenceBundle, lang: Language = 'nb'): Block[] {
  const nb = lang === 'nb';
  const w = (bokmal: string, english: string): string => (nb ? bokmal : english);
  const fact = (f: string): string => factIn(lang, f);
  const facts = (fs: readonly string[]): string[] => fs.map(fact);
  const yesNo = (x: boolean): string => (x ? w('ja (yes)', 'yes') : w('nei (no)', 'no'));
  const d = b.device;
  const out: Block[] = [];
  out.push({ h: 1, text: w(`Bevismappe for ${d.id} (evidence bundle)`, `Evidence bundle for ${d.id}`) });
  out.push({
    p: w(
      `Generert (generated) ${b.generated_at} av muvakt fra passiv trafikkobservasjon. Inneholder ingen helse- og personopplysninger (PHI-free).`,
      `Generated ${b.generated_at} by muvakt from passive traffic observation. Holds no health or personal data (PHI-free).`,
    ),
  });

  const field = w('Egenskap (field)', 'Field');
  const value = w('Verdi (value)', 'Value');
  const version = w('muvakt-versjon (version)', 'muvakt version');
  const pv = b.provenance;
  out.push({ h: 2, text: w('Opphav (provenance)', 'Provenance') });
  out.push({
    table: {
      head: [field, value],
      rows: [
        [version, pv.muvakt_version],
        [w('Observert (observed)', 'Observed'), `${pv.observation_window.from} – ${pv.observation_window.to}`],
        [w('Sensorer (sensors)', 'Sensors'), list(pv.sensors)],
      ],
    },
  });
  if (pv.runs.length) {
    out.push({
      table: {
        head: ['Sensor', version, w('Policy (site)', 'Policy (site)'), 'Policy SHA-256', w('Samme policy siden (same policy since)', 'Same policy since'), w('Sist startet (last started)', 'Last started')],
        rows: pv.runs.map((r) => [r.sensor, r.muvakt_version, r.policy.site, r.policy.sha256, r.policy_since, r.recorded_at]),
      },
    });
  } else out.push({ p: w('Ingen sensor har registrert versjon og policy i databasen (no sensor recorded its version and policy in the store).', 'No sensor recorded its version and policy in the store.') });

  out.push({ h: 2, text: w('Enhet (device)', 'Device') });
  const rows: string[][] = [
    ['ID', d.id],
    ['MAC', d.mac ?? '–'],
    [w('Leverandør (vendor)', 'Vendor'), d.vendor ?? '–'],
    [w('Adresser (addresses)', 'Addresses'), list(d.addresses.map((a) => `${a.ip} (${a.first_seen} – ${a.last_seen})`))],
    ['VLAN', list(d.vlans.map(String))],
    [w('Sone (zone)', 'Zone'), `${d.zone.name} (${d.zone.kind})`],
    [w('Navn (names)', 'Names'), list(d.names.map((n) => `${n.name} [${n.source}]`))],
    [w('Rolle (role)', 'Role'), d.role],
    [w('Programvare (software)', 'Software'), list(d.software.map((s) => `${s.value} [${s.source}]`))],
    // A device saved by an older sensor has no such list.
    [w('Uten leverandørstøtte (end of support)', 'Past end of support'), list((d.end_of_support ?? []).map((x) => `${x.product} ${x.version}: ${x.end_of_support} (${x.source})`))],
    [w('Først sett (first seen)', 'First seen'), d.first_seen],
    [w('Sist sett (last seen)', 'Last seen'), d.last_seen],
  ];
  if (d.dicom_identity) {
    const i = d.dicom_identity;
    rows.push([w('DICOM-identitet (identity)', 'DICOM identity'), [i.modality, i.manufacturer, i.model, i.software_versions && `SW ${i.software_versions}`, i.station_name && `station ${i.station_name}`].filter(Boolean).join(' / ')]);
  }
  out.push({ table: { head: [field, value], rows } });
  if (d.roles.length) out.push({ ul: d.roles.map((r) => `${r.role}: ${facts(r.facts).join('; ')}`) });

  out.push({ h: 2, text: w('Bruksscenario (usage scenario, MU 5.1.1)', 'Usage scenario (MU 5.1.1)') });
  const sc = d.scenario;
  out.push({
    p:
      sc.number === null
        ? w(`Ikke virksomhetens utstyr (not the site's equipment): ${fact(sc.name)}`, `Not the site's equipment: ${sc.name}`)
        : `${w('Bruksscenario', 'Usage scenario')} ${sc.number}: ${sc.name}${sc.candidate ? w(' (kandidat / candidate)', ' (candidate)') : ''} — ${sc.guide_ref}`,
  });
  if (sc.facts.length) out.push({ ul: facts(sc.facts) });

  out.push({ h: 2, text: w('Egenskaper av sikkerhetsmessig betydning (security-relevant properties, MU 5.1)', 'Properties of security significance (MU 5.1)') });
  out.push({
    table: {
      head: [w('Egenskap (property)', 'Property'), value, w('Fakta (facts)', 'Facts')],
      rows: Object.entries(d.properties).map(([k, p]) => [PROPERTY_LABELS[k]?.[lang] ?? k, nb ? (PROPERTY_VALUES_NB[p.value] ?? p.value) : p.value, facts(p.facts).join('; ') || '–']),
    },
  });

  out.push({ h: 2, text: w(`Eksponering (exposure): ${d.exposure.score} poeng, nivå ${d.exposure.level}`, `Exposure: ${d.exposure.score} points, level ${d.exposure.level}`) });
  out.push({
    table: {
      head: [w('Fakta (fact)', 'Fact'), w('Poeng (points)', 'Points'), w('Veileder (guide)', 'Guide')],
      rows: d.exposure.reasons.map((r) => [nb ? reasonInBokmal(r.fact) : r.fact, String(r.points), r.guide_ref]),
    },
  });

  out.push({ h: 2, text: w('Protokoller og tjenester (protocols and services)', 'Protocols and services') });
  const proto: string[] = [];
  for (const s of d.services_offered) proto.push(w(`tilbyr (offers) ${s.app} på ${s.proto}/${s.port}, ${s.count}×`, `offers ${s.app} on ${s.proto}/${s.port}, ${s.count}×`));
  for (const s of d.services_used) proto.push(w(`bruker (uses) ${s.app}, ${s.count}×`, `uses ${s.app}, ${s.count}×`));
  if (d.dicom.calling_aes.length || d.dicom.called_aes.length) proto.push(w(`DICOM AE: kaller som (calling) ${list(d.dicom.calling_aes)}; svarer som (called) ${list(d.dicom.called_aes)}`, `DICOM AE: calling ${list(d.dicom.calling_aes)}; called ${list(d.dicom.called_aes)}`));
  for (const i of d.dicom.implementations) proto.push(`${w('DICOM implementasjon (implementation)', 'DICOM implementation')}: ${i.class_uid} ${i.version}`);
  if (d.hl7.applications.length || d.hl7.addressed_as.length) {
    proto.push(
      w(
        `HL7: sender som (sends as) ${list(d.hl7.applications)}; adressert som (addressed as) ${list(d.hl7.addressed_as)}; meldinger (messages) ${list(d.hl7.message_types_sent)}`,
        `HL7: sends as ${list(d.hl7.applications)}; addressed as ${list(d.hl7.addressed_as)}; messages ${list(d.hl7.message_types_sent)}`,
      ),
    );
  }
  if (d.hl7.equipment_ids.length) proto.push(`${w('HL7 utstyrs-ID (equipment ids)', 'HL7 equipment ids')}: ${list(d.hl7.equipment_ids)}`);
  if (d.tls.versions.length || d.tls.contacted_names.length) {
    proto.push(
      w(
        `TLS: versjoner (versions) ${list(d.tls.versions)}; kontaktede navn (SNI) ${list(d.tls.contacted_names)}; svak (weak) server ${d.tls.weak_as_server}, klient ${d.tls.weak_as_client}`,
        `TLS: versions ${list(d.tls.versions)}; names contacted (SNI) ${list(d.tls.contacted_names)}; weak as server ${d.tls.weak_as_server}, as client ${d.tls.weak_as_client}`,
      ),
    );
  }
  if (d.credentials_cleartext.protocols.length) {
    const c = d.credentials_cleartext;
    proto.push(w(`Klartekst-pålogging (cleartext credentials): ${list(c.protocols)} (klient ${c.as_client}, server ${c.as_server})`, `Cleartext credentials: ${list(c.protocols)} (as client ${c.as_client}, as server ${c.as_server})`));
  }
  if (d.phi.protocols.length) {
    const p = d.phi;
    proto.push(
      w(
        `Helse- og personopplysninger i klartekst (cleartext health and personal data): ${list(p.protocols)}; typer (kinds) ${list(p.kinds)}; sendt ${p.sent}, mottatt ${p.received}, til eksterne ${p.sent_external}`,
        `Cleartext health and personal data: ${list(p.protocols)}; kinds ${list(p.kinds)}; sent ${p.sent}, received ${p.received}, to external addresses ${p.sent_external}`,
      ),
    );
  }
  out.push(proto.length ? { ul: proto } : { p: '–' });

  out.push({ h: 2, text: w('Motparter (peers)', 'Peers') });
  const peers = Object.entries(d.peers);
  out.push(peers.length ? { table: { head: [w('Protokoll (app)', 'Protocol (app)'), w('Motparter (peers)', 'Peers')], rows: peers.map(([app, ips]) => [app, ips.join(', ')]) } } : { p: '–' });
  if (d.remote_access.length) {
    out.push({ h: 3, text: w('Fjerntilgang (remote access)', 'Remote access') });
    out.push({
      table: {
        head: [w('Protokoll', 'Protocol'), w('Retning (direction)', 'Direction'), w('Motpart (peer)', 'Peer'), w('Sone (zone)', 'Zone'), w('Kryptert (encrypted)', 'Encrypted'), w('Antall (count)', 'Count'), w('Sist sett (last seen)', 'Last seen')],
        rows: d.remote_access.map((r) => [r.protocol, r.direction, `${r.peer}${r.peer_country ? ` (${r.peer_country})` : ''}`, r.peer_zone, yesNo(r.encrypted), String(r.count), r.last_seen]),
      },
    });
  }
  if (d.external_peers.length) {
    out.push({ h: 3, text: w('Eksterne motparter (external peers)', 'External peers') });
    out.push({
      table: {
        head: [w('Adresse', 'Address'), w('Land (country)', 'Country'), w('Retning', 'Direction'), w('Protokoller', 'Protocols'), w('Antall', 'Count')],
        rows: d.external_peers.map((p) => [p.ip, p.country ?? '–', p.direction, p.apps.join(', '), String(p.count)]),
      },
    });
  }

  out.push({ h: 2, text: w(`Varsler (alerts): ${b.summary.alerts}, åpne (open) ${b.summary.open_alerts}`, `Alerts: ${b.summary.alerts}, open ${b.summary.open_alerts}`) });
  if (b.alerts.length === 0) out.push({ p: w('Ingen varsler (no alerts).', 'No alerts.') });
  for (const a of b.alerts) {
    out.push({ h: 3, text: nb ? `[${a.severity}] ${a.rule?.title.nb ?? a.title} (${a.rule?.title.en ?? a.rule_id})` : `[${a.severity}] ${a.rule?.title.en ?? a.title} (${a.rule_id})` });
    const accepted = (a as { accepted?: string }).accepted;
    out.push({
      ul: [
        `${w('Regel (rule)', 'Rule')}: ${a.rule_id}; status ${a.status}; ${a.count}× ${a.first_seen} – ${a.last_seen}`,
        `${w('Mellom (between)', 'Between')}: ${a.subject.src_ip} (${a.subject.zone_src}) → ${a.subject.dst_ip} (${a.subject.zone_dst})`,
        `${w('Veileder (guide refs)', 'Guide refs')}: ${list(a.guide_refs)}`,
        ...(nb
          ? [`Tiltak (recommendation, nb): ${a.rule?.recommendation.nb ?? a.recommendation}`, ...(a.rule ? [`Recommendation (en): ${a.rule.recommendation.en}`] : [])]
          : [`Recommendation: ${a.rule?.recommendation.en ?? a.recommendation}`]),
        ...(accepted ? [`${w('Risiko akseptert (risk accepted)', 'Risk accepted')}: ${accepted}`] : []),
      ],
    });
    if (a.history.length) {
      out.push({
        table: {
          head: [w('Tid (time)', 'Time'), w('Av (by)', 'By'), w('Handling (action)', 'Action'), w('Kommentar (comment)', 'Comment')],
          rows: a.history.map((h) => [h.at, h.actor, nb ? `${HISTORY_ACTIONS[h.action] ?? h.action} (${h.action})` : h.action, h.comment || '–']),
        },
      });
    }
  }

  out.push({ h: 2, text: `${w('Akseptert risiko (risk acceptances)', 'Risk acceptances')}: ${b.risk_acceptances.length}` });
  if (b.risk_acceptances.length === 0) out.push({ p: w('Ingen registrert (none recorded).', 'None recorded.') });
  else {
    out.push({
      table: {
        head: [w('Regel (rule)', 'Rule'), w('Gjelder (scope)', 'Scope'), w('Begrunnelse (reason)', 'Reason'), w('Eier (owner)', 'Owner'), w('ROS', 'Risk assessment'), w('Til og med (expires)', 'Expires'), w('Gjeldende (active)', 'Active')],
        rows: b.risk_acceptances.map((x) => [
          x.rule_id,
          x.scope === 'device' ? `${w('enhet', 'device')} ${x.device_id}` : x.scope === 'pair' ? `${x.src_ip} → ${x.dst_ip}` : `${x.zone_src} → ${x.zone_dst}`,
          x.reason,
          x.owner,
          x.reference,
          x.expires,
          x.active ? yesNo(true) : x.revoked_at ? `${w('trukket tilbake (revoked)', 'revoked')} ${x.revoked_at}` : w('utløpt (expired)', 'expired'),
        ]),
      },
    });
  }

  out.push({ h: 2, text: w('Veilederreferanser (guide references)', 'Guide references') });
  out.push({ p: list(b.summary.guide_refs) });
  return out;
}

function mdInline(s: string): string {
  return s.replace(/[\\`*_{}[\]<>#|!]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function renderMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${mdInline(b.text)}`);
    else if ('p' in b) out.push(mdInline(b.p));
    else if ('ul' in b) out.push(b.ul.map((x) => `- ${mdInline(x)}`).join('\n'));
    else {
      const { head, rows } = b.table;
      out.push([`| ${head.map(mdInline).join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(mdInline).join(' | ')} |`)].join('\n'));
    }
    out.push('');
  }
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function renderHtml(blocks: readonly Block[], title: string, lang: Language = 'nb'): string {
  const body: string[] = [];
  for (const b of blocks) {
    if ('h' in b) body.push(`<h${b.h}>${esc(b.text)}</h${b.h}>`);
    else if ('p' in b) body.push(`<p>${esc(b.p)}</p>`);
    else if ('ul' in b) body.push(`<ul>${b.ul.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
    else body.push(`<table><thead><tr>${b.table.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${b.table.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
  }
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#eee}</style>
</head><body>
${body.join('\n')}
</body></html>
`;
}
