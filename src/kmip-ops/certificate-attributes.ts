import { X509Certificate, type KeyObject } from 'node:crypto';
import { readTlv, type Tlv } from '../hsm/der.js';
import { ttlv, type TtlvItem } from '../ttlv/types.js';
import { enumValues, tag, tags } from '../kmip/vocabulary.js';

/**
 * The attributes the server sets from an X.509 certificate when it is registered or imported (KMIP 1.4 §3.4-3.5,
 * §3.9-3.16; 2.1 §4.8-4.9, §4.16, §4.19, §4.57-4.59: each "SHALL be set by the server when the object is created
 * or registered"): what the certificate's public key is, how it was signed, and who issued it to whom, in the
 * forms each KMIP version knows. All are derived here; a version that lacks one leaves it out of its responses
 * (src/kmip/attributes.ts), so 1.x clients see the deprecated text forms and 2.x clients do not.
 */

const T = tags(
  'CryptographicAlgorithm',
  'CryptographicLength',
  'DigitalSignatureAlgorithm',
  'CertificateIdentifier',
  'Issuer',
  'SerialNumber',
  'CertificateSubject',
  'CertificateSubjectDistinguishedName',
  'CertificateSubjectAlternativeName',
  'CertificateIssuer',
  'CertificateIssuerDistinguishedName',
  'X_509CertificateIdentifier',
  'IssuerDistinguishedName',
  'CertificateSerialNumber',
  'X_509CertificateSubject',
  'SubjectDistinguishedName',
  'SubjectAlternativeName',
  'X_509CertificateIssuer',
  'IssuerAlternativeName',
);

const Algorithm = enumValues('CryptographicAlgorithm', 'RSA', 'DSA', 'ECDSA');

/**
 * Digital Signature Algorithm (KMIP 1.4 §9.1.3.2.7, 2.1 §11.17) by the signature OID of the certificate
 * (RFC 3279, RFC 4055, RFC 5758, NIST CSOR for the SHA-2 DSA and SHA-3 RSA arcs).
 */
const signatureAlgorithms = new Map<string, number>([
  ['1.2.840.113549.1.1.2', 0x01],
  ['1.2.840.113549.1.1.4', 0x02],
  ['1.2.840.113549.1.1.5', 0x03],
  ['1.2.840.113549.1.1.14', 0x04],
  ['1.2.840.113549.1.1.11', 0x05],
  ['1.2.840.113549.1.1.12', 0x06],
  ['1.2.840.113549.1.1.13', 0x07],
  ['1.2.840.113549.1.1.10', 0x08],
  ['1.2.840.10040.4.3', 0x09],
  ['2.16.840.1.101.3.4.3.1', 0x0a],
  ['2.16.840.1.101.3.4.3.2', 0x0b],
  ['1.2.840.10045.4.1', 0x0c],
  ['1.2.840.10045.4.3.1', 0x0d],
  ['1.2.840.10045.4.3.2', 0x0e],
  ['1.2.840.10045.4.3.3', 0x0f],
  ['1.2.840.10045.4.3.4', 0x10],
  ['2.16.840.1.101.3.4.3.14', 0x11],
  ['2.16.840.1.101.3.4.3.15', 0x12],
  ['2.16.840.1.101.3.4.3.16', 0x13],
]);

const SUBJECT_ALT_NAME = '2.5.29.17';
const ISSUER_ALT_NAME = '2.5.29.18';

/** Field size in bits of the named curves node:crypto reports (Cryptographic Length of an EC key). */
const curveBits = new Map([
  ['prime256v1', 256],
  ['secp256k1', 256],
  ['secp384r1', 384],
  ['secp521r1', 521],
  ['secp224r1', 224],
  ['prime192v1', 192],
]);

/** The pieces of a certificate (RFC 5280 §4.1) the attributes need, as the exact DER the certificate holds. */
interface CertificateFields {
  readonly serial: Uint8Array;
  readonly signatureOid: string;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly extensions: ReadonlyMap<string, Uint8Array>;
}

/** Every attribute the certificate gives; none when it does not parse as X.509 (the bytes are kept as given). */
export function certificateAttributes(der: Uint8Array): TtlvItem[] {
  let certificate: X509Certificate;
  let fields: CertificateFields;
  try {
    certificate = new X509Certificate(der);
    fields = readCertificate(der);
  } catch {
    return [];
  }
  const out: TtlvItem[] = [...keyAlgorithmAttributes(certificate.publicKey)];
  const signature = signatureAlgorithms.get(fields.signatureOid);
  if (signature !== undefined) out.push(ttlv.enumeration(T.DigitalSignatureAlgorithm, signature));
  const subjectAlt = fields.extensions.get(SUBJECT_ALT_NAME);
  const issuerAlt = fields.extensions.get(ISSUER_ALT_NAME);
  out.push(
    ttlv.structure(T.X_509CertificateIdentifier, [
      ttlv.byteString(T.IssuerDistinguishedName, fields.issuer),
      ttlv.byteString(T.CertificateSerialNumber, fields.serial),
    ]),
    ttlv.structure(T.X_509CertificateSubject, [
      ttlv.byteString(T.SubjectDistinguishedName, fields.subject),
      ...(subjectAlt === undefined ? [] : [ttlv.byteString(T.SubjectAlternativeName, subjectAlt)]),
    ]),
    ttlv.structure(T.X_509CertificateIssuer, [
      ttlv.byteString(T.IssuerDistinguishedName, fields.issuer),
      ...(issuerAlt === undefined ? [] : [ttlv.byteString(T.IssuerAlternativeName, issuerAlt)]),
    ]),
  );
  // The text forms of KMIP 1.0 (deprecated from 1.1, gone in 2.0): names as RFC 2253 strings, the serial in hex.
  const subjectText = rfc2253(certificate.subject);
  const issuerText = rfc2253(certificate.issuer);
  out.push(
    ttlv.structure(T.CertificateIdentifier, [
      ttlv.textString(T.Issuer, issuerText),
      ttlv.textString(T.SerialNumber, certificate.serialNumber.toLowerCase()),
    ]),
    ttlv.structure(T.CertificateSubject, [
      ttlv.textString(T.CertificateSubjectDistinguishedName, subjectText),
      ...(certificate.subjectAltName === undefined
        ? []
        : [ttlv.textString(T.CertificateSubjectAlternativeName, certificate.subjectAltName)]),
    ]),
    // node:crypto reads no issuer alternative name as text; the X.509 Certificate Issuer above carries its DER.
    ttlv.structure(T.CertificateIssuer, [ttlv.textString(T.CertificateIssuerDistinguishedName, issuerText)]),
  );
  out.push(...nameFieldAttributes(certificate));
  return out;
}

/**
 * Cryptographic Algorithm and Length of a key: a certificate's public key (KMIP 1.4 §3.4: "the algorithm for the
 * public key contained within the Certificate"), or a private key read from a PKCS#12 container.
 */
export function keyAlgorithmAttributes(key: KeyObject): TtlvItem[] {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return [
        ttlv.enumeration(T.CryptographicAlgorithm, Algorithm.RSA),
        ...(details.modulusLength === undefined
          ? []
          : [ttlv.integer(T.CryptographicLength, details.modulusLength)]),
      ];
    case 'dsa':
      return [
        ttlv.enumeration(T.CryptographicAlgorithm, Algorithm.DSA),
        ...(details.modulusLength === undefined
          ? []
          : [ttlv.integer(T.CryptographicLength, details.modulusLength)]),
      ];
    case 'ec': {
      const bits = details.namedCurve === undefined ? undefined : curveBits.get(details.namedCurve);
      return [
        ttlv.enumeration(T.CryptographicAlgorithm, Algorithm.ECDSA),
        ...(bits === undefined ? [] : [ttlv.integer(T.CryptographicLength, bits)]),
      ];
    }
    case 'ed25519':
    case 'ed448':
    case 'x25519':
    case 'x448':
    case undefined:
      // KMIP names Ed25519 and Ed448 only from 2.1 and no X25519; such keys get no algorithm rather than a wrong one.
      return [];
  }
  return [];
}

/** node:crypto prints a name one RDN per line, most significant first; RFC 2253 writes them last first. */
function rfc2253(name: string): string {
  return name.split('\n').reverse().join(',');
}

/** Distinguished-name keys as node:crypto prints them, and the attribute suffix of each (KMIP 2.1 §4.8). */
const nameFields: readonly (readonly [string, string])[] = [
  ['CN', 'CN'],
  ['O', 'O'],
  ['OU', 'OU'],
  ['emailAddress', 'Email'],
  ['C', 'C'],
  ['ST', 'ST'],
  ['L', 'L'],
  ['UID', 'UID'],
  ['serialNumber', 'SerialNumber'],
  ['title', 'Title'],
  ['DC', 'DC'],
  ['dnQualifier', 'DNQualifier'],
];

/** Every attribute certificateAttributes() may set, by tag name: only the server sets them. */
export const certificateAttributeNames: readonly string[] = [
  'DigitalSignatureAlgorithm',
  'CertificateIdentifier',
  'CertificateSubject',
  'CertificateIssuer',
  'X_509CertificateIdentifier',
  'X_509CertificateSubject',
  'X_509CertificateIssuer',
  ...['Subject', 'Issuer'].flatMap((role) => nameFields.map(([, suffix]) => `Certificate${role}${suffix}`)),
];

/**
 * The Certificate Subject and Issuer field attributes (KMIP 2.1 §4.8 Certificate Attributes: one per
 * distinguished-name field present; the first value of a repeated field).
 */
function nameFieldAttributes(certificate: X509Certificate): TtlvItem[] {
  const out: TtlvItem[] = [];
  for (const [role, name] of [
    ['Subject', certificate.subject],
    ['Issuer', certificate.issuer],
  ] as const) {
    const fields = new Map<string, string>();
    for (const line of name.split('\n')) {
      const at = line.indexOf('=');
      if (at > 0 && !fields.has(line.slice(0, at))) fields.set(line.slice(0, at), line.slice(at + 1));
    }
    for (const [key, suffix] of nameFields) {
      const value = fields.get(key);
      if (value !== undefined) out.push(ttlv.textString(tag(`Certificate${role}${suffix}`), value));
    }
  }
  return out;
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }; TBSCertificate ::= SEQUENCE {
 * [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [1] [2] unique
 * IDs OPTIONAL, [3] extensions OPTIONAL } (RFC 5280 §4.1). The serial number is kept as its whole INTEGER TLV, as
 * the OASIS reference server gives Certificate Serial Number (TC-CERTATTR-1, TC-ECC-3); names as their whole Name
 * TLV, byte for byte; extension values as the contents of their OCTET STRING.
 */
function readCertificate(der: Uint8Array): CertificateFields {
  const certificate = element(der, 0, 0x30);
  const tbs = element(der, certificate.contentStart, 0x30);
  let at = tbs.contentStart;
  if (der[at] === 0xa0) at = element(der, at, 0xa0).end;
  const serial = element(der, at, 0x02);
  const signature = element(der, serial.end, 0x30);
  const issuer = element(der, signature.end, 0x30);
  const validity = element(der, issuer.end, 0x30);
  const subject = element(der, validity.end, 0x30);
  const publicKey = element(der, subject.end, 0x30);
  const extensions = new Map<string, Uint8Array>();
  for (at = publicKey.end; at < tbs.end;) {
    const field = element(der, at);
    if (field.tag === 0xa3) {
      const list = element(der, field.contentStart, 0x30);
      for (let next = list.contentStart; next < list.end;) {
        const extension = element(der, next, 0x30);
        const oid = element(der, extension.contentStart, 0x06);
        let value = element(der, oid.end);
        if (value.tag === 0x01) value = element(der, value.end); // critical BOOLEAN
        if (value.tag === 0x04) extensions.set(oidText(der, oid), der.slice(value.contentStart, value.end));
        next = extension.end;
      }
    }
    at = field.end;
  }
  return {
    serial: der.slice(serial.start, serial.end),
    signatureOid: oidText(der, element(der, signature.contentStart, 0x06)),
    issuer: der.slice(issuer.start, issuer.end),
    subject: der.slice(subject.start, subject.end),
    extensions,
  };
}

interface Element extends Tlv {
  readonly start: number;
}

/** The TLV at `offset`, which must have tag `expected` when one is given. */
function element(der: Uint8Array, offset: number, expected?: number): Element {
  const tlv = readTlv(der, offset);
  if (expected !== undefined && tlv.tag !== expected) {
    throw new Error(`expected DER tag ${String(expected)} at ${String(offset)}, found ${String(tlv.tag)}`);
  }
  return { ...tlv, start: offset };
}

/** An OBJECT IDENTIFIER's contents in dotted form (X.690 §8.19: base-128 arcs, the first two combined). */
function oidText(der: Uint8Array, oid: Tlv): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = oid.contentStart; i < oid.end; i++) {
    const octet = der[i] ?? 0;
    value = value * 128 + (octet & 0x7f);
    if ((octet & 0x80) === 0) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
