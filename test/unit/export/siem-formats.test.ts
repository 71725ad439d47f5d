import { describe, expect, it } from 'vitest';
import { CEF_LABELS, CEF_SEVERITY, cefExtensionEscape, cefHeaderEscape, formatCef } from '../../../agent/export/cef.js';
import { ECS_FIELDS, ecsDocument, formatEcs } from '../../../agent/export/ecs.js';
import { MSGID_MAX, msgidOf, ruleOfMsgid, siemRecord } from '../../../agent/export/siem-record.js';
import { formatAlert, formatSyslog, lineFrame } from '../../../agent/export/syslog.js';
import type { Alert } from '../../../agent/store/index.js';
import { ALL_RULES } from '../../../rules/index.js';
import { parseCef } from '../../support/cef.js';
import { alert } from './helpers.js';

/** Every dotted leaf path of a JSON object (arrays are leaves). */
function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && k !== '@timestamp' ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

const FLOW = { flow_id: '0a1b2c3d4e5f6071', app: 'dicom', proto: 'tcp', src_port: 51234, dst_port: 104, vlan: 110, ae_title: 'CT_SCANNER_1', calling_ae: 'PATIENT^KARI' };

describe('MSGID', () => {
  it('fits 32 characters for every shipped rule, unique, and maps back to the rule', () => {
    const ids = ALL_RULES.map((r) => r.id);
    const msgids = ids.map(msgidOf);
    for (const m of msgids) expect(m).toMatch(/^[\x21-\x7e]{1,32}$/);
    expect(new Set(msgids).size).toBe(ids.length);
    for (const id of ids) expect(ruleOfMsgid(msgidOf(id), ids)).toBe(id);
    expect(msgidOf('dicom-user-identity-cleartext-password')).toBe('dicom-user-identity-cleartext-pw');
    expect(msgidOf('mu-device-to-external')).toBe('mu-device-to-external');
  });

  it('gives an unknown long rule id a stable prefix and hash', () => {
    const long = 'a-future-rule-whose-identifier-is-rather-long';
    const m = msgidOf(long);
    expect(m.length).toBeLessThanOrEqual(MSGID_MAX);
    expect(m).toMatch(/^a-future-rule-whose-ide~[0-9a-f]{8}$/);
    expect(msgidOf(long)).toBe(m);
    expect(msgidOf(`${long}-2`)).not.toBe(m);
  });
});

describe('SIEM record', () => {
  it('takes the flow facts from the evidence, checked for shape, and nothing else', () => {
    const r = siemRecord(alert(1, { evidence: FLOW }), 'reopened');
    expect(r).toMatchObject({ flow_id: FLOW.flow_id, app: 'dicom', proto: 'tcp', src_port: 51234, dst_port: 104, change: 'reopened', guide_refs: ['MU 3.7'] });
    expect(JSON.stringify(r)).not.toMatch(/CT_SCANNER|PATIENT|KARI|ae_title/);
    const odd = siemRecord(alert(1, { evidence: { flow_id: 'Nordmann Kari', app: 'x y', src_port: 70000, dst_port: '104', proto: 'PATIENT' } }), 'new');
    expect([odd.flow_id, odd.app, odd.src_port, odd.dst_port, odd.proto]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('RFC 5424 structured data', () => {
  it('carries ports, app, flow id, guide references, first seen and new or reopened', () => {
    const a = alert(3, { rule_id: 'dicom-user-identity-cleartext-password', first_seen: '2026-01-05T07:00:00.000Z', guide_refs: ['MU 4.4', 'LEV 6.4'], evidence: FLOW });
    const m = formatSyslog(a, { hostname: 'sensor-1', procid: '1', change: 'reopened' });
    expect(m).toBe(
      `<163>1 ${a.last_seen} sensor-1 muvakt 1 dicom-user-identity-cleartext-pw [muvakt@32473 id="${a.id}" rule="dicom-user-identity-cleartext-password" severity="high" status="open" change="reopened" src="10.77.10.4" src_port="51234" dst="198.51.100.7" dst_port="104" proto="tcp" app="dicom" flow_id="0a1b2c3d4e5f6071" zone_src="mu-radiology" zone_dst="external" guide_refs="MU 4.4, LEV 6.4" first_seen="2026-01-05T07:00:00.000Z" last_seen="${a.last_seen}" count="4"] ${a.title}`,
    );
    expect(formatSyslog(a, { sensor: 'radiologi-1' })).toMatch(/ sensor="radiologi-1"\]/);
  });
});

describe('CEF', () => {
  it('escapes the header (| and \\) and the extension (= \\ and line breaks)', () => {
    expect(cefHeaderEscape('a|b\\c')).toBe('a\\|b\\\\c');
    expect(cefExtensionEscape('a=b\\c\nd\re|f')).toBe('a\\=b\\\\c\\nd\\re|f');
  });

  it('parses with a spec parser and keeps every field', () => {
    const a = alert(5, {
      rule_id: 'odd|rule\\id',
      title: 'Title with | pipe and \\ backslash',
      severity: 'critical',
      status: 'acknowledged',
      first_seen: '2026-01-05T07:00:00.000Z',
      guide_refs: ['MU 4.4', 'LEV 6.4'],
      subject: { src_ip: '10.77.10.9', dst_ip: '10.77.20.5', zone_src: 'a=b\\c\nd', zone_dst: 'pacs' },
      evidence: FLOW,
    });
    const r = siemRecord(a, 'new');
    const e = parseCef(formatCef(r, { hostname: 'sensor-1' }));
    expect([e.version, e.deviceVendor, e.deviceProduct, e.signatureId, e.name, e.severity]).toEqual([0, 'muvakt', 'muvakt', 'odd|rule\\id', a.title, '10']);
    expect(e.deviceVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(e.extension).toEqual({
      rt: String(Date.parse(a.last_seen)),
      start: String(Date.parse('2026-01-05T07:00:00.000Z')),
      end: String(Date.parse(a.last_seen)),
      externalId: a.id,
      cnt: '6',
      dvchost: 'sensor-1',
      src: '10.77.10.9',
      spt: '51234',
      dst: '10.77.20.5',
      dpt: '104',
      proto: 'TCP',
      app: 'dicom',
      cs1: 'a=b\\c\nd',
      cs1Label: CEF_LABELS.cs1,
      cs2: 'pacs',
      cs2Label: CEF_LABELS.cs2,
      cs3: 'MU 4.4, LEV 6.4',
      cs3Label: 'guideRefs',
      cs4: FLOW.flow_id,
      cs4Label: 'flowId',
      cs5: 'new',
      cs5Label: 'change',
      cs6: 'acknowledged',
      cs6Label: 'status',
    });
    expect(Object.values(CEF_SEVERITY)).toEqual([3, 5, 8, 10]);
  });

  it('puts IPv6 addresses in c6a2/c6a3 with their labels', () => {
    const e = parseCef(formatCef(siemRecord(alert(1, { subject: { src_ip: 'fd77::10', dst_ip: '2001:db8::1', zone_src: 'mu', zone_dst: 'external' } }), 'new'), { hostname: 'h' }));
    expect(e.extension).toMatchObject({ c6a2: 'fd77::10', c6a2Label: 'Source IPv6 Address', c6a3: '2001:db8::1', c6a3Label: 'Destination IPv6 Address' });
    expect(e.extension.src).toBeUndefined();
  });

  it('rides in a syslog message with no structured data', () => {
    const m = formatAlert('cef', alert(1, { evidence: FLOW }), { hostname: 'sensor-1', procid: '9' });
    expect(m).toMatch(/^<163>1 \S+ sensor-1 muvakt 9 mu-device-to-external - CEF:0\|muvakt\|muvakt\|/);
    expect(parseCef(m).extension.dvchost).toBe('sensor-1');
  });
});

describe('ECS', () => {
  it('has the documented fields and no others', () => {
    const full = ecsDocument(siemRecord(alert(2, { evidence: FLOW }), 'reopened'), { hostname: 'sensor-1' });
    const keys = leaves(full);
    expect(keys.filter((k) => !(k in ECS_FIELDS))).toEqual([]);
    expect(Object.keys(ECS_FIELDS).filter((k) => !keys.includes(k))).toEqual([]);
    expect(full).toMatchObject({
      event: { kind: 'alert', action: 'reopened', id: 'al-000002', severity: 8 },
      rule: { id: 'mu-device-to-external', name: 'Medical device talks to the internet', reference: 'MU 3.7' },
      source: { ip: '10.77.10.3', port: 51234 },
      destination: { ip: '198.51.100.7', port: 104 },
      network: { transport: 'tcp', protocol: 'dicom', type: 'ipv4' },
      observer: { name: 'sensor-1', hostname: 'sensor-1', product: 'muvakt' },
      muvakt: { flow_id: FLOW.flow_id, zone_src: 'mu-radiology' },
    });
    // Without flow facts only the always-present fields remain.
    const bare = ecsDocument(siemRecord(alert(2, { evidence: {}, guide_refs: [] }), 'new'), { hostname: 'h' });
    const required = Object.entries(ECS_FIELDS).filter(([, always]) => always).map(([k]) => k);
    expect(leaves(bare).sort()).toEqual(required.sort());
    // The sensor's name, once there is one, is the observer's name.
    expect(ecsDocument(siemRecord(alert(2), 'new', 'radiologi-1'), { hostname: 'h' }).observer).toMatchObject({ name: 'radiologi-1', hostname: 'h' });
  });

  it('is one line of JSON, framed by a newline, with no evidence values', () => {
    const m = formatAlert('ecs', { ...alert(4, { evidence: FLOW }), patient: 'Kari' } as unknown as Alert, { hostname: 'h' });
    expect(m).not.toMatch(/\n|CT_SCANNER|PATIENT|Kari/);
    expect(JSON.parse(m)['@timestamp']).toBe(alert(4).last_seen);
    expect(lineFrame(m).toString()).toBe(`${m}\n`);
    expect(formatEcs(siemRecord(alert(4), 'new'), { hostname: 'h' })).toBe(JSON.stringify(ecsDocument(siemRecord(alert(4), 'new'), { hostname: 'h' })));
  });
});
