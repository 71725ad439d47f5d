import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NdjsonSink } from '../../../agent/events/ndjson-sink.js';
import { RotatingNdjsonFile } from '../../../agent/export/rotating-ndjson.js';
import { SyslogExporter } from '../../../agent/export/syslog.js';
import { alert, tempDir } from './helpers.js';

const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
const before = process.umask(0);
afterAll(() => process.umask(before));

describe('files the sensor writes, under umask 000', () => {
  it('events and alerts NDJSON (and rotated alert files) are 0640', () => {
    const dir = tempDir();
    const ev = new NdjsonSink(join(dir, 'events.ndjson'));
    ev.write({ type: 'x' } as never);
    ev.close();
    expect(mode(join(dir, 'events.ndjson'))).toBe('640');
    const al = new RotatingNdjsonFile(join(dir, 'alerts.ndjson'), { maxBytes: 200, keep: 2 });
    al.export([alert(1), alert(2), alert(3)]);
    al.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('alerts.ndjson'));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(mode(join(dir, f)), f).toBe('640');
  });

  it('the syslog spool directory is 0750 and its files 0640', () => {
    const spoolDir = join(tempDir(), 'spool');
    const e = new SyslogExporter({ host: '127.0.0.1', port: 9, spoolDir, backoffMinMs: 10_000, backoffMaxMs: 10_000 });
    e.export([alert(1)]);
    e.close();
    expect(mode(spoolDir)).toBe('750');
    const files = readdirSync(spoolDir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(mode(join(spoolDir, f)), f).toBe('640');
  });
});
