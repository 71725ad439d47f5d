import { baselineRules } from './rules/baseline.js';
import { credentialRules } from './rules/credentials.js';
import { deliveryRules } from './rules/delivery.js';
import { encryptionRules } from './rules/encryption.js';
import { healthDataRules } from './rules/health-data.js';
import { integrityRules } from './rules/integrity.js';
import { remoteAccessRules } from './rules/remote-access.js';
import { segmentationRules } from './rules/segmentation.js';
import type { Rule } from './engine/types.js';

/** Every rule muvakt ships, by family (GUIDE-MAP G1–G10, G13–G15). */
export const ALL_RULES: readonly Rule[] = [
  ...segmentationRules,
  ...healthDataRules,
  ...encryptionRules,
  ...credentialRules,
  ...remoteAccessRules,
  ...deliveryRules,
  ...integrityRules,
  ...baselineRules,
];

export { RuleEngine, type EngineFinding } from './engine/engine.js';
export type { Rule, RuleEvent, RuleFinding, RuleContext, Severity, AlertSubject, Bilingual } from './engine/types.js';
export { SEVERITIES } from './engine/types.js';
export { loadBaseline, dumpBaseline, baselineOf, BaselineState } from './rules/baseline.js';
