#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * The `muvakt` command. `npm run build` bundles the CLI (cli.ts and every muvakt module it
 * imports; the npm packages stay in node_modules) into one file next to this one: one file to
 * read instead of some 150 modules to resolve, and one script V8 keeps compiled code for
 * (compile-cache.ts). `analyze` has a bundle of its own without the other commands, and the
 * packages only some runs need (yaml, TypeBox's checkers) sit in chunk files beside them. Without
 * a bundle (tsc alone) the modules load as they are.
 *
 * `npm run build` also writes this file as CommonJS, muvakt.cjs, the installed command: Node
 * starts a CommonJS entry point without its ES module loader, about 7 ms sooner. Hence no
 * top-level await here.
 */
import { enableCompileCache, runBundle } from './compile-cache.js';

// Before any other module is compiled: later runs reuse compiled code.
enableCompileCache();
const command = process.argv[2] ?? '';
const bundleFile = (name: string) => process.getBuiltinModule('node:url').fileURLToPath(new URL(name, import.meta.url));
// A command with a bundle of its own (cli-analyze.bundle.cjs: the CLI without the other
// commands' code), else the bundle of every command, else the modules.
const ownBundle = /^[a-z]+$/.test(command) && runBundle(bundleFile(`./cli-${command}.bundle.cjs`), command);
if (!ownBundle && !runBundle(bundleFile('./cli.bundle.cjs'), command)) void import('./cli.js');
