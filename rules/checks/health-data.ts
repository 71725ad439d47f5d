import { finding, isExternal, reachSeverity, zonesOf } from '../engine/helpers.js';
import type { PhiObservedEvent } from '../../protocols/events/index.js';
import { defineRule, type Rule, type RuleContext, type RuleFinding } from '../engine/types.js';

const CLEARTEXT_PHI_TEXT = {
  nb: 'Krypter overføringen (DICOM over TLS, port 2762, eller HL7 over TLS/VPN), særlig når den forlater sonen. Begrens hvilke verter som får snakke med tjenesten.',
  en: 'Encrypt the transfer (DICOM over TLS on port 2762, HL7 over TLS or a VPN), above all where it leaves its zone. Restrict which hosts may reach the service.',
};

export const dicomCleartextPhi = defineRule({
  id: 'dicom-cleartext-phi',
  title: { nb: 'Pasientopplysninger i ukryptert DICOM', en: 'Patient data in unencrypted DICOM' },
  recommendation: CLEARTEXT_PHI_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4', 'MU 4.6', 'MU 4.7', 'MU annex #15'],
  requirements: ['G4'],
  events: ['dicom.dimse'],
  create: (ctx) => (e) => {
    const fields = e.phi_fields;
    if (fields.length === 0 || e.flow.app !== 'dicom') return null;
    const z = zonesOf(ctx, e);
    const ids = (e.patient_ids ?? []).map((p) => p.kind);
    return finding(
      e,
      z,
      { calling_ae: e.calling_ae, called_ae: e.called_ae, command: e.command, sop_class: e.sop_class_name, phi_fields: fields, patient_id_kinds: [...new Set(ids)] },
      reachSeverity(ctx, e, z),
    );
  },
});

export const hl7CleartextPhi = defineRule({
  id: 'hl7-cleartext-phi',
  title: { nb: 'Pasientopplysninger i ukryptert HL7', en: 'Patient data in unencrypted HL7' },
  recommendation: CLEARTEXT_PHI_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4', 'MU 4.6', 'MU 4.7', 'MU annex #15'],
  requirements: ['G4'],
  events: ['hl7.message'],
  create: (ctx) => (e) => {
    const fields = e.phi_fields;
    if (fields.length === 0 || e.flow.app !== 'hl7') return null;
    const z = zonesOf(ctx, e);
    return finding(
      e,
      z,
      { message_type: e.message_type, sending_application: e.sending_application, receiving_application: e.receiving_application, phi_fields: fields },
      reachSeverity(ctx, e, z),
    );
  },
});

/** phi.observed from the general scanners (not DICOM/HL7, which have their own rules). */
function generalPhi(e: PhiObservedEvent): boolean {
  return e.protocol !== 'dicom' && e.protocol !== 'hl7' && e.count > 0;
}

function phiEvidence(e: PhiObservedEvent): Record<string, unknown> {
  return { protocol: e.protocol, kinds: e.kinds, count: e.count, pseudonyms: e.pseudonyms };
}

const TECHNICAL_LOG_PROTOCOLS = new Set(['syslog', 'snmp']);

export const phiInTechnicalLog = defineRule({
  id: 'phi-in-syslog',
  title: { nb: 'Helseopplysninger i tekniske logger', en: 'Health data in technical logs' },
  recommendation: {
    nb: 'Tekniske logger skal ikke inneholde helseopplysninger. Be leverandøren slå av loggføring av pasientdata og slett loggene som allerede finnes.',
    en: 'Technical logs must not hold health data. Have the vendor turn off logging of patient data, and delete the logs already kept.',
  },
  severity: 'high',
  guide_refs: ['MU 5.1.2 #6', 'MU annex #17'],
  requirements: ['G9'],
  events: ['phi.observed'],
  create: (ctx) => (e) => {
    if (!generalPhi(e) || !TECHNICAL_LOG_PROTOCOLS.has(e.protocol)) return null;
    const z = zonesOf(ctx, e);
    return finding(e, z, phiEvidence(e), isExternal(z.dst) ? 'critical' : 'high');
  },
});

export const phiInVendorTraffic = defineRule({
  id: 'phi-in-vendor-callhome',
  title: { nb: 'Helseopplysninger sendt til leverandør eller eksternt mål', en: 'Health data sent to a vendor or external destination' },
  recommendation: {
    nb: 'Vurder «call-home»-funksjonen: ingen helseopplysninger skal lagres hos leverandøren uten avtale. Krev at pasientdata fjernes fra telemetrien, og krypter trafikken.',
    en: 'Assess the call-home function: no health data may be stored at the vendor without an agreement. Require patient data to be removed from the telemetry, and encrypt the traffic.',
  },
  severity: 'critical',
  guide_refs: ['MU annex #16', 'LEV 10.1', 'MU 4.9.1'],
  requirements: ['G9'],
  events: ['phi.observed'],
  create: (ctx) => (e) => {
    if (!generalPhi(e)) return null;
    const z = zonesOf(ctx, e);
    const vendor = ctx.policy.vendorOf(e.flow.dst_ip, new Date(e.ts));
    if (!isExternal(z.dst) && !vendor) return null;
    return finding(e, z, { ...phiEvidence(e), vendor: vendor?.name });
  },
});

export const phiCleartext = defineRule({
  id: 'phi-cleartext',
  title: { nb: 'Pasientopplysninger i ukryptert trafikk mellom soner', en: 'Patient data in unencrypted traffic between zones' },
  recommendation: {
    nb: 'Pasientopplysninger skal ikke krysse soner ukryptert. Finn ut hvorfor dataene sendes (for eksempel en DICOM-fil lastet opp over HTTP) og bruk en kryptert, godkjent integrasjon.',
    en: 'Patient data must not cross zones unencrypted. Find out why the data is sent (for example a DICOM object uploaded over HTTP) and use an encrypted, approved integration.',
  },
  severity: 'high',
  guide_refs: ['LEV 6.4', 'MU 4.6', 'MU 4.7', 'MU annex #15'],
  requirements: ['G4', 'G3'],
  events: ['phi.observed'],
  create: (ctx) => (e): RuleFinding | null => {
    if (!generalPhi(e) || TECHNICAL_LOG_PROTOCOLS.has(e.protocol)) return null;
    const z = zonesOf(ctx, e);
    if (isExternal(z.dst) || isExternal(z.src) || z.src.name === z.dst.name) return null;
    return finding(e, z, phiEvidence(e), reachSeverity(ctx, e, z) === 'medium' ? 'medium' : 'high');
  },
});

export const healthDataRules: Rule[] = [dicomCleartextPhi, hl7CleartextPhi, phiInTechnicalLog, phiInVendorTraffic, phiCleartext];

export type { RuleContext };
