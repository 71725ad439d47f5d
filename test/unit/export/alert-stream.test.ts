import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../../agent/capture/capture-file.js';
import { assembleSensor, type SensorAssembly } from '../../../agent/sensor/assembly.js';
import { repoRoot } from '../../support/repo-root.js';
import { Collector, tempDir, waitFor } from './helpers.js';

const ROOT = repoRoot();
const CAPTURE = join(ROOT, 'fixtures/corpus/14_vnc_from_external.pcap');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');

const sd = (m: string, k: string) => new RegExp(` ${k}="([^"]*)"`).exec(m)?.[1];

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

/** One sensor over the capture, alerts streamed to the collector; returns it still open. */
async function pass(db: string, spoolDir: string, port: number): Promise<SensorAssembly> {
  const sensor = await assembleSensor({
    policyFile: POLICY,
    dbFile: db,
    maxFlows: 10_000,
    alertStream: { syslog: { host: '127.0.0.1', port, spoolDir, hostname: 'sensor-1', confirmMs: 200, backoffMinMs: 50 }, log: pino({ level: 'silent' }) },
  });
  await readCaptureFile(CAPTURE, sensor.pipeline.handle);
  sensor.pipeline.finish('shutdown');
  sensor.events.flush();
  return sensor;
}

describe('the live alert stream to syslog', () => {
  it('marks alerts new when they are created and reopened when a resolved one fires again', async () => {
    const c = new Collector();
    open.push({ close: () => c.stop() });
    await c.start();
    const dir = tempDir('muvakt-stream-');
    const db = join(dir, 'alerts.db');
    const spool = join(dir, 'spool');

    const first = await pass(db, spool, c.port);
    const ids = (await first.alerting!.allAlerts()).map((a) => a.id);
    expect(ids.length).toBeGreaterThan(2);
    await waitFor(() => c.messages.length >= ids.length, 10_000, 'the new alerts');
    expect(c.messages.map((m) => sd(m, 'change'))).toEqual(ids.map(() => 'new'));
    // The officer resolves one; an acknowledged one stays acknowledged when it fires again.
    await first.alerting!.store.resolve(ids[0], 'officer', 'fixed the firewall');
    await first.alerting!.store.acknowledge(ids[1], 'officer', 'known');
    await waitFor(() => first.syslog!.idle, 5000, 'delivery');
    await first.close();

    const before = c.messages.length;
    const second = await pass(db, spool, c.port);
    open.push(second);
    await waitFor(() => c.messages.length > before, 10_000, 'the reopened alert');
    await new Promise((r) => setTimeout(r, 500));
    // Only the resolved alert comes again, as reopened; updates of open or acknowledged ones are not news.
    const again = c.messages.slice(before);
    expect(again.map((m) => [sd(m, 'id'), sd(m, 'change'), sd(m, 'status')])).toEqual([[ids[0], 'reopened', 'open']]);
  }, 60_000);
});
