import { BurstCounter, finding, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

const DELIVERY_TEXT = {
  nb: 'Følg opp feilen hos avsender og mottaker. Leverandørveilederen ber risikovurderingen sikre at data kommer fram til mottakeren, og sier at logging med varsling når en melding ikke kommer fram, bør vurderes.',
  en: 'Follow up the error at sender and receiver. The supplier guide asks the risk assessment to make sure data reach their receiver, and says logging with an alert when a message does not arrive should be considered.',
};

export const hl7NegativeAck = defineRule({
  id: 'hl7-negative-ack',
  title: { nb: 'HL7-melding avvist av mottaker (negativ kvittering)', en: 'HL7 message refused by its receiver (negative acknowledgement)' },
  recommendation: DELIVERY_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4'],
  requirements: ['G6'],
  events: ['hl7.undelivered'],
  create: (ctx) => (e) => {
    if (e.reason !== 'negative-ack') return null;
    return finding(e, zonesOf(ctx, e)!, { message_type: e.message_type, ack_code: e.ack_code, error_codes: e.error_codes, sending_application: e.sending_application, receiving_application: e.receiving_application }, e.ack_code === 'AR' || e.ack_code === 'CR' ? 'high' : 'medium');
  },
});

export const hl7Undelivered = defineRule({
  id: 'hl7-message-undelivered',
  title: { nb: 'HL7-melding uten kvittering', en: 'HL7 message without an acknowledgement' },
  recommendation: DELIVERY_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4', 'MU annex #11'],
  requirements: ['G6'],
  events: ['hl7.undelivered'],
  create: (ctx) => (e) => {
    // At the end of a capture file an ACK may simply not have been recorded: not a finding.
    if (e.reason === 'negative-ack' || (e.reason === 'connection-closed' && e.end_reason === 'shutdown')) return null;
    return finding(e, zonesOf(ctx, e)!, { reason: e.reason, message_type: e.message_type, waited_ms: e.waited_ms, sending_application: e.sending_application, receiving_application: e.receiving_application, capture_loss: e.capture_loss });
  },
});

/** Rejections or aborts of one pair in a minute that make it a pattern, not an incident. */
const BURST = 5;

export const dicomRejected = defineRule({
  id: 'dicom-association-rejected',
  title: { nb: 'DICOM-assosiasjon avvist', en: 'DICOM association rejected' },
  recommendation: {
    nb: 'Kontroller AE-titler og hvem som får koble til. Mange avvisninger kan bety feilkonfigurasjon eller at noen prøver seg fram mot integrasjonsgrensesnittet.',
    en: 'Check AE titles and who may connect. Many rejections can mean misconfiguration, or someone probing the integration interface.',
  },
  severity: 'low',
  guide_refs: ['LEV 6.4', 'MU 5.1.2 #5'],
  requirements: ['G5', 'G6'],
  events: ['dicom.association'],
  create: (ctx) => {
    const bursts = new BurstCounter(60_000);
    return (e): RuleFinding | null => {
      if (e.result !== 'rejected') return null;
      const n = bursts.add(`${e.flow.src_ip}>${e.flow.dst_ip}`, e.ts);
      const reject = e.reject;
      return finding(e, zonesOf(ctx, e), { calling_ae: e.calling_ae, called_ae: e.called_ae, result: reject?.result_name, source: reject?.source_name, reason: reject?.reason_name, in_last_minute: n }, n >= BURST ? 'high' : 'low');
    };
  },
});

export const dicomAborted = defineRule({
  id: 'dicom-association-aborted',
  title: { nb: 'DICOM-assosiasjon avbrutt', en: 'DICOM association aborted' },
  recommendation: DELIVERY_TEXT,
  severity: 'low',
  guide_refs: ['LEV 6.4'],
  requirements: ['G6'],
  events: ['dicom.association'],
  create: (ctx) => {
    const bursts = new BurstCounter(60_000);
    return (e): RuleFinding | null => {
      if (e.result !== 'aborted') return null;
      const n = bursts.add(`${e.flow.src_ip}>${e.flow.dst_ip}`, e.ts);
      const abort = e.abort;
      return finding(e, zonesOf(ctx, e), { calling_ae: e.calling_ae, called_ae: e.called_ae, source: abort?.source_name, reason: abort?.reason_name, in_last_minute: n }, n >= BURST ? 'high' : 'low');
    };
  },
});

export const dicomFailureStatus = defineRule({
  id: 'dicom-failure-status',
  title: { nb: 'DICOM-operasjon feilet', en: 'DICOM operation failed' },
  recommendation: DELIVERY_TEXT,
  severity: 'medium',
  guide_refs: ['LEV 6.4'],
  requirements: ['G6'],
  events: ['dicom.dimse'],
  create: (ctx) => (e) => {
    if (e.status_class !== 'failure') return null;
    return finding(e, zonesOf(ctx, e)!, { command: e.command, status: e.status_hex, status_meaning: e.status_meaning, sop_class: e.sop_class_name, calling_ae: e.calling_ae, called_ae: e.called_ae });
  },
});

export const deliveryRules: Rule[] = [hl7NegativeAck, hl7Undelivered, dicomRejected, dicomAborted, dicomFailureStatus];
