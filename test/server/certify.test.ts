/**
 * Certify (KMIP 1.4 §4.7, 2.1 §6.1.7) over real TLS: a PKCS#10 request made here with @peculiar/x509 and the
 * platform's WebCrypto, a certificate signed inside the token by the appliance's issuing CA, checked with
 * node:crypto (issuer, signature, key, subject, extensions), and the links, refusals and CA key protection.
 */
import { X509Certificate, webcrypto } from 'node:crypto';
import test from 'ava';
import { x509 } from '../../src/pki/x509.js';
import { type Answer, bytesXml, enumXml, uidXml, VersionedClient } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify']);
}

async function csrFor(
  keys: webcrypto.CryptoKeyPair,
  cn: string,
  extensions: x509.Extension[] = [
    new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${cn}.kmip.test` }]),
    new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2']),
  ],
): Promise<x509.Pkcs10CertificateRequest> {
  return x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}, O=Kmip Lab`,
    keys,
    signingAlgorithm: rsa,
    extensions,
  });
}

function certifyPayload(kmip: VersionedClient, csr: Uint8Array, type = 'PKCS_10', uid?: string): string {
  const field = kmip.version.startsWith('2.') ? 'CertificateRequestValue' : 'CertificateRequest';
  return `${uid === undefined ? '' : uidXml(uid)}${enumXml('CertificateRequestType', type)}${bytesXml(field, csr)}`;
}

async function certificateOf(kmip: VersionedClient, uid: string): Promise<X509Certificate> {
  return new X509Certificate((await kmip.must('Get', uidXml(uid))).bytes('CertificateValue'));
}

/** The Linked Object Identifier of the object's link of a type, from Get Attributes. */
async function linked(kmip: VersionedClient, uid: string, type: string): Promise<string | undefined> {
  const xml = (await kmip.must('GetAttributes', uidXml(uid))).xml;
  const pattern = new RegExp(
    `<LinkType type="Enumeration" value="${type}"/>\\s*<LinkedObjectIdentifier type="TextString" value="([^"]*)"/>`,
  );
  return pattern.exec(xml)?.[1];
}

test.serial(
  '1.4: a PKCS#10 request gets a certificate the issuing CA signed, for its subject and key',
  async (t) => {
    const kmip = client('1.4');
    const keys = await keyPair();
    const csr = await csrFor(keys, 'alice');
    const answer = await kmip.must('Certify', certifyPayload(kmip, new Uint8Array(csr.rawData)));
    const uid = answer.value('UniqueIdentifier') ?? '';
    const certificate = await certificateOf(kmip, uid);
    t.is(certificate.subject, 'CN=alice\nO=Kmip Lab', 'the subject of the request');
    t.deepEqual(
      certificate.publicKey.export({ type: 'spki', format: 'der' }),
      Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)),
      'the requester key',
    );
    t.is(certificate.subjectAltName, 'DNS:alice.kmip.test', 'the requested subjectAltName');
    t.false(certificate.ca, 'an end-entity certificate');
    t.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'the requested clientAuth');
    const caUid = (await linked(kmip, uid, 'CertificateLink')) ?? '';
    t.truthy(caUid, 'a Certificate Link to the issuing CA certificate');
    const ca = await certificateOf(kmip, caUid);
    t.true(ca.ca);
    t.is(ca.subject, 'CN=kmipd Certify CA');
    t.true(certificate.checkIssued(ca));
    t.true(certificate.verify(ca.publicKey), 'signed by the CA key');
    t.true(ca.verify(ca.publicKey), 'the CA certificate is self-signed by the same key');
    // Public: any client may read the CA certificate (above), none may change it.
    const change = await kmip.call(
      'AddAttribute',
      `${uidXml(caUid)}<Attribute><AttributeName type="TextString" value="x-note"/><AttributeValue type="TextString" value="mine"/></Attribute>`,
    );
    t.is(change.outcome, 'OperationFailed/PermissionDenied', change.xml);
    // The CA is made once: a second Certify is signed by the same CA certificate.
    const second =
      (
        await kmip.must('Certify', certifyPayload(kmip, new Uint8Array((await csrFor(keys, 'bob')).rawData)))
      ).value('UniqueIdentifier') ?? '';
    t.is(await linked(kmip, second, 'CertificateLink'), caUid);
    t.not((await certificateOf(kmip, second)).serialNumber, certificate.serialNumber);
  },
);

test.serial('the CA private key is hidden from clients', async (t) => {
  const byName = (kmip: VersionedClient): Promise<Answer> =>
    kmip.must(
      'Locate',
      `<Attributes><Name><NameValue type="TextString" value="kmipd Certify CA private key"/>${enumXml('NameType', 'UninterpretedTextString')}</Name></Attributes>`,
    );
  t.false((await byName(client('2.1'))).has('UniqueIdentifier'), 'a creator does not even see it');
  // certify-ca-key.test.ts: what an administrator sees of it.
});

test.serial(
  '2.1: with the public key named, the request must be for it, and the two link to each other',
  async (t) => {
    const kmip = client('2.1');
    const keys = await keyPair();
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const keyUid = await kmip.registerAsymmetric('PublicKey', 'X_509', spki, 'RSA', 2048, []);
    const csr = new Uint8Array((await csrFor(keys, 'carol')).rawData);
    const uid =
      (await kmip.must('Certify', certifyPayload(kmip, csr, 'PKCS_10', keyUid))).value('UniqueIdentifier') ??
      '';
    t.is(await linked(kmip, uid, 'PublicKeyLink'), keyUid, 'the certificate names its public key');
    t.is(await linked(kmip, keyUid, 'CertificateLink'), uid, 'the public key names its certificate');
    // Named by its private key (as the ID placeholder is after Create Key Pair): the private key's Public Key Link.
    const privateDer = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const privateUid = await kmip.registerAsymmetric('PrivateKey', 'PKCS_8', privateDer, 'RSA', 2048, []);
    await kmip.must(
      'AddAttribute',
      `${uidXml(privateUid)}<NewAttribute><Link>${enumXml('LinkType', 'PublicKeyLink')}<LinkedObjectIdentifier type="TextString" value="${keyUid}"/></Link></NewAttribute>`,
    );
    const viaPrivate =
      (await kmip.must('Certify', certifyPayload(kmip, csr, 'PKCS_10', privateUid))).value(
        'UniqueIdentifier',
      ) ?? '';
    t.is(await linked(kmip, viaPrivate, 'PublicKeyLink'), keyUid, 'the public key of the pair');
    const other = new Uint8Array((await csrFor(await keyPair(), 'mallory')).rawData);
    const refused = await kmip.call('Certify', certifyPayload(kmip, other, 'PKCS_10', keyUid));
    t.is(refused.outcome, 'OperationFailed/InvalidField', refused.xml);
    t.regex(refused.message ?? '', /another key/);
  },
);

test.serial(
  'a PEM request is accepted; a tampered or garbled one is Invalid CSR (Invalid Field before 2.0)',
  async (t) => {
    const keys = await keyPair();
    const csr = await csrFor(keys, 'dave');
    const kmip21 = client('2.1');
    const pem = new TextEncoder().encode(csr.toString('pem'));
    const fromPem = await kmip21.must('Certify', certifyPayload(kmip21, pem, 'PEM'));
    t.is(
      (await certificateOf(kmip21, fromPem.value('UniqueIdentifier') ?? '')).subject,
      'CN=dave\nO=Kmip Lab',
    );
    const tampered = new Uint8Array(csr.rawData);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0x01;
    t.is(
      (await kmip21.call('Certify', certifyPayload(kmip21, tampered))).outcome,
      'OperationFailed/InvalidCSR',
    );
    t.is(
      (await kmip21.call('Certify', certifyPayload(kmip21, Uint8Array.of(1, 2, 3)))).outcome,
      'OperationFailed/InvalidCSR',
    );
    const kmip14 = client('1.4');
    t.is(
      (await kmip14.call('Certify', certifyPayload(kmip14, tampered))).outcome,
      'OperationFailed/InvalidField',
    );
    const crmf = await kmip21.call('Certify', certifyPayload(kmip21, new Uint8Array(csr.rawData), 'CRMF'));
    t.is(crmf.outcome, 'OperationFailed/FeatureNotSupported');
  },
);

test.serial(
  'Re-certify renews a certificate for its key pair: names, links and dates move to the new one',
  async (t) => {
    const kmip = client('2.1');
    const keys = await keyPair();
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const keyUid = await kmip.registerAsymmetric('PublicKey', 'X_509', spki, 'RSA', 2048, []);
    const oldUid =
      (
        await kmip.must(
          'Certify',
          `${certifyPayload(kmip, new Uint8Array((await csrFor(keys, 'grace')).rawData), 'PKCS_10', keyUid)}<Attributes><Name><NameValue type="TextString" value="grace-cert"/>${enumXml('NameType', 'UninterpretedTextString')}</Name></Attributes>`,
        )
      ).value('UniqueIdentifier') ?? '';
    await kmip.must('Activate', uidXml(oldUid));
    const renewed = await kmip.must('ReCertify', `${uidXml(oldUid)}<Offset type="Interval" value="3600"/>`);
    const newUid = renewed.value('UniqueIdentifier') ?? '';
    t.not(newUid, oldUid);
    const [before, after] = [await certificateOf(kmip, oldUid), await certificateOf(kmip, newUid)];
    t.is(after.subject, before.subject, 'the same subject');
    t.deepEqual(
      after.publicKey.export({ type: 'spki', format: 'der' }),
      before.publicKey.export({ type: 'spki', format: 'der' }),
    );
    t.not(after.serialNumber, before.serialNumber);
    t.is(after.subjectAltName, 'DNS:grace.kmip.test', 'the extensions carried over');
    const ca = await certificateOf(kmip, (await linked(kmip, newUid, 'CertificateLink')) ?? '');
    t.true(after.verify(ca.publicKey));
    t.is(await linked(kmip, newUid, 'ReplacedObjectLink'), oldUid);
    t.is(await linked(kmip, oldUid, 'ReplacementObjectLink'), newUid);
    t.is(
      await linked(kmip, keyUid, 'CertificateLink'),
      newUid,
      "the public key's certificate is the new one",
    );
    t.is(await linked(kmip, newUid, 'PublicKeyLink'), keyUid);
    const newAttributes = await kmip.must('GetAttributes', uidXml(newUid));
    t.is(newAttributes.value('NameValue'), 'grace-cert', 'the Name moved over');
    t.false((await kmip.must('GetAttributes', uidXml(oldUid))).has('Name'));
    // Offset: Activation Date an hour after now (KMIP 1.4 Table 186), so not yet active.
    const activation = Date.parse(newAttributes.value('ActivationDate') ?? '') / 1000;
    t.true(Math.abs(activation - (Date.now() / 1000 + 3600)) < 60, newAttributes.xml);
    t.is(newAttributes.value('State'), 'PreActive');

    // A request for another key is refused; so is renewing, without a request, a certificate this CA did not issue.
    const other = new Uint8Array((await csrFor(await keyPair(), 'mallory')).rawData);
    const refused = await kmip.call('ReCertify', `${uidXml(newUid)}${certifyPayload(kmip, other)}`);
    t.is(refused.outcome, 'OperationFailed/InvalidField', refused.xml);
    const foreign = await issuedElsewhere();
    const foreignUid =
      (
        await kmip.must(
          'Register',
          `${enumXml('ObjectType', 'Certificate')}<Attributes/><Certificate>${enumXml('CertificateType', 'X_509')}${bytesXml('CertificateValue', foreign)}</Certificate>`,
        )
      ).value('UniqueIdentifier') ?? '';
    const notOurs = await kmip.call('ReCertify', uidXml(foreignUid));
    t.is(notOurs.outcome, 'OperationFailed/InvalidField', notOurs.xml);
    t.regex(notOurs.message ?? '', /not issued by this appliance/);
  },
);

/** A self-signed certificate no Certify issued. */
async function issuedElsewhere(): Promise<Uint8Array> {
  const keys = await keyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=elsewhere',
    keys,
    signingAlgorithm: rsa,
  });
  return new Uint8Array(certificate.rawData);
}

test.serial(
  'a request may ask only for what an end-entity certificate may be, and never sets Links',
  async (t) => {
    const kmip = client('2.1');
    const keys = await keyPair();
    const refusedFor = async (extensions: x509.Extension[]): Promise<string> =>
      (
        await kmip.call(
          'Certify',
          certifyPayload(kmip, new Uint8Array((await csrFor(keys, 'eve', extensions)).rawData)),
        )
      ).outcome;
    t.is(
      await refusedFor([
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature),
      ]),
      'OperationFailed/InvalidCSR',
      'certificate signing',
    );
    t.is(
      await refusedFor([new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9'])]),
      'OperationFailed/InvalidCSR',
      'OCSP signing',
    );
    t.is(
      await refusedFor([
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'a.kmip.test' }]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'b.kmip.test' }]),
      ]),
      'OperationFailed/InvalidCSR',
      'two subjectAltNames',
    );
    t.is(
      await refusedFor([
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment),
      ]),
      'Success/-',
      'an end-entity key usage is granted',
    );
    const withLink = await kmip.call(
      'Certify',
      `${certifyPayload(kmip, new Uint8Array((await csrFor(keys, 'eve')).rawData))}<Attributes><Link>${enumXml('LinkType', 'CertificateLink')}<LinkedObjectIdentifier type="TextString" value="elsewhere"/></Link></Attributes>`,
    );
    t.is(withLink.outcome, 'OperationFailed/InvalidField', withLink.xml);
  },
);
