/**
 * The PKCS#12 encoder (src/pki/pkcs12.ts) against two independent readers: Python's cryptography (key, chain order,
 * friendly name, and a MAC that fails under a wrong password) and the openssl command (the algorithms named in the
 * container). The key and certificates are made here by node:crypto and the lab PKI's issuer.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createCertificateAuthority, issueCertificate } from '../../src/pki/issue.js';
import { decodePkcs12, encodePkcs12, Pkcs12Error, pkcs12Kdf } from '../../src/pki/pkcs12.js';
import { runPythonJson } from '../support/python.js';

const reader = join(import.meta.dirname, '..', 'support', 'pkcs12_read.py');

interface Read {
  readonly key?: string | null;
  readonly certificates?: string[];
  readonly friendlyName?: string | null;
  readonly error?: string;
}

const chain = (async () => {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) };
  const ca = await createCertificateAuthority({ subject: { commonName: 'P12 CA' }, ...validity });
  const leaf = await issueCertificate(ca, {
    subject: { commonName: 'p12.kmip.test' },
    eku: ['clientAuth'],
    sans: [],
    ...validity,
    keyAlgorithm: 'rsa-2048',
  });
  return {
    key: createPrivateKey(leaf.keyPem).export({ format: 'der', type: 'pkcs8' }),
    leaf: new Uint8Array(leaf.certificate.rawData),
    ca: new Uint8Array(ca.certificate.rawData),
  };
})();

async function readBack(container: Uint8Array, password: string): Promise<Read> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  try {
    const path = join(dir, 'c.p12');
    await writeFile(path, container);
    return await runPythonJson<Read>(reader, [path, Buffer.from(password, 'utf8').toString('hex')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('Python reads the key, the chain in order and the friendly name; a wrong password fails the MAC', async (t) => {
  const { key, leaf, ca } = await chain;
  const password = 'correct hörse';
  const container = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: [leaf, ca],
    password: Buffer.from(password),
    friendlyName: 'signing-key',
  });
  const read = await readBack(container, password);
  t.is(read.key, Buffer.from(key).toString('hex'));
  t.deepEqual(read.certificates, [Buffer.from(leaf).toString('hex'), Buffer.from(ca).toString('hex')]);
  t.is(read.friendlyName, 'signing-key');
  t.truthy((await readBack(container, 'correct horse')).error, 'one character off');
});

test('a key alone, with no certificate, is a valid container too', async (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = privateKey.export({ format: 'der', type: 'pkcs8' });
  const read = await readBack(
    encodePkcs12({
      privateKeyPkcs8: key,
      certificates: [],
      password: Buffer.from('pw'),
      friendlyName: 'alias',
    }),
    'pw',
  );
  t.is(read.key, key.toString('hex'));
  t.deepEqual(read.certificates, []);
});

test('openssl names the algorithms: PBES2 with AES-256-CBC for the key, an HMAC-SHA256 MAC', async (t) => {
  const { key, leaf } = await chain;
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.p12');
  await writeFile(
    path,
    encodePkcs12({
      privateKeyPkcs8: key,
      certificates: [leaf],
      password: Buffer.from('pw'),
      friendlyName: 'alias',
    }),
  );
  const info = await new Promise<string>((resolve, reject) => {
    execFile(
      'openssl',
      ['pkcs12', '-in', path, '-passin', 'pass:pw', '-info', '-noout'],
      (error, stdout, stderr) => {
        if (error) reject(new Error(`openssl pkcs12 failed: ${stderr}`));
        else resolve(`${stdout}${stderr}`);
      },
    );
  });
  t.regex(info, /MAC: sha256, Iteration 2048/);
  t.regex(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
});

test('the key derivation of RFC 7292 B.2 repeats over its 64-byte blocks and depends on every input', (t) => {
  const salt = Buffer.from('0102030405060708', 'hex');
  const base = pkcs12Kdf('pw', salt, 3, 2, 80);
  t.is(base.length, 80, 'longer than one 32-byte hash: three rounds of the I_j update');
  t.notDeepEqual(pkcs12Kdf('pw', salt, 1, 2, 80), base, 'the ID');
  t.notDeepEqual(pkcs12Kdf('pW', salt, 3, 2, 80), base, 'the password');
  t.notDeepEqual(pkcs12Kdf('pw', salt, 3, 3, 80), base, 'the iterations');
  t.deepEqual(pkcs12Kdf('pw', salt, 3, 2, 32), base.subarray(0, 32), 'a prefix of the longer output');
});

test('decodePkcs12 reads back what encodePkcs12 wrote, and refuses another password', async (t) => {
  const { key, leaf, ca } = await chain;
  const container = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: [leaf, ca],
    password: Buffer.from('pw'),
    friendlyName: 'round-trip',
  });
  const read = decodePkcs12(container, Buffer.from('pw'));
  t.deepEqual(
    read.keys.map((k) => [Buffer.from(k.der).toString('hex'), k.friendlyName]),
    [[Buffer.from(key).toString('hex'), 'round-trip']],
  );
  t.deepEqual(
    read.certificates.map((c) => Buffer.from(c.der).toString('hex')),
    [Buffer.from(leaf).toString('hex'), Buffer.from(ca).toString('hex')],
  );
  t.is(
    read.keys[0]?.localKeyId,
    read.certificates[0]?.localKeyId,
    'the key and its certificate share a Local Key ID',
  );
  t.throws(() => decodePkcs12(container, Buffer.from('pW')), {
    instanceOf: Pkcs12Error,
    message: /MAC does not match/,
  });
});

test('a damaged container is a Pkcs12Error wherever it is cut or changed, never another exception', async (t) => {
  const { key, leaf } = await chain;
  const container = Buffer.from(
    encodePkcs12({
      privateKeyPkcs8: key,
      certificates: [leaf],
      password: Buffer.from('pw'),
      friendlyName: 'a',
    }),
  );
  let checked = 0;
  for (let at = 0; at < container.length; at += 7) {
    const cut = container.subarray(0, at);
    t.throws(() => decodePkcs12(cut, Buffer.from('pw')), { instanceOf: Pkcs12Error }, `cut at ${at}`);
    const changed = Buffer.from(container);
    changed[at] = (changed[at] ?? 0) ^ 0x5a;
    try {
      decodePkcs12(changed, Buffer.from('pw'));
    } catch (error) {
      if (!(error instanceof Pkcs12Error)) t.fail(`byte ${at} changed: ${String(error)}`);
    }
    checked += 1;
  }
  t.true(checked > 100);
});

test('a container asking for more iterations than the server computes is refused before any is computed', async (t) => {
  const { key } = await chain;
  const container = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: [],
    password: Buffer.from('pw'),
    friendlyName: 'a',
    macIterations: 100_001,
  });
  t.throws(() => decodePkcs12(container, Buffer.from('pw')), {
    instanceOf: Pkcs12Error,
    message: /asks for 100001 iterations; this server computes 1 to 100000/,
  });
  const within = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: [],
    password: Buffer.from('pw'),
    friendlyName: 'a',
    macIterations: 100_000,
  });
  t.is(decodePkcs12(within, Buffer.from('pw')).keys.length, 1, 'the limit itself is computed');
});

test('a container without a MAC, or with more bags than a key and its chain need, is refused', async (t) => {
  const { key, leaf } = await chain;
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'key.pem'),
    createPrivateKey({ key: Buffer.from(key), format: 'der', type: 'pkcs8' }).export({
      format: 'pem',
      type: 'pkcs8',
    }),
  );
  await writeFile(join(dir, 'leaf.pem'), new X509Certificate(leaf).toString());
  const out = join(dir, 'nomac.p12');
  await new Promise<void>((resolve, reject) => {
    execFile(
      'openssl',
      ['pkcs12', '-export', '-nomac', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'leaf.pem')].concat([
        '-passout',
        'pass:pw',
        '-out',
        out,
      ]),
      (error, _stdout, stderr) => {
        if (error) reject(new Error(`openssl pkcs12 -export -nomac: ${stderr}`));
        else resolve();
      },
    );
  });
  const noMac = await readFile(out);
  t.throws(() => decodePkcs12(noMac, Buffer.from('pw')), {
    instanceOf: Pkcs12Error,
    message: /without a MAC/,
  });

  const many = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: Array.from({ length: 64 }, () => leaf),
    password: Buffer.from('pw'),
    friendlyName: 'a',
  });
  t.throws(() => decodePkcs12(many, Buffer.from('pw')), {
    instanceOf: Pkcs12Error,
    message: /more than 64 bags/,
  });
  const enough = encodePkcs12({
    privateKeyPkcs8: key,
    certificates: Array.from({ length: 63 }, () => leaf),
    password: Buffer.from('pw'),
    friendlyName: 'a',
  });
  t.is(decodePkcs12(enough, Buffer.from('pw')).certificates.length, 63, 'the limit itself is read');
});
