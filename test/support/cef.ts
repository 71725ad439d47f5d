/**
 * A CEF:0 parser written from ArcSight's "Implementing ArcSight CEF" (rev. 25): independent of
 * agent/export/cef.ts, strict where the spec is (an unescaped "=" inside a value, a bad escape,
 * a header with other than seven fields are errors), so a test that parses our lines with it
 * checks the escaping, not just a round trip of our own code.
 */
export interface CefEvent {
  version: number;
  deviceVendor: string;
  deviceProduct: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Record<string, string>;
}

/** The CEF part of a syslog line: everything from "CEF:". */
export function parseCef(line: string): CefEvent {
  const start = line.indexOf('CEF:');
  if (start < 0) throw new Error('no CEF: prefix');
  const s = line.slice(start + 4);
  // Header: seven fields separated by unescaped pipes; only \| and \\ are escapes there.
  const header: string[] = [];
  let cur = '';
  let i = 0;
  while (header.length < 7) {
    if (i >= s.length) throw new Error(`CEF header has ${header.length} fields, expected 7`);
    const c = s[i];
    if (c === '\\') {
      const n = s[i + 1];
      if (n !== '|' && n !== '\\') throw new Error(`bad header escape \\${n} at ${i}`);
      cur += n;
      i += 2;
      continue;
    }
    if (c === '|') {
      header.push(cur);
      cur = '';
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') throw new Error('line break in the CEF header');
    cur += c;
    i++;
  }
  const ext = s.slice(i);
  if (!/^\d+$/.test(header[0])) throw new Error(`CEF version ${header[0]}`);
  return {
    version: Number(header[0]),
    deviceVendor: header[1],
    deviceProduct: header[2],
    deviceVersion: header[3],
    signatureId: header[4],
    name: header[5],
    severity: header[6],
    extension: parseExtension(ext),
  };
}

/**
 * key=value pairs separated by spaces; a value runs up to the space before the next key; in a
 * value "=" and "\" are escaped (\= \\) and line breaks are \n or \r. Keys are letters, digits,
 * "_" and ".".
 */
export function parseExtension(ext: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (ext.trim() === '') return out;
  if (/[\r\n]/.test(ext)) throw new Error('raw line break in the CEF extension');
  // Positions of unescaped "=" signs.
  const eqs: number[] = [];
  for (let i = 0; i < ext.length; i++) {
    if (ext[i] === '\\') {
      i++;
      continue;
    }
    if (ext[i] === '=') eqs.push(i);
  }
  const keyBefore = (eq: number): { key: string; start: number } => {
    const sp = ext.lastIndexOf(' ', eq);
    const key = ext.slice(sp + 1, eq);
    if (!/^[A-Za-z0-9_.]+$/.test(key)) throw new Error(`bad CEF key ${JSON.stringify(key)} (an unescaped "=" in a value?)`);
    return { key, start: sp + 1 };
  };
  const keys = eqs.map(keyBefore);
  if (keys[0].start !== 0) throw new Error('CEF extension does not start with a key');
  for (let k = 0; k < keys.length; k++) {
    const vStart = eqs[k] + 1;
    const vEnd = k + 1 < keys.length ? keys[k + 1].start - 1 : ext.length;
    const raw = ext.slice(vStart, vEnd);
    if (Object.hasOwn(out, keys[k].key)) throw new Error(`CEF key ${keys[k].key} twice`);
    out[keys[k].key] = unescapeValue(raw);
  }
  return out;
}

function unescapeValue(raw: string): string {
  let v = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\') {
      v += c;
      continue;
    }
    const n = raw[++i];
    if (n === '\\' || n === '=') v += n;
    else if (n === 'n') v += '\n';
    else if (n === 'r') v += '\r';
    else throw new Error(`bad extension escape \\${n ?? ''}`);
  }
  return v;
}
