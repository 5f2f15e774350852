/**
 * PKCS#12 over real mutual TLS at 1.4 and 2.1.
 * - Get with Key Format Type PKCS#12 (KMIP 1.4 §4.11): the container holds the registered private key and its
 *   certificate chain, found by PKCS#12 Certificate Links or else by the Public Key and Certificate Links, under the
 *   password of the key's PKCS#12 Password Link; each container is opened by Python's cryptography, never by the
 *   server's own code. The refusals: no password link, a password not Active, two chains, a key not Extractable.
 * - Register of a PKCS#12 private key (1.4 §3.45): containers made by the openssl command, in OpenSSL 3's default
 *   algorithms and in the legacy 3DES ones, become the key (as PKCS#8) and a Certificate object for each of its
 *   chain, linked as Get follows them; a wrong password or a password not Active stores nothing.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createCertificateAuthority, issueCertificate } from '../../src/pki/issue.js';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  bytesXml,
  enumXml,
  structAttr,
  uidXml,
  usage,
  v2,
  VersionedClient,
  type AttributeSpec,
} from '../support/crypto-client.js';
import { runPythonJson } from '../support/python.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);
const reader = join(import.meta.dirname, '..', 'support', 'pkcs12_read.py');

const linkAttr = (type: string, uid: string): AttributeSpec =>
  structAttr(
    'Link',
    `${enumXml('LinkType', type)}<LinkedObjectIdentifier type="TextString" value="${uid}"/>`,
  );

const material = (async () => {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) };
  const root = await createCertificateAuthority({ subject: { commonName: 'PKCS12 Root' }, ...validity });
  const leaf = await issueCertificate(root, {
    subject: { commonName: 'pkcs12.kmip.test' },
    eku: ['clientAuth'],
    sans: [],
    ...validity,
    keyAlgorithm: 'rsa-2048',
  });
  const key = createPrivateKey(leaf.keyPem);
  return {
    keyPem: leaf.keyPem,
    leafPem: leaf.certPem,
    rootPem: root.certificate.toString('pem'),
    pkcs8: key.export({ format: 'der', type: 'pkcs8' }),
    spki: leaf.certificate.publicKey.rawData,
    leaf: Buffer.from(leaf.certificate.rawData),
    root: Buffer.from(root.certificate.rawData),
  };
})();

async function registerCertificate(kmip: VersionedClient, der: Uint8Array, attributes: AttributeSpec[]) {
  const container = v2(kmip.version) ? 'Attributes' : 'TemplateAttribute';
  const answer = await kmip.must(
    'Register',
    `${enumXml('ObjectType', 'Certificate')}${attributesXml(kmip.version, attributes, { v1: container, v2: container })}
     <Certificate>${enumXml('CertificateType', 'X_509')}${bytesXml('CertificateValue', der)}</Certificate>`,
  );
  return answer.value('UniqueIdentifier') ?? '';
}

/** The container Get answers, opened by Python with the password. */
async function opened(kmip: VersionedClient, uid: string, password: string) {
  const answer = await kmip.call('Get', `${uidXml(uid)}${enumXml('KeyFormatType', 'PKCS_12')}`);
  if (answer.status !== 'Success') return { outcome: answer.outcome, message: answer.message ?? '' };
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  try {
    const path = join(dir, 'got.p12');
    // 1.x answers the container as the Key Value itself, 2.x as the Key Material of a Key Value structure.
    await writeFile(path, answer.bytes(v2(kmip.version) ? 'KeyMaterial' : 'KeyValue'));
    const read = await runPythonJson<{
      key?: string;
      certificates?: string[];
      friendlyName?: string;
      error?: string;
    }>(reader, [path, Buffer.from(password).toString('hex')]);
    return { outcome: answer.outcome, message: '', ...read };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const version of ['1.4', '2.1'] as const) {
  test.serial(
    `${version}: the key and its chain by PKCS#12 Certificate Links, under the linked password`,
    async (t) => {
      const kmip = client(version);
      const { pkcs8, leaf, root } = await material;
      const password = `pässword-${version}`;
      const secret = await kmip.registerSecretData(Buffer.from(password), [
        activeSinceAnHour,
        usage('DeriveKey'),
      ]);
      const rootUid = await registerCertificate(kmip, root, []);
      const leafUid = await registerCertificate(kmip, leaf, [linkAttr('PKCS_12CertificateLink', rootUid)]);
      const keyUid = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
        usage('Sign'),
        linkAttr('PKCS_12PasswordLink', secret),
        linkAttr('PKCS_12CertificateLink', leafUid),
        attr('PKCS_12FriendlyName', 'TextString', 'lab-signer'),
      ]);
      const read = await opened(kmip, keyUid, password);
      t.is(read.outcome, 'Success/-', read.message);
      t.is(read.key, pkcs8.toString('hex'), 'the registered key');
      t.deepEqual(read.certificates, [leaf.toString('hex'), root.toString('hex')], 'leaf, then its issuer');
      t.is(read.friendlyName, 'lab-signer');
      t.truthy((await opened(kmip, keyUid, `${password}!`)).error, 'another password does not open it');
    },
  );

  test.serial(
    `${version}: without PKCS#12 Certificate Links, the Public Key and Certificate Links`,
    async (t) => {
      const kmip = client(version);
      const { pkcs8, spki, leaf, root } = await material;
      const secret = await kmip.registerSecretData(Buffer.from('pw'), [activeSinceAnHour]);
      const rootUid = await registerCertificate(kmip, root, []);
      const leafUid = await registerCertificate(kmip, leaf, [linkAttr('CertificateLink', rootUid)]);
      const publicUid = await kmip.registerAsymmetric(
        'PublicKey',
        'X_509',
        new Uint8Array(spki),
        'RSA',
        2048,
        [linkAttr('CertificateLink', leafUid)],
      );
      const keyUid = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
        linkAttr('PKCS_12PasswordLink', secret),
        linkAttr('PublicKeyLink', publicUid),
      ]);
      const read = await opened(kmip, keyUid, 'pw');
      t.is(read.outcome, 'Success/-', read.message);
      t.deepEqual(read.certificates, [leaf.toString('hex'), root.toString('hex')]);
      t.is(read.friendlyName, 'alias', 'KMIP 1.4 §3.45: "alias" when the key has no PKCS#12 Friendly Name');
    },
  );
}

test.serial(
  'the refusals: no password link, a password not Active, two chains, a key not Extractable',
  async (t) => {
    const kmip = client('2.1');
    const { pkcs8, leaf, root } = await material;
    const noPassword = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, []);
    const none = await opened(kmip, noPassword, 'pw');
    t.is(none.outcome, 'OperationFailed/InvalidField');
    t.regex(none.message, /no PKCS#12 Password Links/);

    const preActive = await kmip.registerSecretData(Buffer.from('pw'), []);
    const waiting = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
      linkAttr('PKCS_12PasswordLink', preActive),
    ]);
    t.is((await opened(kmip, waiting, 'pw')).outcome, 'OperationFailed/WrongKeyLifecycleState');

    const secret = await kmip.registerSecretData(Buffer.from('pw'), [activeSinceAnHour]);
    const [a, b] = [await registerCertificate(kmip, leaf, []), await registerCertificate(kmip, root, [])];
    const twoChains = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
      linkAttr('PKCS_12PasswordLink', secret),
      linkAttr('PKCS_12CertificateLink', a),
      linkAttr('PKCS_12CertificateLink', b),
    ]);
    const two = await opened(kmip, twoChains, 'pw');
    t.is(two.outcome, 'OperationFailed/InvalidField');
    t.regex(two.message, /more than one chain/);

    const kept = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
      linkAttr('PKCS_12PasswordLink', secret),
      attr('Extractable', 'Boolean', 'false'),
    ]);
    t.is((await opened(kmip, kept, 'pw')).outcome, 'OperationFailed/NotExtractable');
  },
);

/** A container made by the openssl command from the material above (the key, its certificate, then the root). */
async function opensslContainer(password: string, legacy3des: boolean): Promise<Buffer> {
  const { keyPem, leafPem, rootPem } = await material;
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  try {
    await writeFile(join(dir, 'key.pem'), keyPem);
    await writeFile(join(dir, 'leaf.pem'), leafPem);
    await writeFile(join(dir, 'root.pem'), rootPem);
    const out = join(dir, 'out.p12');
    const algorithms = legacy3des
      ? ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']
      : [];
    await new Promise<void>((resolve, reject) => {
      execFile(
        'openssl',
        ['pkcs12', '-export', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'leaf.pem')]
          .concat(['-certfile', join(dir, 'root.pem'), '-name', 'lab-alias', '-passout', `pass:${password}`])
          .concat([...algorithms, '-out', out]),
        (error, _stdout, stderr) => {
          if (error) reject(new Error(`openssl pkcs12 -export: ${stderr}`));
          else resolve();
        },
      );
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function registerContainer(kmip: VersionedClient, container: Uint8Array, attributes: AttributeSpec[]) {
  const value = v2(kmip.version)
    ? `<KeyValue>${bytesXml('KeyMaterial', container)}</KeyValue>`
    : bytesXml('KeyValue', container);
  return kmip.call(
    'Register',
    `${enumXml('ObjectType', 'PrivateKey')}${attributesXml(kmip.version, attributes)}
     <PrivateKey><KeyBlock>${enumXml('KeyFormatType', 'PKCS_12')}${value}</KeyBlock></PrivateKey>`,
  );
}

/** The Unique Identifier one PKCS#12 Certificate Link of an object names. */
async function certificateLinkOf(kmip: VersionedClient, uid: string): Promise<string | undefined> {
  const answer = await kmip.must(
    'GetAttributes',
    v2(kmip.version)
      ? `${uidXml(uid)}<AttributeReference type="Enumeration" value="Link"/>`
      : `${uidXml(uid)}<AttributeName type="TextString" value="Link"/>`,
  );
  const link =
    /<LinkType type="Enumeration" value="PKCS_12CertificateLink"\/>\s*<LinkedObjectIdentifier type="TextString" value="([^"]+)"/.exec(
      answer.xml,
    );
  return link?.[1];
}

for (const [version, legacy] of [
  ['1.4', true],
  ['2.1', false],
] as const) {
  test.serial(
    `${version}: Register of a PKCS#12 container (${legacy ? 'legacy 3DES' : 'OpenSSL 3 default'}) stores the key and its chain`,
    async (t) => {
      const kmip = client(version);
      const { pkcs8, leaf, root } = await material;
      const secret = await kmip.registerSecretData(Buffer.from('import-pw'), [activeSinceAnHour]);
      const container = await opensslContainer('import-pw', legacy);
      const registered = await registerContainer(kmip, container, [
        usage('Sign'),
        linkAttr('PKCS_12PasswordLink', secret),
      ]);
      t.is(registered.outcome, 'Success/-', registered.xml);
      const keyUid = registered.value('UniqueIdentifier') ?? '';
      const got = await kmip.must('Get', uidXml(keyUid));
      t.is(got.value('KeyFormatType'), 'PKCS_8');
      t.is(got.bytes('KeyMaterial').toString('hex'), pkcs8.toString('hex'), 'the key, as PKCS#8');
      t.is(got.value('CryptographicAlgorithm'), 'RSA');
      t.is(got.value('CryptographicLength'), '2048');
      const leafUid = await certificateLinkOf(kmip, keyUid);
      t.truthy(leafUid, 'the key links to its certificate');
      const leafGot = await kmip.must('Get', uidXml(leafUid ?? ''));
      t.is(leafGot.bytes('CertificateValue').toString('hex'), leaf.toString('hex'));
      const rootUid = await certificateLinkOf(kmip, leafUid ?? '');
      t.is(
        (await kmip.must('Get', uidXml(rootUid ?? ''))).bytes('CertificateValue').toString('hex'),
        root.toString('hex'),
      );
      t.is(await certificateLinkOf(kmip, rootUid ?? ''), undefined, 'the root ends the chain');
      const friendly = await kmip.must(
        'GetAttributes',
        v2(version)
          ? `${uidXml(keyUid)}<AttributeReference type="Enumeration" value="PKCS_12FriendlyName"/>`
          : `${uidXml(keyUid)}<AttributeName type="TextString" value="PKCS#12 Friendly Name"/>`,
      );
      t.true(friendly.xml.includes('value="lab-alias"'), 'the friendly name found is recorded');
      // And back out: the same key and chain in a container of the server's own making.
      const read = await opened(kmip, keyUid, 'import-pw');
      t.is(read.key, pkcs8.toString('hex'));
      t.deepEqual(read.certificates, [leaf.toString('hex'), root.toString('hex')]);
      t.is(read.friendlyName, 'lab-alias');
    },
  );
}

test.serial(
  'a PKCS#12 container that does not open, or whose password is not Active, stores nothing',
  async (t) => {
    const kmip = client('2.1');
    const container = await opensslContainer('right-pw', false);
    const wrong = await kmip.registerSecretData(Buffer.from('wrong-pw'), [activeSinceAnHour]);
    const name = `p12-${Date.now()}`;
    const nameSpec = structAttr(
      'Name',
      `<NameValue type="TextString" value="${name}"/>${enumXml('NameType', 'UninterpretedTextString')}`,
    );
    const refused = await registerContainer(kmip, container, [
      linkAttr('PKCS_12PasswordLink', wrong),
      nameSpec,
    ]);
    t.is(refused.outcome, 'OperationFailed/InvalidField');
    t.regex(refused.message ?? '', /does not open with this password/);
    const waiting = await kmip.registerSecretData(Buffer.from('right-pw'), []);
    const early = await registerContainer(kmip, container, [
      linkAttr('PKCS_12PasswordLink', waiting),
      nameSpec,
    ]);
    t.is(early.outcome, 'OperationFailed/WrongKeyLifecycleState');
    const none = await registerContainer(kmip, container, [nameSpec]);
    t.is(none.outcome, 'OperationFailed/InvalidField');
    const located = await kmip.must(
      'Locate',
      `<Attributes><Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>`,
    );
    t.false(located.has('UniqueIdentifier'), 'no key was stored');
  },
);

test.serial('Import takes no PKCS#12 container: only Register opens one', async (t) => {
  const kmip = client('2.1');
  const container = await opensslContainer('pw', false);
  const imported = await kmip.call(
    'Import',
    `${uidXml(`imported-p12-${Date.now()}`)}${enumXml('ObjectType', 'PrivateKey')}<Attributes/>
     <PrivateKey><KeyBlock>${enumXml('KeyFormatType', 'PKCS_12')}<KeyValue>${bytesXml('KeyMaterial', container)}</KeyValue></KeyBlock></PrivateKey>`,
  );
  t.is(imported.outcome, 'OperationFailed/KeyFormatTypeNotSupported', imported.xml);
});

test.serial('Export serves the same container as Get, with the key’s attributes', async (t) => {
  const kmip = client('2.1');
  const { pkcs8, leaf } = await material;
  const secret = await kmip.registerSecretData(Buffer.from('export-pw'), [activeSinceAnHour]);
  const leafUid = await registerCertificate(kmip, leaf, []);
  const keyUid = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
    linkAttr('PKCS_12PasswordLink', secret),
    linkAttr('PKCS_12CertificateLink', leafUid),
  ]);
  const exported = await kmip.must('Export', `${uidXml(keyUid)}${enumXml('KeyFormatType', 'PKCS_12')}`);
  t.true(exported.has('Attributes'), 'Export carries the attributes');
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-p12-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'exported.p12'), exported.bytes('KeyMaterial'));
  const read = await runPythonJson<{ key?: string; certificates?: string[] }>(reader, [
    join(dir, 'exported.p12'),
    Buffer.from('export-pw').toString('hex'),
  ]);
  t.is(read.key, pkcs8.toString('hex'));
  t.deepEqual(read.certificates, [leaf.toString('hex')]);
});
