import { DicomStreamParser, probeDicom, type DicomRecord } from '../../protocols/dicom/index.js';
import { Direction } from '../../protocols/stream.js';
import { ProbeVerdict } from '../../protocols/probe.js';
import { isoMicro } from '../events/format.js';
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
      return new DicomStreamParser({
        emit: (rec: DicomRecord) => {
          const r = rec as unknown as Record<string, unknown>;
          if (rec.type === 'dicom.association') {
            r.start = isoMicro(rec.start_sec, rec.start_nsec);
            r.start_sec = r.start_nsec = undefined;
          }
          ctx.emit(rec.type, r, rec.ts_sec, rec.ts_nsec);
        },
        pseudonymize: env.pseudonymize,
        maxPduLength: env.dicomMaxPduLength,
        metrics: env.dicomMetrics,
      });
    },
  };
}
