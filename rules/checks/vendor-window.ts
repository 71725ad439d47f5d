import { finding, isExternal, isMedical, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

/** Vendor sessions held open per jump host, and jump hosts followed, before the oldest is dropped. */
const MAX_JUMP_HOSTS = 1024;
const MAX_SESSIONS_PER_JUMP_HOST = 64;

/**
 * The second leg of a vendor session: from the jump host on to a medical device. The first leg
 * (vendor → jump host) is judged by remote-access-from-external when it starts; a vendor can
 * log in on time and open the session to the device after its window has closed, so the onward
 * session is checked against the window of the vendor whose session to the jump host is still
 * open (its connection has not ended). Windows are read in the site's time zone.
 */
export const vendorOnwardOutsideWindow = defineRule({
  id: 'vendor-onward-session-outside-window',
  title: { nb: 'Leverandørøkt videre fra hoppserver utenfor avtalt tid', en: 'Vendor session onward from a jump host outside its agreed hours' },
  recommendation: {
    nb: 'En leverandør har en åpen økt til hoppserveren, og derfra åpnes en økt til medisinsk utstyr utenfor tiden policyen tillater for leverandøren. Ved fjernsupport slippes bare forhåndsgodkjent trafikk inn. Finn ut om arbeidet var avtalt, og avslutt økten hvis det ikke var det.',
    en: 'A vendor holds an open session to the jump host, and from there a session to a medical device opens outside the hours the policy allows for that vendor. In remote support only pre-approved traffic is let in. Find out whether the work was agreed, and end the session if it was not.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'LEV 10.1'],
  requirements: ['G8'],
  events: ['remote_access', 'flow'],
  create: (ctx) => {
    // jump host → (flow id of the vendor's session to it → the vendor's address)
    const open = new Map<string, Map<string, string>>();
    return (e): RuleFinding | null => {
      const f = e.flow;
      if (e.type === 'flow') {
        // The connection ended: the vendor's session to the jump host is over.
        const sessions = open.get(f.dst_ip);
        if (sessions?.delete(f.id) && sessions.size === 0) open.delete(f.dst_ip);
        return null;
      }
      const z = zonesOf(ctx, e);
      if (isExternal(z.src) && ctx.policy.isJumpHost(f.dst_ip)) {
        if (!ctx.policy.vendorOf(f.src_ip, new Date(e.ts))) return null;
        let sessions = open.get(f.dst_ip);
        if (!sessions) {
          if (open.size >= MAX_JUMP_HOSTS) open.delete(open.keys().next().value as string);
          open.set(f.dst_ip, (sessions = new Map()));
        }
        if (sessions.size >= MAX_SESSIONS_PER_JUMP_HOST) sessions.delete(sessions.keys().next().value as string);
        sessions.set(f.id, f.src_ip);
        return null;
      }
      if (!isMedical(z.dst) || !ctx.policy.isJumpHost(f.src_ip)) return null;
      const sessions = open.get(f.src_ip);
      if (!sessions) return null;
      const at = new Date(e.ts);
      for (const [firstLeg, vendorIp] of sessions) {
        const vendor = ctx.policy.vendorOf(vendorIp, at);
        if (!vendor || vendor.inWindow) continue;
        return finding(e, z, { protocol: e.protocol, vendor: vendor.name, vendor_ip: vendorIp, jump_host: f.src_ip, first_leg_flow: firstLeg, outside_window: true, time_zone: ctx.policy.timeZone });
      }
      return null;
    };
  },
});

export const vendorWindowRules: Rule[] = [vendorOnwardOutsideWindow];
