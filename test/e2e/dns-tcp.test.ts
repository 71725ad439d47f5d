import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../agent/events/types.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { readEventsFile } from '../support/event-schemas.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
type Ev = MuvaktEvent & Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `dig +tcp` against dnsmasq in the other namespace, several queries on one connection
 * (`+keepopen`), captured by tcpdump: the `dns` events equal tshark's DNS over TCP.
 */
describe('DNS over TCP from dig and dnsmasq', () => {
  const pair = new NetnsPair('dnstcp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-dnstcp-'));
  const pcap = join(tmp, 'dns.pcap');
  let events: Ev[] = [];

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    for (const bin of ['dig', 'dnsmasq', 'tshark']) {
      if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) throw new Error(`${bin} is missing: apt-get install bind9-dnsutils dnsmasq-base tshark`);
    }
    pair.create();
    const dns = pair.spawn(pair.b, 'dnsmasq', [
      '--no-daemon', '--conf-file=/dev/null', '--pid-file=', '--user=root', '--no-resolv', '--no-hosts', '--bind-interfaces',
      `--listen-address=${pair.ipB}`, '--port=53', '--log-queries',
      '--local=/hospital.example/', '--address=/pacs.hospital.example/10.77.20.10', '--host-record=ris.hospital.example,10.77.20.11,fd00:77::11', '--cname=worklist.hospital.example,ris.hospital.example',
    ]);
    await waitFor(dns.stderr!, /started|compile time options/);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', 'sport = :53').trim(); i++) await sleep(50);
    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', pcap, 'port 53']);
    await waitFor(cap.stderr!, /listening on/);
    pair.exec(pair.a, 'dig', '+tcp', '+keepopen', '+tries=1', '+time=3', `@${pair.ipB}`, 'pacs.hospital.example', 'A', 'ris.hospital.example', 'AAAA', 'worklist.hospital.example', 'A');
    pair.exec(pair.a, 'dig', '+tcp', '+tries=1', '+time=3', `@${pair.ipB}`, 'missing.hospital.example', 'A');
    await sleep(1500);
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));
    const out = join(tmp, 'events.ndjson');
    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--events', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    events = readEventsFile(out) as unknown as Ev[];
  }, 60_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('recognises the TCP connections as DNS', () => {
    const flows = events.filter((e) => e.type === 'flow');
    expect(flows.map((f) => [f.flow!.proto, f.flow!.dst_port, f.app])).toEqual([
      ['tcp', 53, 'dns'],
      ['tcp', 53, 'dns'],
    ]);
  });

  it('every query and response equals tshark: id, name, type, response code and addresses', () => {
    const fields = ['dns.id', 'dns.flags.response', 'dns.qry.name', 'dns.flags.rcode', 'dns.a', 'dns.aaaa', 'dns.cname'];
    const rows = execFileSync('tshark', ['-n', '-r', pcap, '-Y', 'dns', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const rcodes = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
    const theirs = rows.map((c) => ({
      id: Number(c[0]),
      dns_type: c[1] === '1' || c[1] === 'True' ? 'response' : 'query',
      rrname: c[2],
      rcode: c[1] === '1' || c[1] === 'True' ? rcodes[Number(c[3])] : undefined,
      rdata: [c[4], c[5], c[6]].flatMap((v) => (v ? v.split(',') : [])).sort(),
    }));
    const ours = events
      .filter((e) => e.type === 'dns')
      .map((d) => ({ id: d.id, dns_type: d.dns_type, rrname: d.rrname, rcode: d.rcode, rdata: (d.answers ?? []).map((a: { rdata: string }) => a.rdata).sort() }));
    expect(ours).toHaveLength(8);
    expect(ours).toEqual(theirs);
    expect(ours.find((d) => d.rrname === 'missing.hospital.example' && d.dns_type === 'response')?.rcode).toBe('NXDOMAIN');
    expect(ours.find((d) => d.rrname === 'ris.hospital.example' && d.dns_type === 'response')?.rdata).toEqual(['fd00:77::11']);
  });
});
