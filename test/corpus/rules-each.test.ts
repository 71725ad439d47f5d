import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../rules/index.js';
import { findingsFor } from '../support/rules.js';

const C = (f: string) => join(import.meta.dirname, '../../fixtures/corpus', f);
const R = (f: string) => join(import.meta.dirname, '../../fixtures/rules', f);

/**
 * Every rule, a capture that raises it and one that must not (fixtures/rules/ holds corpus
 * captures with rewritten addresses, made by fixtures/rules/make.sh). Rules whose trigger needs
 * live peers (HL7 without ACK, DICOM failure status) are exercised in test/e2e/peers-odd-ports.
 */
const CASES: Record<string, { raises: string; quiet: string }> = {
  'flow-not-allowed': { raises: C('20_segmentation_mu_to_office_http.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'mu-device-to-external': { raises: C('17_tls10_weak_vendor.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'cleartext-to-external': { raises: C('19_callhome_http_phi.pcap'), quiet: C('17_tls10_weak_vendor.pcap') },
  'destination-country-not-allowed': { raises: R('callhome_to_us.pcap'), quiet: R('callhome_to_no.pcap') },
  'dicom-cleartext-phi': { raises: C('02_dicom_cstore_ct_mr.pcap'), quiet: C('07_dicom_tls_2762.pcap') },
  'hl7-cleartext-phi': { raises: C('08_hl7_adt_oru_batch.pcap'), quiet: C('01_dicom_cecho.pcap') },
  'phi-in-syslog': { raises: C('18_syslog_phi.pcap'), quiet: C('08_hl7_adt_oru_batch.pcap') },
  'phi-in-vendor-callhome': { raises: C('19_callhome_http_phi.pcap'), quiet: C('12_http_basic_auth.pcap') },
  'phi-cleartext': { raises: C('20_segmentation_mu_to_office_http.pcap'), quiet: C('12_http_basic_auth.pcap') },
  'tls-weak-version': { raises: C('17_tls10_weak_vendor.pcap'), quiet: C('16_tls12_sni.pcap') },
  'tls-certificate-untrusted': { raises: C('16_tls12_sni.pcap'), quiet: C('15_tls13_sni.pcap') },
  'obsolete-protocol': { raises: C('10_telnet_login.pcap'), quiet: C('13_ssh_session.pcap') },
  'cleartext-credentials': { raises: C('11_ftp_login.pcap'), quiet: C('13_ssh_session.pcap') },
  'dicom-user-identity-cleartext-password': { raises: C('05_dicom_user_identity.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'shared-secret': { raises: R('shared_password_3_devices.pcap'), quiet: R('shared_password_2_devices.pcap') },
  'remote-access-session': { raises: C('13_ssh_session.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'remote-access-from-external': { raises: C('14_vnc_from_external.pcap'), quiet: C('13_ssh_session.pcap') },
  'remote-access-not-via-jump-host': { raises: R('ssh_from_office_pc.pcap'), quiet: C('13_ssh_session.pcap') },
  'remote-access-unencrypted': { raises: C('10_telnet_login.pcap'), quiet: C('13_ssh_session.pcap') },
  'vendor-onward-session-outside-window': { raises: R('vendor_via_jump_host_outside.pcap'), quiet: R('vendor_via_jump_host_inside.pcap') },
  'hl7-negative-ack': { raises: C('09_hl7_nack_ae_ar.pcap'), quiet: C('08_hl7_adt_oru_batch.pcap') },
  'dicom-association-rejected': { raises: C('06_dicom_reject_abort.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'dicom-association-aborted': { raises: C('06_dicom_reject_abort.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
  'malformed-dicom-pdu': { raises: C('28_malformed_dicom_pdulen.pcap'), quiet: C('01_dicom_cecho.pcap') },
  'non-dicom-traffic-on-dicom-port': { raises: C('29_malformed_garbage_104.pcap'), quiet: C('01_dicom_cecho.pcap') },
  'capture-truncated': { raises: C('27_malformed_truncated.pcap'), quiet: C('02_dicom_cstore_ct_mr.pcap') },
};
// Raised by live peers (test/e2e/peers-odd-ports) and a crafted exchange (rules-crafted.test.ts).
const LIVE_ONLY = new Set(['hl7-message-undelivered', 'dicom-failure-status']);
// A learning capture then a replay, on their own engine: test/corpus/baseline.test.ts.
const BASELINE = new Set(['baseline-new-device', 'baseline-new-peer', 'dicom-ae-spoofing', 'device-silent', 'medical-fan-out']);
// No corpus capture holds their trigger: crafted sessions through the pipeline, test/unit/rules/authentication-rules.test.ts.
const CRAFTED = new Set(['smb-ntlmv1', 'smb-anonymous-session', 'ssh-protocol-1', 'rdp-without-nla', 'repeated-authentication-failures', 'default-vendor-credential']);
// Policy knowledge (retired devices, contract end dates) on crafted sessions: test/unit/rules/lifecycle-rules.test.ts.
const POLICY_CRAFTED = new Set(['retired-device-seen', 'vendor-access-after-contract-end']);
// No corpus capture carries an old Server header, an NTLM VERSION field or an ended Debian's SSH banner (the corpus' sshd is Debian 12): crafted HTTP, SMB and SSH sessions, test/unit/rules/end-of-life-rules.test.ts.
const END_OF_SUPPORT = new Set(['end-of-life-software']);
// Silence longer than the corpus captures last, under a policy that declares the flow: test/unit/rules/expected-flows.test.ts and test/e2e/expected-flows.test.ts.
const SILENCE = new Set(['expected-flow-missing']);

describe('each rule: a capture that raises it, one that must not', () => {
  it('covers every rule', () => {
    expect(ALL_RULES.map((r) => r.id).filter((id) => !CASES[id] && !LIVE_ONLY.has(id) && !BASELINE.has(id) && !CRAFTED.has(id) && !POLICY_CRAFTED.has(id) && !SILENCE.has(id) && !END_OF_SUPPORT.has(id))).toEqual([]);
  });

  it.each(Object.entries(CASES))('%s', async (id, c) => {
    const hit = await findingsFor([c.raises]);
    expect(hit.map((f) => f.rule.id), `${id} on ${c.raises}`).toContain(id);
    const miss = await findingsFor([c.quiet]);
    expect(miss.map((f) => f.rule.id), `${id} on ${c.quiet}`).not.toContain(id);
  });
});
