import { describe, expect, it } from 'vitest';
import { MemoryGuard, memoryEpisodeText, parseSize, type MemoryEpisode } from '../../../agent/sensor/memory-guard.js';

const MB = 1024 * 1024;

function guard(rss: number[], afterCollect?: number) {
  const episodes: MemoryEpisode[] = [];
  let current = rss[0];
  let i = 0;
  let now = 0;
  const growth: number[] = [];
  const g = new MemoryGuard(
    1000 * MB,
    (e) => episodes.push(e),
    () => current,
    () => {
      if (afterCollect !== undefined) current = afterCollect;
    },
    () => now,
    (percent) => growth.push(percent),
  );
  return {
    g,
    episodes,
    growth,
    step() {
      current = rss[i++];
      now += 5000;
      return g.check();
    },
  };
}

describe('memory guard', () => {
  it('collects garbage first, and sheds only when that does not bring it down', () => {
    const freed = guard([700 * MB], 300 * MB);
    expect(freed.step()).toBe(false);
    expect(freed.g.collections).toBe(1);
    expect(freed.episodes).toEqual([]);

    const live = guard([900 * MB], 880 * MB);
    expect(live.step()).toBe(true);
    expect(live.episodes).toEqual([{ shedding: true, rssBytes: 880 * MB, ceilingBytes: 1000 * MB }]);
  });

  it('reports an episode once when it starts and once when it ends, not at every check', () => {
    const t = guard([500 * MB, 900 * MB, 950 * MB, 800 * MB, 650 * MB, 500 * MB]);
    const states = [t.step(), t.step(), t.step(), t.step(), t.step(), t.step()];
    expect(states).toEqual([false, true, true, true, false, false]);
    expect(t.episodes.map((e) => e.shedding)).toEqual([true, false]);
    expect(t.g.episodes).toBe(1);
    expect(t.g.peakBytes).toBe(950 * MB);
  });

  it("holds V8's heap growth tight from 40 % of the ceiling and gives it back under 25 %", () => {
    const t = guard([100 * MB, 390 * MB, 420 * MB, 300 * MB, 260 * MB, 240 * MB, 100 * MB]);
    const tight = [];
    for (let k = 0; k < 7; k++) {
      t.step();
      tight.push(t.g.tight);
    }
    expect(tight).toEqual([false, false, true, true, true, false, false]);
    // Once each way, not at every check.
    expect(t.growth).toEqual([25, 0]);
  });

  it('says sizes only', () => {
    expect(memoryEpisodeText({ shedding: true, rssBytes: 900 * MB, ceilingBytes: 1000 * MB })).toBe(
      'memory 900 MB near the ceiling of 1000 MB: shedding analysis (no new analyzer states or devices; flows still counted)',
    );
  });

  it('reads sizes', () => {
    expect(parseSize('512M')).toBe(512 * MB);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 * MB);
    expect(parseSize('2048k')).toBe(2 * MB);
    expect(parseSize('1000000')).toBe(1_000_000);
    expect(parseSize('lots')).toBeNaN();
  });
});
