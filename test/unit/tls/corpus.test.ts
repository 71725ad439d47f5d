/**
 * The TLS captures of the corpus through the whole pipeline (capture → reassembly → dispatch →
 * tlsAnalyzer), compared with tshark's ground truth (fixtures/corpus/NN_*.json), the manifest's
 * expected facts, and — for the certificates, which the ground truth only marks as seen — with
 * tshark's own X.509 fields.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import { AnalyzerRegistry } from '../../../agent/analyzers/registry.js';
import { tlsAnalyzer } from '../../../agent/analyzers/tls-analyzer.js';
import { readCertificate } from '../../../protocols/tls/certificate.js';
import { analyzeFiles } from '../../support/analyze.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8'));
const FILES = ['07_dicom_tls_2762.pcap', '15_tls13_sni.pcap', '16_tls12_sni.pcap', '17_tls10_weak_vendor.pcap'];

const VERSIONS: Record<string, string> = { '0x0300': 'SSL 3.0', '0x0301': 'TLS 1.0', '0x0302': 'TLS 1.1', '0x0303': 'TLS 1.2', '0x0304': 'TLS 1.3' };

interface GtTls {
  client_hello: { legacy_version: string; sni?: string; alpn?: string[]; supported_versions?: string[]; cipher_suites_offered: number };
  server_hello: { legacy_version: string; supported_version?: string; cipher_suite: string };
  certificate_seen?: boolean;
  negotiated_version: string;
}

/** The server certificate as tshark decodes it: DER, RDN strings (issuer then subject), validity. */
function tsharkCertificate(file: string) {
  const out = execFileSync(
    'tshark',
    ['-n', '-r', join(CORPUS, file), '-Y', 'tls.handshake.certificate', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-e', 'tls.handshake.certificate', '-e', 'x509sat.uTF8String', '-e', 'x509sat.printableString', '-e', 'x509af.utcTime'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const line = out.split('\n').find((l) => l.length > 0)!;
  const [der, utf8, printable, times] = line.split('|');
  const strings = (utf8 || printable).split(',');
  const [notBefore, notAfter] = times.split(',').map((t) => t.replace(' (UTC)', 'Z').replace(' ', 'T'));
  return { der: Buffer.from(der.split(',')[0].replace(/:/g, ''), 'hex'), strings, notBefore, notAfter };
}

const env = defaultEnvironment(TEST_PSEUDONYM_KEY);

describe.each(FILES)('corpus %s', async (file) => {
  const meta = manifest.captures.find((c: { file: string }) => c.file === file);
  const gtFlows = JSON.parse(readFileSync(join(CORPUS, file.replace(/\.pcap$/, '.json')), 'utf8')).flows.filter((f: { tls?: unknown }) => f.tls);
  const { events, flows, error } = await analyzeFiles([join(CORPUS, file)], { registry: new AnalyzerRegistry().register(tlsAnalyzer(env)) });
  const hs = events.filter((e) => e.type === 'tls.handshake');

  it('reads the capture and emits one tls.handshake per TLS connection', () => {
    expect(error).toBeUndefined();
    expect(gtFlows.length).toBeGreaterThan(0);
    expect(hs).toHaveLength(gtFlows.length);
  });

  it("matches tshark's version, SNI, ALPN and cipher suite", () => {
    for (const g of gtFlows as { client: [string, number]; server: [string, number]; tls: GtTls }[]) {
      const e = hs.find((x) => x.flow!.src_port === g.client[1] && x.flow!.dst_port === g.server[1])!;
      expect(e).toBeDefined();
      const t = g.tls;
      expect(e.version).toBe(t.negotiated_version);
      expect(e.sni).toBe(t.client_hello.sni);
      expect(e.alpn).toEqual(t.client_hello.alpn ?? []);
      expect(e.cipher_suite_id).toBe(t.server_hello.cipher_suite);
      expect(e.offered_suites).toBe(t.client_hello.cipher_suites_offered);
      expect(e.client_versions).toEqual((t.client_hello.supported_versions ?? [t.client_hello.legacy_version]).map((v) => VERSIONS[v]));
      expect(e.negotiated).toBe(true);
      expect(e.encrypted).toBe(true);
      expect(e.issues).toBeUndefined();
      expect(e.certificate !== undefined).toBe(t.certificate_seen === true);
    }
  });

  it('matches the manifest facts and the weak verdict', () => {
    const e = hs[0];
    const facts = meta.expected_facts ?? {};
    if (facts.sni) expect(e.sni).toBe(facts.sni);
    if (facts.version) expect(e.version).toBe(facts.version);
    if (facts.cipher) {
      const [id, openssl] = String(facts.cipher).split(' ');
      expect(e.cipher_suite_id).toBe(id);
      if (openssl === 'ECDHE-RSA-AES256-GCM-SHA384') expect(e.cipher_suite).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    }
    if (facts.alpn) expect(e.alpn).toEqual(facts.alpn);
    const reasons = e.weak_reasons as string[];
    if (file.startsWith('17_')) {
      // "tls-weak-version (TLS 1.0, ECDHE-RSA-AES256-SHA 0xc014)"
      expect(e.weak).toBe(true);
      expect(reasons).toContain('deprecated-version');
      expect(e.cipher_suite).toBe('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA');
    } else {
      expect(meta.must_not_raise).toContain('tls-weak-version');
      expect(reasons).not.toContain('deprecated-version');
    }
    if (file.startsWith('07_')) {
      // "encrypted DICOM (TLS 1.3, TLS_AES_256_GCM_SHA384, no SNI sent by dcmtk)"
      expect(e).toMatchObject({ version: 'TLS 1.3', cipher_suite: 'TLS_AES_256_GCM_SHA384', weak: false });
      expect(e.sni).toBeUndefined();
    }
    if (file.startsWith('15_')) expect(e).toMatchObject({ cipher_suite: 'TLS_AES_256_GCM_SHA384', weak: false });
  });

  it("matches tshark's certificate (TLS ≤ 1.2): subject, issuer, validity, self-signed, SHA-256", () => {
    const e = hs[0];
    if (e.certificate === undefined) return;
    const t = tsharkCertificate(file);
    const cert = e.certificate as Record<string, unknown>;
    const [iO, iCN, sO, sCN] = t.strings;
    expect(cert.issuer).toBe(`O=${iO}, CN=${iCN}`);
    expect(cert.subject).toBe(`O=${sO}, CN=${sCN}`);
    expect(cert.not_before).toBe(t.notBefore);
    expect(cert.not_after).toBe(t.notAfter);
    expect(cert.sha256).toBe(createHash('sha256').update(t.der).digest('hex'));
    // openssl req -x509 made them: self-signed, valid at capture time.
    expect(cert.self_signed).toBe(true);
    expect(e.weak_reasons).toContain('self-signed-certificate');
    expect(e.weak_reasons).not.toContain('expired-certificate');
    // The RSA self-signature is really checked: with one signature byte changed it fails.
    const broken = Buffer.from(t.der);
    broken[broken.length - 10] ^= 0x01;
    expect(readCertificate(broken, 0, broken.length)!.info.self_signed).toBe(false);
    expect(readCertificate(t.der, 0, t.der.length)!.info.self_signed).toBe(true);
  });

  it('labels the flow and never reads past the handshake', () => {
    const f = flows.find((x) => x.flow.src_port === gtFlows[0].client[1])!;
    expect(f.app).toBe(file.startsWith('07_') ? 'dicom-tls' : 'tls');
    expect(f.encrypted).toBe(true);
    expect(hs[0].flow!.app).toBe(f.app);
  });
});
