export { loadPolicy, parsePolicy, PolicyError, KNOWN_APPS, type PolicyResult } from './load.js';
export { CompiledPolicy, EEA_COUNTRIES, UNKNOWN_ZONE, EXTERNAL_ZONE, type ZoneInfo, type FlowQuery } from './compiled.js';
export { PolicySchema, ZONE_KINDS, type Policy, type Zone, type AllowedFlow } from './schema.js';
