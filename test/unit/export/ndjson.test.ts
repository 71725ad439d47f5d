import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertRecord, RECORD_FIELDS, SUBJECT_FIELDS } from '../../../agent/export/alert-record.js';
import { RotatingNdjsonFile } from '../../../agent/export/rotating-ndjson.js';
import type { Alert } from '../../../agent/store/index.js';
import { alert, tempDir } from './helpers.js';

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);

describe('RotatingNdjsonFile', () => {
  it('rotates by size, keeps N files, never splits a line, loses nothing kept', () => {
    const file = join(tempDir(), 'alerts.ndjson');
    const lineBytes = Buffer.byteLength(JSON.stringify(alertRecord(alert(0)))) + 1;
    const maxBytes = lineBytes * 10 + 5;
    const out = new RotatingNdjsonFile(file, { maxBytes, keep: 2 });
    for (let i = 0; i < 45; i += 5) out.export([0, 1, 2, 3, 4].map((k) => alert(i + k)));
    out.close();
    expect(out.rotations).toBeGreaterThanOrEqual(3);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(maxBytes);
    // Oldest kept file first: the ids run on without a gap to the last alert.
    const all = [...lines(`${file}.2`), ...lines(`${file}.1`), ...lines(file)].map((a) => a.id);
    expect(all.length).toBeGreaterThanOrEqual(21);
    expect(all).toEqual(Array.from({ length: all.length }, (_, k) => alert(45 - all.length + k).id));
  });

  it('appends to an existing file and rotates it when full', () => {
    const dir = tempDir();
    const file = join(dir, 'a.ndjson');
    const a = new RotatingNdjsonFile(file, { maxBytes: 1_000_000 });
    a.export([alert(1)]);
    a.close();
    const b = new RotatingNdjsonFile(file, { maxBytes: 1_000_000 });
    b.export([alert(2)]);
    b.close();
    expect(lines(file).map((x) => x.id)).toEqual([alert(1).id, alert(2).id]);
  });

  it('writes only whitelisted fields, in the API shape', () => {
    const file = join(tempDir(), 'w.ndjson');
    const tainted = { ...alert(3), patient_name: 'Nordmann^Kari', subject: { ...alert(3).subject, fnr: '01019912345' } } as unknown as Alert;
    const out = new RotatingNdjsonFile(file);
    out.export([tainted]);
    out.close();
    const [rec] = lines(file) as unknown as Record<string, unknown>[];
    for (const k of Object.keys(rec)) expect(RECORD_FIELDS).toContain(k);
    for (const k of Object.keys(rec.subject as object)) expect(SUBJECT_FIELDS).toContain(k);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('Nordmann');
    expect(text).not.toContain('01019912345');
    expect(rec).toMatchObject({ id: alert(3).id, rule_id: 'mu-device-to-external', severity: 'high', evidence: { dst_port: 443 } });
    expect(typeof rec.title_nb).toBe('string'); // the rule's bokmål texts ride along
  });
});
