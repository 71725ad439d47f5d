/**
 * Every reference to Normen's guides that muvakt prints (rule `guide_refs`, the inventory's
 * exposure reasons and usage scenario, the evidence bundle), with what the section asks for in
 * the project's own words and how strongly the guide words it. The dashboard and the docs
 * (docs/guide-references.md, rendered from this table) read it; a test fails on any reference
 * the code uses that is not here.
 *
 * Checked against the guides themselves, not against GUIDE-MAP: the MU annex lists 22 examples
 * of unwanted events, and #15 is about *wireless* communication, which a wired SPAN port cannot
 * see, so no rule cites it.
 */
import type { Bilingual } from './engine/types.js';

export type GuideId = 'MU' | 'LEV';

export const GUIDES: Readonly<Record<GuideId, { title: string; version: string; published: string; en: string }>> = {
  MU: { title: 'Personvern og informasjonssikkerhet – medisinsk utstyr', version: '2.0', published: '2021-06', en: 'Privacy and information security – medical devices (Normen)' },
  LEV: { title: 'Informasjonssikkerhet og personvern for leverandører til helse- og omsorgssektoren', version: '1.0', published: '2023-06', en: 'Information security and privacy for suppliers to the health and care sector (Normen)' },
};

/**
 * How the guide words what the project relies on: skal (shall), må (must), kreves (is
 * required), bør (should), anbefales (is recommended), or beskriver (describes a threat, an
 * unwanted event or possible measures without an obligation).
 */
export type Wording = 'skal' | 'må' | 'kreves' | 'bør' | 'anbefales' | 'beskriver';

export interface GuideReference {
  /** As printed: `MU 4.7`, `MU 5.1.2 #4` (item 4 of 5.1.2), `MU annex #3` (the annex's list of unwanted events), `LEV 6.4`. */
  ref: string;
  guide: GuideId;
  /** The section's heading in the guide, and in English. */
  heading: Bilingual;
  wording: readonly Wording[];
  /** What the section asks for, in the project's words (no guide sentence copied). */
  requires: Bilingual;
}

const annex = (n: number, nb: string, en: string): GuideReference => ({
  ref: `MU annex #${n}`,
  guide: 'MU',
  heading: { nb: `Vedlegg, uønsket hendelse nr. ${n}`, en: `Annex, unwanted event no. ${n}` },
  wording: ['beskriver'],
  requires: { nb: `Uønsket hendelse til bruk i risikovurderingen: ${nb}`, en: `Unwanted event for use in the risk assessment: ${en}` },
});

export const GUIDE_REFERENCES: readonly GuideReference[] = [
  {
    ref: 'MU 1.1',
    guide: 'MU',
    heading: { nb: 'Bakgrunn', en: 'Background' },
    wording: ['beskriver'],
    requires: {
      nb: 'Beskriver trusselen: nettverkstilkoblet medisinsk utstyr kan bli satt ut av spill av digitale angrep, noe som er særlig alvorlig for livsviktig utstyr, og kan bli et springbrett videre inn i infrastrukturen. Stiller ikke krav i seg selv.',
      en: 'Describes the threat: networked medical devices can be put out of action by digital attacks, most seriously life-critical ones, and can become a foothold into the wider infrastructure. Sets no requirement itself.',
    },
  },
  {
    ref: 'MU 3.1',
    guide: 'MU',
    heading: { nb: 'Inkludering av MU i styringssystem for informasjonssikkerhet', en: 'Medical devices in the information security management system' },
    wording: ['skal', 'bør'],
    requires: {
      nb: 'Medisinsk utstyr skal med i styringssystemet, også i avviksbehandlingen: brudd på informasjonssikkerheten behandles som avvik, og et brudd som har gitt middels eller høy risiko for de registrerte, skal meldes til Datatilsynet innen 72 timer.',
      en: 'Medical devices belong in the management system, including deviation handling: a security breach is handled as a deviation, and one that caused medium or high risk to the data subjects shall be reported to the Norwegian Data Protection Authority within 72 hours.',
    },
  },
  {
    ref: 'MU 3.7',
    guide: 'MU',
    heading: { nb: 'Virksomhetens ansvar for informasjonssikkerhet når medisinsk utstyr tas i bruk', en: 'The organisation’s responsibility when a medical device is put into use' },
    wording: ['bør'],
    requires: {
      nb: 'Virksomheten bør følge produsentens sikkerhetsanvisninger, blant annet holde utstyret unna internett når bruken ikke krever det, og bør sørge for at sikkerheten holdes ved like i drift. Ved mistanke om en sikkerhetshendelse varsles produsenten straks.',
      en: 'The organisation should follow the manufacturer’s security instructions, among them keeping the device off the internet when its use does not need it, and should keep security up during operation. A suspected security incident is reported to the manufacturer at once.',
    },
  },
  {
    ref: 'MU 3.8',
    guide: 'MU',
    heading: { nb: 'Leverandører og databehandlere', en: 'Suppliers and data processors' },
    wording: ['må'],
    requires: {
      nb: 'En leverandør som behandler helse- og personopplysninger for virksomheten (for eksempel gjennom fjernovervåking eller fjernsupport), er databehandler, og da må det inngås databehandleravtale.',
      en: 'A supplier that processes health and personal data for the organisation (through remote monitoring or remote support, for example) is a data processor, and a data-processing agreement must then be made.',
    },
  },
  {
    ref: 'MU 4.3',
    guide: 'MU',
    heading: { nb: 'Sikkerhetstiltak ved datalagring', en: 'Security measures for data storage' },
    wording: ['bør', 'må'],
    requires: {
      nb: 'Om lagring: pseudonymiserte data og sletting av opplysninger som ikke lenger trengs bør vurderes, og behovet for sikkerhetskopi må klarlegges. Helse- og personopplysninger kan komme på avveie når utstyr avhendes eller fases ut, så virksomheten må ha rutiner for sikker sletting.',
      en: 'On storage: pseudonymised data and deleting data no longer needed should be considered, and the need for backups must be settled. Health and personal data can go astray when equipment is disposed of or phased out, so the organisation must have routines for secure deletion.',
    },
  },
  {
    ref: 'MU 4.4',
    guide: 'MU',
    heading: { nb: 'Tilgangsstyring', en: 'Access control' },
    wording: ['skal', 'bør', 'anbefales'],
    requires: {
      nb: 'Autentiseringen skal sikre at rett person får tilgang, og må være sterk nok. Sterke passord bør brukes, hardkodede passord bør som et minimum unngås, og administratorrettigheter bør begrenses. Ekstern pålogging krever sterkere autentisering; FDA-tiltakene veilederen gjengir, anbefaler sterkere autentisering og vern av passord for privilegert tilgang.',
      en: 'Authentication shall make sure the right person gets access, and must be strong enough. Strong passwords should be used, hard-coded passwords should at the least be avoided, and administrator rights should be limited. External login needs stronger authentication; the FDA measures the guide cites recommend stronger authentication and protected passwords for privileged access.',
    },
  },
  {
    ref: 'MU 4.5',
    guide: 'MU',
    heading: { nb: 'Hendelsesregistrering', en: 'Event logging' },
    wording: ['skal'],
    requires: {
      nb: 'Hendelsesregisteret viser hvem som har hatt tilgang til helse- og personopplysninger; pasienten har rett til innsyn i det, og virksomheten skal selv bruke det aktivt for å avdekke uautorisert tilgang. Forutsetter individuell pålogging.',
      en: 'The event log shows who has had access to health and personal data; the patient may see it, and the organisation shall use it actively to uncover unauthorised access. It presupposes individual login.',
    },
  },
  {
    ref: 'MU 4.6',
    guide: 'MU',
    heading: { nb: 'Nettverkssikkerhet og tiltak mot skadelig kode', en: 'Network security and measures against malicious code' },
    wording: ['må', 'skal'],
    requires: {
      nb: 'Der digitale angrep er et mulig scenario, må utstyret sikres mot skadelig kode; blant tiltakene som nevnes er å segmentere MU i egne nett der trafikken inn og ut begrenses og kontrolleres, og trafikkfiltrering. Virksomheten må ha faste rutiner som sørger for at operativsystemer, applikasjoner og fastvare i driftsmiljøet, og det medisinske utstyret, får sikkerhetsoppdateringer jevnlig og i tide. Oversikt over konfigurasjon og dataflyt er nødvendig. Kommunikasjon over eksterne nett virksomheten ikke selv kontrollerer, skal krypteres; kravet gjelder ikke trafikk inne i virksomhetens egne nett.',
      en: 'Where digital attacks are a possible scenario, the device must be protected against malicious code; the measures named include segmenting medical devices on dedicated networks with traffic in and out limited and controlled, and traffic filtering. The organisation must have routines so that security updates for the operating environment (operating systems, applications, firmware) and for medical devices are applied regularly and in time. An overview of configuration and data flows is needed. Communication over external networks the organisation does not control shall be encrypted; this does not cover traffic inside the organisation’s own networks.',
    },
  },
  {
    ref: 'MU 4.7',
    guide: 'MU',
    heading: { nb: 'Fjernsupport', en: 'Remote support' },
    wording: ['bør', 'skal', 'anbefales'],
    requires: {
      nb: 'Gjelder leverandørens fjernsupport, ikke trafikk generelt. Kravene innledes med at de bør legges til grunn; innenfor dem skal det foreligge skriftlig avtale med leverandøren, den ytre termineringen bør gå gjennom brannmur i en egen DMZ-sone for fjernaksess, bare trafikk som er godkjent og definert på forhånd slippes inn, autentisering med høyt sikkerhetsnivå anbefales, all kommunikasjon (kablet eller trådløs) skal krypteres (fotnoten viser til NSMs kryptografiske anbefalinger), og det skal være hendelsesregistrering. Flytter leverandøren helse- og personopplysninger til seg, skal det skje etter databehandleravtale.',
      en: 'Concerns the supplier’s remote support, not traffic in general. The requirements are introduced as ones that should be applied; within them, a written agreement with the supplier shall exist, the outer termination should pass a firewall into a dedicated DMZ for remote access, only traffic approved and defined in advance is let in, high-assurance authentication is recommended, all communication (wired or wireless) shall be encrypted (the footnote points to NSM’s cryptographic recommendations), and event logging shall be in place. If the supplier moves health and personal data to itself, that shall follow a data-processing agreement.',
    },
  },
  {
    ref: 'MU 4.8',
    guide: 'MU',
    heading: { nb: 'Skytjenester', en: 'Cloud services' },
    wording: ['kreves'],
    requires: {
      nb: 'Lagres helse- og personopplysninger i en skytjeneste, er skyleverandøren databehandler, og det kreves databehandleravtale.',
      en: 'If health and personal data are stored in a cloud service, the cloud provider is a data processor and a data-processing agreement is required.',
    },
  },
  {
    ref: 'MU 4.9.1',
    guide: 'MU',
    heading: { nb: 'Utlevering av helseopplysninger til utlandet', en: 'Disclosure of health data abroad' },
    wording: ['skal'],
    requires: {
      nb: 'Overføring til land i EU/EØS er tillatt. Overføres personopplysninger til land utenfor EU/EØS, skal virksomheten bruke et overføringsgrunnlag i personvernforordningen artikkel 46.',
      en: 'Transfers within the EU/EEA are allowed. Personal data transferred to countries outside the EU/EEA shall rest on a transfer basis under GDPR Article 46.',
    },
  },
  {
    ref: 'MU 5.1',
    guide: 'MU',
    heading: { nb: 'Bruksscenarioer og egenskaper av sikkerhetsmessig betydning', en: 'Usage scenarios and security-relevant properties' },
    wording: ['beskriver'],
    requires: {
      nb: 'Utstyr plasseres i et bruksscenario og beskrives med egenskaper av sikkerhetsmessig betydning (helse- og personopplysninger, visning, utskrift, lagring, nettverk, integrasjoner, fjerntilgang, skytjenester, konfigurasjonskontroll) som utgangspunkt for risikovurderingen.',
      en: 'A device is placed in a usage scenario and described by security-relevant properties (health and personal data, display, print, storage, network, integrations, remote access, cloud, configuration control) as the starting point for the risk assessment.',
    },
  },
  {
    ref: 'MU 5.1.1',
    guide: 'MU',
    heading: { nb: 'Nærmere beskrivelse av bruksscenarier', en: 'The usage scenarios' },
    wording: ['beskriver'],
    requires: {
      nb: 'Fem bruksscenarier, fra utstyr som ikke behandler informasjon (1) til tjenester pasienten selv tar i bruk hos produsenten (5).',
      en: 'Five usage scenarios, from devices that process no information (1) to services the patient takes up directly with the manufacturer (5).',
    },
  },
  {
    ref: 'MU 5.1.1 Bruksscenario 3',
    guide: 'MU',
    heading: { nb: 'Bruksscenario 3: Medisinsk utstyr tilknyttet nettverk', en: 'Usage scenario 3: networked medical devices' },
    wording: ['beskriver'],
    requires: {
      nb: 'Utstyr som overfører data i lokale eller eksterne nett, også teknisk overvåking og trådløs overføring; trusler og tiltak følger av egenskapene i 5.1.2.',
      en: 'Devices that transfer data over local or external networks, including technical monitoring and wireless transfer; threats and measures follow from the properties in 5.1.2.',
    },
  },
  {
    ref: 'MU 5.1.1 Bruksscenario 4',
    guide: 'MU',
    heading: { nb: 'Bruksscenario 4: Behandlingshjelpemidler', en: 'Usage scenario 4: treatment aids' },
    wording: ['beskriver'],
    requires: {
      nb: 'Utstyr hos pasienten, for eksempel hjemme, som sender data til virksomheten; trusselbildet omfatter angrep som gjør utstyret utilgjengelig eller til et springbrett.',
      en: 'Equipment with the patient, at home for example, that sends data to the organisation; the threats include attacks that make it unavailable or a foothold.',
    },
  },
  {
    ref: 'MU 5.1.2 #4',
    guide: 'MU',
    heading: { nb: 'Egenskap 4: Nettverkstilknytning', en: 'Property 4: network connection' },
    wording: ['beskriver'],
    requires: {
      nb: 'Trusler ved nettverkstilkobling: angrep som gjør utstyret utilgjengelig eller til et springbrett, nedetid i nettet, manglende kryptering av trådløs kommunikasjon og manglende sikkerhetsoppdateringer. Mulige tiltak er blant annet nettverkssikkerhet, sikkerhetsoppdateringer, bytte av administratorpassord og kryptering av trafikk.',
      en: 'Threats of a network connection: attacks that make the device unavailable or a foothold, network downtime, unencrypted wireless communication and missing security updates. Possible measures include network security, security updates, changing administrator passwords and encrypting traffic.',
    },
  },
  {
    ref: 'MU 5.1.2 #5',
    guide: 'MU',
    heading: { nb: 'Egenskap 5: Integrasjoner', en: 'Property 5: integrations' },
    wording: ['beskriver'],
    requires: {
      nb: 'Trussel: misbruk av integrasjonsgrensesnitt (mot for eksempel PACS eller EPJ) til uautorisert tilgang til eller endring av opplysninger, eller til å sette utstyret ut av drift. Mulige tiltak: penetrasjonstest, herding av grensesnittet og sikring av API.',
      en: 'Threat: misuse of integration interfaces (to PACS or the EHR, for example) for unauthorised access to or change of data, or to put the device out of service. Possible measures: penetration testing, hardening the interface and securing the API.',
    },
  },
  {
    ref: 'MU 5.1.2 #6',
    guide: 'MU',
    heading: { nb: 'Egenskap 6: Fjerntilgang', en: 'Property 6: remote access' },
    wording: ['beskriver'],
    requires: {
      nb: 'Leverandørens fjerntilgang for driftsovervåking, feilretting og brukerstøtte. Trusler: uautorisert eksponering av helse- og personopplysninger hos leverandøren, utilsiktet lagring av dem i tekniske logger, og ikke-planlagt nedetid. Mulige tiltak: kontroll på hvilke data som havner i tekniske logger, sikring av loggene og sikring av leverandørtilgangen.',
      en: 'The supplier’s remote access for monitoring, fault finding and user support. Threats: unauthorised exposure of health and personal data at the supplier, their unintended storage in technical logs, and unplanned downtime. Possible measures: control of what data reach technical logs, protecting the logs, and securing supplier access.',
    },
  },
  {
    ref: 'MU 5.1.2 #8',
    guide: 'MU',
    heading: { nb: 'Egenskap 8: Konfigurasjonskontroll', en: 'Property 8: configuration control' },
    wording: ['skal', 'beskriver'],
    requires: {
      nb: 'Konfigurasjonen skal sørge for at utstyret bare gjør det det er ment for; hvem som har konfigurasjonskontrollen (virksomheten, leverandøren eller begge), reguleres i avtale.',
      en: 'The configuration shall make the device do only what it is meant for; who holds configuration control (the organisation, the supplier or both) is settled by agreement.',
    },
  },
  {
    ref: 'MU 5.2.1',
    guide: 'MU',
    heading: { nb: 'Risikostyring', en: 'Risk management' },
    wording: ['skal'],
    requires: {
      nb: 'Virksomheter som forvalter medisinsk utstyr, har plikt til å ha oversikt over det. Oversikten brukes til en grovsortering etter eksponering: utstyr med pasientidentifiserbare data, nettverkstilkobling og leverandørtilgang over VPN er mest utsatt, utstyr uten nettverk minst.',
      en: 'Organisations that manage medical devices are obliged to keep an overview of them. The overview is used to rank exposure roughly: devices with patient-identifiable data, a network connection and supplier VPN access are the most exposed, devices without a network the least.',
    },
  },
  {
    ref: 'MU 5.2.2',
    guide: 'MU',
    heading: { nb: 'Kort om IEC 80001', en: 'IEC 80001 in brief' },
    wording: ['skal'],
    requires: {
      nb: 'Slik veilederen beskriver standarden: hver endring i det medisinske IT-nettet, for eksempel tilkobling av nytt utstyr, skal ha en endringsforespørsel og risikovurderes før den gjennomføres, og følges deretter opp med overvåking og hendelseshåndtering.',
      en: 'As the guide describes the standard: every change to the medical IT network, connecting a new device for example, shall have a change request and be risk-assessed before it is made, and is then followed up by monitoring and incident management.',
    },
  },
  annex(3, 'utstyr uten passord eller med felles passord.', 'equipment without passwords or with shared passwords.'),
  annex(6, 'manglende tilgangskontroll til utstyr, system eller lagringsområde med helse- og personopplysninger, slik at personell uten tjenstlig behov har tilgang.', 'missing access control to equipment, a system or a storage area with health and personal data, so that staff without a need of service have access.'),
  annex(7, 'utstyr, system eller lagringsområde med helse- og personopplysninger mangler hendelsesregistrering.', 'equipment, a system or a storage area holding health and personal data has no event logging.'),
  annex(9, 'helse- og personopplysninger fra utstyret kommer ikke med i sikkerhetskopien.', 'health and personal data from the equipment are left out of the backup.'),
  annex(10, 'utstyret er utilgjengelig ved lokale systemfeil.', 'equipment unavailable after a local system failure.'),
  annex(11, 'utstyret er utilgjengelig ved nedetid i sentral infrastruktur.', 'equipment unavailable while central infrastructure is down.'),
  annex(13, 'digitale angrep (virus eller skadelig kode via minnepinne eller nett) gjør utstyret utilgjengelig.', 'digital attacks (viruses or malicious code by USB stick or network) make the equipment unavailable.'),
  annex(14, 'angrep gjør utstyret til et springbrett videre inn i infrastrukturen.', 'attacks make the equipment a foothold further into the infrastructure.'),
  annex(16, 'utilsiktet lagring av helse- og personopplysninger hos leverandøren ved fjernaksess for support.', 'unintended storage of health and personal data at the supplier during remote support.'),
  annex(17, 'utilsiktet lagring av helse- og personopplysninger i tekniske logger.', 'unintended storage of health and personal data in technical logs.'),
  annex(21, 'utlevering av personopplysninger til land utenfor EU/EØS.', 'disclosure of personal data outside the EU/EEA.'),
  {
    ref: 'LEV 5.2',
    guide: 'LEV',
    heading: { nb: 'Protokoll', en: 'Record of processing' },
    wording: ['skal'],
    requires: {
      nb: 'Kunde og leverandør skal føre protokoll over behandlingen av helse- og personopplysninger, og har plikt til å holde oversikt over IKT-systemer, infrastruktur og digitale tjenester som har betydning for informasjonssikkerheten.',
      en: 'Customer and supplier shall keep a record of the processing of health and personal data, and must keep an overview of the ICT systems, infrastructure and digital services that matter for information security.',
    },
  },
  {
    ref: 'LEV 6.2',
    guide: 'LEV',
    heading: { nb: 'Løsninger som benytter skytjenester', en: 'Solutions that use cloud services' },
    wording: ['skal'],
    requires: {
      nb: 'Ved bruk av skytjenester skal den dataansvarlige gjøre dekkende risikovurderinger, og leverandøren skal kunne fortelle kunden hvor dataene lagres og fra hvilke land det gis tilgang til dem.',
      en: 'With cloud services the controller shall make adequate risk assessments, and the supplier shall be able to tell the customer where the data are stored and from which countries they are accessed.',
    },
  },
  {
    ref: 'LEV 6.3',
    guide: 'LEV',
    heading: { nb: 'Særlig om systemer som behandler helse- og personopplysninger', en: 'Systems that process health and personal data' },
    wording: ['skal', 'anbefales'],
    requires: {
      nb: 'Tilgang til helseopplysninger skal logges; det anbefales å gjøre loggene tilgjengelige for kundens logganalyseverktøy og å integrere mot kundens IAM-løsning. Logger skal slettes når det ikke lenger er bruk for dem.',
      en: 'Access to health data shall be logged; making the logs available to the customer’s log analysis tools and integrating with the customer’s IAM are recommended. Logs shall be deleted once they are no longer needed.',
    },
  },
  {
    ref: 'LEV 6.4',
    guide: 'LEV',
    heading: { nb: 'Sikkerhetskrav til programmeringsgrensesnitt', en: 'Security requirements for programming interfaces' },
    wording: ['må', 'bør', 'anbefales'],
    requires: {
      nb: 'Opplysninger som utveksles mellom systemer, også påloggingsopplysninger, er viktige å beskytte mot avlytting og endring underveis, og API-er må beskyttes med pålogging eller andre tiltak mot misbruk. Med henvisning til Normen kapittel 5.3.5 bør all kommunikasjon krypteres, kablet eller trådløs. DICOM har lite innebygd sikkerhet og trenger ofte egne tiltak, særlig over åpne nett. Autentisering og logging på API-er anbefales, og det bør vurderes logging med varsling når en melding ikke kommer fram.',
      en: 'Data exchanged between systems, login details included, matter to protect against eavesdropping and alteration in transit, and APIs must be protected by login or other measures against misuse. Citing Normen chapter 5.3.5, all communication should be encrypted, wired or wireless. DICOM has little built-in security and often needs added measures, above all over open networks. Authentication and logging on APIs are recommended, and logging with an alert when a message does not arrive should be considered.',
    },
  },
  {
    ref: 'LEV 7',
    guide: 'LEV',
    heading: { nb: 'Anbefalte tiltak ved etablering av nye systemer og oppgradering/migrering', en: 'Recommended measures for new systems and upgrades/migrations' },
    wording: ['bør', 'beskriver'],
    requires: {
      nb: 'Systemer bør kunne oppdateres på en sikker og kontrollert måte; der de ikke kan det og har kjente sårbarheter, er det viktig med andre sikkerhetstiltak, for eksempel segmentering av nettet og herding. Resten av kapitlet gjelder innføring og konvertering.',
      en: 'Systems should be updatable in a safe and controlled way; where they cannot be and have known vulnerabilities, other security measures matter, such as network segmentation and hardening. The rest of the chapter is about roll-out and conversion.',
    },
  },
  {
    ref: 'LEV 8',
    guide: 'LEV',
    heading: { nb: 'Lokalt installert programvare/systemer hos kunden', en: 'Software and systems installed at the customer' },
    wording: ['bør', 'skal'],
    requires: {
      nb: 'Lokalt installerte systemer, medisinsk utstyr medregnet, har ofte utdaterte operativsystemer. Leverandører bør tilby løsninger som kan oppdateres og holde dem oppdatert; Normen krever robuste systemer, og brannmur, segmentering av nettet og antivirus nevnes som typiske tiltak.',
      en: 'Locally installed systems, medical devices included, often run outdated operating systems. Suppliers should offer updatable solutions and keep them updated; Normen requires robust systems, and firewalls, network segmentation and antivirus are named as typical measures.',
    },
  },
  {
    ref: 'LEV 10.1',
    guide: 'LEV',
    heading: { nb: 'Fjernaksess', en: 'Remote access' },
    wording: ['bør', 'beskriver'],
    requires: {
      nb: 'Beskriver leverandørers fjernaksess, call-home-funksjoner (for eksempel CT, MR og PET som sender teknisk status til produsenten) og automatisk henting av oppdateringer; fjernaksessløsninger bør tas med i risikovurderingen. Sier ikke noe om kryptering.',
      en: 'Describes supplier remote access, call-home functions (CT, MR and PET sending technical status to the manufacturer, for example) and automatic fetching of updates; remote-access solutions should be part of the risk assessment. Says nothing about encryption.',
    },
  },
];

/**
 * Rules that cite no guide section, and why. Only rules about the sensor's own input belong
 * here: a rule that judges the network always cites the section that asks for it.
 */
export const RULES_WITHOUT_GUIDE_REFERENCE: Readonly<Record<string, Bilingual>> = {
  'capture-truncated': {
    nb: 'Gjelder sensorens egne opptaksfiler, ikke nettet den overvåker; ingen del av veilederne sier noe om dette.',
    en: 'Concerns the sensor’s own capture files, not the network it watches; no part of the guides speaks to it.',
  },
};

const BY_REF = new Map(GUIDE_REFERENCES.map((g) => [g.ref, g]));

export function guideReference(ref: string): GuideReference | undefined {
  return BY_REF.get(ref);
}

/** The references in a printed list such as an exposure reason's `"MU 5.1, MU 5.2.1"`. */
export function splitGuideRefs(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Anything in text that looks like a reference to the guides (for checks over code and docs). */
export const GUIDE_REF_IN_TEXT = /\b(?:MU|LEV) (?:annex #\d+|\d{1,2}(?:\.\d+)*(?: #\d+| Bruksscenario \d)?)(?![\d/]|\.\d)/g;
