/**
 * `kmipd drill` against this project's own server in strict mode (certificate for session and username, password
 * required, clientAuth usage required): every drill as a strict server should behave. Run as a user runs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { addUser } from '../../src/identity/users.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';

let server: TestAppliance | undefined;

test.after.always(async () => {
  await server?.dispose();
});

test('every drill as expected against the strict server', async (t) => {
  const usersDir = mkdtempSync(join(tmpdir(), 'kmipd-drill-users-'));
  t.teardown(() => {
    rmSync(usersDir, { recursive: true, force: true });
  });
  const usersFile = join(usersDir, 'users.json');
  await addUser(usersFile, { name: 'drill-user', password: 'drill-password-7', roles: ['creator'] });
  server = await startTestAppliance({
    identity: {
      clientCertMode: 'session-and-username',
      passwordAuth: 'required',
      requireClientAuthEku: true,
      usersFile,
    },
  });
  const args = [
    join(resolve(import.meta.dirname, '../..'), 'bin/kmipd.js'),
    'drill',
    '--host',
    'localhost',
    '--port',
    String(server.port),
    '--certs',
    join(server.dataDir, 'certs'),
    '--username',
    'drill-user',
    '--password',
    'drill-password-7',
    '--json',
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (done) => {
      execFile(
        process.execPath,
        args,
        { env: { ...process.env, KMIPD_FROM_SOURCE: '1' }, timeout: 120_000 },
        (error, out, err) => {
          done({ code: error && typeof error.code === 'number' ? error.code : 0, stdout: out, stderr: err });
        },
      );
    },
  );
  const report = JSON.parse(stdout) as {
    drills: { name: string; verdict: string }[];
    asExpected: number;
    notAsExpected: number;
    skipped: number;
  };
  const rows = report.drills.map((r) => `${r.name}: ${r.verdict}`);
  t.log(rows.join('\n'));
  t.is(report.notAsExpected, 0, `${rows.join('\n')}\n${stderr}`);
  t.is(report.drills.length, 12, 'all twelve drills ran');
  t.true(
    report.asExpected >= 10,
    `${report.asExpected} drills as expected (TLS 1.0/1.1 may be skipped locally)`,
  );
  t.is(code, 0);
});
