/**
 * When a key may be used for a cryptographic operation, over real mutual TLS (KMIP 1.4 §3.19 Cryptographic Usage
 * Mask, §3.22 State, §3.25 Process Start Date, §3.26 Protect Stop Date, §3.27 Deactivation Date; 2.1 §4.15, §4.57,
 * §4.44, §4.45): applying protection (Encrypt, Sign, MAC) needs an Active key before its Protect Stop Date;
 * processing protected data (Decrypt, Signature Verify, MAC Verify) also works with a Deactivated or Compromised key
 * from its Process Start Date on; nothing works with a Pre-Active or destroyed key, or against the usage mask; and
 * another owner's key does not exist for the caller (Object Not Found in 2.x, Item Not Found in 1.x).
 *
 * Refusals are answered per version: a key in the wrong state is Permission Denied in 1.x and 2.0 and Wrong Key
 * Lifecycle State in 2.1 (the CS-BC-M-14 and CS-AC-M-8 vectors of each version expect exactly that); a usage mask
 * that does not allow the operation is Incompatible Cryptographic Usage Mask from 2.0 on, Permission Denied in 1.x,
 * which has no such reason.
 */
import {
  createCipheriv,
  createHmac,
  generateKeyPairSync,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import test from 'ava';
import { TestKmipClient } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  attr,
  bytesXml,
  ecb,
  pkcs1Sha256,
  uidXml,
  usage,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

const permitVersions: readonly Version[] = ['1.4', '2.0', '2.1'];
const wrongState = (version: Version): string =>
  `OperationFailed/${version === '2.1' ? 'WrongKeyLifecycleState' : 'PermissionDenied'}`;
/** Another principal's key, as an unknown one: Object Not Found in 2.x (BL-M-4-21), Item Not Found in 1.x. */
const notFound = (version: Version): string =>
  `OperationFailed/${version.startsWith('2.') ? 'ObjectNotFound' : 'ItemNotFound'}`;
const wrongMask = (version: Version): string =>
  `OperationFailed/${version.startsWith('2.') ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied'}`;

const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const plain = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
/** AES-128-ECB of `plain` under `key` (FIPS 197 / SP 800-38A F.1.1), computed by node:crypto. */
const cipherText = ((): Buffer => {
  const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]);
})();
const hmacKey = Buffer.from('0b'.repeat(32), 'hex');
const mac = createHmac('sha256', hmacKey).update(plain).digest();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signature = nodeSign('sha256', plain, rsa.privateKey);
const der = (k: KeyObject, type: 'pkcs8' | 'spki'): Buffer => k.export({ format: 'der', type });

/** The six operations, each on its key, as (name, kind, call). */
function operations(
  kmip: VersionedClient,
  uids: { aes: string; hmac: string; privateKey: string; publicKey: string },
) {
  return {
    encrypt: () => kmip.call('Encrypt', `${uidXml(uids.aes)}${ecb}${bytesXml('Data', plain)}`),
    decrypt: () => kmip.call('Decrypt', `${uidXml(uids.aes)}${ecb}${bytesXml('Data', cipherText)}`),
    mac: () => kmip.call('MAC', `${uidXml(uids.hmac)}${bytesXml('Data', plain)}`),
    macVerify: () =>
      kmip.call('MACVerify', `${uidXml(uids.hmac)}${bytesXml('Data', plain)}${bytesXml('MACData', mac)}`),
    sign: () => kmip.call('Sign', `${uidXml(uids.privateKey)}${pkcs1Sha256}${bytesXml('Data', plain)}`),
    verify: () =>
      kmip.call(
        'SignatureVerify',
        `${uidXml(uids.publicKey)}${pkcs1Sha256}${bytesXml('Data', plain)}${bytesXml('SignatureData', signature)}`,
      ),
  };
}

/** One key of each kind with the same extra attributes (dates); usage masks allow every operation on it. */
async function keysWith(kmip: VersionedClient, extra: Parameters<VersionedClient['registerSymmetric']>[1]) {
  return {
    aes: await kmip.registerSymmetric(key, [usage('Encrypt Decrypt'), ...extra]),
    hmac: await kmip.registerSymmetric(hmacKey, [usage('MACGenerate MACVerify'), ...extra], 'HMAC_SHA256'),
    privateKey: await kmip.registerAsymmetric(
      'PrivateKey',
      'PKCS_8',
      der(rsa.privateKey, 'pkcs8'),
      'RSA',
      2048,
      [usage('Sign'), ...extra],
    ),
    publicKey: await kmip.registerAsymmetric('PublicKey', 'X_509', der(rsa.publicKey, 'spki'), 'RSA', 2048, [
      usage('Verify'),
      ...extra,
    ]),
  };
}

for (const version of permitVersions) {
  test.serial(
    `${version}: Active keys do all six operations (the baseline of the refusals below)`,
    async (t) => {
      const kmip = client(version);
      const ops = operations(kmip, await keysWith(kmip, [activeSinceAnHour]));
      t.is((await ops.encrypt()).bytes('Data').toString('hex'), cipherText.toString('hex'));
      t.is((await ops.decrypt()).bytes('Data').toString('hex'), plain.toString('hex'));
      t.is((await ops.mac()).bytes('MACData').toString('hex'), mac.toString('hex'));
      t.is((await ops.macVerify()).value('ValidityIndicator'), 'Valid');
      t.is((await ops.sign()).bytes('SignatureData').toString('hex'), signature.toString('hex'));
      t.is((await ops.verify()).value('ValidityIndicator'), 'Valid');
    },
  );

  test.serial(`${version}: a Pre-Active key is used for nothing`, async (t) => {
    const kmip = client(version);
    const ops = operations(kmip, await keysWith(kmip, []));
    for (const [name, call] of Object.entries(ops)) {
      const answer = await call();
      t.is(answer.outcome, wrongState(version), `${name}: ${answer.xml}`);
    }
    // An Activation Date still ahead leaves the key Pre-Active as well.
    const later = operations(kmip, await keysWith(kmip, [attr('ActivationDate', 'DateTime', '$NOW+3600')]));
    t.is((await later.encrypt()).outcome, wrongState(version));
    t.is((await later.decrypt()).outcome, wrongState(version));
  });

  test.serial(
    `${version}: past its Protect Stop Date a key no longer encrypts, but still decrypts`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(key, [
        usage('Encrypt Decrypt'),
        activeSinceAnHour,
        attr('ProtectStopDate', 'DateTime', '$NOW-60'),
      ]);
      const encrypted = await kmip.call('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', plain)}`);
      t.is(encrypted.outcome, wrongState(version), encrypted.xml);
      t.false(encrypted.has('Data'));
      const decrypted = await kmip.call('Decrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', cipherText)}`);
      t.is(decrypted.bytes('Data').toString('hex'), plain.toString('hex'));
      // A Protect Stop Date still ahead stops nothing.
      const ahead = await kmip.registerSymmetric(key, [
        usage('Encrypt Decrypt'),
        activeSinceAnHour,
        attr('ProtectStopDate', 'DateTime', '$NOW+3600'),
      ]);
      const allowed = await kmip.call('Encrypt', `${uidXml(ahead)}${ecb}${bytesXml('Data', plain)}`);
      t.is(allowed.bytes('Data').toString('hex'), cipherText.toString('hex'));
      // MAC applies protection too.
      const hmac = await kmip.registerSymmetric(
        hmacKey,
        [usage('MACGenerate MACVerify'), activeSinceAnHour, attr('ProtectStopDate', 'DateTime', '$NOW-60')],
        'HMAC_SHA256',
      );
      t.is(
        (await kmip.call('MAC', `${uidXml(hmac)}${bytesXml('Data', plain)}`)).outcome,
        wrongState(version),
      );
      const verified = await kmip.call(
        'MACVerify',
        `${uidXml(hmac)}${bytesXml('Data', plain)}${bytesXml('MACData', mac)}`,
      );
      t.is(verified.value('ValidityIndicator'), 'Valid');
    },
  );

  test.serial(`${version}: before its Process Start Date a key encrypts, but does not decrypt`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      attr('ProcessStartDate', 'DateTime', '$NOW+3600'),
    ]);
    const decrypted = await kmip.call('Decrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', cipherText)}`);
    t.is(decrypted.outcome, wrongState(version), decrypted.xml);
    t.false(decrypted.has('Data'));
    const encrypted = await kmip.call('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', plain)}`);
    t.is(encrypted.bytes('Data').toString('hex'), cipherText.toString('hex'));
    // From the Process Start Date on, it decrypts.
    const started = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      attr('ProcessStartDate', 'DateTime', '$NOW-60'),
    ]);
    const allowed = await kmip.call('Decrypt', `${uidXml(started)}${ecb}${bytesXml('Data', cipherText)}`);
    t.is(allowed.bytes('Data').toString('hex'), plain.toString('hex'));
  });

  test.serial(`${version}: the Cryptographic Usage Mask must allow the operation`, async (t) => {
    const kmip = client(version);
    const decryptOnly = await kmip.registerSymmetric(key, [usage('Decrypt'), activeSinceAnHour]);
    const refused = await kmip.call('Encrypt', `${uidXml(decryptOnly)}${ecb}${bytesXml('Data', plain)}`);
    t.is(refused.outcome, wrongMask(version), refused.xml);
    t.false(refused.has('Data'));
    const decrypted = await kmip.call(
      'Decrypt',
      `${uidXml(decryptOnly)}${ecb}${bytesXml('Data', cipherText)}`,
    );
    t.is(decrypted.bytes('Data').toString('hex'), plain.toString('hex'), 'what the mask allows still works');

    const encryptOnly = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour]);
    const noDecrypt = await kmip.call(
      'Decrypt',
      `${uidXml(encryptOnly)}${ecb}${bytesXml('Data', cipherText)}`,
    );
    t.is(noDecrypt.outcome, wrongMask(version));

    const verifyOnly = await kmip.registerSymmetric(
      hmacKey,
      [usage('MACVerify'), activeSinceAnHour],
      'HMAC_SHA256',
    );
    t.is(
      (await kmip.call('MAC', `${uidXml(verifyOnly)}${bytesXml('Data', plain)}`)).outcome,
      wrongMask(version),
    );

    const decryptingPrivate = await kmip.registerAsymmetric(
      'PrivateKey',
      'PKCS_8',
      der(rsa.privateKey, 'pkcs8'),
      'RSA',
      2048,
      [usage('Decrypt'), activeSinceAnHour],
    );
    const sign = await kmip.call(
      'Sign',
      `${uidXml(decryptingPrivate)}${pkcs1Sha256}${bytesXml('Data', plain)}`,
    );
    t.is(sign.outcome, wrongMask(version), sign.xml);
  });

  for (const code of ['Unspecified', 'KeyCompromise'] as const) {
    const state = code === 'KeyCompromise' ? 'Compromised' : 'Deactivated';
    test.serial(
      `${version}: a ${state} key processes (Decrypt, MAC Verify, Verify) but protects nothing`,
      async (t) => {
        const kmip = client(version);
        const uids = await keysWith(kmip, [activeSinceAnHour]);
        for (const uid of Object.values(uids)) await kmip.revoke(uid, code);
        const ops = operations(kmip, uids);
        for (const name of ['encrypt', 'mac', 'sign'] as const) {
          const answer = await ops[name]();
          t.is(answer.outcome, wrongState(version), `${name}: ${answer.xml}`);
        }
        t.is((await ops.decrypt()).bytes('Data').toString('hex'), plain.toString('hex'));
        t.is((await ops.macVerify()).value('ValidityIndicator'), 'Valid');
        t.is((await ops.verify()).value('ValidityIndicator'), 'Valid');
      },
    );
  }

  test.serial(`${version}: a destroyed key is used for nothing, even one the token has held`, async (t) => {
    const kmip = client(version);
    for (const code of ['Unspecified', 'KeyCompromise'] as const) {
      const uids = await keysWith(kmip, [activeSinceAnHour]);
      const ops = operations(kmip, uids);
      // Used first, so that the token holds each key; then revoked (still processing), then destroyed.
      t.is((await ops.encrypt()).status, 'Success');
      t.is((await ops.mac()).status, 'Success');
      t.is((await ops.sign()).status, 'Success');
      for (const uid of Object.values(uids)) await kmip.revoke(uid, code);
      t.is((await ops.decrypt()).status, 'Success', 'revoked, it still decrypts');
      for (const uid of Object.values(uids)) await kmip.must('Destroy', uidXml(uid));
      for (const [name, call] of Object.entries(ops)) {
        const answer = await call();
        t.is(answer.outcome, wrongState(version), `${code}, ${name}: ${answer.xml}`);
        t.false(answer.has('Data'));
      }
    }
  });

  // KMIP 1.4 §3.27: from its Deactivation Date on, a key "SHALL NOT be used for any purpose, except for
  // decryption, signature verification, or unwrapping"; §3.22 transition 6: reaching it makes the key Deactivated.
  test.serial(`${version}: past its Deactivation Date a key protects nothing`, async (t) => {
    const kmip = client(version);
    const uids = await keysWith(kmip, [activeSinceAnHour, attr('DeactivationDate', 'DateTime', '$NOW-60')]);
    const ops = operations(kmip, uids);
    t.is((await ops.decrypt()).bytes('Data').toString('hex'), plain.toString('hex'), 'it still decrypts');
    for (const name of ['encrypt', 'mac', 'sign'] as const) {
      const answer = await ops[name]();
      t.is(answer.outcome, wrongState(version), `${name}: ${answer.xml}`);
    }
  });

  // KMIP 1.4 §3.22 transition 4: a Pre-Active object becomes Active when "a client successfully issues a Modify
  // Attribute operation, modifying the Activation Date to a date in the past, or the current date".
  test.serial(`${version}: moving the Activation Date into the past makes the key usable`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      attr('ActivationDate', 'DateTime', '$NOW+3600'),
    ]);
    const past = '<ActivationDate type="DateTime" value="$NOW-60"/>';
    const modified = await kmip.call(
      'ModifyAttribute',
      version.startsWith('2.')
        ? `${uidXml(uid)}<NewAttribute>${past}</NewAttribute>`
        : `${uidXml(uid)}<Attribute><AttributeName type="TextString" value="Activation Date"/>${past.replace('ActivationDate', 'AttributeValue')}</Attribute>`,
    );
    t.is(modified.outcome, 'Success/-', modified.xml);
    const encrypted = await kmip.call('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', plain)}`);
    t.is(encrypted.outcome, 'Success/-', encrypted.xml);
    t.is(encrypted.bytes('Data').toString('hex'), cipherText.toString('hex'));
  });
}

test.serial(
  "another principal's keys are Object Not Found (1.x: Item Not Found) to every cryptographic operation",
  async (t) => {
    const admin = client('2.1');
    const adminKeys = await keysWith(admin, [activeSinceAnHour]);
    const files = await server().issueClient('tenant-crypto');
    const otherConnection = await TestKmipClient.connect(server().host, server().port, files);
    try {
      for (const version of permitVersions) {
        const other = new VersionedClient(otherConnection, version);
        for (const [name, call] of Object.entries(operations(other, adminKeys))) {
          const answer = await call();
          t.is(answer.outcome, notFound(version), `${version} ${name}: ${answer.xml}`);
          t.false(answer.has('Data'));
          t.false(answer.has('SignatureData'));
          t.false(answer.has('MACData'));
        }
        // Its own keys work: the refusals above are about whose keys they are.
        const own = operations(other, await keysWith(other, [activeSinceAnHour]));
        t.is((await own.encrypt()).bytes('Data').toString('hex'), cipherText.toString('hex'), version);
        t.is((await own.sign()).bytes('SignatureData').toString('hex'), signature.toString('hex'), version);
      }
      // And the owner still can.
      t.is(
        (await operations(admin, adminKeys).decrypt()).bytes('Data').toString('hex'),
        plain.toString('hex'),
      );
    } finally {
      otherConnection.close();
    }
  },
);
