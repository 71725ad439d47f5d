import type { EventSink, MuvaktEvent } from '../../agent/events/types.js';

/** Keeps events in memory, for tests and benchmarks. */
export class MemorySink implements EventSink {
  readonly events: MuvaktEvent[] = [];
  write(event: MuvaktEvent): void {
    this.events.push(event);
  }
  flush(): void {}
  close(): void {}
}
