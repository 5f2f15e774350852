/**
 * The issuing CA of Certify as an administrator sees it (an appliance where every principal is one): its key is the
 * server's own, which no operation reaches even by its identifier, and the same CA is found after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import test from 'ava';
import { x509 } from '../../src/pki/x509.js';
import { startTestAppliance } from '../support/appliance.js';
import { bytesXml, enumXml, uidXml, VersionedClient } from '../support/crypto-client.js';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';

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

/** One data directory for the file (SoftHSM2 takes one per process); its CA is first made inside an undone batch. */
let dataDir = '';
test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kmipd-certify-ca-'));
});
test.after.always(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

test.serial(
  'a CA made inside a batch that is undone stays: later certificates name an issuer that exists',
  async (t) => {
    await asAdmin(dataDir, async (admin) => {
      const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: 'CN=undo',
        keys,
        signingAlgorithm: algorithm,
      });
      const item = (operation: string, payload: string): string =>
        `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
      const answer = await admin.client.requestXml(
        requestXml(
          '2.1',
          item(
            'Certify',
            `${enumXml('CertificateRequestType', 'PKCS_10')}${bytesXml('CertificateRequestValue', new Uint8Array(csr.rawData))}`,
          ) + item('Get', uidXml('no-such-object')),
          '<BatchErrorContinuationOption type="Enumeration" value="Undo"/>',
        ),
      );
      t.regex(answer, /OperationUndone/, answer);
      const ca = await certifiedBy(admin, 'after-undo');
      const got = await admin.call('Get', uidXml(ca));
      t.is(got.outcome, 'Success/-', got.xml);
    });
  },
);

test.serial(
  "the CA key is out of every client's reach, an administrator's too, and a restart keeps the same CA",
  async (t) => {
    const caUid = await asAdmin(dataDir, async (admin) => {
      const ca = await certifiedBy(admin, 'erin');
      const located = await admin.must(
        'Locate',
        `<Attributes><Name><NameValue type="TextString" value="kmipd Certify CA private key"/>${enumXml('NameType', 'UninterpretedTextString')}</Name></Attributes>`,
      );
      t.false(located.has('UniqueIdentifier'), 'not found by an administrator');
      // Its identifier, from the public CA certificate's Private Key Link: every operation on it is Object Not Found.
      const caAttributes = await admin.must('GetAttributes', uidXml(ca));
      const keyUid =
        /<LinkType type="Enumeration" value="PrivateKeyLink"\/>\s*<LinkedObjectIdentifier type="TextString" value="([^"]*)"\/>/.exec(
          caAttributes.xml,
        )?.[1] ?? '';
      t.truthy(keyUid, caAttributes.xml);
      for (const [operation, payload] of [
        ['Get', uidXml(keyUid)],
        ['GetAttributes', uidXml(keyUid)],
        [
          'SetAttribute',
          `${uidXml(keyUid)}<NewAttribute><Extractable type="Boolean" value="true"/></NewAttribute>`,
        ],
        [
          'Revoke',
          `${uidXml(keyUid)}<RevocationReason>${enumXml('RevocationReasonCode', 'KeyCompromise')}</RevocationReason>`,
        ],
        ['Destroy', uidXml(keyUid)],
        [
          'Sign',
          `${uidXml(keyUid)}<CryptographicParameters>${enumXml('DigitalSignatureAlgorithm', 'SHA_256WithRSAEncryption')}</CryptographicParameters><Data type="ByteString" value="00"/>`,
        ],
      ] as const) {
        const answer = await admin.call(operation, payload);
        t.is(answer.outcome, 'OperationFailed/ObjectNotFound', `${operation}: ${answer.xml}`);
      }
      return ca;
    });
    t.truthy(caUid);
    t.is(await asAdmin(dataDir, (admin) => certifiedBy(admin, 'frank')), caUid, 'found again, not made anew');
  },
);

test.serial(
  'once an administrator revokes the CA certificate, the next Certify is signed by a new CA',
  async (t) => {
    await asAdmin(dataDir, async (admin) => {
      const before = await certifiedBy(admin, 'grace');
      await admin.must(
        'Revoke',
        `${uidXml(before)}<RevocationReason>${enumXml('RevocationReasonCode', 'CessationOfOperation')}</RevocationReason>`,
      );
      const after = await certifiedBy(admin, 'heidi');
      t.not(after, before, 'a new CA certificate');
      t.is((await admin.must('GetAttributes', uidXml(after))).value('State'), 'Active');
    });
  },
);
