/**
 * Certificate issuing: key pairs, a self-signed CA, and certificates signed by a CA from an explicit profile.
 * Everything a profile asks for is written as asked, with no sanity policy applied here: the drills need
 * certificates that are expired, not yet valid, without clientAuth or from another CA, and the policy checks for
 * signing a CSR belong to the caller. Extensions follow RFC 5280 §4.2.1.
 */
import {
  KeyObject,
  X509Certificate as NodeX509Certificate,
  createPrivateKey,
  randomBytes,
  type webcrypto,
} from 'node:crypto';
import { isIP } from 'node:net';
import { x509 } from './x509.js';

type CryptoKey = webcrypto.CryptoKey;

/** Key types for issued certificates. RSA is the default: older KMIP clients (PyKMIP) offer RSA key exchange. */
export type KeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'ec-p256' | 'ec-p384';

/** Extended key usages (RFC 5280 §4.2.1.12) that a TLS peer checks. */
export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth';

/** Any other key purpose, by its dotted OID: a signed CSR may ask for one, and a drill may want it. */
export type ExtendedKeyUsageOid = `${number}.${string}`;

/** Key usage bits (RFC 5280 §4.2.1.3). */
export type KeyUsageName = keyof typeof x509.KeyUsageFlags;

/** A subject distinguished name. Values are taken literally (no DN string parsing, so a comma is just a comma). */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organizationName?: string;
  readonly organizationalUnitName?: string;
}

/** One subjectAltName entry (RFC 5280 §4.2.1.6). */
export interface SubjectAltName {
  readonly type: 'dns' | 'ip' | 'email' | 'url';
  readonly value: string;
}

/** What to put in a certificate. Every field is explicit so that a drill can ask for exactly the wrong thing. */
export interface CertificateProfile {
  /** A DistinguishedName built here, or a Name copied as it is (the subject of a CSR, RFC 2986 §4.1). */
  readonly subject: DistinguishedName | x509.Name;
  /** Empty: no subjectAltName extension. */
  readonly sans: readonly SubjectAltName[];
  /**
   * Empty: no extendedKeyUsage extension at all, which RFC 5280 §4.2.1.12 reads as "any purpose" (OpenSSL then
   * accepts the certificate for both client and server authentication). To make a certificate that a TLS peer
   * refuses for lack of clientAuth, ask for ['serverAuth'] instead.
   */
  readonly eku: readonly (ExtendedKeyUsageName | ExtendedKeyUsageOid)[];
  /** May lie in the future (a not-yet-valid drill). */
  readonly notBefore: Date;
  /** May lie in the past (an expired drill). */
  readonly notAfter: Date;
  /** Default 'rsa-2048'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * Default: digitalSignature and keyEncipherment for RSA (RSA key exchange encrypts the premaster secret to the
   * key), digitalSignature alone for EC (keyEncipherment is meaningless for an EC key). Empty: no keyUsage
   * extension.
   */
  readonly keyUsage?: readonly KeyUsageName[];
  /** Hex; default 16 random bytes. */
  readonly serialNumber?: string;
}

/** A CA that can sign: its certificate and its private key (a WebCrypto key, kept inside OpenSSL). */
export interface CertificateAuthority {
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

/** An issued certificate and, when this module made the key pair, its private key. */
export interface IssuedCertificate {
  readonly certificate: x509.X509Certificate;
  /** PEM, "BEGIN CERTIFICATE". */
  readonly certPem: string;
  /** PKCS#8 PEM, "BEGIN PRIVATE KEY". */
  readonly keyPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** `date` moved by `days` (negative: into the past). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/**
 * A validity window of `days` from `now`. notBefore is set five minutes early so that a peer whose clock lags a
 * little behind this machine's (common between lab VMs) does not see a brand-new certificate as not yet valid.
 */
export function validityFor(days: number, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - 5 * 60 * 1000), notAfter: addDays(now, days) };
}

/** A subjectAltName for a host name or an IP address (IPv4 or IPv6), whichever `host` is. */
export function hostSan(host: string): SubjectAltName {
  return isIP(host) === 0 ? { type: 'dns', value: host } : { type: 'ip', value: host };
}

/**
 * A random serial number: 16 bytes, with the top bit cleared so the DER INTEGER is positive and the top byte
 * non-zero so it keeps all 16 bytes. RFC 5280 §4.1.2.2: positive, unique per CA, at most 20 octets; CA/Browser
 * Forum practice is at least 64 random bits, which also makes every lab CA's serial unique.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function keyGenParams(algorithm: KeyAlgorithm): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  switch (algorithm) {
    case 'rsa-2048':
    case 'rsa-3072':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: algorithm === 'rsa-2048' ? 2048 : 3072,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
  }
}

/** A new extractable key pair. Generation runs in OpenSSL on the libuv pool, off the event loop. */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(keyGenParams(algorithm), true, ['sign', 'verify']);
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), as OpenSSL writes it. */
export function privateKeyToPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The signature algorithm a CA key signs with: SHA-256 for RSA and P-256, SHA-384 for P-384 (RFC 5480 §4). */
function signingAlgorithm(key: CryptoKey): webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams {
  const algorithm = key.algorithm;
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return { name: algorithm.name, hash: 'SHA-256' };
  if (algorithm.name === 'ECDSA' && 'namedCurve' in algorithm) {
    return { name: 'ECDSA', hash: algorithm.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' };
  }
  throw new Error(`a CA key of type ${algorithm.name} cannot sign certificates here`);
}

/** Most significant attribute first, the order X.500 names are read in. */
function toJsonName(name: DistinguishedName): x509.JsonName {
  const rdns: x509.JsonName = [];
  if (name.organizationName !== undefined) rdns.push({ O: [name.organizationName] });
  if (name.organizationalUnitName !== undefined) rdns.push({ OU: [name.organizationalUnitName] });
  rdns.push({ CN: [name.commonName] });
  return rdns;
}

function ekuOid(usage: ExtendedKeyUsageName | ExtendedKeyUsageOid): string {
  return usage === 'serverAuth' || usage === 'clientAuth' ? x509.ExtendedKeyUsage[usage] : usage;
}

/** The keyUsage bits of `names`; undefined for none. */
function keyUsageFlags(names: readonly KeyUsageName[]): x509.KeyUsageFlags | undefined {
  const [first, ...rest] = names;
  if (first === undefined) return undefined;
  let flags = x509.KeyUsageFlags[first];
  for (const name of rest) flags |= x509.KeyUsageFlags[name];
  return flags;
}

function defaultKeyUsage(algorithm: KeyAlgorithm): readonly KeyUsageName[] {
  return algorithm.startsWith('rsa') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

/**
 * The authorityKeyIdentifier of certificates this CA signs (RFC 5280 §4.2.1.1: required in every certificate but
 * a self-signed CA's). It repeats the CA's own subjectKeyIdentifier when it has one, because a CA made elsewhere
 * may compute its key identifier differently from §4.2.1.2's method (1) and chain building matches the two.
 */
async function authorityKeyIdentifier(
  ca: CertificateAuthority,
): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey);
}

/**
 * Signs a certificate for `publicKey` (a key pair made here, or the key of a CSR) with `ca`, exactly as `profile`
 * says. `profile.keyAlgorithm` only chooses the default key usage here.
 */
export async function signCertificate(
  ca: CertificateAuthority,
  publicKey: CryptoKey | x509.PublicKey,
  profile: CertificateProfile,
): Promise<x509.X509Certificate> {
  const algorithm = profile.keyAlgorithm ?? 'rsa-2048';
  const keyUsage = profile.keyUsage ?? defaultKeyUsage(algorithm);
  const extensions: x509.Extension[] = [
    // RFC 5280 §4.2.1.9: an end-entity certificate must not be usable as a CA.
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await authorityKeyIdentifier(ca),
  ];
  // §4.2.1.3: keyUsage SHOULD be critical.
  const usageFlags = keyUsageFlags(keyUsage);
  if (usageFlags !== undefined) extensions.push(new x509.KeyUsagesExtension(usageFlags, true));
  if (profile.eku.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(profile.eku.map(ekuOid)));
  }
  // §4.2.1.6: critical only when the subject is empty, and ours always has a CN.
  if (profile.sans.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(profile.sans.map((san) => ({ ...san }))));
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: profile.serialNumber ?? randomSerialNumber(),
    subject: profile.subject instanceof x509.Name ? profile.subject : toJsonName(profile.subject),
    issuer: ca.certificate.subjectName,
    notBefore: profile.notBefore,
    notAfter: profile.notAfter,
    publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: signingAlgorithm(ca.privateKey),
    extensions,
  });
}

/** Makes a key pair and a certificate for it signed by `ca`. */
export async function issueCertificate(
  ca: CertificateAuthority,
  profile: CertificateProfile,
): Promise<IssuedCertificate> {
  const keys = await generateKeyPair(profile.keyAlgorithm ?? 'rsa-2048');
  const certificate = await signCertificate(ca, keys.publicKey, profile);
  return { certificate, certPem: certificate.toString('pem'), keyPem: privateKeyToPem(keys.privateKey) };
}

/** What a new CA looks like. */
export interface CaProfile {
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default 'rsa-3072'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * RFC 5280 §4.2.1.9 pathLenConstraint. Default 0: the CA signs end-entity certificates only, so no certificate
   * it issues can act as an intermediate CA.
   */
  readonly pathLength?: number;
}

/** A new self-signed CA, with its private key as PEM so it can be stored. */
export async function createCertificateAuthority(
  profile: CaProfile,
): Promise<CertificateAuthority & IssuedCertificate> {
  const keys = await generateKeyPair(profile.keyAlgorithm ?? 'rsa-3072');
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: toJsonName(profile.subject),
    notBefore: profile.notBefore,
    notAfter: profile.notAfter,
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [
      // §4.2.1.9: MUST be critical in a CA certificate.
      new x509.BasicConstraintsExtension(true, profile.pathLength ?? 0, true),
      // §4.2.1.3: a CA that signs certificates and CRLs, and nothing else.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      // §4.2.1.2: MUST appear in a CA certificate; its leaves' authorityKeyIdentifier points here.
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate,
    privateKey: keys.privateKey,
    certPem: certificate.toString('pem'),
    keyPem: privateKeyToPem(keys.privateKey),
  };
}

/** WebCrypto import parameters for a PKCS#8 key OpenSSL has already parsed. */
function importParams(key: KeyObject): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { name: 'ECDSA', namedCurve: 'P-256' };
    if (curve === 'secp384r1') return { name: 'ECDSA', namedCurve: 'P-384' };
    throw new Error(`the CA key's curve ${curve ?? '(unknown)'} is not supported (P-256 or P-384)`);
  }
  throw new Error(`the CA key's type ${key.asymmetricKeyType ?? '(unknown)'} is not supported (RSA or EC)`);
}

/**
 * A CA from its certificate and private key in PEM. Refuses, with the reason, a certificate that is not a CA
 * (RFC 5280 §4.2.1.9 cA and §4.2.1.3 keyCertSign) and a key that is not the certificate's.
 */
export async function loadCertificateAuthority(
  certPem: string | Buffer,
  keyPem: string | Buffer,
): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem.toString());
  const basic = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca)
    throw new Error(`${certificate.subject} is not a CA certificate (basicConstraints cA is not set)`);
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new Error(`${certificate.subject} may not sign certificates (keyUsage lacks keyCertSign)`);
  }
  const keyObject = createPrivateKey(keyPem);
  if (!new NodeX509Certificate(certPem).checkPrivateKey(keyObject)) {
    throw new Error(`the private key does not belong to the CA certificate ${certificate.subject}`);
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await crypto.subtle.importKey('pkcs8', der, importParams(keyObject), false, ['sign']);
  return { certificate, privateKey };
}
