import { DicomStreamParser, probeDicom } from '../../protocols/dicom/index.js';
import { Direction } from '../../protocols/stream.js';
import { ProbeVerdict } from '../../protocols/probe.js';
import type { AnalyzerEnvironment } from './environment.js';
import type { TcpAnalyzerFactory } from './registry.js';

/** DICOM upper layer + DIMSE, recognised by its A-ASSOCIATE-RQ on any port. */
export function dicomAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'dicom',
    encrypted: false,
    // The association request comes from the client; a server never speaks first.
    probe: (dir, buf, off, len) => (dir === Direction.ToServer ? probeDicom(buf, off, len) : ProbeVerdict.No),
    create(ctx) {
      // The context itself receives the records: no closures per connection.
      return new DicomStreamParser({
        emit: ctx,
        emitCredential: ctx,
        pseudonymize: env.pseudonymize,
        maxPduLength: env.dicomMaxPduLength,
        metrics: env.dicomMetrics,
      });
    },
  };
}
