import { describe, expect, it } from 'vitest';
import { logFormat } from '../../../agent/log.js';
import { prettyLogLine } from '../../../agent/log-pretty.js';

describe('log format', () => {
  it('is what MUVAKT_LOG_FORMAT says, else JSON when stderr is no terminal', () => {
    expect(logFormat('pretty')).toBe('pretty');
    expect(logFormat('json')).toBe('json');
    // Under the test runner stderr is a pipe.
    expect(logFormat(undefined)).toBe(process.stderr.isTTY ? 'pretty' : 'json');
  });

  it('turns a pino record into one readable line, fields after the message', () => {
    const t = new Date(2026, 11, 4, 18, 5, 7, 42).getTime();
    const line = JSON.stringify({ level: 40, time: t, pid: 1, name: 'muvakt', msg: 'syslog export', syslog: 'error', detail: 'ECONNREFUSED', n: 3 });
    expect(prettyLogLine(line, false)).toBe('18:05:07.042 WARN  syslog export  syslog=error detail=ECONNREFUSED n=3\n');
    expect(prettyLogLine(JSON.stringify({ level: 30, time: t, msg: 'x', path: 'a b' }), false)).toBe('18:05:07.042 INFO  x  path="a b"\n');
    expect(prettyLogLine(JSON.stringify({ level: 50, time: t, msg: 'boom' }), true)).toBe('18:05:07.042 \x1b[31mERROR\x1b[0m boom\n');
    expect(prettyLogLine('not json', false)).toBe('not json\n');
  });
});
