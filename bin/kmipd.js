#!/usr/bin/env node
// Launcher for `npx kmipd ...`: runs the compiled CLI from dist/, or the TypeScript sources through tsx when the
// project has not been built (or KMIPD_FROM_SOURCE=1 is set, for development).
import { existsSync } from 'node:fs';

// RSA key generation, the token's async calls and LevelDB share libuv's thread pool (4 threads by default): more
// threads keep seconds-long RSA generations from queueing everything else. Read by libuv on first use, so set first.
process.env.UV_THREADPOOL_SIZE ??= '16';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (process.env.KMIPD_FROM_SOURCE !== '1' && existsSync(compiled)) {
  await import(compiled.href);
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('kmipd is not built and tsx is not installed: run `npm run setup` first.');
    process.exit(1);
  }
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
