/**
 * Adds a published vendor default credential to protocols/default-credential-list.ts, as its
 * fingerprint only. The password is read from standard input, so it reaches neither the shell
 * history nor the process list, and it is not written anywhere.
 *
 *   npm run build --silent
 *   printf %s "$PASSWORD" | node dist/scripts/default-credentials.js add --vendor V --product P [--user U]
 *
 * --user is left out for a credential that has no user name (an SNMP community, a VNC
 * password). `list` prints the vendors and products in the list.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CREDENTIAL_FINGERPRINTS } from '../protocols/default-credential-list.js';
import { defaultCredentialFingerprint, type DefaultCredentialEntry } from '../protocols/default-credentials.js';

const LIST_FILE = 'protocols/default-credential-list.ts';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The list file with these entries, its head comment and declaration kept as they are. */
export function renderList(current: string, entries: readonly DefaultCredentialEntry[]): string {
  const start = current.indexOf('= [\n');
  if (start < 0) throw new Error(`${LIST_FILE}: no list to rewrite`);
  const rows = entries.map((e) => `  { fingerprint: ${quote(e.fingerprint)}, vendor: ${quote(e.vendor)}, product: ${quote(e.product)} },\n`).join('');
  return `${current.slice(0, start)}= [\n${rows}];\n`;
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const root = resolve(dirname(fileURLToPath(import.meta.url)), option(args, 'root') ?? '../..');
  if (command === 'list') {
    for (const e of DEFAULT_CREDENTIAL_FINGERPRINTS) process.stdout.write(`${e.vendor}\t${e.product}\n`);
    return;
  }
  const vendor = option(args, 'vendor');
  const product = option(args, 'product');
  if (command !== 'add' || !vendor || !product) {
    process.stderr.write('usage: default-credentials add --vendor V --product P [--user U]   (password on stdin)\n       default-credentials list\n');
    process.exitCode = 2;
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') {
    process.stderr.write('no password on standard input\n');
    process.exitCode = 2;
    return;
  }
  const fingerprint = defaultCredentialFingerprint(option(args, 'user') ?? '', password);
  if (DEFAULT_CREDENTIAL_FINGERPRINTS.some((e) => e.fingerprint === fingerprint)) {
    process.stdout.write('already in the list\n');
    return;
  }
  const file = join(root, LIST_FILE);
  const entries = [...DEFAULT_CREDENTIAL_FINGERPRINTS, { fingerprint, vendor, product }];
  writeFileSync(file, renderList(readFileSync(file, 'utf8'), entries));
  process.stdout.write(`added ${vendor} ${product} (${entries.length} entries); rebuild to use it\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
