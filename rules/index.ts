import { authenticationRules } from './checks/authentication.js';
import { baselineRules } from './checks/baseline.js';
import { credentialRules } from './checks/credentials.js';
import { deliveryRules } from './checks/delivery.js';
import { encryptionRules } from './checks/encryption.js';
import { endOfLifeRules } from './checks/end-of-life.js';
import { expectedFlowRules } from './checks/expected-flows.js';
import { healthDataRules } from './checks/health-data.js';
import { integrityRules } from './checks/integrity.js';
import { lifecycleRules } from './checks/lifecycle.js';
import { remoteAccessRules } from './checks/remote-access.js';
import { segmentationRules } from './checks/segmentation.js';
import { vendorWindowRules } from './checks/vendor-window.js';
import type { Rule } from './engine/types.js';

/** Every rule muvakt ships, by family (GUIDE-MAP G1–G10, G13–G15). */
export const ALL_RULES: readonly Rule[] = [
  ...segmentationRules,
  ...healthDataRules,
  ...encryptionRules,
  ...credentialRules,
  ...authenticationRules,
  ...remoteAccessRules,
  ...vendorWindowRules,
  ...lifecycleRules,
  ...endOfLifeRules,
  ...deliveryRules,
  ...integrityRules,
  ...baselineRules,
  ...expectedFlowRules,
];

export { RuleEngine, type EngineFinding } from './engine/engine.js';
export type { Rule, RuleEvent, RuleFinding, RuleContext, Severity, AlertSubject, Bilingual } from './engine/types.js';
export { SEVERITIES } from './engine/types.js';
export { loadBaseline, dumpBaseline, baselineOf, BaselineState } from './checks/baseline.js';
