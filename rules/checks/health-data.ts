import { finding, isExternal, reachSeverity, zonesOf } from '../engine/helpers.js';
import type { PhiObservedEvent } from '../../protocols/events/index.js';
import { defineRule, type Rule, type RuleContext, type RuleFinding } from '../engine/types.js';

const DICOM_CLEARTEXT_TEXT = {
  nb: 'DICOM har lite innebygd sikkerhet og trenger ofte egne tiltak, særlig over åpne nett. Leverandørveilederen sier at all kommunikasjon bør krypteres, og MU-veilederen at kommunikasjon over eksterne nett virksomheten ikke kontrollerer, skal krypteres. Bruk DICOM over TLS (for eksempel port 2762) og DICOMweb over HTTPS, og begrens hvilke verter som kan koble til tjenesten.',
  en: 'DICOM has little built-in security and often needs added measures, above all over open networks. The supplier guide says all communication should be encrypted, and the MU guide that communication over external networks the organisation does not control shall be. Use DICOM over TLS (port 2762, for example) and DICOMweb over HTTPS, and restrict which hosts may connect to the service.',
};

const HL7_CLEARTEXT_TEXT = {
  nb: 'HL7-meldingene går ukryptert. Leverandørveilederen sier at all kommunikasjon bør krypteres, og MU-veilederen at kommunikasjon over eksterne nett virksomheten ikke kontrollerer, skal krypteres. Send HL7 over TLS eller VPN, og begrens hvilke verter som kan sende til mottakeren.',
  en: 'The HL7 messages travel unencrypted. The supplier guide says all communication should be encrypted, and the MU guide that communication over external networks the organisation does not control shall be. Carry HL7 over TLS or a VPN, and restrict which hosts may send to the receiver.',
};

export const dicomCleartextPhi = defineRule({
  id: 'dicom-cleartext-phi',
  title: { nb: 'Helse- og personopplysninger i ukryptert DICOM', en: 'Health and personal data in unencrypted DICOM' },
  recommendation: DICOM_CLEARTEXT_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4', 'MU 5.1.2 #4', 'MU 4.6'],
  requirements: ['G4'],
  // DIMSE over the DICOM upper layer, and DICOMweb over plain HTTP: the same data, judged alike.
  // Over TLS neither is readable, so neither event carries patient fields.
  events: ['dicom.dimse', 'dicomweb.request'],
  create: (ctx) => (e) => {
    const fields = e.phi_fields;
    if (fields.length === 0 || e.flow.app !== (e.type === 'dicom.dimse' ? 'dicom' : 'dicomweb')) return null;
    const z = zonesOf(ctx, e);
    const ids = [...new Set((e.patient_ids ?? []).map((p) => p.kind))];
    const evidence =
      e.type === 'dicom.dimse'
        ? { calling_ae: e.calling_ae, called_ae: e.called_ae, command: e.command, sop_class: e.sop_class_name, phi_fields: fields, patient_id_kinds: ids }
        : { dicomweb_service: e.service, level: e.level, http_method: e.http_method, url: e.url, phi_fields: fields, phi_sources: e.phi_sources, patient_id_kinds: ids };
    return finding(e, z, evidence, reachSeverity(ctx, e, z));
  },
});

export const hl7CleartextPhi = defineRule({
  id: 'hl7-cleartext-phi',
  title: { nb: 'Helse- og personopplysninger i ukryptert HL7', en: 'Health and personal data in unencrypted HL7' },
  recommendation: HL7_CLEARTEXT_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4', 'MU 5.1.2 #4', 'MU 4.6'],
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
  title: { nb: 'Helse- og personopplysninger i tekniske logger', en: 'Health and personal data in technical logs' },
  recommendation: {
    nb: 'Helse- og personopplysninger i tekniske logger er en uønsket hendelse. Behandle funnet som et avvik: vurder risikoen for de registrerte, og meld avviket der det kreves (til Datatilsynet innen 72 timer ved middels eller høy risiko). Hva som skal skje med loggene som finnes, avgjøres i avviksbehandlingen; sikre dem til da. Avtal med leverandøren hvilke data som skal gå til tekniske logger.',
    en: 'Health and personal data in technical logs is an unwanted event. Handle the finding as a deviation: assess the risk to the data subjects, and report it where required (to the Data Protection Authority within 72 hours at medium or high risk). What happens to the logs already kept is decided in the deviation handling; protect them until then. Agree with the vendor which data may go to technical logs.',
  },
  severity: 'high',
  guide_refs: ['MU 5.1.2 #6', 'MU annex #17', 'MU 3.1'],
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
  title: { nb: 'Helse- og personopplysninger sendt til leverandør eller ekstern adresse', en: 'Health and personal data sent to a vendor or an external address' },
  recommendation: {
    nb: 'Vurder call-home-funksjonen sammen med leverandøren: hvilke opplysninger sendes, og hvorfor. Skal leverandøren behandle helse- og personopplysninger, må det foreligge en databehandleravtale; ellers fjern opplysningene fra det som sendes. Trafikk over nett virksomheten ikke kontrollerer, skal krypteres.',
    en: 'Assess the call-home function with the vendor: which data are sent, and why. If the vendor is to process health and personal data, a data-processing agreement must be in place; otherwise remove the data from what is sent. Traffic over networks the organisation does not control shall be encrypted.',
  },
  severity: 'critical',
  guide_refs: ['MU annex #16', 'MU 5.1.2 #6', 'LEV 10.1', 'MU 3.8', 'MU 4.6'],
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
  title: { nb: 'Helse- og personopplysninger i ukryptert trafikk mellom soner', en: 'Health and personal data in unencrypted traffic between zones' },
  recommendation: {
    nb: 'Leverandørveilederen sier at all kommunikasjon bør krypteres, og at opplysninger som utveksles mellom systemer, er viktige å beskytte mot avlytting. Finn ut hvorfor opplysningene sendes mellom sonene (for eksempel en fil lastet opp over HTTP), og bruk en kryptert, godkjent integrasjon.',
    en: 'The supplier guide says all communication should be encrypted, and that data exchanged between systems matter to protect against eavesdropping. Find out why the data are sent between the zones (a file uploaded over HTTP, for example), and use an encrypted, approved integration.',
  },
  severity: 'high',
  guide_refs: ['LEV 6.4', 'MU 5.1.2 #4'],
  requirements: ['G4', 'G3'],
  events: ['phi.observed'],
  create: (ctx) => (e): RuleFinding | null => {
    // DICOMweb has dicom-cleartext-phi, as DIMSE does.
    if (!generalPhi(e) || e.protocol === 'dicomweb' || TECHNICAL_LOG_PROTOCOLS.has(e.protocol) || !ctx.policy.encryptionRequiredFor.has('cross-zone-phi')) return null;
    const z = zonesOf(ctx, e);
    if (isExternal(z.dst) || isExternal(z.src) || z.src.name === z.dst.name) return null;
    return finding(e, z, phiEvidence(e), reachSeverity(ctx, e, z) === 'medium' ? 'medium' : 'high');
  },
});

export const healthDataRules: Rule[] = [dicomCleartextPhi, hl7CleartextPhi, phiInTechnicalLog, phiInVendorTraffic, phiCleartext];

export type { RuleContext };
