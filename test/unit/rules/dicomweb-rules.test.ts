/**
 * dicom-cleartext-phi over DICOMweb: a WADO-RS retrieve over plain HTTP through the pipeline
 * relabels the flow `dicomweb` and raises the rule, as DIMSE with patient fields does; the
 * same event on a flow that is not cleartext DICOMweb (TLS) raises nothing, and neither does
 * phi-cleartext for the fødselsnummer the body scanner also finds there.
 */
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { runFrames } from '../../support/frames.js';
import { dicomFile, multipart, PLANTED, SERIES_UID, STUDY_UID, INSTANCE_UID } from '../dicomweb/build.js';
import { tcpSession, text } from '../remote/build.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

function policy(): CompiledPolicy {
  const r = parsePolicy(
    `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: pacs, kind: clinical, cidrs: [10.77.40.0/24]}
`,
    'site.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

function judge(events: MuvaktEvent[]): EngineFinding[] {
  const findings: EngineFinding[] = [];
  const engine = new RuleEngine(policy(), ALL_RULES, (f) => findings.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return findings;
}

function wado(): MuvaktEvent[] {
  const body = multipart([{ type: 'application/dicom', body: dicomFile() }]);
  const path = `/dicom-web/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}`;
  const frames = tcpSession('10.77.10.21', '10.77.40.30', 51000, 8042, [
    [TS, text(`GET ${path} HTTP/1.1\r\nHost: pacs\r\nAccept: multipart/related; type="application/dicom"\r\n\r\n`)],
    [TC, Buffer.concat([text(`HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=DICOMwebBoundary-7f3a\r\nContent-Length: ${body.length}\r\n\r\n`), body])],
  ]);
  return runFrames(frames).events;
}

describe('dicom-cleartext-phi over DICOMweb', () => {
  it('a WADO-RS retrieve over plain HTTP: the flow is dicomweb and the rule fires, with names only', () => {
    const events = wado();
    const dw = events.filter((e) => e.type === 'dicomweb.request');
    expect(dw).toHaveLength(1);
    expect(dw[0].flow.app).toBe('dicomweb');
    expect(events.find((e) => e.type === 'flow')).toMatchObject({ app: 'dicomweb', encrypted: false });
    const findings = judge(events);
    const hits = findings.filter((f) => f.rule.id === 'dicom-cleartext-phi');
    expect(hits).toHaveLength(1);
    expect(hits[0].evidence).toMatchObject({ dicomweb_service: 'wado', level: 'instance', url: '/dicom-web/studies/{id}/series/{id}/instances/{id}', patient_id_kinds: ['fodselsnummer'] });
    // DICOMweb is judged as DICOM: the general cross-zone rule does not fire a second alert.
    expect(findings.filter((f) => f.rule.id === 'phi-cleartext')).toEqual([]);
    const text = JSON.stringify([events, findings]);
    for (const v of PLANTED) expect(text, v).not.toContain(v);
  });

  it('the same event on a flow that is not cleartext DICOMweb raises nothing', () => {
    const events = wado().map((e) => (e.type === 'dicomweb.request' ? { ...e, flow: { ...e.flow, app: 'tls' } } : e)).filter((e) => e.type === 'dicomweb.request');
    expect(judge(events).filter((f) => f.rule.id === 'dicom-cleartext-phi')).toEqual([]);
  });

  it('an allow-list naming http still allows the dicomweb flow', () => {
    const r = parsePolicy(
      `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: pacs, kind: clinical, cidrs: [10.77.40.0/24]}
allowed_flows:
  - {from: mu, to: pacs, apps: [http]}
`,
      'site.yaml',
    );
    if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
    const p = new CompiledPolicy(r.policy);
    const q = (app: string) => ({ srcIp: '10.77.10.21', dstIp: '10.77.40.30', srcZone: p.zoneOf('10.77.10.21'), dstZone: p.zoneOf('10.77.40.30'), app, dstPort: 8042, encrypted: false });
    expect(p.allowedFlow(q('dicomweb'))).not.toBeNull();
    expect(p.allowedFlow(q('http'))).not.toBeNull();
    expect(p.allowedFlow(q('hl7'))).toBeNull();
  });
});
