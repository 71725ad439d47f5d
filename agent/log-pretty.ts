/** One pino JSON record as a line a person reads: `18:20:41.123 INFO  message  key=value …`. */
const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO', '\x1b[32m'],
  40: ['WARN', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41m'],
};
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

export function prettyLogLine(line: string, colour: boolean): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const t = typeof r.time === 'number' ? new Date(r.time) : new Date();
  const hh = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${hh(t.getHours())}:${hh(t.getMinutes())}:${hh(t.getSeconds())}.${hh(t.getMilliseconds(), 3)}`;
  const [name, c] = LEVELS[Number(r.level)] ?? ['LOG', ''];
  const pad = ' '.repeat(5 - name.length);
  const level = (colour && c ? `${c}${name}\x1b[0m` : name) + pad;
  const fields = Object.entries(r)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  const msg = typeof r.msg === 'string' ? r.msg : '';
  return `${time} ${level} ${msg}${fields ? `  ${colour ? `\x1b[2m${fields}\x1b[0m` : fields}` : ''}\n`;
}
