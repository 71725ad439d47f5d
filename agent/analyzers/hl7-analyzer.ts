import { Hl7StreamParser, probeHl7, type Hl7Record } from '../../protocols/hl7/index.js';
import type { AnalyzerEnvironment } from './environment.js';
import type { TcpAnalyzerFactory } from './registry.js';

/** HL7 v2 over MLLP, recognised by content on any port. */
export function hl7Analyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'hl7',
    encrypted: false,
    probe: (_dir, buf, off, len) => probeHl7(buf, off, len),
    create(ctx) {
      const parser = new Hl7StreamParser({
        emit: (rec: Hl7Record) => ctx.emit(rec),
        pseudonymize: env.pseudonymize,
        ackTimeoutMs: env.hl7AckTimeoutSec * 1000,
        maxMessageSize: env.hl7MaxMessageSize,
      });
      ctx.onTick((sec, nsec) => parser.tick(sec, nsec));
      return parser;
    },
  };
}
