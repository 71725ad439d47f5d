import { finding, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule } from '../engine/types.js';

export const malformedDicom = defineRule({
  id: 'malformed-dicom-pdu',
  title: { nb: 'Ugyldig DICOM-PDU', en: 'Malformed DICOM PDU' },
  recommendation: {
    nb: 'Ugyldige DICOM-data kan komme av feil i utstyret eller av misbruk av integrasjonsgrensesnittet. Finn avsenderen; tjenester som ikke tåler slike data, bør herdes eller skjermes.',
    en: 'Malformed DICOM can come from a device fault or from misuse of the integration interface. Find the sender; services that cannot cope with such data should be hardened or shielded.',
  },
  severity: 'medium',
  guide_refs: ['MU 5.1.2 #5', 'LEV 6.4'],
  requirements: ['G14', 'G5'],
  events: ['dicom.malformed'],
  create: (ctx) => (e) => finding(e, zonesOf(ctx, e)!, { reason: e.reason, action: e.action, pdu_type: e.pdu_type, length: e.length, direction: e.direction }),
});

export const nonDicomOnDicomPort = defineRule({
  id: 'non-dicom-traffic-on-dicom-port',
  title: { nb: 'Annen trafikk enn DICOM på DICOM-port', en: 'Non-DICOM traffic on a DICOM port' },
  recommendation: {
    nb: 'Porten er oppgitt som DICOM i policyen, men trafikken er ikke DICOM. Undersøk avsenderen: skanning, feilkonfigurasjon eller et forsøk på å misbruke tjenesten.',
    en: 'The policy names this port as DICOM but the traffic is not DICOM. Look into the sender: scanning, misconfiguration, or an attempt to misuse the service.',
  },
  severity: 'medium',
  guide_refs: ['MU 5.1.2 #5', 'LEV 6.4'],
  requirements: ['G5', 'G14'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const f = e.flow;
    if (!ctx.policy.dicomPorts.has(f.dst_port) || f.proto !== 'tcp') return null;
    if (f.app === 'dicom' || f.app === 'dicom-tls' || f.app === 'tls') return null;
    // Only connections that carried data: a refused or probed port is the scanning rules' business.
    if (e.state === 'new' || e.bytes_toserver <= e.pkts_toserver * 80) return null;
    return finding(e, zonesOf(ctx, e)!, { app: f.app, state: e.state, bytes_toserver: e.bytes_toserver, packets_toserver: e.pkts_toserver });
  },
});

export const captureTruncated = defineRule({
  id: 'capture-truncated',
  title: { nb: 'Opptaksfilen er avkortet eller skadet', en: 'Capture file truncated or corrupt' },
  recommendation: {
    nb: 'Analysen stoppet ved feilen; det som kom før, er med. Sjekk lagringen og overføringen av opptakene (full disk, avbrutt kopiering).',
    en: 'Analysis stopped at the error; everything before it is included. Check how captures are stored and transferred (full disk, interrupted copy).',
  },
  severity: 'low',
  guide_refs: [],
  requirements: [],
  events: ['capture.error'],
  create: () => (e) => ({
    subject: { src_ip: '', dst_ip: '', zone_src: '', zone_dst: '', device_id: `capture:${e.source}` },
    evidence: { source: e.source, byte_offset: e.byte_offset, reason: e.reason },
    ts: e.ts,
  }),
});

export const integrityRules: Rule[] = [malformedDicom, nonDicomOnDicomPort, captureTruncated];
