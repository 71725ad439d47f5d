/**
 * End-of-support dates for the software the sensor can name from the wire (LEV 8, MU 4.6), and a
 * pure matcher from what an event carries to a row of the table.
 *
 * Plain data, checked by hand against the maker's own lifecycle page (`source`, `checked`). A row
 * is here only when its date is certain; when one wire fact can mean two products (NTLM version
 * 6.1 is Windows 7 or Server 2008 R2; IIS 8.5 is Windows 8.1 or Server 2012 R2), the row carries
 * the *later* of their dates, so the rule never reports before both have ended.
 *
 * Left out on purpose:
 *  - OpenSSH itself: the project publishes no end-of-support dates for its releases. A Debian
 *    package's revision in the banner ("OpenSSH_7.4p1 Debian-10+deb9u7": `+deb9u` is a stable
 *    update of Debian 9) names the distribution release, and that has dates (below); a banner
 *    without such an update suffix names no release and matches nothing.
 *  - DICOM implementation versions and TLS library hints other than an OpenSSL token in an HTTP
 *    header: their makers publish no dated support ends the table could cite.
 *  - OpenSSL 3.x: distributions keep shipping fixes for 3.0 well after upstream's date, so the
 *    version string alone says too little.
 *  - Windows 10 builds shared with a long-term servicing edition or a supported server (14393:
 *    LTSB 2016 / Server 2016; 17763: LTSC 2019 / Server 2019; 19044: LTSC 2021), and every build
 *    of Windows 11 and Windows Server 2016 and later.
 *  - Apache httpd 2.0 and 1.3, and PHP 8.1 and later: no row until their dates are checked.
 * Distributions (Red Hat, Debian, Ubuntu …) backport fixes into old version strings
 * ("OpenSSL/1.0.2k-fips" on RHEL 7): a match means "the maker's own support has ended", which is
 * what LEV 8 asks a supplier to look at, not "this device has a known hole".
 */

export interface EndOfSupportSource {
  name: string;
  url: string;
}

export interface EndOfSupportRow {
  /** What the evidence names, e.g. "Windows 7 / Windows Server 2008 R2", "OpenSSL". */
  product: string;
  /** The release line the row covers, e.g. "6.1", "1.0.2", "2.2". */
  version: string;
  /** The last day the maker supported it (YYYY-MM-DD). */
  end_of_support: string;
  source: EndOfSupportSource;
  /** When the row was last checked against its source (YYYY-MM-DD). */
  checked: string;
  /** Paid extended support that existed past the date, and similar caveats. */
  note?: string;
}

const CHECKED = '2026-12-05';
const MS = (product: string): EndOfSupportSource => ({ name: `Microsoft Lifecycle: ${product}`, url: 'https://learn.microsoft.com/lifecycle/products/' });
const OPENSSL: EndOfSupportSource = { name: 'OpenSSL release strategy', url: 'https://www.openssl.org/policies/releasestrat.html' };
const HTTPD: EndOfSupportSource = { name: 'Apache HTTP Server Project: 2.2 end-of-life announcement', url: 'https://httpd.apache.org/' };
const PHP: EndOfSupportSource = { name: 'PHP: Unsupported Branches', url: 'https://www.php.net/eol.php' };
const DEBIAN_LTS: EndOfSupportSource = { name: 'Debian LTS: releases and their end of long-term support', url: 'https://wiki.debian.org/LTS' };

/** Windows, by the NTLM VERSION field's major.minor (and build, for Windows 10). */
export const WINDOWS_BY_NT_VERSION: readonly (EndOfSupportRow & { builds?: readonly number[] })[] = [
  { product: 'Windows 2000', version: '5.0', end_of_support: '2010-07-13', source: MS('Windows 2000'), checked: CHECKED },
  { product: 'Windows XP', version: '5.1', end_of_support: '2014-04-08', source: MS('Windows XP'), checked: CHECKED },
  { product: 'Windows Server 2003 / Windows XP x64', version: '5.2', end_of_support: '2015-07-14', source: MS('Windows Server 2003'), checked: CHECKED },
  { product: 'Windows Vista / Windows Server 2008', version: '6.0', end_of_support: '2020-01-14', source: MS('Windows Server 2008'), checked: CHECKED, note: 'Extended Security Updates were sold past this date.' },
  { product: 'Windows 7 / Windows Server 2008 R2', version: '6.1', end_of_support: '2020-01-14', source: MS('Windows 7, Windows Server 2008 R2'), checked: CHECKED, note: 'Extended Security Updates were sold past this date.' },
  { product: 'Windows 8 / Windows Server 2012', version: '6.2', end_of_support: '2023-10-10', source: MS('Windows Server 2012'), checked: CHECKED },
  { product: 'Windows 8.1 / Windows Server 2012 R2', version: '6.3', end_of_support: '2023-10-10', source: MS('Windows 8.1, Windows Server 2012 R2'), checked: CHECKED, note: 'Windows 8.1 itself ended 2023-01-10.' },
  {
    product: 'Windows 10',
    version: '10.0',
    builds: [10240, 10586, 15063, 16299, 17134, 18362, 18363, 19041, 19042, 19043, 19045],
    end_of_support: '2025-10-14',
    source: MS('Windows 10 Home and Pro'),
    checked: CHECKED,
    note: 'Extended Security Updates are sold past this date; long-term servicing builds are not in this row.',
  },
];

/** Windows, by the IIS version in an HTTP Server header. */
const IIS: Readonly<Record<string, EndOfSupportRow>> = {
  '5.0': { product: 'Windows 2000 (IIS 5.0)', version: '5.0', end_of_support: '2010-07-13', source: MS('Windows 2000'), checked: CHECKED },
  '5.1': { product: 'Windows XP (IIS 5.1)', version: '5.1', end_of_support: '2014-04-08', source: MS('Windows XP'), checked: CHECKED },
  '6.0': { product: 'Windows Server 2003 (IIS 6.0)', version: '6.0', end_of_support: '2015-07-14', source: MS('Windows Server 2003'), checked: CHECKED },
  '7.0': { product: 'Windows Vista / Windows Server 2008 (IIS 7.0)', version: '7.0', end_of_support: '2020-01-14', source: MS('Windows Server 2008'), checked: CHECKED },
  '7.5': { product: 'Windows 7 / Windows Server 2008 R2 (IIS 7.5)', version: '7.5', end_of_support: '2020-01-14', source: MS('Windows 7, Windows Server 2008 R2'), checked: CHECKED },
  '8.0': { product: 'Windows 8 / Windows Server 2012 (IIS 8.0)', version: '8.0', end_of_support: '2023-10-10', source: MS('Windows Server 2012'), checked: CHECKED },
  '8.5': { product: 'Windows 8.1 / Windows Server 2012 R2 (IIS 8.5)', version: '8.5', end_of_support: '2023-10-10', source: MS('Windows 8.1, Windows Server 2012 R2'), checked: CHECKED },
};

const OPENSSL_LINES: Readonly<Record<string, string>> = {
  '0.9.8': '2015-12-31',
  '1.0.0': '2015-12-31',
  '1.0.1': '2016-12-31',
  '1.0.2': '2019-12-31',
  '1.1.0': '2019-09-11',
  '1.1.1': '2023-09-11',
};

const HTTPD_LINES: Readonly<Record<string, string>> = { '2.2': '2017-12-31' };

const PHP_LINES: Readonly<Record<string, string>> = {
  '5.3': '2014-08-14',
  '5.4': '2015-09-03',
  '5.5': '2016-07-21',
  '5.6': '2018-12-31',
  '7.0': '2019-01-10',
  '7.1': '2019-12-01',
  '7.2': '2020-11-30',
  '7.3': '2021-12-06',
  '7.4': '2022-11-28',
  '8.0': '2023-11-26',
};

/** Debian releases by number: the end of their long-term support, the last free security updates. */
const DEBIAN_LINES: Readonly<Record<string, string>> = {
  '6': '2016-02-29',
  '7': '2018-05-31',
  '8': '2020-06-30',
  '9': '2022-06-30',
  '10': '2024-06-30',
  '11': '2026-08-31',
  '12': '2028-06-30',
};
const DEBIAN_NOTE = 'Freexian’s paid Extended LTS runs past this date for some packages.';

const lineRows = (product: string, lines: Readonly<Record<string, string>>, source: EndOfSupportSource): EndOfSupportRow[] =>
  Object.entries(lines).map(([version, end]) => ({ product, version, end_of_support: end, source, checked: CHECKED }));

/** The whole table, for the docs and the dashboard. */
export const END_OF_SUPPORT: readonly EndOfSupportRow[] = [
  ...WINDOWS_BY_NT_VERSION,
  ...Object.values(IIS),
  ...lineRows('OpenSSL', OPENSSL_LINES, OPENSSL),
  ...lineRows('Apache httpd', HTTPD_LINES, HTTPD),
  ...lineRows('PHP', PHP_LINES, PHP),
  ...lineRows('Debian', DEBIAN_LINES, DEBIAN_LTS).map((r) => ({ ...r, note: DEBIAN_NOTE })),
];

const byLine = (product: string) => new Map(END_OF_SUPPORT.filter((r) => r.product === product).map((r) => [r.version, r]));
const OPENSSL_ROWS = byLine('OpenSSL');
const HTTPD_ROWS = byLine('Apache httpd');
const PHP_ROWS = byLine('PHP');
const DEBIAN_ROWS = byLine('Debian');

/** One table row matched, with the product and version the string actually carried. */
export interface EndOfSupportMatch {
  row: EndOfSupportRow;
  /** The version as seen, e.g. "1.0.2k", "2.2.15", "6.1.7601". */
  version_seen: string;
}

// Product tokens of an HTTP Server header ("Apache/2.2.15 (CentOS) OpenSSL/1.0.2k-fips PHP/5.4.16").
// The version must end at a token boundary, so "OpenSSL/1.0.20" or "Apache/2.22" never match a line.
const TOKEN = /(?:^|[\s(;,])(Microsoft-IIS|Apache|OpenSSL|PHP)\/(\d+(?:\.\d+){0,3}[a-z]{0,2})(?=$|[\s);,+-])/gi;

/**
 * The rows a software string (HTTP Server or X-Powered-By header, banner) matches: each product
 * token at most once, the first occurrence.
 */
export function matchSoftware(value: string): EndOfSupportMatch[] {
  const out: EndOfSupportMatch[] = [];
  const seen = new Set<string>();
  for (const m of value.slice(0, 512).matchAll(TOKEN)) {
    const product = m[1].toLowerCase();
    const version = m[2];
    if (seen.has(product)) continue;
    seen.add(product);
    const nums = version.match(/^\d+(?:\.\d+)*/)![0].split('.');
    let row: EndOfSupportRow | undefined;
    if (product === 'microsoft-iis') row = IIS[nums.slice(0, 2).join('.')];
    // OpenSSL's release line is the three numbers; the letter is the patch release.
    else if (product === 'openssl') row = nums.length >= 3 ? OPENSSL_ROWS.get(nums.slice(0, 3).join('.')) : undefined;
    else if (product === 'apache') row = nums.length >= 2 ? HTTPD_ROWS.get(nums.slice(0, 2).join('.')) : undefined;
    else if (product === 'php') row = nums.length >= 2 ? PHP_ROWS.get(nums.slice(0, 2).join('.')) : undefined;
    if (row) out.push({ row, version_seen: version });
  }
  return out;
}

/**
 * The row of a Windows version as the NTLM VERSION field gives it ("6.1.7601" or major, minor,
 * build), or null for a version that is supported or not in the table.
 */
export function matchWindowsVersion(version: string): EndOfSupportMatch | null {
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,6}))?$/.exec(version.trim());
  if (!m) return null;
  const line = `${Number(m[1])}.${Number(m[2])}`;
  const build = m[3] === undefined ? null : Number(m[3]);
  for (const row of WINDOWS_BY_NT_VERSION) {
    if (row.version !== line) continue;
    if (row.builds && (build === null || !row.builds.includes(build))) return null;
    return { row, version_seen: version.trim() };
  }
  return null;
}

// A browser names its Windows as "Windows NT 6.1"; Windows 10 and 11 both say 10.0 with no build,
// so they never match (the Windows 10 row needs a build).
const UA_WINDOWS = /Windows NT (\d{1,2}\.\d{1,2})(?=[;)\s]|$)/;

/** The Windows a User-Agent names ("… (Windows NT 6.1; Win64; x64) …"), when it has ended. */
export function matchUserAgent(ua: string): EndOfSupportMatch[] {
  const m = UA_WINDOWS.exec(ua.slice(0, 512));
  const hit = m ? matchWindowsVersion(m[1]) : null;
  return hit ? [hit] : [];
}

// The Debian package revision after the OpenSSH version: "Debian-10+deb9u7" (a stable update of
// Debian 9), "Debian-6+squeeze5" (Debian 6 named its updates after the release).
const SSH_DEBIAN = /^SSH-\d\.\d+-OpenSSH_[0-9A-Za-z.]+ Debian-[0-9A-Za-z.~]+\+(?:deb(\d{1,2})u\d+|(squeeze)\d+)(?=$|[\s+])/;

/** The Debian release an SSH identification string ("SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7") names, when it has ended. */
export function matchSshBanner(banner: string): EndOfSupportMatch[] {
  const m = SSH_DEBIAN.exec(banner.slice(0, 255));
  if (!m) return [];
  const release = m[2] === 'squeeze' ? '6' : String(Number(m[1]));
  const row = DEBIAN_ROWS.get(release);
  return row ? [{ row, version_seen: release }] : [];
}

/** Where a software string was seen, as the inventory's software list and the rule's evidence name it. */
export type SoftwareSeenIn = 'http-server' | 'http-user-agent' | 'smb-ntlm' | 'ssh';

/** The rows a software string matches, read the way its source writes it; [] for sources the table does not cover. */
export function matchSeen(seenIn: string, value: string): EndOfSupportMatch[] {
  if (seenIn === 'http-server') return matchSoftware(value);
  if (seenIn === 'http-user-agent') return matchUserAgent(value);
  if (seenIn === 'ssh') return matchSshBanner(value);
  if (seenIn === 'smb-ntlm') {
    const m = matchWindowsVersion(value);
    return m ? [m] : [];
  }
  return [];
}

/** The match has ended by `at` (an ISO time): the day after the last day of support has begun, in UTC. */
export function endedBy(match: EndOfSupportMatch, at: string): boolean {
  const t = Date.parse(at);
  return Number.isFinite(t) && t >= Date.parse(`${match.row.end_of_support}T00:00:00Z`) + 86_400_000;
}
