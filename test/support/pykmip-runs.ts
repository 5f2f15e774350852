/**
 * One PyKMIP script run per KMIP version against one appliance, shared by the tests of a file (test/interop): the
 * script gets the appliance's address and lab certificates, the version, and an INPUT file (0600, written here from
 * what the test chose), and prints one JSON object. The runs go one after another: each registers its own objects,
 * and together they would only compete for two cores.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestFn } from 'ava';
import { startTestAppliance, type TestAppliance } from './appliance.js';
import { runPythonJson } from './python.js';

/**
 * Registers the file's before and after hooks; answers each version's result, a promise each test awaits (so that
 * a failed run is reported by the tests that need it, never as an unhandled rejection). With `missing` set (PyKMIP
 * is not installed), nothing runs and the map stays empty.
 */
export function pykmipRuns<Result>(
  test: TestFn,
  options: {
    readonly script: string;
    readonly input: unknown;
    readonly versions: readonly string[];
    readonly missing: string | undefined;
  },
): ReadonlyMap<string, Promise<Result>> {
  const results = new Map<string, Promise<Result>>();
  let server: TestAppliance | undefined;
  let inputDir: string | undefined;
  test.before(async () => {
    if (options.missing !== undefined) return;
    server = await startTestAppliance();
    inputDir = await mkdtemp(join(tmpdir(), 'kmipd-pykmip-'));
    const inputPath = join(inputDir, 'input.json');
    await writeFile(inputPath, JSON.stringify(options.input), { mode: 0o600 });
    const s = server;
    let previous: Promise<unknown> = Promise.resolve();
    for (const version of options.versions) {
      const run = previous.then(() =>
        runPythonJson<Result>(options.script, [
          s.host,
          String(s.port),
          s.cert,
          s.key,
          s.ca,
          version,
          inputPath,
        ]),
      );
      run.catch(() => undefined);
      results.set(version, run);
      previous = run.catch(() => undefined);
    }
  });
  test.after.always(async () => {
    await server?.dispose();
    if (inputDir !== undefined) await rm(inputDir, { recursive: true, force: true });
  });
  return results;
}
