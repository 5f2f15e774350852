/**
 * Worker-thread entry of the load generator: runs the cells it is sent, one at a time, on its own event loop, so the
 * server's thread does only server work (the client still shares the machine's cores).
 */
import { parentPort } from 'node:worker_threads';
import { runCell, type CellSpec } from './load.js';
import type { WorkerReply, WorkerRequest } from './runner.js';

const port = parentPort;
if (port === null) throw new Error('load-worker.ts runs as a worker thread');

port.on('message', (request: WorkerRequest) => {
  const reply = (message: WorkerReply): void => {
    port.postMessage(message);
  };
  const spec: CellSpec = request.spec;
  runCell(spec, {
    onMeasureStart: () => {
      reply({ id: request.id, kind: 'start' });
    },
    onMeasureEnd: () => {
      reply({ id: request.id, kind: 'end' });
    },
  }).then(
    (result) => {
      reply({ id: request.id, kind: 'result', result });
    },
    (error: unknown) => {
      reply({
        id: request.id,
        kind: 'error',
        message: error instanceof Error ? error.message : String(error),
      });
    },
  );
});
