/**
 * The Hsm contract over a real SoftHSM2 token, bootstrapped in a fresh temporary data directory for this file
 * (one process per test file under ava, and one SoftHSM2 configuration per process), plus what only the token
 * promises: files and modes on disk, restart, no plaintext at rest, foreign blobs, the external-module mode.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { FakeHsm } from '../../src/hsm/fake-hsm.js';
import { HsmError } from '../../src/hsm/hsm.js';
import { openPkcs11Hsm, type Pkcs11Hsm, type Pkcs11HsmOptions } from '../../src/hsm/pkcs11-hsm.js';
import { DEFAULT_SOFTHSM_MODULE } from '../../src/hsm/token.js';
import { hsmContract, rejectsWith } from './contract.js';

const root = resolve(import.meta.dirname, '../..');
const tokenLabel = 'kmipd-test';

if (!existsSync(DEFAULT_SOFTHSM_MODULE)) {
  console.log(`pkcs11-hsm tests skipped: ${DEFAULT_SOFTHSM_MODULE} is absent (install softhsm2)`);
  test.skip('PKCS#11 Hsm over SoftHSM2', (t) => {
    t.pass();
  });
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'kmipd-hsm-'));
  const hsmDir = join(dataDir, 'hsm');
  const options: Pkcs11HsmOptions = { token: { kind: 'softhsm', dataDir, tokenLabel, env: {} } };
  const opened: Pkcs11Hsm[] = [];
  const open = async (extra: Partial<Pkcs11HsmOptions> = {}): Promise<Pkcs11Hsm> => {
    const hsm = await openPkcs11Hsm({ ...options, ...extra });
    opened.push(hsm);
    return hsm;
  };

  test.after.always(async () => {
    for (const hsm of opened) await hsm.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  hsmContract(test, {
    open: () => open(),
    supports: (hsm) =>
      opened.find((candidate) => candidate === hsm)?.report.supports ?? { des: false, dsa: false },
  });

  /** Policy and niceness of each thread of this process, from /proc/self/task/TID/stat (proc(5) fields 19, 41). */
  const threadScheduling = (): { nice: number; policy: number }[] =>
    readdirSync('/proc/self/task').flatMap((tid) => {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        // The fields after the command name, which is in parentheses and may hold spaces: field 3 comes first.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [{ nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) }];
      } catch {
        return []; // the thread ended meanwhile
      }
    });
  const SCHED_IDLE = 5;

  test.serial('pkcs11: key pair threads run niced and SCHED_IDLE, or niced only when asked', async (t) => {
    if (process.platform !== 'linux') {
      t.pass('thread policies are read from Linux /proc');
      return;
    }
    const idleBefore = threadScheduling().filter((s) => s.policy === SCHED_IDLE).length;
    const idle = await open();
    await idle.generateKeyPair(await idle.createKek(), { algorithm: 'EC', curve: 'P-256' });
    const afterIdle = threadScheduling();
    t.true(
      afterIdle.some((s) => s.policy === SCHED_IDLE && s.nice === 10),
      `a SCHED_IDLE thread at nice 10: ${JSON.stringify(afterIdle)}`,
    );
    t.true(afterIdle.filter((s) => s.policy === SCHED_IDLE).length > idleBefore);
    const idleCount = afterIdle.filter((s) => s.policy === SCHED_IDLE).length;
    const niced = await open({ keyPairIdle: false, keyPairNice: 15 });
    await niced.generateKeyPair(await niced.createKek(), { algorithm: 'EC', curve: 'P-256' });
    const afterNiced = threadScheduling();
    t.true(
      afterNiced.some((s) => s.policy === 0 && s.nice === 15),
      'a SCHED_OTHER thread at nice 15',
    );
    t.is(afterNiced.filter((s) => s.policy === SCHED_IDLE).length, idleCount, 'no new SCHED_IDLE thread');
  });

  test.serial('pkcs11: the first open created the token, its PINs and the first master key', (t) => {
    const first = opened[0];
    if (first === undefined) return t.fail('the contract suite did not open');
    const { token } = first.report;
    t.log(`created token ${token.tokenLabel} in ${token.hsmDir ?? '?'} (serial ${token.serialNumber})`);
    t.true(token.created);
    t.is(token.pinSource, 'generated');
    t.is(token.hsmDir, hsmDir);
    t.is(token.configFile, join(hsmDir, 'softhsm2.conf'));
    t.is(token.pinsFile, join(hsmDir, 'pins.json'));
    t.true(first.report.masterCreated);
    t.is(first.report.masterLabel, 'kmipd-master-1');
    t.deepEqual(first.report.supports, { des: true, dsa: true, ec: true });
    const conf = readFileSync(join(hsmDir, 'softhsm2.conf'), 'utf8');
    t.regex(conf, new RegExp(`^directories\\.tokendir = ${join(hsmDir, 'tokens')}$`, 'm'));
    t.regex(conf, /^objectstore\.backend = file$/m);
    t.regex(conf, /^log\.level = ERROR$/m);
    t.is(process.env['SOFTHSM2_CONF'], join(hsmDir, 'softhsm2.conf'));
    const pins = JSON.parse(readFileSync(join(hsmDir, 'pins.json'), 'utf8')) as Record<string, unknown>;
    t.deepEqual(Object.keys(pins).sort(), ['so', 'user']);
    return undefined;
  });

  test.serial('pkcs11: the token directory is 0700 and pins.json and softhsm2.conf are 0600', (t) => {
    const mode = (path: string): number => statSync(path).mode & 0o777;
    t.is(mode(hsmDir), 0o700);
    t.is(mode(join(hsmDir, 'tokens')), 0o700);
    t.is(mode(join(hsmDir, 'pins.json')), 0o600);
    t.is(mode(join(hsmDir, 'softhsm2.conf')), 0o600);
    for (const path of walk(join(hsmDir, 'tokens'))) t.is(mode(path) & 0o077, 0, `${path} is private`);
  });

  test.serial(
    'pkcs11: restart: a secret sealed before close unseals after reopening the same directory',
    async (t) => {
      const before = await open();
      const kek = await before.createKek();
      const plaintext = Buffer.from('sealed before the restart');
      const sealed = await before.seal(kek, plaintext, 'opaque');
      const label = before.currentMasterLabel();
      await before.close();
      const after = await open();
      t.false(after.report.token.created);
      t.false(after.report.masterCreated);
      t.is(after.report.token.pinSource, 'file');
      t.is(after.currentMasterLabel(), label);
      t.deepEqual(Buffer.from(await after.unseal(kek, sealed)), plaintext);
      await after.close();
    },
  );

  test.serial('pkcs11: restart in a new process: the token on disk opens the secret', async (t) => {
    const hsm = await open();
    const kek = await hsm.createKek();
    const plaintext = Buffer.from('sealed in one process, opened in another');
    const sealed = await hsm.seal(kek, plaintext, 'opaque');
    const wire = JSON.stringify({
      tokenLabel,
      kek: { ...kek, blob: Buffer.from(kek.blob).toString('base64') },
      sealed: { ...sealed, blob: Buffer.from(sealed.blob).toString('base64') },
    });
    const child = await run(process.execPath, [
      '--import=tsx',
      join(root, 'test/hsm/helpers/unseal-child.ts'),
      dataDir,
      wire,
    ]);
    t.is(child.code, 0, child.stderr);
    const result = JSON.parse(child.stdout) as { created: boolean; plaintext: string };
    t.false(result.created);
    t.is(result.plaintext, plaintext.toString('hex'));
  });

  test.serial(
    'pkcs11: close() settles with thread calls still in flight, in a process with nothing else to do',
    async (t) => {
      await open();
      const child = await run(process.execPath, [
        '--import=tsx',
        join(root, 'test/hsm/helpers/close-child.ts'),
        dataDir,
        tokenLabel,
      ]);
      t.is(child.code, 0, `exit status 13 is a close() that never settled\n${child.stderr}`);
      t.regex(child.stdout, /^closed \d+$/m);
    },
  );

  test.serial('pkcs11: no file under the data directory holds a sealed plaintext', async (t) => {
    const hsm = await open();
    const kek = await hsm.createKek();
    const pattern = Buffer.alloc(32, 0xa5);
    const password = Buffer.from('correct horse battery staple');
    const generated = await hsm.generateSecretKey(kek, 'AES', 256);
    const generatedKey = Buffer.from(await hsm.unseal(kek, generated));
    const records = await Promise.all([hsm.seal(kek, pattern, 'raw'), hsm.seal(kek, password, 'opaque')]);
    // Store the records the way a store would, next to the token, so they are searched too.
    mkdirSync(join(dataDir, 'store'), { recursive: true });
    writeFileSync(
      join(dataDir, 'store', 'records.json'),
      JSON.stringify(
        [kek, generated, ...records].map((record) => ({
          ...record,
          blob: Buffer.from(record.blob).toString('hex'),
        })),
      ),
    );
    writeFileSync(
      join(dataDir, 'store', 'records.bin'),
      Buffer.concat([kek.blob, generated.blob, ...records.map((r) => r.blob)]),
    );
    const files = walk(dataDir).filter((path) => statSync(path).isFile());
    t.true(
      files.some((path) => path.endsWith('.object')),
      'the token files are searched',
    );
    for (const path of files) {
      const content = readFileSync(path);
      for (const [name, secret] of [
        ['0xA5 pattern', pattern],
        ['password', password],
        ['generated AES key', generatedKey],
      ] as const) {
        t.false(content.includes(secret), `${name} found in ${path}`);
        t.false(content.includes(Buffer.from(secret.toString('hex'))), `${name} as hex found in ${path}`);
      }
    }
    generatedKey.fill(0);
  });

  test.serial('pkcs11: blobs of the fake HSM are refused cleanly, and the other way round', async (t) => {
    const real = await open();
    const fake = new FakeHsm();
    const realKek = await real.createKek();
    const fakeKek = await fake.createKek();
    const realSealed = await real.seal(realKek, Buffer.from('real'), 'opaque');
    const fakeSealed = await fake.seal(fakeKek, Buffer.from('fake'), 'opaque');
    await rejectsWith(t, real.seal(fakeKek, Buffer.from('x'), 'raw'), 'bad-key', 'fake KEK in the token');
    await rejectsWith(
      t,
      real.unseal(realKek, { ...fakeSealed, kekId: realKek.id }),
      'unseal-failed',
      'fake secret',
    );
    await rejectsWith(t, fake.seal(realKek, Buffer.from('x'), 'raw'), 'bad-key', 'real KEK in the fake');
    await rejectsWith(
      t,
      fake.unseal(fakeKek, { ...realSealed, kekId: fakeKek.id }),
      'unseal-failed',
      'real secret',
    );
    await fake.close();
  });

  test.serial('pkcs11: a KEK cache smaller than the working set still serves every KEK', async (t) => {
    const hsm = await open({ kekCacheSize: 2, sessions: 3 });
    const keks = await Promise.all(Array.from({ length: 5 }, () => hsm.createKek()));
    const sealed = await Promise.all(
      keks.map((kek, i) => hsm.seal(kek, Buffer.from(`secret ${String(i)}`), 'opaque')),
    );
    const rounds = await Promise.all(
      Array.from({ length: 60 }, async (_, n) => {
        const i = n % keks.length;
        const kek = keks[i];
        const secret = sealed[i];
        if (kek === undefined || secret === undefined) throw new Error('index');
        return Buffer.from(await hsm.unseal(kek, secret)).toString() === `secret ${String(i)}`;
      }),
    );
    t.true(rounds.every(Boolean));
    await hsm.close();
  });

  test.serial('pkcs11: a second data directory in the same process is refused', async (t) => {
    const other = mkdtempSync(join(tmpdir(), 'kmipd-hsm-other-'));
    try {
      const error = await t.throwsAsync(
        openPkcs11Hsm({ token: { kind: 'softhsm', dataDir: other, tokenLabel } }),
        {
          instanceOf: HsmError,
        },
      );
      t.is(error.code, 'not-initialised');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test.serial(
    'pkcs11: external-module mode finds the token by label and PIN and writes nothing',
    async (t) => {
      const pins = JSON.parse(readFileSync(join(hsmDir, 'pins.json'), 'utf8')) as { user: string };
      const confTime = statSync(join(hsmDir, 'softhsm2.conf')).mtimeMs;
      const external = { kind: 'external', modulePath: DEFAULT_SOFTHSM_MODULE, tokenLabel } as const;
      const hsm = await open({ token: { ...external, userPin: pins.user } });
      t.is(hsm.report.token.pinSource, 'given');
      t.is(hsm.report.token.hsmDir, undefined);
      t.false(hsm.report.masterCreated);
      const kek = await hsm.createKek();
      t.deepEqual(
        Buffer.from(await hsm.unseal(kek, await hsm.seal(kek, Buffer.from('ext'), 'raw'))).toString(),
        'ext',
      );
      await hsm.close();
      t.is(statSync(join(hsmDir, 'softhsm2.conf')).mtimeMs, confTime);

      // A wrong PIN is tested in token.test.ts: here other sessions are logged in already, and PKCS#11 login
      // belongs to the whole process (v2.40 §5.6), so C_Login answers CKR_USER_ALREADY_LOGGED_IN before any PIN check.
      await rejectsWith(
        t,
        openPkcs11Hsm({ token: { ...external, tokenLabel: 'no-such-token', userPin: pins.user } }),
        'not-initialised',
        'unknown label',
      );
    },
  );
}

/** Every path under `dir`, depth first. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(entry.parentPath, entry.name);
    return entry.isDirectory() ? [path, ...walk(path)] : [path];
  });
}

function run(
  command: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { cwd: root, env: process.env }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
