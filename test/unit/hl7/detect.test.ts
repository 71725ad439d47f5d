import { describe, expect, it } from 'vitest';
import { healthContentKind, isHealthContentType } from '../../../protocols/hl7/content-type.js';
import { probeHl7 } from '../../../protocols/hl7/probe.js';
import { ProbeVerdict } from '../../../protocols/probe.js';

const p = (s: string) => {
  const b = Buffer.from(`xx${s}yy`, 'latin1');
  return probeHl7(b, 2, s.length);
};

describe('probeHl7', () => {
  it('says yes to a start block and a header segment', () => {
    expect(p('\x0bMSH|^~\\&|')).toBe(ProbeVerdict.Yes);
    expect(p('\x0bFHS|')).toBe(ProbeVerdict.Yes);
    expect(p('\x0bBHS#')).toBe(ProbeVerdict.Yes);
  });
  it('needs more on a prefix of one', () => {
    for (const s of ['', '\x0b', '\x0bM', '\x0bMS', '\x0bMSH', '\x0bB']) expect(p(s), JSON.stringify(s)).toBe(ProbeVerdict.NeedMore);
  });
  it('says no to everything else', () => {
    for (const s of ['MSH|^~\\&|', '\x0bPID|', '\x0bMSA|', '\x0bMSHA', '\x0bMSH ', 'GET / HTTP/1.1', '\x16\x03\x01', '\x0bX']) {
      expect(p(s), JSON.stringify(s)).toBe(ProbeVerdict.No);
    }
  });
});

describe('health content types over HTTP', () => {
  it.each([
    ['application/hl7-v2', 'hl7v2'],
    ['application/hl7-v2+er7; charset=utf-8', 'hl7v2'],
    ['X-Application/HL7-V2+ER7', 'hl7v2'],
    ['application/fhir+json;fhirVersion=4.0', 'fhir+json'],
    ['application/json+fhir', 'fhir+json'],
    [' application/fhir+xml ', 'fhir+xml'],
  ])('%s → %s', (ct, kind) => {
    expect(healthContentKind(ct)).toBe(kind);
    expect(isHealthContentType(ct)).toBe(true);
  });
  it.each(['application/json', 'text/html', '', 'application/hl7', undefined])('%s → null', (ct) => {
    expect(healthContentKind(ct)).toBeNull();
  });
});
