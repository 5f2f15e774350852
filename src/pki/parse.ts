/**
 * Reading certificates and certificate signing requests from files an operator hands over: PEM (one or more
 * blocks) or DER, told apart by content rather than by file name, and the facts about them that policy checks
 * and `kmipd pki show` need (key type and size, names, usages) in plain words.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { x509 } from './x509.js';

/**
 * Certificates and CSRs are a few kilobytes; the limit keeps a wrong file (a disk image, a log) from being read
 * whole into memory and handed to the ASN.1 parser.
 */
export const MAX_PKI_FILE_BYTES = 1024 * 1024;

export type PkiObject =
  | { readonly kind: 'certificate'; readonly certificate: x509.X509Certificate }
  | { readonly kind: 'csr'; readonly csr: x509.Pkcs10CertificateRequest };

/** A file that is not a certificate or a CSR, with the reason in words. */
export class PkiParseError extends Error {
  override readonly name = 'PkiParseError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** PEM labels (RFC 7468 §5, §7) and what they hold. */
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
/** "NEW CERTIFICATE REQUEST" is what older tools (Netscape, some Java keytool versions) write (RFC 7468 §7). */
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** Every certificate and CSR in `data`, in order: PEM blocks, or one DER object. */
export function readPkiObjects(data: Uint8Array | string): PkiObject[] {
  const bytes =
    typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.length);
  if (bytes.length === 0) throw new PkiParseError('the file is empty');
  if (bytes.length > MAX_PKI_FILE_BYTES) {
    throw new PkiParseError(
      `the file is ${bytes.length} bytes; a certificate or CSR is at most ${MAX_PKI_FILE_BYTES}`,
    );
  }
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) return readPem(text);
  return [readDer(bytes, 'the file')];
}

function readPem(text: string): PkiObject[] {
  const objects: PkiObject[] = [];
  const skipped: string[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? '';
    const body = (match[2] ?? '').replace(/\s+/g, '');
    const what = `the PEM block ${objects.length + skipped.length + 1} (${label})`;
    if (!CERTIFICATE_LABELS.has(label) && !CSR_LABELS.has(label)) {
      skipped.push(label);
      continue;
    }
    // RFC 7468 §3: strict base64 inside the block.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new PkiParseError(`${what} is not valid base64`);
    const der = Buffer.from(body, 'base64');
    objects.push(CSR_LABELS.has(label) ? readCsrDer(der, what) : readCertificateDer(der, what));
  }
  if (objects.length === 0) {
    if (skipped.length > 0) {
      const held = skipped.some((label) => label.includes('PRIVATE KEY'))
        ? ' (a private key: keep it private)'
        : '';
      throw new PkiParseError(
        `the file holds ${skipped.join(', ')}${held}, not a certificate or a certificate request`,
      );
    }
    throw new PkiParseError('the file has a PEM header but no complete PEM block (BEGIN ... END)');
  }
  return objects;
}

function readDer(der: Buffer, what: string): PkiObject {
  // The two structures differ in their first field (RFC 5280 §4.1: an explicit [0] version or a serial number;
  // RFC 2986 §4.1: an INTEGER version followed by a Name), so at most one of the two parsers accepts the bytes.
  try {
    return { kind: 'certificate', certificate: new x509.X509Certificate(der) };
  } catch {
    try {
      return { kind: 'csr', csr: new x509.Pkcs10CertificateRequest(der) };
    } catch {
      throw new PkiParseError(
        `${what} is neither PEM nor a DER certificate or certificate request (PKCS#10, RFC 2986)`,
      );
    }
  }
}

function readCertificateDer(der: Buffer, what: string): PkiObject {
  try {
    return { kind: 'certificate', certificate: new x509.X509Certificate(der) };
  } catch (error) {
    throw new PkiParseError(`${what} is not a readable X.509 certificate: ${messageOf(error)}`);
  }
}

function readCsrDer(der: Buffer, what: string): PkiObject {
  try {
    return { kind: 'csr', csr: new x509.Pkcs10CertificateRequest(der) };
  } catch (error) {
    throw new PkiParseError(`${what} is not a readable PKCS#10 certificate request: ${messageOf(error)}`);
  }
}

/** The one CSR in `data` (PEM or DER); a certificate, a key or several CSRs are refused with the reason. */
export function readCsr(data: Uint8Array | string): x509.Pkcs10CertificateRequest {
  const objects = readPkiObjects(data);
  const csrs = objects.flatMap((object) => (object.kind === 'csr' ? [object.csr] : []));
  const [first] = csrs;
  if (first === undefined) {
    throw new PkiParseError('the file holds a certificate, not a certificate signing request (CSR)');
  }
  if (objects.length > 1) {
    throw new PkiParseError(`the file holds ${objects.length} PEM blocks; exactly one CSR is expected`);
  }
  return first;
}

/** A public key's type and strength. */
export type KeyInfo =
  | { readonly type: 'rsa'; readonly bits: number }
  | { readonly type: 'ec'; readonly curve: string; readonly bits: number }
  | { readonly type: 'other'; readonly name: string };

/** OpenSSL's curve names and the NIST names (FIPS 186-4 §D.1.2) a TLS stack knows them by. */
const CURVE_NAMES: Readonly<Record<string, { name: string; bits: number }>> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

/** What OpenSSL makes of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
export function keyInfo(publicKey: x509.PublicKey): KeyInfo {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa') return { type: 'rsa', bits: details.modulusLength ?? 0 };
    if (key.asymmetricKeyType === 'ec') {
      const curve = details.namedCurve ?? 'an unnamed curve';
      const known = CURVE_NAMES[curve];
      return known ? { type: 'ec', curve: known.name, bits: known.bits } : { type: 'ec', curve, bits: 0 };
    }
    return { type: 'other', name: key.asymmetricKeyType ?? 'unknown' };
  } catch {
    return { type: 'other', name: `unreadable by OpenSSL (${algorithmName(publicKey.algorithm)})` };
  }
}

export function keyInWords(info: KeyInfo): string {
  switch (info.type) {
    case 'rsa':
      return `RSA ${info.bits} bits`;
    case 'ec':
      return info.bits > 0 ? `EC ${info.curve} (${info.bits} bits)` : `EC on curve ${info.curve}`;
    case 'other':
      return info.name;
  }
}

/** The `name` of a WebCrypto algorithm object, read without the DOM types this project does not load. */
export function algorithmName(algorithm: unknown): string {
  if (typeof algorithm === 'object' && algorithm !== null && 'name' in algorithm) {
    const { name } = algorithm;
    if (typeof name === 'string') return name;
  }
  return 'unknown algorithm';
}

/** A signature algorithm in words: "RSASSA-PKCS1-v1_5 with SHA-256". */
export function signatureAlgorithmInWords(algorithm: unknown): string {
  const name = algorithmName(algorithm);
  const hash = (algorithm as { hash?: unknown } | null)?.hash;
  return hash === undefined ? name : `${name} with ${algorithmName(hash)}`;
}

/** A subjectAltName entry as OpenSSL prints it. */
export function sanInWords(name: { readonly type: string; readonly value: string }): string {
  const prefix: Record<string, string> = {
    dns: 'DNS',
    ip: 'IP',
    email: 'email',
    url: 'URI',
    dn: 'DirName',
    upn: 'UPN',
    guid: 'GUID',
    id: 'RID',
  };
  return `${prefix[name.type] ?? name.type}:${name.value}`;
}

/** Extended key usage OIDs (RFC 5280 §4.2.1.12) by name. */
const EKU_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(x509.ExtendedKeyUsage).map(([name, oid]) => [oid, name]),
);

export function ekuInWords(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

/** The keyUsage bits (RFC 5280 §4.2.1.3) by name, in bit order. */
export function keyUsageInWords(flags: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(x509.KeyUsageFlags)) {
    if (typeof bit === 'number' && (flags & bit) !== 0) names.push(name);
  }
  return names;
}

/** Extension OIDs (RFC 5280 §4.2.1) by name, for "requested extensions" and unknown extensions. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extendedKeyUsage',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

export function extensionInWords(oid: string): string {
  return EXTENSION_NAMES[oid] ?? oid;
}

/** SHA-256 over the DER, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
export function sha256Fingerprint(der: ArrayBuffer): string {
  const hex = createHash('sha256').update(Buffer.from(der)).digest('hex').toUpperCase();
  return hex.replace(/(..)(?!$)/g, '$1:');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
