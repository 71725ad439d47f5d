import type { Flow } from '../flows/flow.js';
import type { FtpDataExpectations } from '../flows/ftp-data-expectations.js';
import type { FtpDataEndpoint } from '../../protocols/cleartext/ftp-data.js';
import type { AnalyzerRecord, EventSink } from '../events/types.js';
import { carriesCleartextPhi } from '../events/phi-seen.js';
import { flowRef } from '../flows/flow-event.js';
import { eventFromRecord } from '../../protocols/events/from-record.js';
import type { AnalyzerContext } from './registry.js';

/** What every flow's context shares: one per pipeline. */
export interface FlowContextHost {
  readonly events: EventSink;
  readonly ftpData: FtpDataExpectations;
  /** Capture time of the packet being handled, in seconds. */
  captureTime(): number;
  addTicker(flow: Flow, generation: number, fn: (tsSec: number, tsNsec: number) => void): void;
}

/**
 * The AnalyzerContext of one flow. Its methods live on the prototype and the shared parts on the
 * host, so a context is one small object: with 100,000 open flows, a closure per method per flow
 * was about half a kilobyte each.
 *
 * Flow objects are recycled: an analyzer that outlives its flow must not write into the next
 * conversation, so every method first checks the generation it was made for.
 */
export class FlowContext implements AnalyzerContext {
  private readonly generation: number;

  constructor(
    readonly flow: Flow,
    private readonly host: FlowContextHost,
  ) {
    this.generation = flow.generation;
  }

  emit(rec: AnalyzerRecord): void {
    const f = this.flow;
    if (f.generation !== this.generation) return;
    if (!f.phiSeen && carriesCleartextPhi(rec)) f.phiSeen = true;
    this.host.events.write(eventFromRecord(rec, flowRef(f, true)), ++f.eventsEmitted);
  }

  setApp(app: string, encrypted: boolean): void {
    const f = this.flow;
    if (f.generation !== this.generation) return;
    f.app = app;
    f.encrypted = encrypted;
    f.ref = null;
  }

  onTick(fn: (tsSec: number, tsNsec: number) => void): void {
    if (this.flow.generation === this.generation) this.host.addTicker(this.flow, this.generation, fn);
  }

  expectFtpDataEndpoint(ep: FtpDataEndpoint): void {
    if (this.flow.generation === this.generation) this.host.ftpData.expectEndpoint(this.flow, ep, this.host.captureTime());
  }

  expectFtpTlsSession(): void {
    const f = this.flow;
    if (f.generation !== this.generation) return;
    f.ftpTlsSession = true;
    this.host.ftpData.expectTlsSession(f);
  }
}
