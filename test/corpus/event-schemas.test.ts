import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEventDocs, SCHEMA_DIR } from '../../scripts/event-docs.js';
import { ALL_RULES, RuleEngine, type EngineFinding } from '../../rules/index.js';
import { EVENT_SCHEMAS, EVENT_TYPES } from '../../protocols/events/index.js';
import { analyzeFiles } from '../support/analyze.js';
import { eventSchemaProblems } from '../support/event-schemas.js';
import { examplePolicy } from '../support/rules.js';

const ROOT = join(import.meta.dirname, '../..');
const CORPUS = join(ROOT, 'fixtures/corpus');

describe('the published event contract', () => {
  it('docs/schemas/events/ and docs/events.md are what npm run docs:events renders', () => {
    const files = renderEventDocs();
    for (const [path, text] of files) expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: run npm run docs:events`).toBe(text);
    const published = readdirSync(join(ROOT, SCHEMA_DIR)).map((f) => `${SCHEMA_DIR}/${f}`);
    expect(published.filter((p) => !files.has(p)), 'schemas of event types that no longer exist').toEqual([]);
    expect(published).toHaveLength(EVENT_TYPES.length);
  });

  it('the list of event type names is the schemas\' own, in the same order', () => {
    expect([...EVENT_TYPES]).toEqual(Object.keys(EVENT_SCHEMAS));
  });

  it('every event of the whole corpus matches its published schema, and the rules run on them', async () => {
    const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f));
    expect(files.length).toBeGreaterThan(20);
    const seen = new Map<string, number>();
    const findings: EngineFinding[] = [];
    const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => findings.push(f));
    for (const f of files) {
      // analyzeFiles checks each event against its schema and throws on the first mismatch.
      const { events } = await analyzeFiles([join(CORPUS, f)]);
      expect(eventSchemaProblems(events)).toEqual([]);
      for (const e of events) {
        seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
        engine.evaluate(e);
      }
    }
    // The corpus carries the events the rules judge most; the other types are checked where the
    // protocol tests produce them (runFrames, analyzeFiles).
    const core = ['flow', 'dicom.association', 'dicom.dimse', 'dicom.malformed', 'hl7.message', 'hl7.undelivered', 'phi.observed', 'credential.cleartext', 'tls.handshake', 'remote_access', 'http', 'ftp', 'syslog'];
    expect(core.filter((t) => !seen.has(t))).toEqual([]);
    expect([...engine.errors]).toEqual([]);
    expect(findings.length).toBeGreaterThan(20);
  });

  it('an unknown event type or a field the schema does not declare is reported', () => {
    const flow = { id: 'f', vlan: [], src_ip: '10.0.0.1', src_port: 1024, dst_ip: '10.0.0.2', dst_port: 514, proto: 'udp', app: 'syslog' };
    const ok = { ts: '2026-11-23T14:08:27.123456Z', type: 'syslog', flow, direction: 'to_server', format: 'rfc3164', facility: 1, facility_name: 'user', severity: 6, severity_name: 'info' };
    expect(eventSchemaProblems([ok])).toEqual([]);
    expect(eventSchemaProblems([{ ...ok, type: 'syslog.v2' }])).toEqual(['event 0: unknown event type "syslog.v2"']);
    expect(eventSchemaProblems([{ ...ok, message: 'x' }]).join('\n')).toMatch(/must not have additional properties \(message\)/);
    expect(eventSchemaProblems([{ ...ok, flow: { ...flow, mac: 'x' } }]).join('\n')).toMatch(/\/flow .*additional properties \(mac\)/);
  });
});
