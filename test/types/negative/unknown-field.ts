/**
 * Must NOT compile: test/unit/rules/event-types.test.ts runs tsc on it (test/types/tsconfig.json)
 * and expects TS2339 for the field a tls.handshake event does not declare.
 */
import { defineRule } from '../../../rules/engine/types.js';

export const readsUndeclaredField = defineRule({
  id: 'fixture-undeclared-field',
  title: { nb: 'Eksempel', en: 'Example' },
  recommendation: { nb: 'Ingen', en: 'None' },
  severity: 'low',
  guide_refs: [],
  requirements: [],
  events: ['tls.handshake'],
  create: () => (e) => (e.cipher_strength === 'weak' ? null : null),
});
