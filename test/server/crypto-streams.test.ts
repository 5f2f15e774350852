/**
 * Multi-part cryptographic operations over real mutual TLS (KMIP 1.4 §2.1.15-§2.1.17 Correlation Value, Init and
 * Final Indicator; §4.29-§4.37): every streamed result is compared byte for byte with node:crypto over the whole
 * data, and the Correlation Value is checked to belong to the client and operation that started it (any other is
 * Invalid Correlation Value in 2.x, 2.1 §6.1.20.1, and Item Not Found in 1.x).
 */
import {
  constants,
  createCipheriv,
  createHash,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import test from 'ava';
import { TestKmipClient } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  boolXml,
  bytesXml,
  enumXml,
  intXml,
  parametersXml,
  uidXml,
  usage,
  usageLimits,
  VersionedClient,
  type Answer,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

const key = randomBytes(32);
const data = randomBytes(100);
const parts = [data.subarray(0, 7), data.subarray(7, 61), data.subarray(61)];
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/**
 * Sends `parts` as one multi-part operation; `fields` are the first part's extra fields, `last` the last part's.
 * Answers every part's answer.
 */
async function streamed(
  kmip: VersionedClient,
  operation: string,
  first: string,
  last = '',
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let correlation = '';
  for (const [index, part] of parts.entries()) {
    const isFirst = index === 0;
    const isLast = index === parts.length - 1;
    const payload = [
      isFirst ? first : correlation,
      bytesXml('Data', part),
      isFirst ? boolXml('InitIndicator', true) : '',
      isLast ? `${boolXml('FinalIndicator', true)}${last}` : '',
    ].join('');
    const answer = await kmip.call(operation, payload);
    answers.push(answer);
    if (answer.status !== 'Success') break;
    if (!isLast) correlation = bytesXml('CorrelationValue', answer.bytes('CorrelationValue'));
  }
  return answers;
}

const joined = (answers: Answer[], field: string): Buffer =>
  Buffer.concat(answers.map((a) => (a.has(field) ? a.bytes(field) : Buffer.alloc(0))));

for (const version of ['1.4', '2.1'] as const) {
  /** A Correlation Value of no open operation of this client and operation. */
  const badCorrelation = `OperationFailed/${version.startsWith('2.') ? 'InvalidCorrelationValue' : 'ItemNotFound'}`;

  test.serial(
    `${version}: AES-GCM in three parts: ciphertext and tag as node:crypto's, and back`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(key, [usage('Encrypt Decrypt'), activeSinceAnHour]);
      const iv = randomBytes(12);
      const aad = randomBytes(20);
      const gcm = parametersXml(enumXml('BlockCipherMode', 'GCM') + intXml('TagLength', 16));
      const encrypted = await streamed(
        kmip,
        'Encrypt',
        `${uidXml(uid)}${gcm}${bytesXml('IVCounterNonce', iv)}${bytesXml('AuthenticatedEncryptionAdditionalData', aad)}`,
      );
      t.deepEqual(
        encrypted.map((a) => a.outcome),
        ['Success/-', 'Success/-', 'Success/-'],
      );
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
      const expected = Buffer.concat([cipher.update(data), cipher.final()]);
      t.is(joined(encrypted, 'Data').toString('hex'), expected.toString('hex'));
      const last = encrypted.at(-1);
      t.is(last?.bytes('AuthenticatedEncryptionTag').toString('hex'), cipher.getAuthTag().toString('hex'));
      t.false(last?.has('CorrelationValue'), 'the last part ends the operation');
      t.true(encrypted[0]?.has('CorrelationValue'));

      // Decrypt in parts: the tag comes with the last part.
      const decryptParts = await (async () => {
        const answers: Answer[] = [];
        const first = await kmip.call(
          'Decrypt',
          `${uidXml(uid)}${gcm}${bytesXml('IVCounterNonce', iv)}${bytesXml('AuthenticatedEncryptionAdditionalData', aad)}${bytesXml('Data', expected.subarray(0, 40))}${boolXml('InitIndicator', true)}`,
        );
        answers.push(first);
        const correlation = bytesXml('CorrelationValue', first.bytes('CorrelationValue'));
        answers.push(
          await kmip.call(
            'Decrypt',
            `${correlation}${bytesXml('Data', expected.subarray(40))}${boolXml('FinalIndicator', true)}${bytesXml('AuthenticatedEncryptionTag', cipher.getAuthTag())}`,
          ),
        );
        return answers;
      })();
      t.is(decryptParts.at(-1)?.outcome, 'Success/-', decryptParts.at(-1)?.xml);
      t.is(joined(decryptParts, 'Data').toString('hex'), data.toString('hex'));
    },
  );

  test.serial(`${version}: a wrong GCM tag on the last part fails, and the operation is over`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt Decrypt'), activeSinceAnHour]);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const gcm = parametersXml(enumXml('BlockCipherMode', 'GCM'));
    const first = await kmip.call(
      'Decrypt',
      `${uidXml(uid)}${gcm}${bytesXml('IVCounterNonce', iv)}${bytesXml('Data', ciphertext)}${boolXml('InitIndicator', true)}`,
    );
    const correlation = bytesXml('CorrelationValue', first.bytes('CorrelationValue'));
    const final = await kmip.call(
      'Decrypt',
      `${correlation}${boolXml('FinalIndicator', true)}${bytesXml('AuthenticatedEncryptionTag', randomBytes(16))}`,
    );
    t.is(final.outcome, 'OperationFailed/CryptographicFailure', final.xml);
    t.false(final.has('Data'));
    const again = await kmip.call('Decrypt', `${correlation}${boolXml('FinalIndicator', true)}`);
    t.is(again.outcome, badCorrelation, 'a failed last part ends the operation');
  });

  test.serial(`${version}: HMAC, SHA-256 and RSA signatures in parts equal node:crypto's`, async (t) => {
    const kmip = client(version);
    const hmacUid = await kmip.registerSymmetric(
      key,
      [usage('MACGenerate MACVerify'), activeSinceAnHour],
      'HMAC_SHA256',
    );
    const mac = await streamed(kmip, 'MAC', uidXml(hmacUid));
    t.is(mac.at(-1)?.bytes('MACData').toString('hex'), createHmac('sha256', key).update(data).digest('hex'));
    t.false(mac[0]?.has('MACData'), 'no MAC before the last part');
    const macOk = await streamed(
      kmip,
      'MACVerify',
      uidXml(hmacUid),
      bytesXml('MACData', mac.at(-1)?.bytes('MACData') ?? Buffer.alloc(0)),
    );
    t.is(macOk.at(-1)?.value('ValidityIndicator'), 'Valid');
    const macBad = await streamed(kmip, 'MACVerify', uidXml(hmacUid), bytesXml('MACData', randomBytes(32)));
    t.is(macBad.at(-1)?.value('ValidityIndicator'), 'Invalid');

    const hash = await streamed(kmip, 'Hash', parametersXml(enumXml('HashingAlgorithm', 'SHA_256')));
    t.is(hash.at(-1)?.bytes('Data').toString('hex'), createHash('sha256').update(data).digest('hex'));

    const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'der' });
    const spki = rsa.publicKey.export({ type: 'spki', format: 'der' });
    const signer = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', pkcs8, 'RSA', 2048, [
      usage('Sign'),
      activeSinceAnHour,
    ]);
    const verifier = await kmip.registerAsymmetric('PublicKey', 'X_509', spki, 'RSA', 2048, [
      usage('Verify'),
      activeSinceAnHour,
    ]);
    const params = parametersXml(enumXml('DigitalSignatureAlgorithm', 'SHA_256WithRSAEncryption'));
    const signed = await streamed(kmip, 'Sign', `${uidXml(signer)}${params}`);
    const signature = signed.at(-1)?.bytes('SignatureData') ?? Buffer.alloc(0);
    t.is(signature.toString('hex'), sign('sha256', data, rsa.privateKey).toString('hex'));
    t.true(verify('sha256', data, rsa.publicKey, signature));
    // The signature to check may come with the first part (as the KMIP 1.4 test case TC-STREAM-SIGNVFY does).
    const checked = await streamed(
      kmip,
      'SignatureVerify',
      `${uidXml(verifier)}${params}${bytesXml('SignatureData', signature)}`,
    );
    t.is(checked.at(-1)?.value('ValidityIndicator'), 'Valid');
    t.false(checked[0]?.has('ValidityIndicator'), 'no verdict before the last part');

    // PSS with no salt length stated: node:crypto signs with the largest salt the key allows, and with the hash
    // length when asked; both verify in parts as they do in one (TC-STREAM-SIGNVFY's signature has the largest).
    const pss = parametersXml(
      enumXml('PaddingMethod', 'PSS') +
        enumXml('HashingAlgorithm', 'SHA_256') +
        enumXml('CryptographicAlgorithm', 'RSA'),
    );
    const pssSigned = (saltLength: number): Buffer =>
      sign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    for (const [salt, name] of [
      [constants.RSA_PSS_SALTLEN_MAX_SIGN, 'the largest salt'],
      [32, 'a salt of the hash length'],
    ] as const) {
      const pssChecked = await streamed(
        kmip,
        'SignatureVerify',
        `${uidXml(verifier)}${pss}${bytesXml('SignatureData', pssSigned(salt))}`,
      );
      t.is(pssChecked.at(-1)?.value('ValidityIndicator'), 'Valid', `PSS in parts, ${name}`);
    }
    const tampered = pssSigned(constants.RSA_PSS_SALTLEN_MAX_SIGN);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    const pssBad = await streamed(
      kmip,
      'SignatureVerify',
      `${uidXml(verifier)}${pss}${bytesXml('SignatureData', tampered)}`,
    );
    t.is(pssBad.at(-1)?.value('ValidityIndicator'), 'Invalid', 'a tampered PSS signature in parts');
  });

  test.serial(`${version}: a Correlation Value serves only its client and operation`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt Decrypt MACGenerate'), activeSinceAnHour]);
    const cbc = parametersXml(enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5'));
    const first = await kmip.call(
      'Encrypt',
      `${uidXml(uid)}${cbc}${bytesXml('IVCounterNonce', randomBytes(16))}${bytesXml('Data', data)}${boolXml('InitIndicator', true)}`,
    );
    const correlation = bytesXml('CorrelationValue', first.bytes('CorrelationValue'));
    const asDecrypt = await kmip.call('Decrypt', `${correlation}${bytesXml('Data', data)}`);
    t.is(asDecrypt.outcome, badCorrelation, 'another operation');
    const files = await server().issueClient(`stream-thief-${version}`);
    const other = await TestKmipClient.connect(server().host, server().port, files);
    try {
      const stolen = await new VersionedClient(other, version).call(
        'Encrypt',
        `${correlation}${bytesXml('Data', data)}`,
      );
      t.is(stolen.outcome, badCorrelation, 'another client');
    } finally {
      other.close();
    }
    const unknown = await kmip.call(
      'Encrypt',
      `${bytesXml('CorrelationValue', randomBytes(16))}${bytesXml('Data', data)}`,
    );
    t.is(unknown.outcome, badCorrelation, 'an unknown Correlation Value');
    const both = await kmip.call(
      'Encrypt',
      `${uidXml(uid)}${correlation}${bytesXml('Data', data)}${boolXml('InitIndicator', true)}`,
    );
    t.is(both.outcome, 'OperationFailed/InvalidField', 'a first part naming a Correlation Value');
    // The rightful owner still finishes it.
    const final = await kmip.call('Encrypt', `${correlation}${boolXml('FinalIndicator', true)}`);
    t.is(final.outcome, 'Success/-', final.xml);
  });

  test.serial(`${version}: every part of a multi-part Encrypt counts against a limit in bytes`, async (t) => {
    const kmip = client(version);
    const limits = usageLimits(150, 'Byte');
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt Decrypt'), activeSinceAnHour, limits]);
    const cbc = parametersXml(enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5'));
    const start = `${uidXml(uid)}${cbc}${bytesXml('IVCounterNonce', randomBytes(16))}`;
    const first = await streamed(kmip, 'Encrypt', start);
    t.deepEqual(
      first.map((a) => a.outcome),
      ['Success/-', 'Success/-', 'Success/-'],
      '100 bytes of 150',
    );
    const second = await streamed(kmip, 'Encrypt', start);
    // 50 bytes are left: the first part takes 7, and the second, of 54, no longer fits.
    t.is(second[0]?.outcome, 'Success/-');
    t.is(second[1]?.outcome, 'OperationFailed/PermissionDenied', second[1]?.xml);
    t.is(second.length, 2, 'the refused part ends the operation');
  });
}
