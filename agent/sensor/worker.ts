import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { startLiveSensor, type LiveSensorOptions } from './live-sensor.js';
import { writeCodeCaches } from './worker-entry.js';

/**
 * The live sensor inside a worker thread: the API on the main thread stays responsive however
 * fast packets arrive. Messages out: started | error (config: true for a ConfigError) | snapshot
 * (every second) | stopped.
 * Message in: stop.
 */
const port = parentPort!;

async function main(): Promise<void> {
  let sensor;
  try {
    sensor = await startLiveSensor(workerData as LiveSensorOptions);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, config: e instanceof ConfigError });
    return;
  }
  port.postMessage({ type: 'started' });
  const send = () => port.postMessage({ type: 'snapshot', snapshot: sensor.snapshot() });
  send();
  const timer = setInterval(send, 1000);
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    void sensor.stop().then((summary) => {
      writeCodeCaches();
      port.postMessage({ type: 'stopped', summary });
      port.close();
    });
  });
}

void main();
