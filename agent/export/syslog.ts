/**
 * Alerts to a SIEM over TCP, optionally TLS (RFC 5425), delivered at least once through a disk
 * spool, in one of three forms (docs/alerts.md): RFC 5424 syslog with the facts as structured
 * data, or ArcSight CEF as a syslog message (both with octet-counting framing, RFC 6587 3.4.1),
 * or ECS JSON one document a line (newline framing).
 *
 * Spool (in `spoolDir`): `spool.<gen>.ndjson`, append-only, one formatted message a line (a
 * JSON string), fsync'd before anything is sent; `offset.json` {gen, offset}, replaced
 * atomically, the byte offset up to which delivery is taken as done. Plain syslog has no
 * acknowledgement, so a message counts as delivered only when it was written at least
 * `confirmMs` ago on a connection that is still up; when the connection drops, sending resumes
 * from the committed offset, so messages in flight are sent again (duplicates, never losses —
 * a SIEM de-duplicates on the `id` SD-PARAM plus last_seen). When the committed part grows past
 * `compactBytes` the unsent tail is copied to the next generation. The spool is bounded by
 * `maxSpoolBytes`; alerts beyond it are dropped and counted (`stats.dropped`).
 */
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Alert, Severity } from '../store/index.js';
import type { AlertExporter } from './alert-record.js';
import { formatCef } from './cef.js';
import { formatEcs } from './ecs.js';
import { msgidOf, siemRecord, type AlertChange, type SiemFormat, type SiemRecord } from './siem-record.js';

export { SIEM_FORMATS, type SiemFormat } from './siem-record.js';

export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** critical→crit(2), high→err(3), medium→warning(4), low→notice(5). */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { critical: 2, high: 3, medium: 4, low: 5 };

/** Our private enterprise number in SD-IDs. */
export const SD_ID = 'muvakt@32473';

/**
 * The SD-PARAMs of a message, in this order; the optional ones (ports, transport, app, flow id,
 * sensor) only when the alert has them. No evidence values, ever: see siem-record.ts.
 */
export const SYSLOG_FIELDS = [
  'id', 'rule', 'severity', 'status', 'change', 'src', 'src_port', 'dst', 'dst_port', 'proto', 'app', 'flow_id',
  'zone_src', 'zone_dst', 'guide_refs', 'first_seen', 'last_seen', 'count', 'sensor',
] as const;

export function parseFacility(v: string | number): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : FACILITIES[v.toLowerCase()];
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 23) throw new RangeError(`syslog facility: expected a name (local0…local7, …) or 0–23, got ${JSON.stringify(v)}`);
  return n;
}

/** PRINTUSASCII (33–126) only, at most `max` characters; "-" when nothing is left. */
function header(s: string, max: number): string {
  const v = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return v === '' ? '-' : v;
}

/** PARAM-VALUE escaping (RFC 5424 6.3.3): `"`, `\` and `]` are backslash-escaped. */
export function sdEscape(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

const TS_5424 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_MSG_BYTES = 8192;

export interface FormatOptions {
  facility?: number;
  hostname?: string;
  procid?: string;
  /** Why the alert is sent (default "new"). */
  change?: AlertChange;
  /** The sensor's name (--sensor; see SiemRecord.sensor). */
  sensor?: string;
}

function timestamp(v: string): string {
  if (TS_5424.test(v)) return v;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString();
}

/** `<PRI>1 TIMESTAMP HOSTNAME muvakt PROCID MSGID` for one alert. */
export function syslogHeader(a: Alert, o: FormatOptions): string {
  const pri = (o.facility ?? FACILITIES.local4) * 8 + (SYSLOG_SEVERITY[a.severity] ?? 4);
  const host = header(o.hostname ?? hostname(), 255);
  const procid = header(o.procid ?? String(process.pid), 128);
  return `<${pri}>1 ${timestamp(String(a.last_seen))} ${host} muvakt ${procid} ${msgidOf(String(a.rule_id))}`;
}

/** At most 8 KiB (on a UTF-8 character boundary). */
function capped(out: string): string {
  return Buffer.byteLength(out) > MAX_MSG_BYTES ? Buffer.from(out).subarray(0, MAX_MSG_BYTES).toString('utf8').replace(/\ufffd$/, '') : out;
}

/** The SD-ELEMENT `[muvakt@32473 …]` of a record. */
export function structuredData(r: SiemRecord): string {
  const v: Partial<Record<(typeof SYSLOG_FIELDS)[number], string>> = {
    id: r.id,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    change: r.change,
    src: r.src,
    src_port: r.src_port?.toString(),
    dst: r.dst,
    dst_port: r.dst_port?.toString(),
    proto: r.proto,
    app: r.app,
    flow_id: r.flow_id,
    zone_src: r.zone_src,
    zone_dst: r.zone_dst,
    guide_refs: r.guide_refs.join(', '),
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    count: String(r.count),
    sensor: r.sensor,
  };
  let sd = `[${SD_ID}`;
  for (const k of SYSLOG_FIELDS) {
    const x = v[k];
    if (x !== undefined) sd += ` ${k}="${sdEscape(x.slice(0, 256))}"`;
  }
  return `${sd}]`;
}

/** One RFC 5424 message (without framing) for one alert. */
export function formatSyslog(a: Alert, o: FormatOptions = {}): string {
  const r = siemRecord(a, o.change ?? 'new', o.sensor);
  // MSG: the English title on one line; UTF-8 with a BOM only when it is not plain ASCII.
  const title = r.title.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 1024);
  const msg = /^[\x20-\x7e]*$/.test(title) ? title : `\ufeff${title}`;
  return capped(`${syslogHeader(a, o)} ${structuredData(r)} ${msg}`);
}

/** The same header with no structured data and the CEF line as MSG (how ArcSight connectors, rsyslog and syslog-ng relay CEF). */
export function formatCefSyslog(a: Alert, o: FormatOptions = {}): string {
  return capped(`${syslogHeader(a, o)} - ${formatCef(siemRecord(a, o.change ?? 'new', o.sensor), { hostname: o.sensor ?? o.hostname ?? hostname() })}`);
}

/** The message for an alert in the chosen format (ECS: one JSON document, no syslog header). */
export function formatAlert(format: SiemFormat, a: Alert, o: FormatOptions = {}): string {
  if (format === 'cef') return formatCefSyslog(a, o);
  if (format === 'ecs') return formatEcs(siemRecord(a, o.change ?? 'new', o.sensor), { hostname: o.hostname ?? hostname() });
  return formatSyslog(a, o);
}

/** Octet-counting frame: `MSG-LEN SP SYSLOG-MSG`. */
export function frame(msg: string): Buffer {
  const b = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length} `, 'ascii'), b]);
}

/** A line (RFC 6587 3.4.2 non-transparent framing; NDJSON for ECS): the formats never hold a raw LF. */
export function lineFrame(msg: string): Buffer {
  return Buffer.from(`${msg.replace(/[\r\n]+/g, ' ')}\n`, 'utf8');
}

export interface SyslogTlsOptions {
  /** PEM file of the CA(s) that signed the SIEM's certificate. */
  caFile: string;
  /** Name to verify the certificate against (default: host). */
  servername?: string;
  /** Client certificate and key (PEM files) when the SIEM asks for mutual TLS. */
  certFile?: string;
  keyFile?: string;
}

export interface SyslogExporterOptions {
  host: string;
  port: number;
  tls?: SyslogTlsOptions;
  spoolDir: string;
  /** rfc5424 (default) and cef: octet-counted syslog; ecs: one JSON document a line. */
  format?: SiemFormat;
  facility?: number | string;
  hostname?: string;
  /** The sensor's name (--sensor; see SiemRecord.sensor). */
  sensor?: string;
  /** Bound of the spool file (default 256 MiB); alerts beyond it are dropped and counted. */
  maxSpoolBytes?: number;
  /** Copy the unsent tail to a new spool file once this much is committed (default 16 MiB). */
  compactBytes?: number;
  /** A message is taken as delivered after this long on a live connection (default 2 s). */
  confirmMs?: number;
  /** Reconnect backoff, doubled up to the maximum (default 250 ms … 30 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  connectTimeoutMs?: number;
  /** Told of connection problems and drops (a logger); never given alert contents. */
  onEvent?: (e: { kind: 'connected' | 'disconnected' | 'error' | 'dropped'; detail: string }) => void;
}

export interface SyslogStats {
  enqueued: number;
  sent: number;
  dropped: number;
  reconnects: number;
  connected: boolean;
  spoolBytes: number;
  pendingBytes: number;
}

interface OffsetState {
  gen: number;
  offset: number;
}

export class SyslogExporter implements AlertExporter {
  readonly stats: SyslogStats = { enqueued: 0, sent: 0, dropped: 0, reconnects: 0, connected: false, spoolBytes: 0, pendingBytes: 0 };
  private readonly o: Required<Omit<SyslogExporterOptions, 'tls' | 'onEvent' | 'hostname' | 'facility' | 'sensor' | 'format'>> & SyslogExporterOptions;
  private readonly fmt: FormatOptions;
  private readonly format: SiemFormat;
  private readonly framer: (msg: string) => Buffer;
  private readonly ca?: Buffer;
  private readonly cert?: Buffer;
  private readonly key?: Buffer;
  private state: OffsetState;
  private fd: number;
  private size: number;
  /** Next byte of the spool to send on the current connection. */
  private sendPos: number;
  /** Ends of written batches not yet confirmed, oldest first. */
  private inFlight: { end: number; at: number }[] = [];
  private socket: Socket | TLSSocket | null = null;
  private ready = false;
  private waitingDrain = false;
  private closed = false;
  private backoff: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly confirmTimer: NodeJS.Timeout;

  constructor(options: SyslogExporterOptions) {
    this.o = {
      maxSpoolBytes: 256 * 1024 * 1024,
      compactBytes: 16 * 1024 * 1024,
      confirmMs: 2000,
      backoffMinMs: 250,
      backoffMaxMs: 30_000,
      connectTimeoutMs: 10_000,
      ...options,
    };
    this.fmt = { facility: parseFacility(options.facility ?? 'local4'), hostname: options.hostname, sensor: options.sensor };
    this.format = options.format ?? 'rfc5424';
    this.framer = this.format === 'ecs' ? lineFrame : frame;
    if (options.tls) {
      this.ca = readFileSync(options.tls.caFile);
      if (options.tls.certFile) this.cert = readFileSync(options.tls.certFile);
      if (options.tls.keyFile) this.key = readFileSync(options.tls.keyFile);
    }
    mkdirSync(this.o.spoolDir, { recursive: true, mode: 0o750 });
    this.state = this.loadState();
    this.fd = openSync(this.spoolFile(this.state.gen), 'a+', 0o640);
    this.size = fstatSync(this.fd).size;
    if (this.state.offset > this.size) this.state.offset = 0; // a crash between compaction steps
    this.sendPos = this.state.offset;
    this.backoff = this.o.backoffMinMs;
    this.updateStats();
    this.confirmTimer = setInterval(() => this.confirm(), Math.max(50, Math.min(500, this.o.confirmMs / 2)));
    this.confirmTimer.unref();
    this.connect();
  }

  /** Formats and spools the alerts (fsync'd), then sends what the connection takes. */
  export(alerts: readonly Alert[], change: AlertChange = 'new'): void {
    if (this.closed || alerts.length === 0) return;
    const parts: Buffer[] = [];
    let bytes = 0;
    let dropped = 0;
    for (const a of alerts) {
      const line = Buffer.from(JSON.stringify(formatAlert(this.format, a, { ...this.fmt, change })) + '\n', 'utf8');
      if (this.size + bytes + line.length > this.o.maxSpoolBytes) {
        dropped++;
        continue;
      }
      parts.push(line);
      bytes += line.length;
    }
    if (bytes > 0) {
      const buf = Buffer.concat(parts, bytes);
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off, this.size + off);
      fsyncSync(this.fd);
      this.size += bytes;
      this.stats.enqueued += parts.length;
    }
    if (dropped > 0) {
      this.stats.dropped += dropped;
      this.o.onEvent?.({ kind: 'dropped', detail: `spool full (${this.o.maxSpoolBytes} bytes): ${dropped} alert(s) dropped` });
    }
    this.updateStats();
    this.pump();
  }

  /** True when everything spooled has been written to the connection and confirmed. */
  get idle(): boolean {
    return this.state.offset === this.size;
  }

  /** Resolves when everything spooled is confirmed, or after `timeoutMs`, whichever comes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    const t0 = Date.now();
    while (!this.idle && !this.closed && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
    return this.idle;
  }

  /** Stops sending; what is not confirmed stays in the spool for the next start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.confirmTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.confirm();
    this.socket?.end();
    this.socket?.destroy();
    this.socket = null;
    this.saveState();
    closeSync(this.fd);
  }

  private spoolFile(gen: number): string {
    return join(this.o.spoolDir, `spool.${gen}.ndjson`);
  }

  private loadState(): OffsetState {
    let st: OffsetState = { gen: 0, offset: 0 };
    try {
      const v = JSON.parse(readFileSync(join(this.o.spoolDir, 'offset.json'), 'utf8')) as Partial<OffsetState>;
      if (Number.isSafeInteger(v.gen) && Number.isSafeInteger(v.offset) && v.gen! >= 0 && v.offset! >= 0) st = { gen: v.gen!, offset: v.offset! };
    } catch {
      // first start (or an unreadable offset: resend the whole spool)
    }
    // Leftovers of an interrupted compaction.
    for (const f of readdirSync(this.o.spoolDir)) {
      const m = /^spool\.(\d+)\.ndjson$/.exec(f);
      if (m && Number(m[1]) !== st.gen) unlinkSync(join(this.o.spoolDir, f));
    }
    return st;
  }

  private saveState(): void {
    const file = join(this.o.spoolDir, 'offset.json');
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, JSON.stringify(this.state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }

  private updateStats(): void {
    this.stats.spoolBytes = this.size;
    this.stats.pendingBytes = this.size - this.state.offset;
  }

  private connect(): void {
    if (this.closed) return;
    this.reconnectTimer = null;
    const { host, port, tls } = this.o;
    const s: Socket | TLSSocket = tls
      ? tlsConnect({ host, port, ca: this.ca, cert: this.cert, key: this.key, servername: tls.servername ?? host, rejectUnauthorized: true })
      : netConnect({ host, port });
    this.socket = s;
    this.ready = false;
    this.waitingDrain = false;
    s.setTimeout(this.o.connectTimeoutMs, () => {
      if (!this.ready) s.destroy(new Error('connect timeout'));
    });
    s.once(tls ? 'secureConnect' : 'connect', () => {
      if (this.socket !== s) return;
      s.setTimeout(0);
      s.setKeepAlive(true, 30_000);
      s.setNoDelay(true);
      this.ready = true;
      this.stats.connected = true;
      this.backoff = this.o.backoffMinMs;
      this.o.onEvent?.({ kind: 'connected', detail: `${host}:${port}${tls ? ' (TLS)' : ''}` });
      this.pump();
    });
    s.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
    s.on('data', () => {}); // a collector should not talk; drain it anyway
    s.on('error', (e: NodeJS.ErrnoException) => {
      this.o.onEvent?.({ kind: 'error', detail: e.code ?? e.message });
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = null;
      const wasReady = this.ready;
      this.ready = false;
      this.stats.connected = false;
      // Whatever was not confirmed is sent again on the next connection.
      this.inFlight = [];
      this.sendPos = this.state.offset;
      if (this.closed) return;
      if (wasReady) this.o.onEvent?.({ kind: 'disconnected', detail: `${host}:${port}` });
      this.stats.reconnects++;
      const delay = Math.round(this.backoff * (0.75 + Math.random() * 0.5));
      this.backoff = Math.min(this.o.backoffMaxMs, this.backoff * 2);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      this.reconnectTimer.unref();
    });
  }

  private readonly chunk = Buffer.alloc(256 * 1024);

  private pump(): void {
    const s = this.socket;
    if (!s || !this.ready || this.waitingDrain || this.closed) return;
    while (this.sendPos < this.size) {
      const n = readSync(this.fd, this.chunk, 0, Math.min(this.chunk.length, this.size - this.sendPos), this.sendPos);
      const last = this.chunk.lastIndexOf(10, n - 1);
      if (n === 0 || last < 0) break; // cannot happen: lines are short and written whole
      const frames: Buffer[] = [];
      let start = 0;
      let count = 0;
      while (start <= last) {
        const nl = this.chunk.indexOf(10, start);
        const line = this.chunk.toString('utf8', start, nl);
        start = nl + 1;
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          continue; // a torn line from a crash mid-append: skip it
        }
        if (typeof msg !== 'string') continue;
        frames.push(this.framer(msg));
        count++;
      }
      this.sendPos += last + 1;
      this.inFlight.push({ end: this.sendPos, at: Date.now() });
      this.stats.sent += count;
      if (!s.write(Buffer.concat(frames))) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  /** Commits what has been on a live connection for `confirmMs`; compacts the spool. */
  private confirm(): void {
    const now = Date.now();
    let offset = this.state.offset;
    if (this.ready) {
      while (this.inFlight.length > 0 && now - this.inFlight[0].at >= this.o.confirmMs) offset = this.inFlight.shift()!.end;
    }
    if (offset === this.state.offset) return;
    this.state.offset = offset;
    if (offset >= this.o.compactBytes || (offset === this.size && offset > 0)) this.compact();
    else this.saveState();
    this.updateStats();
  }

  /** Moves the uncommitted tail to spool.<gen+1>; crash-safe by the order of the steps. */
  private compact(): void {
    const gen = this.state.gen + 1;
    const next = this.spoolFile(gen);
    const fd = openSync(next, 'w+', 0o640);
    let pos = this.state.offset;
    let out = 0;
    while (pos < this.size) {
      const n = readSync(this.fd, this.chunk, 0, Math.min(this.chunk.length, this.size - pos), pos);
      if (n === 0) break;
      let w = 0;
      while (w < n) w += writeSync(fd, this.chunk, w, n - w, out + w);
      pos += n;
      out += n;
    }
    fsyncSync(fd);
    const old = this.spoolFile(this.state.gen);
    const base = this.state.offset;
    closeSync(this.fd);
    this.fd = fd;
    this.state = { gen, offset: 0 };
    this.saveState(); // the switch: before this, the old file and offset are the truth
    if (existsSync(old)) unlinkSync(old);
    this.size -= base;
    this.sendPos -= base;
    for (const f of this.inFlight) f.end -= base;
  }
}
