/**
 * node:crypto, loaded on first use. Importing it costs about 5 ms of start-up, before the first
 * packet, although a run needs it only once it has something to pseudonymise, fingerprint or
 * hash; getBuiltinModule loads it when asked.
 */
let loaded: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (loaded ??= process.getBuiltinModule('node:crypto'));
}
