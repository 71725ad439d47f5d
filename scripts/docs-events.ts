/** npm run docs:events — writes docs/schemas/events/*.schema.json and docs/events.md. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEventDocs, SCHEMA_DIR } from './event-docs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), process.argv[2] ?? '../..');
const files = renderEventDocs();
// Schemas of event types that no longer exist must not stay published.
mkdirSync(join(root, SCHEMA_DIR), { recursive: true });
for (const name of readdirSync(join(root, SCHEMA_DIR))) {
  if (!files.has(`${SCHEMA_DIR}/${name}`)) rmSync(join(root, SCHEMA_DIR, name));
}
for (const [path, text] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
process.stdout.write(`wrote ${files.size} files\n`);
