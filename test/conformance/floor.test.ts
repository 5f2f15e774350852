/**
 * The conformance floor: every OASIS vector file of KMIP 1.0-2.1 (the 3.0 drafts aside) runs against a fresh
 * appliance, and no profile may pass fewer files than conformance/floor.json records. The floor only goes up:
 * when a profile passes more, the test says so, and the new count belongs in the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { connectFor } from '../../src/conformance/client.js';
import { FileIdentities } from '../../src/conformance/identities.js';
import { loadLabCa } from '../../src/pki/lab-pki.js';
import { countByProfile } from '../../src/conformance/report.js';
import { runVectors } from '../../src/conformance/runner.js';
import { loadSkipList } from '../../src/conformance/skip-list.js';
import { findVectorFiles } from '../../src/conformance/vectors.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';

const root = join(import.meta.dirname, '..', '..');
const vectorsDir = join(root, '..', 'shared', 'kmip-vectors');
const folders = [
  'profiles-v1.0',
  'profiles-v1.3',
  'profiles-v1.4',
  'profiles-v2.0',
  'profiles-v2.1',
  'testcases-v1.4',
  'testcases-v2.0',
];
const floor = JSON.parse(readFileSync(join(root, 'conformance', 'floor.json'), 'utf8')) as {
  passed: Record<string, number>;
};

let server: TestAppliance | undefined;
test.after.always(async () => {
  await server?.dispose();
});

test('no profile passes fewer vector files than the committed floor', async (t) => {
  if (!existsSync(vectorsDir)) {
    t.log(`skipped: ${vectorsDir} is absent`);
    t.pass();
    return;
  }
  // KMIP over HTTPS too, for the message-encoding (MSGENC) profiles.
  server = await startTestAppliance({ https: true });
  const s = server;
  // As `kmipd conformance run --embedded` does: each profile and version as a principal of its own.
  const identities = new FileIdentities(await loadLabCa(dirname(s.ca)), await readFile(s.ca));
  const outcomes = await runVectors(await findVectorFiles(folders.map((f) => join(vectorsDir, f))), {
    connect: async (vector) =>
      connectFor(
        vector,
        {
          ttlv: { host: s.host, port: s.port },
          https: s.httpsPort === undefined ? undefined : { host: s.host, port: s.httpsPort },
        },
        await identities.for(vector),
      ),
    skipList: await loadSkipList(),
  });
  const measured = new Map(
    countByProfile(outcomes).map((row) => [`${row.version} ${row.profile}`, row.passed]),
  );
  const below: string[] = [];
  const above: string[] = [];
  for (const [key, minimum] of Object.entries(floor.passed)) {
    const passed = measured.get(key) ?? 0;
    if (passed < minimum) below.push(`${key}: ${passed} passed, floor ${minimum}`);
  }
  for (const [key, passed] of measured) {
    if (passed > (floor.passed[key] ?? 0)) above.push(`${key}: ${passed} (floor ${floor.passed[key] ?? 0})`);
  }
  const total = [...measured.values()].reduce((a, b) => a + b, 0);
  t.log(`${total} vector files pass; ${outcomes.length} run`);
  if (above.length > 0) t.log(`above the floor, raise conformance/floor.json: ${above.join('; ')}`);
  t.deepEqual(below, [], 'profiles that regressed below the floor');
});
