import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, sensorEventSchema } from './common.js';

/** Events about the sensor itself: they carry no flow. */

export const CaptureErrorEventSchema = sensorEventSchema('capture.error', 'A capture file that is truncated or corrupt: analysis of that file stopped there', {
  source: Type.String({ description: 'The capture file' }),
  byte_offset: Type.Optional(Type.Integer({ description: 'Where in the file the error was found' })),
  reason: Type.String({ description: 'What was wrong' }),
});
export type CaptureErrorEvent = Static<typeof CaptureErrorEventSchema>;

export const StatsEventSchema = sensorEventSchema('stats', 'Live capture statistics, at the configured interval', {
  capture: closed(
    {
      interface: Type.String(),
      received: Type.Integer({ description: 'Packets the capture received' }),
      dropped: Type.Integer({ description: 'Packets dropped by the capture buffer' }),
      if_dropped: Type.Integer({ description: 'Packets dropped by the interface' }),
    },
    'Counters of the capture backend',
  ),
  packets: Type.Integer({ description: 'Packets the pipeline handled' }),
  bytes: Type.Integer(),
  flows_active: Type.Integer(),
  flow_evictions: Type.Integer(),
});
export type StatsEvent = Static<typeof StatsEventSchema>;
