import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompiledPolicy, parsePolicy } from '../../rules/policy/index.js';
import { EXAMPLE_POLICY_FILE, findingsFor } from '../support/rules.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');

/** The example policy with another `encryption.require_for` (null: the key left out). */
function policyRequiring(requireFor: string[] | null): CompiledPolicy {
  const text = readFileSync(EXAMPLE_POLICY_FILE, 'utf8');
  const line = /^ {2}require_for: .*$/m;
  if (!line.test(text)) throw new Error('the example policy has no require_for line');
  const r = parsePolicy(text.replace(line, requireFor === null ? '' : `  require_for: [${requireFor.join(', ')}]`), 'policy.yaml');
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

async function raised(capture: string, policy: CompiledPolicy): Promise<{ ids: Set<string>; reasons: unknown[] }> {
  const f = await findingsFor([join(CORPUS, capture)], policy);
  return { ids: new Set(f.map((x) => x.rule.id)), reasons: f.filter((x) => x.rule.id === 'flow-not-allowed').map((x) => x.evidence.reason) };
}

describe('encryption.require_for decides where cleartext is reported', () => {
  const ALL = ['external', 'cross-zone-phi', 'remote-access', 'cross-zone'];
  const without = (k: string) => ALL.filter((x) => x !== k);

  it('external: cleartext over networks the site does not control', async () => {
    expect((await raised('19_callhome_http_phi.pcap', policyRequiring(ALL))).ids).toContain('cleartext-to-external');
    expect((await raised('19_callhome_http_phi.pcap', policyRequiring(without('external')))).ids).not.toContain('cleartext-to-external');
  });

  it('cross-zone-phi: health and personal data between zones', async () => {
    expect((await raised('20_segmentation_mu_to_office_http.pcap', policyRequiring(ALL))).ids).toContain('phi-cleartext');
    expect((await raised('20_segmentation_mu_to_office_http.pcap', policyRequiring(without('cross-zone-phi')))).ids).not.toContain('phi-cleartext');
  });

  it('remote-access: unencrypted remote sessions', async () => {
    expect((await raised('10_telnet_login.pcap', policyRequiring(ALL))).ids).toContain('remote-access-unencrypted');
    expect((await raised('10_telnet_login.pcap', policyRequiring(without('remote-access')))).ids).not.toContain('remote-access-unencrypted');
  });

  it('cross-zone: an allowed flow between zones in cleartext', async () => {
    const on = await raised('02_dicom_cstore_ct_mr.pcap', policyRequiring(ALL));
    expect(on.reasons).toContain('encryption required between zones (encryption.require_for: cross-zone)');
    const off = await raised('02_dicom_cstore_ct_mr.pcap', policyRequiring(without('cross-zone')));
    expect(off.ids).not.toContain('flow-not-allowed');
  });

  it('left out, it means external, cross-zone-phi and remote-access', async () => {
    const p = policyRequiring(null);
    expect([...p.encryptionRequiredFor].sort()).toEqual(['cross-zone-phi', 'external', 'remote-access']);
    expect((await raised('10_telnet_login.pcap', p)).ids).toContain('remote-access-unencrypted');
    expect((await raised('02_dicom_cstore_ct_mr.pcap', p)).ids).not.toContain('flow-not-allowed');
  });
});
