import test from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { createLoggers } from '../../src/audit/loggers.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function auditLines(dataDir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dataDir, 'logs', 'audit.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Many events, faster than the file takes them, then close(): a server stopped under load. Through winston's File
 * transport this kept 512 of 1,000 lines, and at 20,000 threw "write after end" out of the stream.
 */
for (const count of [1_000, 20_000]) {
  test(`close() resolves with all ${count} audit events in the file, in order`, async (t) => {
    const dataDir = await tempDir(t);
    const loggers = createLoggers({ dataDir, level: 'error', console: false });
    for (let i = 0; i < count; i++) {
      loggers.audit({
        correlationId: `c-${i}`,
        principal: 'alice',
        operation: 'Get',
        version: '1.4',
        objects: [`uid-${i}`],
        outcome: 'success',
      });
      // Let the event loop run now and then, as it does between requests.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await loggers.close();
    const events = await auditLines(dataDir);
    t.is(events.length, count);
    t.true(
      events.every((e, i) => e['correlationId'] === `c-${i}`),
      'each event once, in the order given',
    );
    t.like(events[count - 1], { action: 'Get', outcome: 'success', target: { ids: [`uid-${count - 1}`] } });
  });
}

test('the audit file is readable by its owner only, and appended to across restarts', async (t) => {
  const dataDir = await tempDir(t);
  for (const run of ['first', 'second']) {
    const loggers = createLoggers({ dataDir, level: 'error', console: false });
    loggers.audit({
      correlationId: run,
      principal: 'alice',
      operation: 'Create',
      version: '2.1',
      objects: [],
      outcome: 'failure',
      reason: 'PermissionDenied',
      message: 'no',
    });
    await loggers.close();
  }
  const events = await auditLines(dataDir);
  t.deepEqual(
    events.map((e) => e['correlationId']),
    ['first', 'second'],
  );
  t.like(events[0], { reason: { reasonCode: 'PermissionDenied', message: 'no' }, kmipVersion: '2.1' });
  t.is((await stat(join(dataDir, 'logs', 'audit.log'))).mode & 0o777, 0o600);
});

test('a trail that cannot be written reports once and never throws; close() still resolves', async (t) => {
  const dir = await tempDir(t);
  // A directory where the file should be: opening it fails with EISDIR.
  const path = join(dir, 'audit.log');
  await mkdir(path);
  const failures: Error[] = [];
  const trail = new AuditTrail(path, (error) => failures.push(error));
  for (let i = 0; i < 300; i++) trail.write(`{"n":${i}}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  trail.write('{"after":"failure"}');
  await trail.close();
  t.is(failures.length, 1);
  t.regex(failures[0]?.message ?? '', /EISDIR/);
});

test('the loggers close twice: the second close() settles too', async (t) => {
  const dataDir = await tempDir(t);
  const loggers = createLoggers({ dataDir, level: 'error', console: false });
  loggers.log.error('something', { n: 1 });
  await loggers.close();
  const second = await Promise.race([
    loggers.close().then(() => 'closed'),
    new Promise((resolve) => {
      setTimeout(() => {
        resolve('still waiting after 2 s');
      }, 2000);
    }),
  ]);
  t.is(second, 'closed');
});

test('close() twice resolves twice; lines given after close() are dropped', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'audit.log');
  const trail = new AuditTrail(path, () => t.fail('no write should fail'));
  trail.write('{"n":1}');
  const first = trail.close();
  trail.write('{"n":2}');
  await Promise.all([first, trail.close()]);
  t.is(await readFile(path, 'utf8'), '{"n":1}\n');
});
