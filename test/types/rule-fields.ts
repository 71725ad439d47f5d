/**
 * Compiled by test/unit/rules/event-types.test.ts (test/types/tsconfig.json): a rule sees the fields
 * of the events it lists and no others. Each @ts-expect-error must meet its error, or tsc fails.
 */
import { defineRule } from '../../rules/engine/types.js';

export const readsDeclaredFields = defineRule({
  id: 'fixture-declared-fields',
  title: { nb: 'Eksempel', en: 'Example' },
  recommendation: { nb: 'Ingen', en: 'None' },
  severity: 'low',
  guide_refs: [],
  requirements: [],
  events: ['tls.handshake', 'flow'],
  create: () => (e) => {
    // @ts-expect-error -- only tls.handshake has weak_reasons: narrow on type first.
    void e.weak_reasons;
    if (e.type === 'flow') {
      // @ts-expect-error -- a flow event has no SNI.
      void e.sni;
      return e.bytes_toserver > 0 ? null : null;
    }
    const reasons: string[] = e.weak_reasons;
    // @ts-expect-error -- the certificate is optional: it may be absent.
    void e.certificate.subject;
    // @ts-expect-error -- no such field on tls.handshake.
    void e.weak_reason;
    return reasons.length > 0 && e.certificate?.self_signed === true ? null : null;
  },
});
