import { endedBy, matchSoftware, matchSshBanner, matchUserAgent, matchWindowsVersion, type EndOfSupportMatch, type SoftwareSeenIn } from '../end-of-support.js';
import { isMedical } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleContext, type RuleFinding } from '../engine/types.js';

/** What the evidence says of one match: never the header or banner it came from. */
function described(m: EndOfSupportMatch, seenIn: SoftwareSeenIn) {
  return { product: m.row.product, version: m.version_seen, end_of_support: m.row.end_of_support, source: m.row.source.name, source_url: m.row.source.url, seen_in: seenIn };
}

/** Per distinct header value: the matcher's answer, bounded so a flood of odd headers cannot grow it. */
class MatchCache {
  private readonly map = new Map<string, EndOfSupportMatch[]>();
  constructor(private readonly match: (v: string) => EndOfSupportMatch[]) {}
  get(value: string): EndOfSupportMatch[] {
    let hit = this.map.get(value);
    if (hit === undefined) {
      if (this.map.size >= 1024) this.map.delete(this.map.keys().next().value as string);
      hit = this.match(value);
      this.map.set(value, hit);
    }
    return hit;
  }
}

function found(ctx: RuleContext, ip: string, vlans: readonly number[] | undefined, ts: string, flowId: string, matches: ReturnType<typeof described>[]): RuleFinding {
  const zone = ctx.zoneOf(ip, vlans);
  return {
    // The device that runs the software, not the pair: one alert per device however many peers it talks to.
    subject: { src_ip: ip, dst_ip: '', zone_src: zone.name, zone_dst: '' },
    evidence: { device_ip: ip, end_of_support: matches, flow_id: flowId },
    severity: isMedical(zone) ? 'high' : undefined,
    ts,
  };
}

export const endOfLifeSoftware = defineRule({
  id: 'end-of-life-software',
  title: { nb: 'Programvare uten leverandørstøtte', en: 'Software past its end of support' },
  recommendation: {
    nb: 'Enheten viser en programvareversjon eller et Windows-versjonsnummer som produsenten ikke lenger gir sikkerhetsoppdateringer for, på tidspunktet trafikken ble tatt opp (datoen og kilden står i bevisene). Leverandørveilederen peker på at lokalt installerte systemer og medisinsk utstyr ofte har utdaterte operativsystemer, og at leverandører bør tilby løsninger som kan oppdateres og holde dem oppdatert; MU-veilederen sier at virksomheten må ha rutiner for at sikkerhetsoppdateringer for operativsystemer, applikasjoner og medisinsk utstyr gjennomføres. Ta det opp med leverandøren; der oppdatering ikke er mulig, vurder risikoen og beskytt enheten, for eksempel med segmentering.',
    en: 'The device shows a software version or Windows version number its maker no longer ships security updates for, at the time the traffic was captured (the date and its source are in the evidence). The supplier guide points out that locally installed systems and medical devices often run outdated operating systems, and that suppliers should offer updatable solutions and keep them updated; the MU guide says the organisation must have routines so that security updates for operating systems, applications and medical devices are carried out. Take it up with the supplier; where updating is not possible, assess the risk and protect the device, for instance by segmentation.',
  },
  severity: 'medium',
  guide_refs: ['LEV 8', 'MU 4.6', 'MU 5.1.2 #4'],
  requirements: ['G13'],
  events: ['http', 'smb', 'remote_access'],
  create: (ctx) => {
    const servers = new MatchCache(matchSoftware);
    const agents = new MatchCache(matchUserAgent);
    const banners = new MatchCache(matchSshBanner);
    return (e): RuleFinding[] | null => {
      const f = e.flow;
      const out: RuleFinding[] = [];
      const add = (ip: string, list: ReturnType<typeof described>[]) => {
        if (list.length > 0) out.push(found(ctx, ip, f.vlan, e.ts, f.id, list));
      };
      const ended = (ms: readonly (EndOfSupportMatch | null)[], seenIn: SoftwareSeenIn) => ms.filter((m): m is EndOfSupportMatch => m !== null && endedBy(m, e.ts)).map((m) => described(m, seenIn));
      if (e.type === 'http') {
        if (e.http_server) add(f.dst_ip, ended(servers.get(e.http_server), 'http-server'));
        if (e.http_user_agent) add(f.src_ip, ended(agents.get(e.http_user_agent), 'http-user-agent'));
      } else if (e.type === 'remote_access') {
        if (e.protocol !== 'ssh') return null;
        if (e.server_banner) add(f.dst_ip, ended(banners.get(e.server_banner), 'ssh'));
        if (e.client_banner) add(f.src_ip, ended(banners.get(e.client_banner), 'ssh'));
      } else {
        if (e.server_os_version) add(f.dst_ip, ended([matchWindowsVersion(e.server_os_version)], 'smb-ntlm'));
        if (e.client_os_version) add(f.src_ip, ended([matchWindowsVersion(e.client_os_version)], 'smb-ntlm'));
      }
      return out.length > 0 ? out : null;
    };
  },
});

export const endOfLifeRules: Rule[] = [endOfLifeSoftware];
