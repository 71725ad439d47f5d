/**
 * `node --import ./test/support/record-modules.mjs …` with MUVAKT_RECORD_MODULES=FILE: writes
 * to FILE, one per line, every module the process loaded — the ESM URLs as the loader resolves
 * them and, at exit, every CommonJS file in require.cache (most npm packages: fastify, pino,
 * prom-client… and whatever they require in turn, which ESM hooks on Node 20 do not see).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.MUVAKT_RECORD_MODULES;
if (out) {
  writeFileSync(out, '');
  const hooks = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      appendFileSync(${JSON.stringify(out)}, r.url + '\\n');
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const require = createRequire(import.meta.url);
  process.on('exit', () => appendFileSync(out, Object.keys(require.cache).map((f) => `${f}\n`).join('')));
}
