import { readFileSync } from 'node:fs';
import { Check, Errors } from 'typebox/value';
import { Settings } from 'typebox/system';
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
  'dicom', 'dicom-tls', 'dicomweb', 'hl7', 'tls', 'http', 'ssh', 'rdp', 'vnc', 'telnet', 'teamviewer', 'anydesk', 'ftp', 'ftp-data', 'smb', 'smtp', 'pop3', 'imap',
  'snmp', 'syslog', 'dns', 'dhcp', 'dhcpv6', 'ntp', 'mdns', 'ssdp', 'netbios', 'tftp', 'sip', 'stun', 'unknown',
]);

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
  if (schema.type === 'integer' || schema.type === 'number') {
    const what = schema.type === 'integer' ? 'an integer' : 'a number';
    const lo = schema.exclusiveMinimum !== undefined ? `greater than ${schema.exclusiveMinimum}` : schema.minimum !== undefined ? `${schema.minimum}` : undefined;
    if (schema.minimum !== undefined && schema.maximum !== undefined) return `${what} from ${schema.minimum} to ${schema.maximum}`;
    if (lo !== undefined && schema.maximum !== undefined) return `${what} ${lo} and at most ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined) return `${what} greater than ${schema.exclusiveMinimum}`;
    if (schema.minimum !== undefined) return `${what} of at least ${schema.minimum}`;
    return what;
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
        // Where the parser found the problem (prettyErrors is off, so linePos is ours to compute).
        const p = e.linePos?.[0] ?? loc.at(e.pos[0]);
        return new PolicyError(file, p.line, p.col, '', `YAML syntax: ${e.message.split('\n')[0]}`);
      }),
    };
  }
  const value = doc.toJS() as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: [new PolicyError(file, 1, 1, '', 'expected a mapping with site, zones, …')] };
  }
  // One round: the schema's problems and the meaning's (zones, CIDRs, flows) together, in file order.
  const schemaErrors = schemaProblems(value, loc);
  const fields = new Set(schemaErrors.map((e) => e.field));
  // A value the schema refused is not judged again for its meaning.
  const errors = [...schemaErrors, ...semanticProblems(value as Policy, loc).filter((e) => !fields.has(e.field))];
  errors.sort((a, b) => a.line - b.line || a.col - b.col);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: value as Policy };
}

/**
 * Every schema error (TypeBox stops at 8 by default: one mistyped enum value is 8 errors).
 * Checked as it stands, not compiled: a policy is checked once per load, and compiling the
 * schema into a validator took longer (~20 ms of every start with a policy) than the check.
 */
function allSchemaErrors(value: unknown): ReturnType<typeof Errors> {
  // A valid policy (every start) needs only the yes; listing errors costs several times more.
  if (Check(PolicySchema, value)) return [];
  const max = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 10_000 });
  try {
    return Errors(PolicySchema, value);
  } finally {
    Settings.Set({ maxErrors: max });
  }
}

/** A YAML number where a quoted version string was meant (`min_tls: 1.2`). */
function quoteHint(schema: Record<string, any> | null, got: unknown): string {
  if (typeof got !== 'number' || !schema?.anyOf) return '';
  const lits = (schema.anyOf as Record<string, any>[]).map((x) => x.const).filter((c): c is string => typeof c === 'string');
  const meant = lits.find((c) => c.trim() !== '' && Number(c) === got);
  return meant === undefined ? '' : ` — YAML reads ${got} as a number; quote it: "${meant}"`;
}

function schemaProblems(value: unknown, loc: Locator): PolicyError[] {
  const out: PolicyError[] = [];
  const seen = new Set<string>();
  for (const e of allSchemaErrors(value)) {
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
        const gotValue = path.reduce<any>((v, p) => (v == null ? v : v[p]), value);
        const schema = schemaAt(path);
        err = loc.error(path, `expected ${describeExpected(schema)}, got ${JSON.stringify(gotValue)}${quoteHint(schema, gotValue)}`);
      }
    }
    if (err) out.push(err);
  }
  return out;
}

/**
 * IANA's canonical names come from a list (~2 ms); an alias ("UTC", "US/Eastern") from trying
 * it, which the first time loads ICU's time zones (~20 ms of the start).
 */
function isTimeZone(name: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(name)) return true;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The list at `v`, or none when the schema check already reported it is not one. */
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * What the schema cannot say (zone names, VLAN and CIDR overlaps, references to zones, apps,
 * addresses, time zones). Runs on whatever parsed, next to the schema check: a part of the
 * wrong type is left to the schema's message and skipped here, so both come in one round.
 */
function semanticProblems(policy: Policy, loc: Locator): PolicyError[] {
  const out: PolicyError[] = [];
  const p = obj(policy);
  const zoneNames = new Map<string, number>();
  const prefixes: { zone: number; prefix: Prefix; at: Path }[] = [];
  const vlanOwner = new Map<number, number>();
  const zones = list(p.zones).map(obj);
  zones.forEach((z, i) => {
    const name = typeof z.name === 'string' ? z.name : undefined;
    if (name !== undefined) {
      if (zoneNames.has(name)) out.push(loc.error(['zones', i, 'name'], `zone name "${name}" is already used by zones[${zoneNames.get(name)}]`));
      else zoneNames.set(name, i);
    }
    const vlans = list(z.vlans);
    const cidrs = list(z.cidrs);
    if (vlans.length === 0 && cidrs.length === 0) out.push(loc.error(['zones', i], `zone "${name ?? i}" needs vlans or cidrs (or both)`));
    vlans.forEach((v, j) => {
      if (typeof v !== 'number') return;
      const owner = vlanOwner.get(v);
      if (owner !== undefined) out.push(loc.error(['zones', i, 'vlans', j], `VLAN ${v} is already in zone "${String(zones[owner].name)}" (zones[${owner}])`));
      else vlanOwner.set(v, i);
    });
    cidrs.forEach((c, j) => {
      if (typeof c !== 'string') return;
      const pre = parsePrefix(c);
      if (pre === null || !c.includes('/')) {
        out.push(loc.error(['zones', i, 'cidrs', j], `"${c}" is not a CIDR (expected address/length, e.g. 10.77.10.0/24 or fd77::/64)`));
        return;
      }
      for (const other of prefixes) {
        if (other.zone !== i && overlaps(other.prefix, pre)) {
          out.push(loc.error(['zones', i, 'cidrs', j], `${c} overlaps ${other.prefix.text} of zone "${String(zones[other.zone].name)}" (${fieldText(other.at)}): an address must belong to one zone`));
        }
      }
      prefixes.push({ zone: i, prefix: pre, at: ['zones', i, 'cidrs', j] });
    });
  });
  const checkAddr = (path: Path, text: unknown) => {
    if (typeof text === 'string' && parsePrefix(text) === null) out.push(loc.error(path, `"${text}" is not an address or CIDR`));
  };
  list(p.allowed_flows).map(obj).forEach((f, i) => {
    for (const side of ['from', 'to'] as const) {
      const v = f[side];
      if (typeof v !== 'string' || v === 'any' || v === 'external' || zoneNames.has(v) || parsePrefix(v) !== null) continue;
      out.push(loc.error(['allowed_flows', i, side], `unknown zone "${v}" (expected a zone name — ${[...zoneNames.keys()].join(', ')} — or external, any, an address or a CIDR)`));
    }
    list(f.apps).forEach((a, j) => {
      if (typeof a === 'string' && !KNOWN_APPS.has(a)) out.push(loc.error(['allowed_flows', i, 'apps', j], `unknown app "${a}" (expected one of: ${[...KNOWN_APPS].join(', ')})`));
    });
  });
  const expectedNames = new Map<string, number>();
  list(p.expected_flows).map(obj).forEach((f, i) => {
    for (const side of ['from', 'to'] as const) {
      const v = f[side];
      if (typeof v !== 'string' || v === 'any' || v === 'external' || zoneNames.has(v) || parsePrefix(v) !== null) continue;
      out.push(loc.error(['expected_flows', i, side], `unknown zone "${v}" (expected a zone name — ${[...zoneNames.keys()].join(', ')} — or external, any, an address or a CIDR)`));
    }
    list(f.apps).forEach((a, j) => {
      if (typeof a === 'string' && !KNOWN_APPS.has(a)) out.push(loc.error(['expected_flows', i, 'apps', j], `unknown app "${a}" (expected one of: ${[...KNOWN_APPS].join(', ')})`));
    });
    if (typeof f.name === 'string') {
      const first = expectedNames.get(f.name);
      if (first !== undefined) out.push(loc.error(['expected_flows', i, 'name'], `"${f.name}" is already the name of expected_flows[${first}]: each expected flow needs its own name`));
      else expectedNames.set(f.name, i);
    }
  });
  const remote = obj(p.remote_access);
  list(remote.jump_hosts).forEach((h, i) => checkAddr(['remote_access', 'jump_hosts', i], h));
  list(remote.vendors).map(obj).forEach((v, i) => {
    list(v.cidrs).forEach((c, j) => checkAddr(['remote_access', 'vendors', i, 'cidrs', j], c));
    list(v.windows).map(obj).forEach((w, j) => {
      if (typeof w.from === 'string' && w.from === w.to) out.push(loc.error(['remote_access', 'vendors', i, 'windows', j, 'to'], `"to" equals "from" (${w.from}): a window needs a length (a "to" before "from" runs past midnight)`));
    });
  });
  list(obj(p.authentication).automation_clients).forEach((c, i) => checkAddr(['authentication', 'automation_clients', i], c));
  list(p.retired_devices).map(obj).forEach((d, i) => {
    if (list(d.macs).length === 0 && list(d.addresses).length === 0) out.push(loc.error(['retired_devices', i], `retired device "${String(d.name ?? i)}" needs macs or addresses (or both)`));
    list(d.addresses).forEach((c, j) => checkAddr(['retired_devices', i, 'addresses', j], c));
  });
  if (typeof p.time_zone === 'string' && p.time_zone !== '' && !isTimeZone(p.time_zone)) {
    out.push(loc.error(['time_zone'], `unknown time zone "${p.time_zone}" (expected an IANA name such as Europe/Oslo)`));
  }
  list(obj(p.external).allowed_destinations).forEach((c, i) => checkAddr(['external', 'allowed_destinations', i], c));
  return out;
}
