/**
 * Where the load generator runs: on the server's own thread (inline) or in a worker thread. Both share the machine's
 * cores with the server; the worker at least keeps the client's TLS and framing off the server's event loop.
 */
import { Worker } from 'node:worker_threads';
import { runCell, type CellHooks, type CellResult, type CellSpec } from './load.js';

export type ClientPlacement = 'worker' | 'inline';

export interface LoadRunner {
  readonly placement: ClientPlacement;
  run(spec: CellSpec, hooks?: CellHooks): Promise<CellResult>;
  close(): Promise<void>;
}

export interface WorkerRequest {
  readonly id: number;
  readonly spec: CellSpec;
}

export type WorkerReply =
  | { readonly id: number; readonly kind: 'start' | 'end' }
  | { readonly id: number; readonly kind: 'result'; readonly result: CellResult }
  | { readonly id: number; readonly kind: 'error'; readonly message: string };

export function inlineRunner(): LoadRunner {
  return {
    placement: 'inline',
    run: (spec, hooks) => runCell(spec, hooks),
    close: () => Promise.resolve(),
  };
}

/**
 * A worker running load-worker.ts. The worker does not inherit tsx's loader hooks (they are registered per thread),
 * so its entry is a two-line script that registers tsx's ESM API first, then imports the TypeScript file.
 */
export function workerRunner(): LoadRunner {
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true },
  );
  let nextId = 0;
  const pending = new Map<
    number,
    { hooks: CellHooks; resolve: (r: CellResult) => void; reject: (e: Error) => void }
  >();
  worker.on('message', (reply: WorkerReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    switch (reply.kind) {
      case 'start':
        waiter.hooks.onMeasureStart?.();
        break;
      case 'end':
        waiter.hooks.onMeasureEnd?.();
        break;
      case 'result':
        pending.delete(reply.id);
        waiter.resolve(reply.result);
        break;
      case 'error':
        pending.delete(reply.id);
        waiter.reject(new Error(reply.message));
        break;
    }
  });
  worker.on('error', (error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  return {
    placement: 'worker',
    run(spec, hooks = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { hooks, resolve, reject });
        const request: WorkerRequest = { id, spec };
        worker.postMessage(request);
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
