/**
 * Telnet (RFC 854/855): option negotiation from both sides, the server's login and password
 * prompts, and the lines the client types at them. Clients in character mode send one key
 * per segment and the server echoes the username (never the password); in line mode the
 * whole line comes at once. Either way the parser assembles the client's line after a
 * `login:` prompt and the next one after `Password:`, and turns them into a
 * `credential.cleartext` (username pseudonym + keyed secret fingerprint, credentials.ts).
 * The raw values live only in a bounded line buffer, zeroed after use.
 *
 * The parser detaches once the login is over (the client types a line at some other prompt,
 * or the server sends `followLimit` bytes without prompting again), once both sides have
 * started the ENCRYPT option (RFC 2946; a side's bytes are ciphertext after its START and are
 * skipped), or after `maxBytes` in either direction.
 */
import { credentialFields } from '../credentials.js';
import { DETACH, Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { asciiField, newRemoteAccess, SKIP_REST, type RemoteParserOptions } from './records.js';

export const enum Telnet {
  SE = 240,
  SB = 250,
  WILL = 251,
  WONT = 252,
  DO = 253,
  DONT = 254,
  IAC = 255,
}

const enum Opt {
  Environ = 36,
  Encrypt = 38,
  NewEnviron = 39,
}

const OPTION_NAMES: Record<number, string> = {
  0: 'binary',
  1: 'echo',
  3: 'suppress-go-ahead',
  5: 'status',
  6: 'timing-mark',
  24: 'terminal-type',
  31: 'naws',
  32: 'terminal-speed',
  33: 'remote-flow-control',
  34: 'linemode',
  35: 'x-display-location',
  36: 'environ',
  37: 'authentication',
  38: 'encrypt',
  39: 'new-environ',
  46: 'start-tls',
};

export function telnetOptionName(o: number): string {
  return OPTION_NAMES[o] ?? `option-${o}`;
}

export interface TelnetParserOptions extends RemoteParserOptions {
  /** Bytes read per direction before giving up (a login takes a few hundred). Default 64 KiB. */
  maxBytes?: number;
  /** Server bytes after a password before the login counts as over. Default 4 KiB. */
  followLimit?: number;
  /** Longest line kept (username or password). Default 128. */
  maxLine?: number;
  /** Login attempts reported per connection. Default 16. */
  maxAttempts?: number;
}

export interface TelnetCounters {
  bytes: number;
  negotiations: number;
  subnegotiations: number;
  subnegotiation_overflow: number;
  bad_iac: number;
  prompts: number;
  lines: number;
  line_too_long: number;
  credentials: number;
  budget_exhausted: number;
  gaps: number;
}

const enum Iac {
  Data,
  Iac,
  Option,
  SbOption,
  Sb,
  SbIac,
}

const enum Prompt {
  Other,
  Login,
  Password,
}

/** Subnegotiation bytes followed before we stop looking for its end (and count it). */
const MAX_SB = 4096;
/** Subnegotiation bytes kept (ENVIRON/NEW-ENVIRON from the client, ENCRYPT's command). */
const SB_KEEP = 256;
const TAIL = 32;
const BANNER_MAX = 128;

const LOGIN_PROMPTS = ['login:', 'username:', 'user name:', 'user:', 'userid:', 'user id:'];
const PASSWORD_PROMPTS = ['password:', 'passwd:', 'passcode:', 'passphrase:'];

class Side {
  iac = Iac.Data;
  cmd = 0;
  sbOpt = 0;
  sbLen = 0;
  readonly sb = Buffer.alloc(SB_KEEP);
  bytes = 0;
  encryptStarted = false;
}

function isNegotiation(c: number): boolean {
  return c >= Telnet.WILL && c <= Telnet.DONT;
}

export class TelnetStreamParser implements StreamParser {
  readonly counters: TelnetCounters = {
    bytes: 0,
    negotiations: 0,
    subnegotiations: 0,
    subnegotiation_overflow: 0,
    bad_iac: 0,
    prompts: 0,
    lines: 0,
    line_too_long: 0,
    credentials: 0,
    budget_exhausted: 0,
    gaps: 0,
  };
  private readonly opts: TelnetParserOptions;
  private readonly maxBytes: number;
  private readonly followLimit: number;
  private readonly maxAttempts: number;
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  /** Per side, per option: that side's last word was WILL (bit 1) / DO (bit 2). */
  private readonly said: [Uint8Array, Uint8Array] = [new Uint8Array(256), new Uint8Array(256)];

  /** Last TAIL bytes of server text, lower-cased, as a ring. */
  private readonly tail = new Uint8Array(TAIL);
  private tailPos = 0;
  private tailLen = 0;
  /** First non-empty line of server text: reported only if a login prompt follows it. */
  private readonly bannerBuf = Buffer.alloc(BANNER_MAX);
  private bannerLen = 0;
  private banner: string | null = null;
  private bannerDone = false;

  private readonly line: Buffer;
  private lineLen = 0;
  private inLine = false;
  private lineKind = Prompt.Other;
  private lineOverflow = false;
  private swallow = false;
  /** A capture gap cut the current client line: drop the rest of it. */
  private skipLine = false;
  /** The username typed at the last login prompt, until the password that follows it. */
  private user: string | null = null;
  /** USER from the client's (NEW-)ENVIRON, for servers that then ask only for a password. */
  private envUser: string | null = null;

  private loginPrompt = false;
  private attempts = 0;
  /** Server bytes since the last password; -1 = no password yet. */
  private followed = -1;
  private done = false;
  private emitted = false;
  private lastSec = 0;
  private lastNsec = 0;

  constructor(opts: TelnetParserOptions) {
    this.opts = opts;
    this.maxBytes = opts.maxBytes ?? 64 * 1024;
    this.followLimit = opts.followLimit ?? 4096;
    this.maxAttempts = opts.maxAttempts ?? 16;
    this.line = Buffer.alloc(opts.maxLine ?? 128);
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.emitted) return DETACH;
    this.lastSec = tsSec;
    this.lastNsec = tsNsec;
    this.counters.bytes += len;
    const side = this.sides[dir];
    // This side encrypts now (ENCRYPT START); the other has not started yet.
    if (side.encryptStarted) return SKIP_REST;
    const end = Math.min(off + len, buf.length);
    for (let p = off; p < end && !this.done && !side.encryptStarted; p++) this.byte(dir, side, buf[p], tsSec, tsNsec);
    side.bytes += len;
    if (!this.done && side.bytes > this.maxBytes) {
      this.counters.budget_exhausted++;
      this.done = true;
    }
    if (this.done) {
      this.finish(tsSec, tsNsec);
      return DETACH;
    }
    return side.encryptStarted ? SKIP_REST : 0;
  }

  gap(dir: Direction, _len: number): void {
    this.counters.gaps++;
    const side = this.sides[dir];
    side.iac = Iac.Data;
    if (dir === Direction.ToServer) {
      // Never report a line with a hole in it.
      this.resetLine();
      this.skipLine = true;
      this.user = null;
    } else {
      this.tailLen = 0;
    }
  }

  end(_reason: StreamEndReason): void {
    if (!this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  private byte(dir: Direction, s: Side, b: number, tsSec: number, tsNsec: number): void {
    switch (s.iac) {
      case Iac.Data:
        if (b === Telnet.IAC) s.iac = Iac.Iac;
        else this.text(dir, b, tsSec, tsNsec);
        return;
      case Iac.Iac:
        if (b === Telnet.IAC) {
          s.iac = Iac.Data;
          this.text(dir, b, tsSec, tsNsec);
        } else if (isNegotiation(b)) {
          s.cmd = b;
          s.iac = Iac.Option;
        } else if (b === Telnet.SB) {
          s.iac = Iac.SbOption;
        } else {
          // NOP, GA, AYT, IP, DM…: two-byte commands.
          if (b < Telnet.SE) this.counters.bad_iac++;
          s.iac = Iac.Data;
        }
        return;
      case Iac.Option: {
        this.counters.negotiations++;
        const said = this.said[dir];
        if (s.cmd === Telnet.WILL) said[b] |= 1;
        else if (s.cmd === Telnet.WONT) said[b] &= ~1;
        else if (s.cmd === Telnet.DO) said[b] |= 2;
        else said[b] &= ~2;
        s.iac = Iac.Data;
        return;
      }
      case Iac.SbOption:
        s.sbOpt = b;
        s.sbLen = 0;
        s.iac = Iac.Sb;
        return;
      case Iac.Sb:
        if (b === Telnet.IAC) s.iac = Iac.SbIac;
        else this.sbByte(s, b);
        return;
      case Iac.SbIac:
        if (b === Telnet.SE) {
          s.iac = Iac.Data;
          this.subnegotiation(dir, s);
        } else if (b === Telnet.IAC) {
          s.iac = Iac.Sb;
          this.sbByte(s, b);
        } else {
          // IAC <cmd> inside a subnegotiation: a broken peer. Drop the subnegotiation.
          this.counters.bad_iac++;
          s.iac = Iac.Data;
        }
        return;
    }
  }

  private sbByte(s: Side, b: number): void {
    if (s.sbLen < SB_KEEP) s.sb[s.sbLen] = b;
    s.sbLen++;
    if (s.sbLen > MAX_SB) {
      // An endless subnegotiation would swallow the session: give up on it.
      this.counters.subnegotiation_overflow++;
      s.iac = Iac.Data;
    }
  }

  private subnegotiation(dir: Direction, s: Side): void {
    this.counters.subnegotiations++;
    const n = Math.min(s.sbLen, SB_KEEP);
    if (s.sbOpt === Opt.Encrypt && n > 0 && s.sb[0] === 3) {
      // ENCRYPT START: from here on this side's bytes are ciphertext (RFC 2946).
      s.encryptStarted = true;
      if (this.sides[dir ^ 1].encryptStarted) this.done = true;
    } else if ((s.sbOpt === Opt.NewEnviron || s.sbOpt === Opt.Environ) && dir === Direction.ToServer && n > 0 && s.sb[0] !== 1) {
      this.environUser(s.sb, n, s.sbOpt);
    }
    s.sb.fill(0, 0, n);
    s.sbLen = 0;
  }

  /** USER from IS/INFO of (NEW-)ENVIRON (RFC 1572): VAR name VALUE value, ESC-quoted. */
  private environUser(sb: Buffer, n: number, opt: number): void {
    // Old ENVIRON implementations swapped VAR (0) and VALUE (1); RFC 1571 says to accept both.
    const VAR = 0;
    const VALUE = 1;
    const ESC = 2;
    const USERVAR = 3;
    let name = '';
    let value: string | null = null;
    let cur: 'name' | 'value' | null = null;
    const flush = () => {
      if (name === 'USER' && value !== null && value !== '') this.envUser = value;
    };
    for (let i = 1; i < n; i++) {
      let c = sb[i];
      if (c === VAR || c === USERVAR || (opt === Opt.Environ && c === VALUE && cur === null)) {
        flush();
        name = '';
        value = null;
        cur = 'name';
        continue;
      }
      if (c === VALUE || (opt === Opt.Environ && c === VAR)) {
        value = '';
        cur = 'value';
        continue;
      }
      if (c === ESC && i + 1 < n) c = sb[++i];
      if (cur === 'name') name += String.fromCharCode(c);
      else if (cur === 'value') value += String.fromCharCode(c);
    }
    flush();
  }

  private text(dir: Direction, b: number, tsSec: number, tsNsec: number): void {
    if (dir === Direction.ToClient) this.serverText(b);
    else this.clientText(b, tsSec, tsNsec);
  }

  private serverText(b: number): void {
    if (b === 0) return;
    this.tail[this.tailPos] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    this.tailPos = (this.tailPos + 1) % TAIL;
    if (this.tailLen < TAIL) this.tailLen++;
    if (!this.bannerDone) {
      if (b === 0x0d || b === 0x0a) {
        if (this.bannerLen > 0) {
          this.banner = softwareBanner(bannerBeforePrompt(asciiField(this.bannerBuf, 0, this.bannerLen, BANNER_MAX)).trim());
          this.bannerDone = true;
          this.bannerBuf.fill(0);
        }
      } else if (this.bannerLen < BANNER_MAX) {
        this.bannerBuf[this.bannerLen++] = b;
      }
    }
    if (this.followed >= 0 && ++this.followed > this.followLimit) this.done = true;
  }

  /** What the server's latest text asks for. */
  private prompt(): Prompt {
    // The tail as a string, trailing blanks removed.
    let n = this.tailLen;
    const at = (i: number) => this.tail[(this.tailPos - this.tailLen + i + TAIL) % TAIL];
    while (n > 0 && (at(n - 1) === 0x20 || at(n - 1) === 0x09)) n--;
    if (n === 0 || at(n - 1) !== 0x3a) return Prompt.Other;
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(at(i));
    for (const p of PASSWORD_PROMPTS) if (s.endsWith(p)) return Prompt.Password;
    for (const p of LOGIN_PROMPTS) if (s.endsWith(p)) return Prompt.Login;
    return Prompt.Other;
  }

  private clientText(b: number, tsSec: number, tsNsec: number): void {
    if (this.skipLine) {
      if (b === 0x0d || b === 0x0a) {
        this.skipLine = false;
        this.swallow = b === 0x0d;
      }
      return;
    }
    if (this.swallow) {
      this.swallow = false;
      if (b === 0x0a || b === 0x00) return;
    }
    if (b === 0x0d || b === 0x0a) {
      this.endLine(tsSec, tsNsec);
      this.swallow = b === 0x0d;
      return;
    }
    if (b === 0x08 || b === 0x7f) {
      if (this.lineLen > 0 && !this.lineOverflow) this.lineLen--;
      return;
    }
    if (b === 0x15) {
      // ^U: kill the line.
      this.line.fill(0, 0, this.lineLen);
      this.lineLen = 0;
      this.lineOverflow = false;
      return;
    }
    if (b === 0x03 || b === 0x04) {
      this.resetLine();
      return;
    }
    if (b < 0x20) return;
    if (!this.inLine) this.startLine();
    if (this.done) return;
    if (this.lineLen < this.line.length) this.line[this.lineLen++] = b;
    else this.lineOverflow = true;
  }

  private startLine(): void {
    this.inLine = true;
    this.lineKind = this.prompt();
    if (this.lineKind !== Prompt.Other) this.sawPrompt();
    // Typing at some other prompt after a password: the login is over.
    else if (this.followed >= 0) this.done = true;
  }

  private sawPrompt(): void {
    this.counters.prompts++;
    if (!this.loginPrompt) {
      this.loginPrompt = true;
      this.bannerDone = true;
      this.bannerBuf.fill(0);
    }
  }

  private endLine(tsSec: number, tsNsec: number): void {
    this.counters.lines++;
    let kind = this.lineKind;
    if (!this.inLine) {
      // An empty line: Enter at a prompt.
      kind = this.prompt();
      if (kind !== Prompt.Other) this.sawPrompt();
    }
    if (this.lineOverflow) {
      this.counters.line_too_long++;
    } else if (kind === Prompt.Login) {
      if (this.lineLen > 0) this.user = this.line.toString('latin1', 0, this.lineLen);
    } else if (kind === Prompt.Password) {
      this.credential(this.lineLen > 0 ? this.line.toString('latin1', 0, this.lineLen) : undefined, tsSec, tsNsec);
    } else if (this.followed >= 0) {
      this.done = true;
    }
    this.resetLine();
  }

  private resetLine(): void {
    this.line.fill(0, 0, this.lineLen);
    this.lineLen = 0;
    this.inLine = false;
    this.lineOverflow = false;
    this.lineKind = Prompt.Other;
  }

  private credential(password: string | undefined, tsSec: number, tsNsec: number): void {
    const user = this.user ?? this.envUser ?? undefined;
    this.user = null;
    this.attempts++;
    this.followed = 0;
    if (this.attempts > this.maxAttempts) {
      this.done = true;
      return;
    }
    this.counters.credentials++;
    const f = credentialFields(this.opts.pseudonymize, 'telnet', 'password', user, password);
    this.opts.emit({ type: 'credential.cleartext', ts_sec: tsSec, ts_nsec: tsNsec, ...f });
  }

  private finish(tsSec: number, tsNsec: number): void {
    this.emitted = true;
    this.done = true;
    this.resetLine();
    this.user = null;
    this.envUser = null;
    const rec = newRemoteAccess('telnet', false, tsSec, tsNsec);
    const [c, s] = this.sides;
    rec.encrypted = c.encryptStarted && s.encryptStarted;
    rec.security = c.encryptStarted || s.encryptStarted ? 'telnet-encrypt' : 'none';
    if (!rec.encrypted) {
      rec.weak = true;
      rec.weak_reason = 'cleartext';
    }
    // An option is in effect when one side WILL and the other DO (RFC 855), whichever asked.
    const options: string[] = [];
    const [a, b] = this.said;
    for (let o = 0; o < 256; o++) if ((a[o] & 1 && b[o] & 2) || (b[o] & 1 && a[o] & 2)) options.push(telnetOptionName(o));
    rec.options = options;
    rec.login_prompt = this.loginPrompt;
    rec.login_attempts = Math.min(this.attempts, this.maxAttempts);
    // Text before the login prompt is the device's issue banner (OS, version); anything
    // else a server says first could be application output, so it is never reported.
    if (this.loginPrompt && this.banner !== null && this.banner !== '') rec.server_banner = this.banner;
    this.opts.emit(rec);
  }
}

/**
 * The banner line up to a login prompt on it. Servers echo what the user types, so whatever
 * follows "login:" on the same line (a lost line end, a prompt with no newline) is the user's
 * name or password, never the device's banner.
 */
const PROMPT_ON_LINE = /(?:login|username|user name|brukernavn|password|passord|passwd)\s*:/i;

export function bannerBeforePrompt(line: string): string {
  const m = PROMPT_ON_LINE.exec(line);
  return m === null ? line : line.slice(0, m.index + m[0].length);
}

/** A banner word: a name, a version, `GNU/Linux`, `(pts/1)`, `#1`. */
const BANNER_WORD = /^\(?[A-Za-z0-9][A-Za-z0-9._/+:-]*\)?$|^#\d+$/;
/** What makes a line a software banner rather than someone's text: a dotted version or a `name/name` pair. */
const SOFTWARE_SIGN = /\d+\.\d+|[A-Za-z0-9]\/[A-Za-z0-9]/;
const HOLDS_DIGIT_RUN = /\d{8}/;

/**
 * The line a server sends first is the device's issue banner only when it has a banner's shape:
 * two or more plain words, one of them a version or a `GNU/Linux`-like pair. Anything else —
 * one word, punctuation such as `#`, `^`, `,` or `!` inside words, a long digit run — may be a
 * password the server echoed, a patient's name or an address in application output: dropped.
 */
export function softwareBanner(line: string): string {
  const words = line.split(/\s+/).filter((w) => w !== '');
  if (words.length < 2 || words.length > 16) return '';
  for (const w of words) if (!BANNER_WORD.test(w)) return '';
  if (!SOFTWARE_SIGN.test(line) || HOLDS_DIGIT_RUN.test(line)) return '';
  return words.join(' ');
}
