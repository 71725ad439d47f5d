/**
 * The inventory's texts in bokmål. The inventory writes and stores them in English (the API's
 * contract); each is translated here, beside its English, when a bokmål document is rendered:
 * the evidence bundle, and the device record the workbench asks for with
 * `GET /api/v1/assets/:id?lang=nb` (the browser bundle imports nothing from agent/, so this is
 * the one table of these texts).
 *
 * Exposure reasons: the rank (classification.ts) writes each as a lead-in and a detail
 * ("handles patient-identifiable data: patient identifiers observed in …"). The lead-ins are
 * translated by the table below; a detail that is itself a property fact is translated as one.
 *
 * Role, property and scenario facts: `FACT_TEXTS_NB`, one pattern per text, the device's own
 * detail in it (addresses, AE titles, protocols, counts) carried over as seen.
 */

/** The languages the inventory's documents are rendered in. */
export type Language = 'nb' | 'en';

const REASON_LEADS_NB: Readonly<Record<string, string>> = {
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

/** The alert categories of the rank (`ALERT_WEIGHTS` in classification.ts), after "open alerts, ". */
export const ALERT_CATEGORIES_NB: Readonly<Record<string, string>> = {
  'cleartext PHI': 'helse- og personopplysninger i klartekst',
  'cleartext credentials': 'pålogging i klartekst',
  'weak TLS': 'svak TLS',
  'obsolete or unencrypted protocol': 'foreldet eller ukryptert protokoll',
};

/**
 * A reason with its lead-in (and ending) in bokmål, and its detail when that is a known fact;
 * a reason with no known lead-in is returned as it is.
 */
export function reasonInBokmal(fact: string): string {
  let rest = fact;
  let end = '';
  if (rest.endsWith(RANKS_HIGHEST)) {
    end = RANKS_HIGHEST_NB;
    rest = rest.slice(0, -RANKS_HIGHEST.length);
  }
  const lead = LEADS.find((l) => rest.startsWith(l));
  if (lead !== undefined) rest = REASON_LEADS_NB[lead] + detailInBokmal(lead, rest.slice(lead.length));
  return rest + end;
}

function detailInBokmal(lead: string, detail: string): string {
  if (lead === 'open alerts') {
    const m = /^, (.*?): /.exec(detail);
    const nb = m ? ALERT_CATEGORIES_NB[m[1]] : undefined;
    return m && nb !== undefined ? `, ${nb}: ${detail.slice(m[0].length)}` : detail;
  }
  if (lead === 'software past its end of support') return detail.replace(/ \(ended (\d{4}-\d{2}-\d{2})\)/g, ' (støtte sluttet $1)');
  if (!detail.startsWith(': ')) return detail;
  const nb = factInBokmal(detail.slice(2));
  return nb === null ? detail : `: ${nb}`;
}

/** A count with its bokmål noun in the right number. */
const count = (n: string, one: string, many: string): string => `${n} ${n === '1' ? one : many}`;

/**
 * The facts behind roles (roles.ts), properties and usage scenarios (classification.ts) in
 * bokmål: each English text as the inventory writes it, beside its bokmål. The parts in
 * parentheses of the pattern are the device's own detail (addresses, AE titles, protocols,
 * counts) and are carried over as seen. Keep a pattern beside every text those modules write.
 */
export const FACT_TEXTS_NB: readonly (readonly [RegExp, (...m: string[]) => string])[] = [
  // roles
  [/^sends its own images with C-STORE: (Modality .*)$/, (ids) => `sender egne bilder med C-STORE: ${ids}`],
  [/^queries the modality worklist \((\d+) MWL C-FINDs?\)(.*)$/, (n, aes) => `spør arbeidslisten for modaliteter (${n} MWL C-FIND)${aes}`],
  [/^sends C-STORE as the association requester \((\d+) requests?\)(.*)$/, (n, aes) => `sender C-STORE og åpner selv assosiasjonen (${count(n, 'forespørsel', 'forespørsler')})${aes}`],
  [/^answers C-STORE \((\d+) requests?\)(.*)$/, (n, aes) => `svarer på C-STORE (${count(n, 'forespørsel', 'forespørsler')})${aes}`],
  [/^answers query\/retrieve \((C-FIND \d+, C-MOVE \d+, C-GET \d+)\)(.*)$/, (ops, aes) => `svarer på søk og henting (${ops})${aes}`],
  [/^answers modality worklist queries \((\d+) MWL C-FINDs?\)(.*)$/, (n, aes) => `svarer på søk i arbeidslisten for modaliteter (${n} MWL C-FIND)${aes}`],
  [
    /^receives (\d+) HL7 messages?(?: addressed to (.*?))?(?: and acknowledges them \((\d+) ACKs?\))?$/,
    (n, to, acks) => `mottar ${count(n, 'HL7-melding', 'HL7-meldinger')}${to ? ` adressert til ${to}` : ''}${acks ? ` og kvitterer for dem (${acks} ACK)` : ''}`,
  ],
  [/^sends (\d+) HL7 messages?(?: as (.*?))?(?: \((.*)\))?$/, (n, as, types) => `sender ${count(n, 'HL7-melding', 'HL7-meldinger')}${as ? ` som ${as}` : ''}${types ? ` (${types})` : ''}`],
  [/^queries\/retrieves from an archive \((C-FIND \d+, C-MOVE \d+, C-GET \d+)\)(.*)$/, (ops, aes) => `søker i og henter fra et arkiv (${ops})${aes}`],
  [/^receives images it retrieved \((\d+) C-STORE sub-operations?\)$/, (n) => `mottar bilder den selv har hentet (${count(n, 'C-STORE-deloperasjon', 'C-STORE-deloperasjoner')})`],
  [/^offers remote desktop \((.*?)\) to (.*?)( \(external\))?$/, (proto, peer, ext) => `tilbyr fjernskrivebord (${proto}) til ${peer}${ext ? ' (ekstern)' : ''}`],
  [/^administers (\S+) over (\S+)$/, (peer, proto) => `administrerer ${peer} over ${proto}`],
  [/^remote access \((.*?)\) into (\S+) \(zone (.*)\)$/, (proto, peer, zone) => `fjerntilgang (${proto}) inn til ${peer} (sone ${zone})`],
  [/^contacted by (\S+) \(zone (.*)\) over (\S+): call-home$/, (ip, zone, app) => `kontaktet av ${ip} (sone ${zone}) over ${app}: ringer hjem til leverandør`],
  [/^receives patient data \((.*)\)$/, (protocols) => `mottar pasientdata (${protocols})`],
  [/^serves (\S+) \((.*)\)$/, (app, port) => `tilbyr ${app} (${port})`],
  [/^routes for many addresses \(its MAC is seen with many IPs\): router\/gateway$/, () => 'ruter for mange adresser (MAC-adressen er sett med mange IP-adresser): ruter/gateway'],
  [/^carries the frames of hosts of other networks or zones: router\/gateway$/, () => 'videresender rammer for maskiner i andre nett eller soner: ruter/gateway'],
  [/^no DICOM, HL7, remote-access or infrastructure service seen$/, () => 'ingen DICOM-, HL7-, fjerntilgangs- eller infrastrukturtjeneste sett'],
  // properties
  [/^not visible on the network$/, () => 'ikke synlig på nettet'],
  [/^patient identifiers observed in (.*) \((\d+) sent, (\d+) received\)$/, (protocols, sent, received) => `pasientidentifikatorer observert i ${protocols} (${sent} sendt, ${received} mottatt)`],
  [/^DICOM with patient fields: (.*)$/, (fields) => `DICOM med pasientfelt: ${fields}`],
  [/^HL7 with patient fields: (.*)$/, (fields) => `HL7 med pasientfelt: ${fields}`],
  [/^(dicom|dicom-tls|dicomweb|hl7) with (.*)$/, (app, peers) => `${app} med ${peers}`],
  [/^DICOM AE (.*)$/, (aes) => `DICOM AE-titler ${aes}`],
  [/^HL7 application (.*)$/, (apps) => `HL7-applikasjon ${apps}`],
  [
    // \u00d7 for ×: the CLI bundle is read as latin1, and esbuild leaves regular expressions unescaped.
    /^(\S+) from (\S+) \((?:(external)|zone (.*)), (encrypted|unencrypted)\), (\d+)\u00d7$/,
    (proto, peer, ext, zone, enc, n) => `${proto} fra ${peer} (${ext ? 'ekstern' : `sone ${zone}`}, ${enc === 'encrypted' ? 'kryptert' : 'ukryptert'}), ${n}×`,
  ],
  [/^(to|from) (\S+)( \(\w+\))? over (.*)$/, (dir, ip, country, apps) => `${dir === 'to' ? 'til' : 'fra'} ${ip}${country ?? ''} over ${apps}`],
  [/^names contacted: (.*)$/, (names) => `kontaktede navn: ${names}`],
  [/^(declared vendor|external party) (\S+) has (\S+) access$/, (who, peer, proto) => `${who === 'declared vendor' ? 'leverandør oppført i policyen' : 'ekstern part'} ${peer} har ${proto}-tilgang`],
  [/^seen on the network at (.*?)(?: \(zone (.*)\))?$/, (ips, zone) => `sett på nettet som ${ips}${zone ? ` (sone ${zone})` : ''}`],
  // usage scenarios
  [/^transfers data over external networks$/, () => 'overfører data over eksterne nett'],
  [/^external address delivering health data into the site \(equipment with the patient\?\)$/, () => 'ekstern adresse som leverer helsedata inn til virksomheten (utstyr hos pasienten?)'],
  [/^external address without health data delivered to the site$/, () => 'ekstern adresse som ikke leverer helsedata til virksomheten'],
  [/^not site equipment$/, () => 'ikke virksomhetens utstyr'],
];

/** A role, property or scenario fact in bokmål; null when no pattern knows it. */
export function factInBokmal(fact: string): string | null {
  for (const [en, nb] of FACT_TEXTS_NB) {
    const m = en.exec(fact);
    if (m) return nb(...m.slice(1).map((x) => x ?? ''));
  }
  return null;
}

/** A role, property or scenario fact in the language asked for: as written when no pattern knows it. */
export function factIn(lang: Language, fact: string): string {
  return lang === 'nb' ? (factInBokmal(fact) ?? fact) : fact;
}

/** The parts of a device record (`DeviceDetail`) that are the inventory's own English texts. */
interface DeviceTexts {
  roles?: readonly { facts: readonly string[] }[];
  properties?: Readonly<Record<string, { facts: readonly string[] }>>;
  scenario?: { number: number | null; name: string; facts: readonly string[] } | null;
  exposure?: { reasons: readonly { fact: string }[] };
}

/**
 * The device record with its role, property and scenario facts and its exposure reasons in
 * bokmål, as the evidence bundle writes them; every other field (the property values, roles and
 * levels, which are codes, and the data seen) as stored, so the record keeps its shape. A part a
 * record of an older sensor lacks stays absent.
 */
export function deviceTextsInBokmal<T extends DeviceTexts>(d: T): T {
  const fact = (f: string): string => factIn('nb', f);
  const out: T = { ...d };
  if (d.roles) out.roles = d.roles.map((r) => ({ ...r, facts: r.facts.map(fact) }));
  if (d.properties) out.properties = Object.fromEntries(Object.entries(d.properties).map(([k, p]) => [k, { ...p, facts: p.facts.map(fact) }]));
  // The guide's own names of scenarios 3 and 4 are bokmål already; "not site equipment" is the inventory's.
  if (d.scenario) out.scenario = { ...d.scenario, name: d.scenario.number === null ? fact(d.scenario.name) : d.scenario.name, facts: d.scenario.facts.map(fact) };
  if (d.exposure) out.exposure = { ...d.exposure, reasons: d.exposure.reasons.map((r) => ({ ...r, fact: reasonInBokmal(r.fact) })) };
  return out;
}
