/**
 * `kmipd pki issue-client`, through the Command's run() (main.ts registers the command separately). Output is
 * captured by swapping process.stdout/stderr.write, so these tests run one at a time.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pkiCommand } from '../../src/cli/pki.js';
import { UsageError } from '../../src/cli/command.js';
import { addDays, issueCertificate } from '../../src/pki/issue.js';
import { loadLabCa } from '../../src/pki/lab-pki.js';
import { x509 } from '../../src/pki/x509.js';
import { makeCsr, removeTempDirs, tempDir } from './support.js';

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
    /unknown subcommand 'sign-everything' \(known: create-ca, issue-server, issue-client, sign-csr, show\)/,
  ],
  [
    '--data with --ca-dir',
    ['issue-client', '--data', 'd', '--ca-dir', 'c', '--cn', 'x', '--out', 'o'],
    /--data and --ca-dir both say where the lab CA is/,
  ],
  ['no --cn', ['issue-client', '--data', 'd', '--out', 'o'], /--cn NAME is needed/],
  ['no --out', ['issue-client', '--data', 'd', '--cn', 'x'], /--out OUTDIR is needed/],
  ['an unknown option', ['issue-client', '--data', 'd', '--cn', 'x', '--out', 'o', '--force'], /--force/],
  ['issue-server without --name', ['issue-server', '--out', 'o'], /--name NAME is needed/],
  [
    'issue-server with a path as name',
    ['issue-server', '--name', 'a/b', '--out', 'o'],
    /--name 'a\/b' cannot/,
  ],
  ['sign-csr without --csr', ['sign-csr', '--out', 'o'], /--csr FILE is needed/],
  ['sign-csr without --out', ['sign-csr', '--csr', 'c'], /--out FILE is needed/],
  [
    'sign-csr with bad --min-rsa-bits',
    ['sign-csr', '--csr', 'c', '--out', 'o', '--min-rsa-bits', 'x'],
    /--min-rsa-bits 'x'/,
  ],
  [
    'sign-csr writing over the CA',
    ['sign-csr', '--data', 'd', '--csr', 'c', '--out', 'd/certs/ca.pem'],
    /is a file of the lab PKI itself/,
  ],
  ['show without FILE', ['show'], /FILE is needed/],
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

test('the usage lines name every subcommand and its options', (t) => {
  t.is(pkiCommand.name, 'pki');
  t.deepEqual(pkiCommand.usage.split('\n  kmipd '), [
    'pki create-ca [--data DIR | --ca-dir DIR] [--force]',
    'pki issue-server [--data DIR | --ca-dir DIR] --name NAME [--san DNS_OR_IP ...] --out OUTDIR [--days N]',
    'pki issue-client [--data DIR | --ca-dir DIR] --cn NAME --out OUTDIR [--days N] [--no-client-auth]',
    'pki sign-csr [--data DIR | --ca-dir DIR] --csr FILE --out FILE [--expect-cn NAME] [--days N] ' +
      '[--min-rsa-bits 2048] [--allow-no-client-auth]',
    'pki show FILE [--data DIR | --ca-dir DIR] [--expect-cn NAME]',
  ]);
});

test.serial(
  'create-ca makes the CA, refuses to replace it without --force, and keeps the old one with it',
  async (t) => {
    const data = tempDir('cli-ca');
    const certs = join(data, 'certs');
    const first = await run(['create-ca', '--data', data]);
    t.is(first.code, 0, first.stderr);
    t.regex(
      first.stdout,
      new RegExp(`^made lab CA O=kmipd lab, CN=kmipd lab CA [0-9a-f]{8} in ${join(certs, 'ca.pem')}`),
    );
    t.deepEqual(readdirSync(certs).sort(), ['ca.key', 'ca.pem']);
    t.is(statSync(join(certs, 'ca.key')).mode & 0o777, 0o600);
    const caPem = readFileSync(join(certs, 'ca.pem'));

    const again = await run(['create-ca', '--data', data]);
    t.is(again.code, 1);
    t.is(again.stdout, '');
    t.regex(
      again.stderr,
      /^kmipd pki create-ca: a lab CA is already there: .*ca\.pem holds O=kmipd lab, CN=kmipd lab CA/,
    );
    t.regex(
      again.stderr,
      /not replaced\. Replacing it \(--force\) makes a new CA: every client must then trust the new ca\.pem/,
    );
    t.deepEqual(readFileSync(join(certs, 'ca.pem')), caPem);

    const forced = await run(['create-ca', '--ca-dir', certs, '--force']);
    t.is(forced.code, 0, forced.stderr);
    t.regex(
      forced.stdout,
      /replaced the lab CA O=kmipd lab, CN=kmipd lab CA [0-9a-f]{8}, kept as .*ca-replaced-\d{8}T\d{6}Z\.pem/,
    );
    t.regex(forced.stdout, /every client must then trust the new ca\.pem/);
    t.notDeepEqual(readFileSync(join(certs, 'ca.pem')), caPem);
    const backup = readdirSync(certs).find(
      (name) => name.startsWith('ca-replaced-') && name.endsWith('.pem'),
    );
    t.truthy(backup);
    t.deepEqual(readFileSync(join(certs, backup ?? '')), caPem);
  },
);

test.serial('issue-server writes a serverAuth certificate for the name and every --san', async (t) => {
  const data = tempDir('cli-server');
  const out = tempDir('cli-server-out');
  const missing = await run(['issue-server', '--data', data, '--name', 'kmip1', '--out', out]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no lab CA in .*: make it first with 'kmipd pki create-ca'/);

  t.is((await run(['create-ca', '--data', data])).code, 0);
  const result = await run([
    'issue-server',
    '--data',
    data,
    '--name',
    'kmip1.example.org',
    '--san',
    'kmip1',
    '--san',
    '192.0.2.10',
    '--san',
    '2001:db8::10',
    '--out',
    out,
    '--days',
    '90',
  ]);
  t.is(result.code, 0, result.stderr);
  t.regex(
    result.stdout,
    /\(CN=kmip1\.example\.org, serverAuth, names DNS:kmip1\.example\.org, DNS:kmip1, IP:192\.0\.2\.10, IP:2001:db8::10, valid until /,
  );
  t.deepEqual(readdirSync(out).sort(), ['ca.pem', 'kmip1.example.org.key', 'kmip1.example.org.pem']);
  t.is(statSync(join(out, 'kmip1.example.org.key')).mode & 0o777, 0o600);
  t.is(statSync(join(out, 'kmip1.example.org.pem')).mode & 0o777, 0o644);
  const cert = new X509Certificate(readFileSync(join(out, 'kmip1.example.org.pem')));
  t.is(
    cert.subjectAltName,
    'DNS:kmip1.example.org, DNS:kmip1, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:10',
  );
  t.is(cert.checkHost('kmip1'), 'kmip1');
  t.is(cert.checkIP('192.0.2.10'), '192.0.2.10');
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  t.true(cert.verify(new X509Certificate(readFileSync(join(data, 'certs', 'ca.pem'))).publicKey));

  const bad = await run(['issue-server', '--data', data, '--name', 'ok', '--san', 'bad_name!', '--out', out]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /'bad_name!' cannot go into the certificate: 'bad_name!' is not a DNS label/);
});

test.serial('issue-client --no-client-auth makes a certificate without clientAuth, for drills', async (t) => {
  const data = tempDir('cli-noauth');
  const out = tempDir('cli-noauth-out');
  const result = await run([
    'issue-client',
    '--data',
    data,
    '--cn',
    'drill',
    '--out',
    out,
    '--no-client-auth',
  ]);
  t.is(result.code, 0, result.stderr);
  t.regex(
    result.stdout,
    /\(CN=drill, serverAuth only, NO clientAuth: the server must refuse it, valid until/,
  );
  t.deepEqual(new X509Certificate(readFileSync(join(out, 'drill.pem'))).keyUsage, ['1.3.6.1.5.5.7.3.1']);
});

test.serial('sign-csr refuses a CSR with violations, names each, and writes nothing', async (t) => {
  const data = tempDir('cli-csr-bad');
  t.is((await run(['create-ca', '--data', data])).code, 0);
  const dir = tempDir('cli-csr-bad-files');
  const csrPath = join(dir, 'node1.csr');
  const { pem } = await makeCsr({ subject: 'CN=barbican-node1', key: 'rsa-1024' });
  writeFileSync(csrPath, pem);
  const out = join(dir, 'node1.pem');
  const result = await run([
    'sign-csr',
    '--data',
    data,
    '--csr',
    csrPath,
    '--out',
    out,
    '--expect-cn',
    'barbican',
  ]);
  t.is(result.code, 1);
  t.is(result.stdout, '');
  t.is(
    result.stderr,
    `kmipd pki sign-csr: refused to sign ${csrPath} (CN=barbican-node1, RSA 1024 bits), 2 policy violations; ` +
      'nothing was written:\n' +
      "  - CSR common name 'barbican-node1' does not equal the expected username 'barbican' (the KMIP server " +
      'would refuse this client in session-and-username mode)\n' +
      '  - RSA key is 1024 bits; at least 2048 required\n',
  );
  t.false(existsSync(out));
  t.deepEqual(readdirSync(dir), ['node1.csr']);

  // Not a CSR at all.
  const notCsr = await run([
    'sign-csr',
    '--data',
    data,
    '--csr',
    join(data, 'certs', 'ca.pem'),
    '--out',
    out,
  ]);
  t.is(notCsr.code, 1);
  t.regex(
    notCsr.stderr,
    /ca\.pem: the file holds a certificate, not a certificate signing request \(CSR\)\n$/,
  );
  t.false(existsSync(out));
});

test.serial('sign-csr signs a good CSR, writes the certificate 0644 and says what it signed', async (t) => {
  const data = tempDir('cli-csr-good');
  const noCa = await makeCsr({ subject: 'CN=barbican' });
  const dir = tempDir('cli-csr-good-files');
  const csrPath = join(dir, 'barbican.csr');
  writeFileSync(csrPath, noCa.der);
  const out = join(dir, 'signed', 'barbican.pem');
  const without = await run(['sign-csr', '--data', data, '--csr', csrPath, '--out', out]);
  t.is(without.code, 1);
  t.regex(without.stderr, /no lab CA in .*: make it first with 'kmipd pki create-ca'/);

  t.is((await run(['create-ca', '--data', data])).code, 0);
  const { pem } = await makeCsr({
    subject: 'CN=barbican, O=Example',
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'barbican.example.org' }])],
  });
  writeFileSync(csrPath, pem);
  const result = await run([
    'sign-csr',
    '--data',
    data,
    '--csr',
    csrPath,
    '--out',
    out,
    '--expect-cn',
    'barbican',
    '--days',
    '365',
  ]);
  t.is(result.code, 0, result.stderr);
  t.is(statSync(out).mode & 0o777, 0o644);
  const cert = new X509Certificate(readFileSync(out));
  const ca = await loadLabCa(join(data, 'certs'));
  t.true(cert.verify(new X509Certificate(Buffer.from(ca.certificate.rawData)).publicKey));
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  const lines = result.stdout.split('\n');
  t.is(lines[0], `signed ${csrPath} with the lab CA ${ca.certificate.subject}: wrote ${out} (mode 0644)`);
  t.true(lines.includes('  subject:                CN=barbican, O=Example'));
  t.true(lines.includes('  subject alt names:      DNS:barbican.example.org'));
  t.true(lines.includes('  extended key usage:     clientAuth'));
  t.true(lines.includes('  validity:               valid for 365 more days'));
  t.true(lines.includes(`  serial:                 ${cert.serialNumber.toLowerCase()}`));
  t.true(lines.includes('note: the CSR requests no extended key usage; the signer adds clientAuth'));
});

test.serial('sign-csr --allow-no-client-auth signs an EKU request without clientAuth', async (t) => {
  const data = tempDir('cli-csr-eku');
  t.is((await run(['create-ca', '--data', data])).code, 0);
  const dir = tempDir('cli-csr-eku-files');
  const csrPath = join(dir, 'web.csr');
  const { pem } = await makeCsr({
    subject: 'CN=web',
    key: 'ec-p256',
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])],
  });
  writeFileSync(csrPath, pem);
  const out = join(dir, 'web.pem');
  const refused = await run(['sign-csr', '--data', data, '--csr', csrPath, '--out', out]);
  t.is(refused.code, 1);
  t.regex(
    refused.stderr,
    / {2}- the CSR asks for no clientAuth extended key usage \(it asks for serverAuth\)/,
  );
  t.false(existsSync(out));
  const allowed = await run([
    'sign-csr',
    '--data',
    data,
    '--csr',
    csrPath,
    '--out',
    out,
    '--allow-no-client-auth',
  ]);
  t.is(allowed.code, 0, allowed.stderr);
  t.deepEqual(new X509Certificate(readFileSync(out)).keyUsage, ['1.3.6.1.5.5.7.3.1']);
});

test.serial(
  'show describes an expired certificate and whether the lab CA signed it; and a CSR',
  async (t) => {
    const data = tempDir('cli-show');
    t.is((await run(['create-ca', '--data', data])).code, 0);
    const ca = await loadLabCa(join(data, 'certs'));
    const now = new Date();
    const expired = await issueCertificate(ca, {
      subject: { commonName: 'gone' },
      sans: [],
      eku: ['clientAuth'],
      notBefore: addDays(now, -100),
      notAfter: addDays(now, -3),
    });
    const dir = tempDir('cli-show-files');
    const certPath = join(dir, 'gone.der');
    writeFileSync(certPath, Buffer.from(expired.certificate.rawData));
    const shown = await run(['show', certPath, '--data', data]);
    t.is(shown.code, 0, shown.stderr);
    const lines = shown.stdout.split('\n');
    t.is(lines[0], `${certPath}:`);
    t.true(lines.includes('  validity:               expired 3 days ago'));
    t.true(
      lines.includes(
        `  lab CA:                 signed by this server's lab CA (${join(data, 'certs', 'ca.pem')})`,
      ),
    );
    const elsewhere = await run(['show', certPath, '--data', tempDir('cli-show-other')]);
    t.regex(elsewhere.stdout, / {2}lab CA: +no lab CA to compare with/);
    t.false((await run(['show', certPath])).stdout.includes('lab CA:'));

    const csrPath = join(dir, 'req.csr');
    writeFileSync(csrPath, (await makeCsr({ subject: 'CN=barbican-node1' })).pem);
    const csr = await run(['show', csrPath, '--expect-cn', 'barbican']);
    t.is(csr.code, 0, csr.stderr);
    t.regex(
      csr.stdout,
      /certificate signing request \(PKCS#10, RFC 2986\)\n {2}subject: +CN=barbican-node1\n {2}key: +RSA 2048 bits\n {2}signature: +valid/,
    );
    t.regex(
      csr.stdout,
      /sign-csr would refuse it:\n {4}- CSR common name 'barbican-node1' does not equal the expected username 'barbican'/,
    );

    const junkPath = join(dir, 'junk');
    writeFileSync(junkPath, 'hello\n');
    const junk = await run(['show', junkPath]);
    t.is(junk.code, 1);
    t.regex(junk.stderr, /junk: the file is neither PEM nor a DER certificate or certificate request/);
  },
);
