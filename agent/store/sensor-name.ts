/**
 * The name a muvakt instance writes beside everything it stores: alerts list every sensor that
 * saw them, devices have a sighting per sensor, audit rows name the `serve` replica that wrote
 * them, flow history is bucketed per sensor. Several sensors share one store (overlapping
 * mirror ports in several buildings), so the name tells them apart; it is never part of an
 * alert's identity (the same flow seen twice is one alert).
 *
 * A name is short printable ASCII without spaces (it appears in URLs as `sensor=`, in comma
 * lists, and as a Prometheus label value): letters, digits and `._:@-`, at most 63 characters.
 */
import { hostname } from 'node:os';
import { containsFnr } from './values.js';

export const MAX_SENSOR_NAME = 63;
const SENSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,62}$/;

/** Whether `name` is a valid sensor name. */
export function isSensorName(name: unknown): name is string {
  // Eleven digits could be a fødselsnummer: a name is written everywhere, so never one of those.
  return typeof name === 'string' && SENSOR_NAME.test(name) && !containsFnr(name);
}

/** Why `name` is not a sensor name, or null when it is one. */
export function sensorNameProblem(name: string): string | null {
  const valid: boolean = isSensorName(name);
  if (valid) return null;
  if (name.length === 0) return 'a sensor name cannot be empty';
  if (name.length > MAX_SENSOR_NAME) return `a sensor name is at most ${MAX_SENSOR_NAME} characters (got ${name.length})`;
  if (SENSOR_NAME.test(name)) return 'a sensor name cannot look like a fødselsnummer';
  return `"${name.replace(/[^\x20-\x7e]/g, '?')}" is not a sensor name: use letters, digits and . _ : @ - (no spaces), starting with a letter or digit`;
}

/**
 * The default name: this machine's host name, made valid (characters outside the set dropped,
 * cut to 63). A host name that leaves nothing becomes `sensor`.
 */
export function defaultSensorName(host: string = hostname()): string {
  const cleaned = host.replace(/[^A-Za-z0-9._:@-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_SENSOR_NAME);
  return isSensorName(cleaned) ? cleaned : 'sensor';
}
