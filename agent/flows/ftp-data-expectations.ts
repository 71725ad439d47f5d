/**
 * FTP data connections the control channels announced, waiting for their TCP flow. A new TCP
 * flow is looked up by its initiator address and server port (one Map lookup, a short chain),
 * so the cost per new flow is constant and nothing is allocated when the table is empty.
 *
 * Two kinds of expectation:
 * - an **endpoint** (PORT, EPRT, 227, 229 read in the clear): the initiator, the address and
 *   port it will connect to. Used once, and forgotten after `ttlSec` of capture time.
 * - a **TLS session** (after AUTH TLS the control channel is encrypted and announces nothing we
 *   can read): any connection between the two hosts to a port ≥ 1024, either way round, while
 *   the control flow lives. The pipeline only labels it ftp-data when it opens with TLS.
 *
 * Bounded: at most `max` entries; when full the oldest gives way and is counted (`evictions`).
 */
import type { FtpDataEndpoint } from '../../protocols/cleartext/ftp-data.js';
import type { Flow } from './flow.js';
import { flowId } from './flow-table.js';

export interface FtpDataLimits {
  /** Expectations held at once (default 4096). */
  max: number;
  /** Seconds of capture time an announced endpoint waits for its connection (default 120). */
  ttlSec: number;
}

export const DEFAULT_FTP_DATA_LIMITS: FtpDataLimits = { max: 4096, ttlSec: 120 };

/** Port 0 in an expectation: any server port ≥ 1024 (a TLS session's data connections). */
const ANY_PORT = 0;
const FIRST_UNPRIVILEGED = 1024;

class Expectation {
  next: Expectation | null = null;
  constructor(
    readonly key: number,
    readonly ipVersion: number,
    readonly i0: number,
    readonly i1: number,
    readonly i2: number,
    readonly i3: number,
    /** The address the initiator connects to, and the control connection's peer (clients may use either). */
    readonly r: readonly [number, number, number, number],
    readonly alt: readonly [number, number, number, number],
    readonly port: number,
    readonly control: Flow,
    readonly controlGeneration: number,
    readonly controlId: string,
    readonly tls: boolean,
    readonly expires: number,
  ) {}
}

/** What a matched flow learns: its control flow, and whether it is a TLS session's. */
export interface FtpDataMatch {
  controlId: string;
  /** The control channel was under AUTH TLS: the data connection is labelled only if it opens with TLS. */
  tls: boolean;
}

function hashKey(i0: number, i1: number, i2: number, i3: number, port: number): number {
  let h = Math.imul(i3 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ i2 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ i1 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ i0 ^ (h >>> 13), 0xc2b2ae35);
  h ^= port + 0x7f4a7c15;
  // A small integer: V8 keeps it unboxed as a Map key.
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

const same = (a: readonly number[], w0: number, w1: number, w2: number, w3: number) => a[3] === w3 && a[2] === w2 && a[1] === w1 && a[0] === w0;

export class FtpDataExpectations {
  private readonly byKey = new Map<number, Expectation>();
  /** Announced endpoints in insertion order, which is expiry order: the oldest first. */
  private readonly endpoints = new Set<Expectation>();
  /** A TLS session's two expectations, by control flow (oldest first), dropped when it ends. */
  private readonly sessions = new Map<Flow, Expectation[]>();
  /** Entries pushed out by the cap, oldest first. */
  evictions = 0;
  /** Announcements that could not become an expectation (another address family than the control connection's). */
  unusable = 0;
  matched = 0;
  expired = 0;

  constructor(private readonly limits: FtpDataLimits = DEFAULT_FTP_DATA_LIMITS) {}

  get size(): number {
    return this.endpoints.size + 2 * this.sessions.size;
  }

  /** An endpoint the control flow `control` announced at capture time `now` (seconds). */
  expectEndpoint(control: Flow, ep: FtpDataEndpoint, now: number): void {
    const v = ep.ipVersion === 0 ? control.ipVersion : ep.ipVersion;
    if (v !== control.ipVersion) {
      this.unusable++;
      return;
    }
    const client: [number, number, number, number] = [control.c0, control.c1, control.c2, control.c3];
    const server: [number, number, number, number] = [control.s0, control.s1, control.s2, control.s3];
    // Passive: the client connects to the server (at the address the reply names). Active: the server connects to the client.
    const [initiator, peer] = ep.passive ? [client, server] : [server, client];
    const r = ep.ipVersion === 0 ? peer : ep.addr;
    this.makeRoom(1);
    this.endpoints.add(this.add(control, initiator, r, peer, ep.port, false, now + this.limits.ttlSec));
  }

  /** AUTH TLS accepted on `control`: its data connections will be TLS between the same two hosts. */
  expectTlsSession(control: Flow): void {
    if (this.sessions.has(control)) return;
    this.makeRoom(2);
    const client: [number, number, number, number] = [control.c0, control.c1, control.c2, control.c3];
    const server: [number, number, number, number] = [control.s0, control.s1, control.s2, control.s3];
    const a = this.add(control, client, server, server, ANY_PORT, true, Infinity);
    const b = this.add(control, server, client, client, ANY_PORT, true, Infinity);
    this.sessions.set(control, [a, b]);
  }

  /** The control flow ended: its TLS session expects nothing more. */
  controlEnded(control: Flow): void {
    const s = this.sessions.get(control);
    if (s === undefined) return;
    this.sessions.delete(control);
    for (const e of s) this.unlink(e);
  }

  /** Drops endpoints whose time ran out (called once per capture second). */
  expire(now: number): void {
    for (const e of this.endpoints) {
      if (e.expires > now) break;
      this.removeEndpoint(e);
      this.expired++;
    }
  }

  /** The expectation a new TCP flow fulfils, if any; an endpoint is used up by it. */
  match(f: Flow, now: number): FtpDataMatch | null {
    if (this.endpoints.size === 0 && this.sessions.size === 0) return null;
    const e = this.find(f, f.sport, now) ?? (f.sport >= FIRST_UNPRIVILEGED ? this.find(f, ANY_PORT, now) : null);
    if (e === null) return null;
    if (e.port !== ANY_PORT) this.removeEndpoint(e);
    this.matched++;
    return { controlId: e.controlId, tls: e.tls };
  }

  private find(f: Flow, port: number, now: number): Expectation | null {
    for (let e = this.byKey.get(hashKey(f.c0, f.c1, f.c2, f.c3, port)) ?? null; e !== null; e = e.next) {
      if (e.port !== port || e.ipVersion !== f.ipVersion || e.i3 !== f.c3 || e.i2 !== f.c2 || e.i1 !== f.c1 || e.i0 !== f.c0) continue;
      if (!same(e.r, f.s0, f.s1, f.s2, f.s3) && !same(e.alt, f.s0, f.s1, f.s2, f.s3)) continue;
      // The control connection ended and its flow object serves another conversation now.
      if (e.control.generation !== e.controlGeneration || e.expires <= now) continue;
      return e;
    }
    return null;
  }

  /** Frees `n` places when the table is full: the oldest endpoint gives way, else the oldest TLS session. */
  private makeRoom(n: number): void {
    while (this.size + n > this.limits.max && this.size > 0) {
      const oldest = this.endpoints.values().next().value;
      if (oldest !== undefined) {
        this.removeEndpoint(oldest);
        this.evictions++;
        continue;
      }
      const session = this.sessions.keys().next().value;
      if (session === undefined) break;
      this.controlEnded(session);
      this.evictions += 2;
    }
  }

  private add(control: Flow, i: readonly number[], r: readonly [number, number, number, number], alt: readonly [number, number, number, number], port: number, tls: boolean, expires: number): Expectation {
    const key = hashKey(i[0], i[1], i[2], i[3], port);
    // The control flow's id is fixed once the flow exists: computed here, not per lookup.
    const e = new Expectation(key, control.ipVersion, i[0], i[1], i[2], i[3], r, alt, port, control, control.generation, flowId(control), tls, expires);
    e.next = this.byKey.get(key) ?? null;
    this.byKey.set(key, e);
    return e;
  }

  private removeEndpoint(e: Expectation): void {
    if (this.endpoints.delete(e)) this.unlink(e);
  }

  private unlink(e: Expectation): void {
    let head = this.byKey.get(e.key) ?? null;
    if (head === e) {
      if (e.next === null) this.byKey.delete(e.key);
      else this.byKey.set(e.key, e.next);
      return;
    }
    while (head !== null && head.next !== e) head = head.next;
    if (head !== null) head.next = e.next;
  }
}
