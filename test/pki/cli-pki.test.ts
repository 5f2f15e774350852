/**
 * `kmipd pki issue-client`, through the Command's run() (main.ts registers the command separately). Output is
 * captured by swapping process.stdout/stderr.write, so these tests run one at a time.
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pkiCommand } from '../../src/cli/pki.js';
import { UsageError } from '../../src/cli/command.js';
import { removeTempDirs, tempDir } from './support.js';

test.after.always(removeTempDirs);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const { stdout: out, stderr: err } = process;
  const writeOut = out.write.bind(out);
  const writeErr = err.write.bind(err);
  out.write = (chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  };
  err.write = (chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  };
  try {
    return { code: await pkiCommand.run(args), stdout, stderr };
  } finally {
    out.write = writeOut;
    err.write = writeErr;
  }
}

test.serial(
  'issue-client makes the lab PKI if absent, then writes the client files and says so',
  async (t) => {
    const data = tempDir('cli-data');
    const out = join(tempDir('cli-out'), 'barbican');
    const first = await run(['issue-client', '--data', data, '--cn', 'barbican', '--out', out]);
    t.is(first.code, 0, first.stderr);
    t.is(first.stderr, '');
    const certs = join(data, 'certs');
    t.deepEqual(first.stdout.split('\n').slice(0, 3), [
      `made lab CA (ca.pem) in ${certs}`,
      `made server certificate (server.pem, server.key) in ${certs}`,
      `made admin client certificate (admin.pem, admin.key) in ${certs}`,
    ]);
    t.regex(
      first.stdout,
      new RegExp(`wrote ${join(out, 'barbican.pem')} \\(CN=barbican, clientAuth, valid until `),
    );
    t.true(first.stdout.includes(`wrote ${join(out, 'barbican.key')} (private key, mode 0400)\n`));
    t.true(first.stdout.includes(`wrote ${join(out, 'ca.pem')} (the lab CA the server trusts)\n`));
    t.deepEqual(readdirSync(out).sort(), ['barbican.key', 'barbican.pem', 'ca.pem']);
    t.is(statSync(join(out, 'barbican.key')).mode & 0o777, 0o400);
    t.deepEqual(readFileSync(join(out, 'ca.pem')), readFileSync(join(certs, 'ca.pem')));

    // The second time the lab PKI is there already: only the client files are written.
    const second = await run(['issue-client', '--data', data, '--cn', 'pykmip', '--out', out, '--days', '7']);
    t.is(second.code, 0, second.stderr);
    t.false(second.stdout.includes('made '));
    const cert = new X509Certificate(readFileSync(join(out, 'pykmip.pem')));
    t.true(Date.parse(cert.validTo) - Date.now() < 8 * 24 * 3600 * 1000);
  },
);

test.serial('a CN that would leave OUTDIR is a UsageError, before anything is written', async (t) => {
  const data = tempDir('cli-traversal');
  const out = tempDir('cli-traversal-out');
  await t.throwsAsync(
    pkiCommand.run(['issue-client', '--data', data, '--cn', '../../etc/evil', '--out', out]),
    {
      instanceOf: UsageError,
      message: "--cn '../../etc/evil' cannot be used as a file name: it contains a path separator",
    },
  );
  t.deepEqual(readdirSync(out), []);
  t.deepEqual(readdirSync(data), []);
});

test.serial('an error while issuing is reported on stderr with exit code 1', async (t) => {
  const data = tempDir('cli-fail');
  const result = await run(['issue-client', '--data', data, '--cn', 'ca', '--out', tempDir('cli-fail-out')]);
  t.is(result.code, 1);
  t.regex(result.stderr, /^kmipd pki issue-client: the CN 'ca' would overwrite the CA certificate ca\.pem/);
});

const usageCases: [string, string[], RegExp][] = [
  ['no subcommand', [], /a subcommand is needed/],
  [
    'an unknown subcommand',
    ['sign-everything'],
    /unknown subcommand 'sign-everything' \(known: issue-client\)/,
  ],
  ['no --data', ['issue-client', '--cn', 'x', '--out', 'o'], /--data DIR is needed/],
  ['no --cn', ['issue-client', '--data', 'd', '--out', 'o'], /--cn NAME is needed/],
  ['no --out', ['issue-client', '--data', 'd', '--cn', 'x'], /--out OUTDIR is needed/],
  ['an unknown option', ['issue-client', '--data', 'd', '--cn', 'x', '--out', 'o', '--force'], /--force/],
  [
    'a stray argument',
    ['issue-client', '--data', 'd', '--cn', 'x', '--out', 'o', 'extra'],
    /unexpected argument/,
  ],
  [
    'bad --days',
    ['issue-client', '--data', 'd', '--cn', 'x', '--out', 'o', '--days', '1.5'],
    /--days '1\.5'/,
  ],
  ['zero --days', ['issue-client', '--data', 'd', '--cn', 'x', '--out', 'o', '--days', '0'], /--days '0'/],
];

for (const [what, args, message] of usageCases) {
  test.serial(`${what} is a UsageError`, async (t) => {
    await t.throwsAsync(pkiCommand.run(args), { instanceOf: UsageError, message });
  });
}

test('the usage line names the subcommand and its options', (t) => {
  t.is(pkiCommand.name, 'pki');
  t.is(pkiCommand.usage, 'pki issue-client --data DIR --cn NAME --out OUTDIR [--days N]');
});
