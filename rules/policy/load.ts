import { readFileSync } from 'node:fs';
import { Compile } from 'typebox/compile';
import { isMap, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { parsePrefix, overlaps, type Prefix } from './cidr.js';
import { PolicySchema, type Policy } from './schema.js';

/** One problem in a policy file, located so an operator can go straight to it. */
export class PolicyError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** e.g. `zones[1].cidrs[0]` ('' for the document). */
    readonly field: string,
    readonly message: string,
  ) {}
  toString(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.field ? `${this.field}: ` : ''}${this.message}`;
  }
}

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyError[] };

/** App names flows can be allowed for: what the analyzers label flows with. */
export const KNOWN_APPS = new Set([
  'dicom', 'dicom-tls', 'hl7', 'tls', 'http', 'ssh', 'rdp', 'vnc', 'telnet', 'teamviewer', 'anydesk', 'ftp', 'smb', 'smtp', 'pop3', 'imap',
  'snmp', 'syslog', 'dns', 'dhcp', 'dhcpv6', 'ntp', 'mdns', 'ssdp', 'netbios', 'tftp', 'sip', 'stun', 'unknown',
]);

const checkSchema = Compile(PolicySchema);

type Path = (string | number)[];

function fieldText(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function pathOf(pointer: string): Path {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** The schema node that describes `path` (for "expected one of …" messages). */
function schemaAt(path: Path): Record<string, any> | null {
  let s: Record<string, any> | null = PolicySchema as unknown as Record<string, any>;
  for (const p of path) {
    if (!s) return null;
    if (s.anyOf) s = s.anyOf.find((x: Record<string, any>) => x.type === 'object' || x.type === 'array') ?? null;
    if (!s) return null;
    s = typeof p === 'number' ? s.items ?? null : s.properties?.[p] ?? null;
  }
  return s;
}

function describeExpected(schema: Record<string, any> | null): string {
  if (!schema) return 'a valid value';
  if (schema.anyOf) {
    const lits = schema.anyOf.filter((x: Record<string, any>) => 'const' in x).map((x: Record<string, any>) => JSON.stringify(x.const));
    const others = schema.anyOf.filter((x: Record<string, any>) => !('const' in x)).map((x: Record<string, any>) => describeExpected(x));
    return `one of ${[...lits, ...others].join(', ')}`;
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.type === 'array') return `a list of ${describeExpected(schema.items)}`;
  if (schema.type === 'integer') {
    const range = schema.minimum !== undefined && schema.maximum !== undefined ? ` from ${schema.minimum} to ${schema.maximum}` : '';
    return `an integer${range}`;
  }
  if (schema.type === 'string' && schema.pattern) return `a string matching ${schema.pattern}`;
  return `a${/^[aeiou]/.test(schema.type) ? 'n' : ''} ${schema.type}`;
}

class Locator {
  readonly lines = new LineCounter();
  doc!: Document;
  constructor(readonly file: string) {}

  parse(text: string): Document {
    this.doc = parseDocument(text, { lineCounter: this.lines, keepSourceTokens: true, uniqueKeys: true, prettyErrors: false });
    return this.doc;
  }

  at(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }

  /** Position of the value at `path`, or of `key` inside the map at `path`. */
  error(path: Path, message: string, key?: string): PolicyError {
    let pos = { line: 1, col: 1 };
    const node = this.doc.getIn(path, true) as YamlNode | undefined;
    if (key !== undefined && node && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      const r = (pair?.key as YamlNode | undefined)?.range;
      if (r) pos = this.at(r[0]);
    } else if (node?.range) {
      pos = this.at(node.range[0]);
    } else {
      // The value is missing: point at the parent.
      for (let i = path.length - 1; i >= 0; i--) {
        const parent = this.doc.getIn(path.slice(0, i), true) as YamlNode | undefined;
        if (parent?.range) {
          pos = this.at(parent.range[0]);
          break;
        }
      }
    }
    return new PolicyError(this.file, pos.line, pos.col, fieldText(key !== undefined ? [...path, key] : path), message);
  }
}

/** Reads and validates a policy file. Every problem comes back located; nothing throws. */
export function loadPolicy(file: string): PolicyResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, errors: [new PolicyError(file, 1, 1, '', `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)] };
  }
  return parsePolicy(text, file);
}

export function parsePolicy(text: string, file = '<policy>'): PolicyResult {
  const loc = new Locator(file);
  const doc = loc.parse(text);
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const p = e.linePos?.[0] ?? { line: 1, col: 1 };
        return new PolicyError(file, p.line, p.col, '', `YAML syntax: ${e.message.split('\n')[0]}`);
      }),
    };
  }
  const value = doc.toJS() as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: [new PolicyError(file, 1, 1, '', 'expected a mapping with site, zones, …')] };
  }
  const schemaErrors = schemaProblems(value, loc);
  if (schemaErrors.length > 0) return { ok: false, errors: schemaErrors };
  const policy = value as Policy;
  const errors = semanticProblems(policy, loc);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy };
}

function schemaProblems(value: unknown, loc: Locator): PolicyError[] {
  const out: PolicyError[] = [];
  const seen = new Set<string>();
  for (const e of checkSchema.Errors(value)) {
    const path = pathOf(e.instancePath);
    const params = e.params as Record<string, any>;
    let err: PolicyError | null = null;
    switch (e.keyword) {
      case 'additionalProperties': {
        const allowed = Object.keys(schemaAt(path)?.properties ?? {});
        for (const k of (params.additionalProperties as string[]) ?? []) {
          const id = `unknown:${e.instancePath}/${k}`;
          if (seen.has(id)) continue;
          seen.add(id);
          out.push(loc.error(path, `unknown key "${k}" (expected one of: ${allowed.join(', ')})`, k));
        }
        continue;
      }
      case 'boolean':
        // The per-key half of additionalProperties: reported above.
        continue;
      case 'required':
        for (const k of (params.requiredProperties as string[]) ?? []) {
          const id = `required:${e.instancePath}/${k}`;
          if (!seen.has(id)) {
            seen.add(id);
            out.push(loc.error([...path, k], `missing required key "${k}" (expected ${describeExpected(schemaAt([...path, k]))})`));
          }
        }
        continue;
      default: {
        // One message per location: the first, most specific one.
        const id = `at:${e.instancePath}`;
        if ([...seen].some((s) => s.startsWith('at:') && (`${s.slice(3)}/`.startsWith(`${e.instancePath}/`) || s.slice(3) === e.instancePath))) continue;
        seen.add(id);
        const got = JSON.stringify(path.reduce<any>((v, p) => (v == null ? v : v[p]), value));
        err = loc.error(path, `expected ${describeExpected(schemaAt(path))}, got ${got}`);
      }
    }
    if (err) out.push(err);
  }
  return out;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function semanticProblems(policy: Policy, loc: Locator): PolicyError[] {
  const out: PolicyError[] = [];
  const zoneNames = new Map<string, number>();
  const prefixes: { zone: number; prefix: Prefix; at: Path }[] = [];
  const vlanOwner = new Map<number, number>();
  policy.zones.forEach((z, i) => {
    if (zoneNames.has(z.name)) out.push(loc.error(['zones', i, 'name'], `zone name "${z.name}" is already used by zones[${zoneNames.get(z.name)}]`));
    else zoneNames.set(z.name, i);
    if (!z.vlans?.length && !z.cidrs?.length) out.push(loc.error(['zones', i], `zone "${z.name}" needs vlans or cidrs (or both)`));
    z.vlans?.forEach((v, j) => {
      const owner = vlanOwner.get(v);
      if (owner !== undefined) out.push(loc.error(['zones', i, 'vlans', j], `VLAN ${v} is already in zone "${policy.zones[owner].name}" (zones[${owner}])`));
      else vlanOwner.set(v, i);
    });
    z.cidrs?.forEach((c, j) => {
      const p = parsePrefix(c);
      if (p === null || !c.includes('/')) {
        out.push(loc.error(['zones', i, 'cidrs', j], `"${c}" is not a CIDR (expected address/length, e.g. 10.77.10.0/24 or fd77::/64)`));
        return;
      }
      for (const other of prefixes) {
        if (other.zone !== i && overlaps(other.prefix, p)) {
          out.push(loc.error(['zones', i, 'cidrs', j], `${c} overlaps ${other.prefix.text} of zone "${policy.zones[other.zone].name}" (${fieldText(other.at)}): an address must belong to one zone`));
        }
      }
      prefixes.push({ zone: i, prefix: p, at: ['zones', i, 'cidrs', j] });
    });
  });
  const checkAddr = (path: Path, text: string) => {
    if (parsePrefix(text) === null) out.push(loc.error(path, `"${text}" is not an address or CIDR`));
  };
  policy.allowed_flows?.forEach((f, i) => {
    for (const side of ['from', 'to'] as const) {
      const v = f[side];
      if (v === 'any' || v === 'external' || zoneNames.has(v) || parsePrefix(v) !== null) continue;
      out.push(loc.error(['allowed_flows', i, side], `unknown zone "${v}" (expected a zone name — ${[...zoneNames.keys()].join(', ')} — or external, any, an address or a CIDR)`));
    }
    f.apps?.forEach((a, j) => {
      if (!KNOWN_APPS.has(a)) out.push(loc.error(['allowed_flows', i, 'apps', j], `unknown app "${a}" (expected one of: ${[...KNOWN_APPS].join(', ')})`));
    });
  });
  policy.remote_access?.jump_hosts?.forEach((h, i) => checkAddr(['remote_access', 'jump_hosts', i], h));
  policy.remote_access?.vendors?.forEach((v, i) => v.cidrs.forEach((c, j) => checkAddr(['remote_access', 'vendors', i, 'cidrs', j], c)));
  policy.remote_access?.vendors?.forEach((v, i) =>
    v.windows?.forEach((w, j) => {
      if (w.from === w.to) out.push(loc.error(['remote_access', 'vendors', i, 'windows', j, 'to'], `"to" equals "from" (${w.from}): a window needs a length (a "to" before "from" runs past midnight)`));
    }),
  );
  if (policy.time_zone !== undefined && !isTimeZone(policy.time_zone)) {
    out.push(loc.error(['time_zone'], `unknown time zone "${policy.time_zone}" (expected an IANA name such as Europe/Oslo)`));
  }
  policy.external?.allowed_destinations?.forEach((c, i) => checkAddr(['external', 'allowed_destinations', i], c));
  return out;
}
