import { finding, isExternal, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

export const retiredDeviceSeen = defineRule({
  id: 'retired-device-seen',
  title: { nb: 'Utfaset enhet er på nettet igjen', en: 'Retired device seen on the network again' },
  recommendation: {
    nb: 'En enhet som policyen oppgir som utfaset (retired_devices), er på nettet igjen. MU-veilederen peker på at helse- og personopplysninger kan komme på avveie når utstyr avhendes eller fases ut, og at virksomheten må ha rutiner for sikker sletting; etter IEC 80001, slik veilederen beskriver den, skal dessuten en endring i det medisinske IT-nettet ha en endringsforespørsel og risikovurderes. Finn ut hvorfor enheten er tilbake, og om opplysningene på den er slettet.',
    en: 'A device the policy lists as retired (retired_devices) is on the network again. The MU guide points out that health and personal data can go astray when equipment is disposed of or phased out, and that the organisation must have routines for secure deletion; under IEC 80001, as the guide describes it, a change to the medical IT network shall moreover have a change request and a risk assessment. Find out why the device is back, and whether the data on it was deleted.',
  },
  severity: 'medium',
  guide_refs: ['MU 4.3', 'MU 5.2.2'],
  requirements: ['G15'],
  events: ['flow'],
  create: (ctx) => (e): RuleFinding | null => {
    if (!ctx.policy.hasRetiredDevices) return null;
    const at = new Date(e.ts);
    const f = e.flow;
    for (const [role, mac, ip] of [
      ['client', e.client_mac, f.src_ip],
      ['server', e.server_mac, f.dst_ip],
    ] as const) {
      const retired = ctx.policy.retiredDevice(mac, ip, at);
      if (retired) return finding(e, zonesOf(ctx, e), { retired_device: retired.name, matched_by: retired.by, role });
    }
    return null;
  },
});

export const vendorAccessAfterContractEnd = defineRule({
  id: 'vendor-access-after-contract-end',
  title: { nb: 'Leverandørtilgang etter at avtalen er slutt', en: 'Vendor access after the agreement has ended' },
  recommendation: {
    nb: 'En fjerntilgangsøkt kommer fra adressene til en leverandør etter sluttdatoen policyen oppgir for avtalen (contract_end). MU-veilederen sier at det skal foreligge skriftlig avtale med leverandøren ved fjernsupport, og at bare forhåndsgodkjent trafikk slippes inn; en leverandør som behandler helse- og personopplysninger for virksomheten, er databehandler, og da må det være databehandleravtale. Steng tilgangen, eller oppdater policyen hvis avtalen er forlenget.',
    en: 'A remote-access session comes from a vendor’s addresses after the end date the policy gives for the agreement (contract_end). The MU guide says remote support shall rest on a written agreement with the vendor, and that only pre-approved traffic is let in; a vendor that processes health and personal data for the organisation is a data processor, and a data-processing agreement must then be in place. Close the access, or update the policy if the agreement was extended.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'MU 3.8'],
  requirements: ['G8'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!isExternal(z.src)) return null;
    const vendor = ctx.policy.vendorOf(e.flow.src_ip, new Date(e.ts));
    if (vendor?.contractEnded === undefined) return null;
    return finding(e, z, { protocol: e.protocol, vendor: vendor.name, contract_end: vendor.contractEnded, time_zone: ctx.policy.timeZone });
  },
});

export const lifecycleRules: Rule[] = [retiredDeviceSeen, vendorAccessAfterContractEnd];
