import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventCounters } from '../../../agent/sensor/event-counters.js';
import { createMetrics } from '../../../dashboard-api/metrics.js';
import { analyzeFiles } from '../../support/analyze.js';

const C = (f: string) => join(import.meta.dirname, '../../../fixtures/corpus', f);

describe('compliance posture metrics from the event stream', () => {
  it('counts cleartext-PHI connections by protocol and remote-access sessions by encryption', async () => {
    const counters = new EventCounters({ write() {}, flush() {}, close() {} });
    const { events } = await analyzeFiles(['02_dicom_cstore_ct_mr.pcap', '08_hl7_adt_oru_batch.pcap', '18_syslog_phi.pcap', '13_ssh_session.pcap', '14_vnc_from_external.pcap', '07_dicom_tls_2762.pcap'].map(C));
    for (const e of events) counters.write(e);
    expect(counters.cleartextPhiFlows).toMatchObject({ dicom: 1, hl7: 1 });
    expect(counters.cleartextPhiFlows.syslog).toBeGreaterThanOrEqual(1);
    expect([...counters.remoteAccess.values()].map((r) => `${r.protocol}:${r.encrypted}`).sort()).toEqual(['ssh:true', 'vnc:false']);
    const m = createMetrics({
      snapshot: () => ({ cleartextPhiFlows: counters.cleartextPhiFlows, remoteAccessSessions: [...counters.remoteAccess.values()] }),
      processMetrics: false,
      liveSensor: true,
    });
    const text = await m.render();
    expect(text).toMatch(/muvakt_cleartext_phi_flows_total\{protocol="dicom"\} 1/);
    expect(text).toMatch(/muvakt_remote_access_sessions_total\{protocol="vnc",encrypted="false"\} 1/);
  });
});
