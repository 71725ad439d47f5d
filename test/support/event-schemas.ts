import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Compile, type Validator } from 'typebox/compile';
import type { SensorEvent } from '../../agent/events/types.js';

/**
 * Checks events against the JSON Schemas muvakt publishes (docs/schemas/events/): the files
 * integrators read, not the TypeBox definitions they were generated from, so a stale or wrong
 * published schema fails the tests too. Events are checked as they are written (after a JSON
 * round trip, which drops fields left undefined).
 */
const SCHEMA_DIR = join(import.meta.dirname, '../../docs/schemas/events');

let validators: Map<string, Validator> | null = null;

function published(): Map<string, Validator> {
  if (validators !== null) return validators;
  validators = new Map();
  for (const name of readdirSync(SCHEMA_DIR)) {
    if (!name.endsWith('.schema.json')) continue;
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as { title: string };
    validators.set(schema.title, Compile(schema as never));
  }
  return validators;
}

/** What is wrong with each event that does not match its published schema (empty: all match). */
export function eventSchemaProblems(events: Iterable<unknown>): string[] {
  const byType = published();
  const problems: string[] = [];
  let i = 0;
  for (const e of events) {
    const json: unknown = JSON.parse(JSON.stringify(e));
    const type = (json as { type?: unknown }).type;
    const v = typeof type === 'string' ? byType.get(type) : undefined;
    if (v === undefined) problems.push(`event ${i}: unknown event type ${JSON.stringify(type)}`);
    else if (!v.Check(json)) {
      for (const err of v.Errors(json)) {
        const extra = (err.params as { additionalProperties?: string[] }).additionalProperties;
        problems.push(`event ${i} (${String(type)}): ${err.instancePath || '/'} ${err.message}${extra ? ` (${extra.join(', ')})` : ''}`);
      }
    }
    i++;
  }
  return problems;
}

/** Throws when any event does not match its published schema. */
export function assertEventsMatchSchemas(events: Iterable<unknown>): void {
  const problems = eventSchemaProblems(events);
  if (problems.length > 0) throw new Error(`events do not match docs/schemas/events/:\n${problems.slice(0, 20).join('\n')}${problems.length > 20 ? `\n… ${problems.length - 20} more` : ''}`);
}

/** Reads an NDJSON event file and checks every event against its published schema. */
export function readEventsFile(path: string): SensorEvent[] {
  const text = readFileSync(path, 'utf8').trim();
  const events: unknown[] = text === '' ? [] : text.split('\n').map((l) => JSON.parse(l));
  assertEventsMatchSchemas(events);
  // Checked above against the schemas the SensorEvent type is generated from.
  return events as SensorEvent[];
}
