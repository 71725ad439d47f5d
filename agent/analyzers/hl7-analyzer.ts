import { Hl7StreamParser, probeHl7 } from '../../protocols/hl7/index.js';
import type { AnalyzerEnvironment } from './environment.js';
import type { TcpAnalyzerFactory } from './registry.js';

/** HL7 v2 over MLLP, recognised by content on any port. */
export function hl7Analyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'hl7',
    encrypted: false,
    probe: (_dir, buf, off, len) => probeHl7(buf, off, len),
    create(ctx) {
      // The context itself takes the records, and the ticker is a bound method: no closure
      // (and no scope kept for it) per connection.
      const parser = new Hl7StreamParser({
        emit: ctx,
        pseudonymize: env.pseudonymize,
        ackTimeoutMs: env.hl7AckTimeoutSec * 1000,
        maxMessageSize: env.hl7MaxMessageSize,
      });
      ctx.onTick(parser.tick.bind(parser));
      return parser;
    },
  };
}
