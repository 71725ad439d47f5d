import { describe, expect, it } from 'vitest';
import { timeRatio } from '../../support/relative-time.js';
import { harness, mllp, VT } from './support.js';

const N = 3000;
const ackChunk = Buffer.from(
  Array.from({ length: N }, (_, i) => mllp(`MSH|^~\\&|R|R|S|S|20240101||ACK^A01|A${i}|P|2.5\rMSA|AA|NOPE${i}`)).join(''),
  'latin1',
);
/** An unfinished frame in the other direction: N MSH segments (worst case) or N other segments. */
const partial = (msh: boolean) =>
  Buffer.from(VT + Array.from({ length: N }, (_, i) => (msh ? `MSH|^~\\&|S|S|R|R|20240101||ADT^A01|X${i}|P|2.5` : `NTE|${i}|L|note`)).join('\r') + '\r', 'latin1');

describe('ACKs that match nothing while the other direction holds an unfinished frame', () => {
  it('are checked against the frame in linear time: 3,000 ACKs against 3,000 MSH segments within 3x of a frame without MSH', () => {
    let unmatched = 0;
    const run = (msh: boolean) => () => {
      const h = harness();
      h.send(0, partial(msh));
      h.send(1, ackChunk);
      unmatched = h.parser.counters.acksUnmatched;
    };
    run(true)();
    expect(unmatched).toBe(N); // none answered a message: every one was an orphan
    const r = timeRatio(run(true), run(false));
    expect(r.ratio, `with MSH ${r.worstMs.toFixed(1)} ms, without ${r.normalMs.toFixed(1)} ms`).toBeLessThan(3);
  });
});
