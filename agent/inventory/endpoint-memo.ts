/**
 * What the last events established, kept so the next event like them can skip the work: the
 * two devices (and address records) of the last protocol event, the last pair of MAC/address
 * reports to the router heuristic, the service entries of the last flow and the header values
 * of the last HTTP exchange. A hit must leave the inventory exactly as the full path would
 * (test/unit/inventory checks both paths against each other on the corpus and on random
 * traffic).
 *
 * The memo owns its invalidation: identity resolution tells it, through `IdentityListener`,
 * when which device holds an address or which address records a device has may have changed
 * (everything is forgotten), and when a device's seen-times moved outside the memo (the kept
 * copies of that device are forgotten). Nothing else needs to know the memo exists.
 */
import { addressOf, touchKept } from './device-record.js';
import type { AddressRecord, Device, ServiceRecord, UsedService } from './types.js';

/** What identity resolution reports to whoever keeps devices across events. */
export interface IdentityListener {
  /** A device was created, removed, merged, re-keyed or demoted, or an address moved or was added/evicted. */
  identityChanged(): void;
  /** Identity resolution moved this device's (or its address records') first/last seen. */
  timesMoved(d: Device): void;
}

/** For an inventory without the memo (the full path every time). */
export const NO_LISTENER: IdentityListener = Object.freeze({ identityChanged() {}, timesMoved() {} });

const NO_VLANS: readonly number[] = Object.freeze([]);

function sameVlans(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class EndpointMemo implements IdentityListener {
  /** Events whose devices came from the memo (not in the state: for tests and profiling). */
  reuses = 0;
  // The endpoints of the last protocol event.
  private valid = false;
  private src = '';
  private dst = '';
  private vlans: readonly number[] = NO_VLANS;
  client: Device | null = null;
  server: Device | null = null;
  private clientAddress: AddressRecord | undefined = undefined;
  private serverAddress: AddressRecord | undefined = undefined;
  /**
   * Their last_seen values as they stand: comparing with these (read when the entry was filled,
   * kept in step since) spares a load of four old strings per event. Anything else that moves a
   * remembered device's times reports it (timesMoved) and empties the entry.
   */
  private clientSeen = '';
  private serverSeen = '';
  private clientAddressSeen = '';
  private serverAddressSeen = '';
  // The pair of devices whose MACs were last reported to the router heuristic, and when.
  private notedClient: Device | null = null;
  private notedServer: Device | null = null;
  private notedSrc = '';
  private notedDst = '';
  private notedMs = 0;
  /** The devices, service and entries of the last flow event. */
  private readonly flow = { valid: false, client: null as Device | null, server: null as Device | null, app: '', proto: '', port: -1, srcIp: '', dstIp: '', offered: null as ServiceRecord | null, used: null as UsedService | null };
  /** The devices and header values of the last `http` event. */
  private readonly http = { valid: false, client: null as Device | null, server: null as Device | null, ua: undefined as unknown, sv: undefined as unknown, hn: undefined as unknown };

  identityChanged(): void {
    this.valid = false;
    this.notedClient = this.notedServer = null;
    this.flow.valid = false;
    this.http.valid = false;
  }

  timesMoved(d: Device): void {
    if (d === this.client || d === this.server) this.valid = false;
  }

  /** Whether the remembered endpoints are these, and nothing has changed since. */
  holds(src: string, dst: string, vlans: readonly number[]): boolean {
    return this.valid && src === this.src && dst === this.dst && sameVlans(vlans, this.vlans);
  }

  /** Still valid (no identity change since `holds`): a report to the router heuristic may have demoted a MAC. */
  get stillValid(): boolean {
    return this.valid;
  }

  /** Remembers a protocol event's endpoints as resolved. */
  remember(src: string, dst: string, vlans: readonly number[], client: Device | null, server: Device | null): void {
    this.valid = true;
    this.src = src;
    this.dst = dst;
    this.vlans = vlans;
    this.client = client;
    this.server = server;
    this.clientAddress = client === null ? undefined : addressOf(client, src);
    this.serverAddress = server === null ? undefined : addressOf(server, dst);
    this.clientSeen = client === null ? '' : client.last_seen;
    this.serverSeen = server === null ? '' : server.last_seen;
    this.clientAddressSeen = this.clientAddress === undefined ? '' : this.clientAddress.last_seen;
    this.serverAddressSeen = this.serverAddress === undefined ? '' : this.serverAddress.last_seen;
  }

  /** Moves the remembered devices' and addresses' times as resolution would (touchSeen), against the kept copies. */
  touch(ts: string): void {
    this.reuses++;
    if (this.client !== null) this.clientSeen = touchKept(this.client, this.clientSeen, ts);
    if (this.server !== null) this.serverSeen = touchKept(this.server, this.serverSeen, ts);
    if (this.clientAddress !== undefined) this.clientAddressSeen = touchKept(this.clientAddress, this.clientAddressSeen, ts);
    if (this.serverAddress !== undefined) this.serverAddressSeen = touchKept(this.serverAddress, this.serverAddressSeen, ts);
  }

  /**
   * The router heuristic counts addresses per MAC over minutes: telling it again of the same
   * two pairs within a second changes nothing it could conclude.
   */
  notedWithinASecond(nowMs: number): boolean {
    return this.client === this.notedClient && this.server === this.notedServer && this.src === this.notedSrc && this.dst === this.notedDst && nowMs >= this.notedMs && nowMs - this.notedMs < 1000;
  }

  noted(nowMs: number): void {
    this.notedClient = this.client;
    this.notedServer = this.server;
    this.notedSrc = this.src;
    this.notedDst = this.dst;
    this.notedMs = nowMs;
  }

  get rememberedSrc(): string {
    return this.src;
  }

  get rememberedDst(): string {
    return this.dst;
  }

  /**
   * The next connection of a burst between the same two internal devices, to the same service:
   * counts it on the remembered entries and returns true (peers are known, nothing external to
   * record). False when the flow event must take the full path.
   */
  countRepeatedFlow(client: Device | null, server: Device | null, app: string, proto: string, port: number, srcIp: string, dstIp: string, answered: boolean): boolean {
    const m = this.flow;
    if (
      !m.valid ||
      m.client !== client ||
      m.server !== server ||
      client === null ||
      server === null ||
      client === server ||
      client.external ||
      server.external ||
      m.app !== app ||
      m.proto !== proto ||
      m.port !== port ||
      m.srcIp !== srcIp ||
      m.dstIp !== dstIp ||
      m.offered === null ||
      m.used === null ||
      m.offered.app !== app
    ) {
      return false;
    }
    if (answered) m.offered.count++;
    m.used.count++;
    return true;
  }

  rememberFlow(client: Device | null, server: Device | null, app: string, proto: string, port: number, srcIp: string, dstIp: string, offered: ServiceRecord | null, used: UsedService | null): void {
    const m = this.flow;
    m.valid = true;
    m.client = client;
    m.server = server;
    m.app = app;
    m.proto = proto;
    m.port = port;
    m.srcIp = srcIp;
    m.dstIp = dstIp;
    m.offered = offered;
    m.used = used;
  }

  /**
   * Connection after connection between the same two devices repeats the same agent, server
   * and host: true when the last exchange between them added exactly these; otherwise
   * remembers them and returns false.
   */
  repeatsHttp(client: Device | null, server: Device | null, ua: unknown, sv: unknown, hn: unknown): boolean {
    const m = this.http;
    if (m.valid && m.client === client && m.server === server && m.ua === ua && m.sv === sv && m.hn === hn) return true;
    m.valid = true;
    m.client = client;
    m.server = server;
    m.ua = ua;
    m.sv = sv;
    m.hn = hn;
    return false;
  }
}
