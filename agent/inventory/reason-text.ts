/**
 * The exposure reasons in bokmål. The rank (classification.ts) writes each reason in English as
 * a lead-in and the device's own detail ("handles patient-identifiable data: DICOM C-STORE …");
 * the lead-ins are the project's words and are translated here, the detail is data and stays as
 * seen. The workbench shows the same words (its `r.*` strings in dashboard-ui/i18n.ts; the
 * browser bundle imports nothing from agent/, so a test holds the two tables equal).
 */
export const REASON_LEADS_NB: Readonly<Record<string, string>> = {
  'patient-identifiable data + networked + vendor remote access': 'pasientidentifiserbare data + nettverkstilkoblet + fjerntilgang for leverandør',
  'handles patient-identifiable data': 'behandler pasientidentifiserbare data',
  'remote access from outside': 'fjerntilgang utenfra',
  'remote access': 'fjerntilgang',
  'configuration control by a vendor/external party': 'konfigurasjonskontroll hos leverandør eller ekstern part',
  'external/cloud contacts': 'eksterne kontakter eller skytjenester',
  'health and personal data sent to an external address': 'helse- og personopplysninger sendt til en ekstern adresse',
  'networked (seen on the wire)': 'nettverkstilkoblet (sett på nettet)',
  'in the medical-device zone': 'i sonen for medisinsk utstyr',
  integrations: 'integrasjoner',
  'open alerts': 'åpne varsler',
  'software past its end of support': 'programvare uten leverandørstøtte',
};

/** The ending the highest-ranked combination carries. */
const RANKS_HIGHEST = 'the guide ranks this highest';
const RANKS_HIGHEST_NB = 'veilederen rangerer dette høyest';

/** Longest first, so that "remote access from outside" wins over "remote access". */
const LEADS = Object.keys(REASON_LEADS_NB).sort((a, b) => b.length - a.length);

/** A reason with its lead-in (and ending) in bokmål; a reason with no known lead-in is returned as it is. */
export function reasonInBokmal(fact: string): string {
  let rest = fact;
  let end = '';
  if (rest.endsWith(RANKS_HIGHEST)) {
    end = RANKS_HIGHEST_NB;
    rest = rest.slice(0, -RANKS_HIGHEST.length);
  }
  const lead = LEADS.find((l) => rest.startsWith(l));
  if (lead !== undefined) rest = REASON_LEADS_NB[lead] + rest.slice(lead.length);
  return rest + end;
}
