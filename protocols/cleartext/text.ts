/** Small text helpers shared by the cleartext parsers. None of them throws. */

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes strict base64 (as SASL and HTTP Basic send it); null if it is not base64. */
export function decodeBase64(s: string): Buffer | null {
  if (s.length === 0 || s.length > 4096 || !B64.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64');
}

/** Keeps printable ASCII (and spaces), caps the length. For header values we report (User-Agent, Server). */
export function cleanText(s: string, max: number): string {
  // Nearly every value is already clean: hand it back trimmed without building a copy.
  let i = 0;
  while (i < s.length && i < max) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) break;
    i++;
  }
  if (i === s.length) return s.trim();
  let out = s.slice(0, i);
  for (; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c <= 0x7e ? s[i] : '?';
  }
  return out.trim();
}

export { holdsFnr } from '../phi/fodselsnummer.js';

/**
 * Server software named in a greeting banner (FTP 220, SMTP 220, POP3 +OK, IMAP * OK). The
 * banner itself is free text a site configures (device and site names), so it is never
 * reported: only a known product name with its version, or a `Product/1.2` token.
 */
const PRODUCTS: RegExp[] = [
  /\b(vsFTPd)[ /]?(\d+(?:\.\d+)+)?/i,
  /\b(ProFTPD)[ /]?(\d+(?:\.\d+)+[a-z0-9]*)?/i,
  /\b(Pure-FTPd)\b/i,
  /\b(FileZilla Server)[ /]?(?:version )?(\d+(?:\.\d+)+)?/i,
  /\b(Microsoft FTP Service)\b/i,
  /\b(wu-?ftpd)[- ]?(\d+(?:\.\d+)+)?/i,
  /\b(Serv-U FTP Server)[ /]?v?(\d+(?:\.\d+)+)?/i,
  /\b(Postfix)\b/i,
  /\b(Exim) (\d+(?:\.\d+)+)/i,
  /\b(Sendmail) (\d+(?:\.\d+)+)/i,
  /\b(Microsoft ESMTP MAIL Service)(?:, Version: (\d+(?:\.\d+)+))?/i,
  /\b(Dovecot)\b/i,
  /\b(Cyrus IMAP)[ /v]*(\d+(?:\.\d+)+)?/i,
  /\b(Courier-IMAP)\b/i,
  /\b(hMailServer)\b/i,
  /\b(MDaemon) (\d+(?:\.\d+)+)?/i,
  /\b(Zimbra)\b/i,
  /\b(OpenSMTPD)\b/i,
  /\b(qmail)\b/i,
];
const SLASH_TOKEN = /\b([A-Za-z][A-Za-z0-9_.-]{1,31}\/v?\d+(?:\.\d+){0,3}[a-z]?)\b/;

export function bannerSoftware(banner: string): string | undefined {
  for (const re of PRODUCTS) {
    const m = re.exec(banner);
    if (m) return m[2] ? `${m[1]} ${m[2]}` : m[1];
  }
  const m = SLASH_TOKEN.exec(banner);
  return m ? m[1] : undefined;
}
