/**
 * The event contract as the agent uses it. The events themselves are defined once, in
 * protocols/events/ (TypeBox schemas: the types, the published JSON Schemas and docs/events.md
 * come from there); this module names them for the agent's sinks.
 */
import type { FlowRef, SensorEvent } from '../../protocols/events/index.js';

export type { AnalyzerEvent, AnalyzerRecord, EventOf, EventType, FlowEvent, FlowRef, SensorEvent } from '../../protocols/events/index.js';

/** Any event the sensor writes (the union of protocols/events/, discriminated on `type`). */
export type MuvaktEvent = SensorEvent;

/**
 * An event read by field name, for consumers that take whatever a stream holds (the device
 * inventory reads stored and streamed events alike). Every SensorEvent is one.
 */
export interface EventFields {
  ts: string;
  type: string;
  flow?: FlowRef;
  [field: string]: unknown;
}

/** Where events go: an NDJSON file, stdout, the store, or a test's array. */
export interface EventSink {
  /**
   * `flowSeq`: for an analyzer event, the number of analyzer events its connection has produced
   * so far, this one included (1, 2, …); undefined for flow events and events without a flow.
   * Lets a consumer sample per connection without a table of its own. Wrappers pass it on.
   */
  write(event: SensorEvent, flowSeq?: number): void;
  /** Flushes buffered output. */
  flush(): void;
  close(): void;
}
