/**
 * The issuing CA of Certify as an administrator sees it (an appliance where every principal is one): a Sensitive,
 * non-extractable private key that Get never serves, and the same CA after a restart. (certify.test.ts: clients do
 * not see the key at all.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import test from 'ava';
import { x509 } from '../../src/pki/x509.js';
import { startTestAppliance } from '../support/appliance.js';
import { bytesXml, enumXml, uidXml, VersionedClient } from '../support/crypto-client.js';
import { TestKmipClient } from '../support/kmip-client.js';

const algorithm = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** Runs `fn` with an administrator's 2.1 client of an appliance on `dataDir`, then stops the appliance. */
async function asAdmin<T>(dataDir: string, fn: (admin: VersionedClient) => Promise<T>): Promise<T> {
  const appliance = await startTestAppliance({ dataDir, identity: { defaultRoles: ['admin'] } });
  const connection = await TestKmipClient.connect(appliance.host, appliance.port, appliance);
  try {
    return await fn(new VersionedClient(connection, '2.1'));
  } finally {
    connection.close();
    await appliance.stop();
  }
}

/** Certifies a new key; answers the Unique Identifier of the issuing CA certificate the result links to. */
async function certifiedBy(admin: VersionedClient, cn: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: algorithm,
  });
  const uid =
    (
      await admin.must(
        'Certify',
        `${enumXml('CertificateRequestType', 'PKCS_10')}${bytesXml('CertificateRequestValue', new Uint8Array(csr.rawData))}`,
      )
    ).value('UniqueIdentifier') ?? '';
  const attributes = await admin.must('GetAttributes', uidXml(uid));
  return (
    /<LinkType type="Enumeration" value="CertificateLink"\/>\s*<LinkedObjectIdentifier type="TextString" value="([^"]*)"\/>/.exec(
      attributes.xml,
    )?.[1] ?? ''
  );
}

test('the CA key is Sensitive and not Extractable, Get refuses it, and a restart keeps the same CA', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kmipd-certify-ca-'));
  try {
    const caUid = await asAdmin(dataDir, async (admin) => {
      const ca = await certifiedBy(admin, 'erin');
      const located = await admin.must(
        'Locate',
        `<Attributes><Name><NameValue type="TextString" value="kmipd Certify CA private key"/>${enumXml('NameType', 'UninterpretedTextString')}</Name></Attributes>`,
      );
      const keyUid = located.value('UniqueIdentifier') ?? '';
      t.truthy(keyUid, located.xml);
      const attributes = await admin.must('GetAttributes', uidXml(keyUid));
      t.is(attributes.value('ObjectType'), 'PrivateKey');
      t.is(attributes.value('Sensitive'), 'true');
      t.is(attributes.value('Extractable'), 'false');
      const got = await admin.call('Get', uidXml(keyUid));
      t.is(got.status, 'OperationFailed', got.xml);
      t.false(got.has('KeyMaterial'));
      return ca;
    });
    t.truthy(caUid);
    t.is(await asAdmin(dataDir, (admin) => certifiedBy(admin, 'frank')), caUid, 'found again, not made anew');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
