/**
 * Capture time as events write it: ISO 8601 UTC with microseconds, like Suricata's EVE
 * timestamps. The one place capture times (seconds and nanoseconds) become text.
 */
export function isoMicro(sec: number, nsec: number): string {
  const micros = Math.floor(nsec / 1000);
  // Events come in bursts from the same instant (a message and its PHI, a flow's start and
  // end); the same text is handed out again rather than built again.
  if (sec === cachedSec && micros === cachedMicros) return cachedText;
  // ... and from the same second: the date part is formatted once per second.
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19); // 2026-11-23T14:08:27
  }
  cachedMicros = micros;
  cachedText =
    micros >= 0 && micros < 1_000_000
      ? `${cachedPrefix}.${DIGITS3[Math.floor(micros / 1000)]}${DIGITS3[micros % 1000]}Z`
      : `${cachedPrefix}.${String(micros).padStart(6, '0')}Z`;
  return cachedText;
}
let cachedSec = NaN;
let cachedPrefix = '';
let cachedMicros = -1;
let cachedText = '';
/** "000" … "999": six fraction digits as two table lookups instead of a padStart. */
const DIGITS3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
