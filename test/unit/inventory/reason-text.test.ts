/**
 * The inventory's texts in bokmål: the exposure reasons' lead-ins and endings are translated, a
 * detail that is a property fact is translated as one, and every role, property and scenario
 * fact the inventory writes over the whole corpus has its bokmål text.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALERT_WEIGHTS, Inventory, deviceDetail, policyZones } from '../../../agent/inventory/index.js';
import { ALERT_CATEGORIES_NB, FACT_TEXTS_NB, factInBokmal, reasonInBokmal } from '../../../agent/inventory/reason-text.js';
import { analyzeFiles } from '../../support/analyze.js';
import { examplePolicy } from '../../support/rules.js';

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');

describe('exposure reasons in bokmål', () => {
  it('translates the lead-in and the ending, keeps the detail, the longest lead-in first', () => {
    expect(reasonInBokmal('remote access from outside: VNC from 203.0.113.9')).toBe('fjerntilgang utenfra: VNC from 203.0.113.9');
    expect(reasonInBokmal('remote access: RDP from 10.77.90.10')).toBe('fjerntilgang: RDP from 10.77.90.10');
    expect(reasonInBokmal('in the medical-device zone MU')).toBe('i sonen for medisinsk utstyr MU');
    expect(reasonInBokmal('open alerts, weak TLS: tls-weak-version ×2')).toBe('åpne varsler, svak TLS: tls-weak-version ×2');
    expect(reasonInBokmal('patient-identifiable data + networked + vendor remote access: the guide ranks this highest')).toBe(
      'pasientidentifiserbare data + nettverkstilkoblet + fjerntilgang for leverandør: veilederen rangerer dette høyest',
    );
    expect(reasonInBokmal('software past its end of support: Windows 7 6.1 (ended 2020-01-14), Debian 9 (ended 2022-06-30)')).toBe(
      'programvare uten leverandørstøtte: Windows 7 6.1 (støtte sluttet 2020-01-14), Debian 9 (støtte sluttet 2022-06-30)',
    );
    // A detail that is a property fact is translated as one.
    expect(reasonInBokmal('remote access from outside: vnc from 198.51.100.23 (external, unencrypted), 1×')).toBe('fjerntilgang utenfra: vnc fra 198.51.100.23 (ekstern, ukryptert), 1×');
    // No known lead-in: as it is.
    expect(reasonInBokmal('something new')).toBe('something new');
  });

  it('has a bokmål word for every alert category of the rank', () => {
    expect(Object.keys(ALERT_CATEGORIES_NB).sort()).toEqual(ALERT_WEIGHTS.map((w) => w.category).sort());
  });
});

describe('role, property and scenario facts in bokmål', () => {
  /** Every fact and reason of every device the whole corpus makes. */
  const facts = new Set<string>();
  const reasons = new Set<string>();
  beforeAll(async () => {
    const inv = new Inventory(policyZones(examplePolicy()));
    for (const f of readdirSync(CORPUS).filter((n) => /\.pcap(ng)?$/.test(n)).sort()) inv.observeAll((await analyzeFiles([join(CORPUS, f)])).events);
    for (const { id } of inv.devices()) {
      const d = deviceDetail(inv, id)!;
      for (const r of d.roles) for (const f of r.facts) facts.add(f);
      for (const p of Object.values(d.properties)) for (const f of p.facts) facts.add(f);
      for (const f of d.scenario.facts) facts.add(f);
      if (d.scenario.number === null) facts.add(d.scenario.name);
      for (const r of d.exposure.reasons) reasons.add(r.fact);
    }
  });

  /** The texts no capture of the corpus makes, as the inventory writes them, with their bokmål. */
  const CRAFTED: readonly [string, string][] = [
    ['sends C-STORE as the association requester (1 request) (AE CT_SCANNER01)', 'sender C-STORE og åpner selv assosiasjonen (1 forespørsel) (AE CT_SCANNER01)'],
    ['sends C-STORE as the association requester (3 requests)', 'sender C-STORE og åpner selv assosiasjonen (3 forespørsler)'],
    ['routes for many addresses (its MAC is seen with many IPs): router/gateway', 'ruter for mange adresser (MAC-adressen er sett med mange IP-adresser): ruter/gateway'],
    ['external address delivering health data into the site (equipment with the patient?)', 'ekstern adresse som leverer helsedata inn til virksomheten (utstyr hos pasienten?)'],
    ['sends 1 HL7 message', 'sender 1 HL7-melding'],
    ['receives 1 HL7 message', 'mottar 1 HL7-melding'],
    ['declared vendor 10.77.90.10 has rdp access', 'leverandør oppført i policyen 10.77.90.10 har rdp-tilgang'],
    ['from 198.51.100.9 (NO) over https, tls', 'fra 198.51.100.9 (NO) over https, tls'],
  ];

  it('gives every fact of every device in the corpus a bokmål text that differs from the English', () => {
    expect(facts.size).toBeGreaterThan(50);
    const untranslated = [...facts].filter((f) => factInBokmal(f) === null);
    expect(untranslated).toEqual([]);
    for (const f of facts) expect([f, factInBokmal(f)]).not.toEqual([f, f]);
  });

  it('translates what no capture makes, each count in its number', () => {
    for (const [en, nb] of CRAFTED) expect(factInBokmal(en)).toBe(nb);
  });

  it('has no pattern that neither the corpus nor the crafted texts use', () => {
    const texts = [...facts, ...CRAFTED.map(([en]) => en)];
    const unused = FACT_TEXTS_NB.filter(([en]) => !texts.some((t) => en.test(t))).map(([en]) => en.source);
    expect(unused).toEqual([]);
  });

  it('translates every exposure reason the corpus makes, lead-in and detail', () => {
    expect(reasons.size).toBeGreaterThan(10);
    for (const r of reasons) {
      const nb = reasonInBokmal(r);
      expect(nb).not.toBe(r);
      // The detail after "lead-in: " is a property fact, and no longer in English.
      const detail = r.split(': ').slice(1).join(': ');
      if (detail && factInBokmal(detail) !== null) expect(nb).not.toContain(detail);
    }
  });
});
