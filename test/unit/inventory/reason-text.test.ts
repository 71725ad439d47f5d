/**
 * The exposure reasons in bokmål: the evidence bundle's lead-ins are the workbench's, and the
 * device's own detail after a lead-in is left as it was seen.
 */
import { describe, expect, it } from 'vitest';
import { REASON_LEADS_NB, reasonInBokmal } from '../../../agent/inventory/reason-text.js';
import { STRINGS } from '../../../dashboard-ui/i18n.js';

describe('exposure reasons in bokmål', () => {
  it('uses the same words as the workbench', () => {
    const page = Object.entries(STRINGS.nb)
      .filter(([k]) => k.startsWith('r.') && k !== 'r.the guide ranks this highest')
      .map(([k, nb]) => [k.slice(2), nb]);
    expect(Object.fromEntries(page)).toEqual(REASON_LEADS_NB);
    for (const en of Object.keys(REASON_LEADS_NB)) expect(STRINGS.en[`r.${en}` as keyof typeof STRINGS.en]).toBe(en);
  });

  it('translates the lead-in and the ending, keeps the detail, the longest lead-in first', () => {
    expect(reasonInBokmal('remote access from outside: VNC from 203.0.113.9')).toBe('fjerntilgang utenfra: VNC from 203.0.113.9');
    expect(reasonInBokmal('remote access: RDP from 10.77.90.10')).toBe('fjerntilgang: RDP from 10.77.90.10');
    expect(reasonInBokmal('in the medical-device zone MU')).toBe('i sonen for medisinsk utstyr MU');
    expect(reasonInBokmal('open alerts, weak TLS: tls-weak-version ×2')).toBe('åpne varsler, weak TLS: tls-weak-version ×2');
    expect(reasonInBokmal('patient-identifiable data + networked + vendor remote access: the guide ranks this highest')).toBe(
      'pasientidentifiserbare data + nettverkstilkoblet + fjerntilgang for leverandør: veilederen rangerer dette høyest',
    );
    expect(reasonInBokmal('software past its end of support: Windows 7 (ended 2020-01-14)')).toBe('programvare uten leverandørstøtte: Windows 7 (ended 2020-01-14)');
    // No known lead-in: as it is.
    expect(reasonInBokmal('something new')).toBe('something new');
  });
});
