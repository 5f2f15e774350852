/**
 * Signing a client's certificate signing request (PKCS#10, RFC 2986) with the lab CA, after policy checks that
 * say exactly what is wrong. The point is to catch, at signing time, what the KMIP server would otherwise refuse
 * at connection time with a bare error (HPE's Barbican guide: a CSR common name that differs from the configured
 * KMIP username ends in "Internal Server Error"). Every violation is reported, not just the first, so that one
 * round trip with the requester fixes them all.
 */
import {
  signCertificate,
  validityFor,
  type CertificateAuthority,
  type ExtendedKeyUsageName,
  type ExtendedKeyUsageOid,
  type KeyUsageName,
  type SubjectAltName,
} from './issue.js';
import {
  ekuInWords,
  extensionInWords,
  keyInfo,
  keyInWords,
  keyUsageInWords,
  messageOf,
  readCsr,
  sanInWords,
  signatureAlgorithmInWords,
  type KeyInfo,
} from './parse.js';
import { x509 } from './x509.js';

export interface CsrPolicy {
  /**
   * The KMIP username the certificate is for. In session-and-username mode the server refuses a client whose
   * Credential username differs from its certificate's CN, so the two must be equal, exactly.
   */
  readonly expectCn?: string;
  /** Default 2048 (NIST SP 800-131A: RSA below 2048 bits is disallowed for signatures). */
  readonly minRsaBits?: number;
  /** Sign a CSR whose EKU request lacks clientAuth (a drill certificate the server must refuse). Default false. */
  readonly allowNoClientAuth?: boolean;
}

export const DEFAULT_MIN_RSA_BITS = 2048;
export const DEFAULT_CSR_VALIDITY_DAYS = 730;

/** Curves a TLS 1.2/1.3 peer is sure to support (RFC 8446 §4.2.7 secp256r1, secp384r1, secp521r1). */
const ACCEPTED_CURVES = ['P-256', 'P-384', 'P-521'];

/** What the signed certificate will hold. */
export interface CsrSigningPlan {
  readonly subject: x509.Name;
  readonly sans: readonly SubjectAltName[];
  readonly eku: readonly (ExtendedKeyUsageName | ExtendedKeyUsageOid)[];
  readonly keyUsage: readonly KeyUsageName[];
}

export interface CsrCheck {
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly key: KeyInfo;
  /** The subject's CN when it has exactly one. */
  readonly commonName: string | undefined;
  readonly signatureValid: boolean;
  /** Why the CSR must not be signed, each in one precise sentence. Empty: it may be signed. */
  readonly violations: readonly string[];
  /** What the signer does differently from what the CSR asks (adds clientAuth, drops an extension...). */
  readonly notes: readonly string[];
  readonly plan: CsrSigningPlan;
}

/** A CSR refused for policy violations; `violations` lists them all. */
export class CsrPolicyError extends Error {
  override readonly name = 'CsrPolicyError';
  constructor(readonly violations: readonly string[]) {
    super(`the CSR violates the signing policy: ${violations.join('; ')}`);
  }
}

/**
 * Parses `csrBytes` (PEM or DER), verifies its self-signature (RFC 2986 §3: it proves the requester holds the
 * private key) and checks it against `policy`. Throws PkiParseError when the bytes are not a CSR at all.
 */
export async function checkCsr(
  csrBytes: Uint8Array | string | x509.Pkcs10CertificateRequest,
  policy: CsrPolicy = {},
): Promise<CsrCheck> {
  const csr = csrBytes instanceof x509.Pkcs10CertificateRequest ? csrBytes : readCsr(csrBytes);
  const violations: string[] = [];
  const notes: string[] = [];

  const signatureValid = await verifyCsrSignature(csr, violations);

  // The subject: exactly one CN, equal to the expected username when there is one.
  const commonNames = csr.subjectName.getField('CN');
  const [commonName] = commonNames;
  if (commonName === undefined) {
    const subject = csr.subject === '' ? 'is empty' : `'${csr.subject}' has no common name (CN)`;
    const expected = policy.expectCn === undefined ? '' : ` (the expected username is '${policy.expectCn}')`;
    violations.push(
      `the CSR subject ${subject}${expected}; the KMIP server names a client by its certificate's CN`,
    );
  } else if (commonNames.length > 1) {
    violations.push(
      `the CSR subject has ${commonNames.length} common names (${commonNames.map((cn) => `'${cn}'`).join(', ')}); ` +
        'exactly one is needed, since the KMIP server names a client by its CN',
    );
  } else if (policy.expectCn !== undefined && commonName !== policy.expectCn) {
    violations.push(
      `CSR common name '${commonName}' does not equal the expected username '${policy.expectCn}' ` +
        '(the KMIP server would refuse this client in session-and-username mode)' +
        differenceHint(commonName, policy.expectCn),
    );
  }

  // The key.
  const key = keyInfo(csr.publicKey);
  const minRsaBits = policy.minRsaBits ?? DEFAULT_MIN_RSA_BITS;
  if (key.type === 'rsa' && key.bits < minRsaBits) {
    violations.push(`RSA key is ${key.bits} bits; at least ${minRsaBits} required`);
  } else if (key.type === 'ec' && !ACCEPTED_CURVES.includes(key.curve)) {
    violations.push(`EC key is on curve ${key.curve}; only P-256, P-384 and P-521 are accepted`);
  } else if (key.type === 'other') {
    violations.push(
      `the key is ${key.name}; only RSA (at least ${minRsaBits} bits) and EC (P-256, P-384, P-521) keys are accepted`,
    );
  }

  // The extensions requested (RFC 2986 §4.1 attributes, PKCS#9 extensionRequest; RFC 5280 §4.2.1 contents).
  const requested = requestedExtensions(csr, violations);
  const sans = copySans(requested.san, violations);
  const eku = planEku(requested.eku, policy, violations, notes);
  const keyUsage: KeyUsageName[] =
    key.type === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  if (requested.basicConstraints?.ca === true) {
    violations.push(
      'the CSR asks to be a CA (basicConstraints cA=TRUE); the lab CA signs end-entity certificates only',
    );
  }
  if (requested.keyUsage !== undefined) {
    const asked = keyUsageInWords(requested.keyUsage.usages).join(', ') || 'no usage';
    if (asked !== keyUsage.join(', ')) {
      notes.push(
        `the CSR asks for key usage ${asked}; the certificate gets ${keyUsage.join(', ')} (a TLS client's ` +
          `${key.type === 'rsa' ? 'RSA' : 'EC'} key)`,
      );
    }
  }
  for (const other of requested.others) {
    notes.push(
      `the CSR asks for the ${extensionInWords(other.type)} extension${other.critical ? ' (critical)' : ''}; ` +
        'it is not copied into the certificate',
    );
  }

  return {
    csr,
    key,
    commonName: commonNames.length === 1 ? commonName : undefined,
    signatureValid,
    violations,
    notes,
    plan: { subject: csr.subjectName, sans, eku, keyUsage },
  };
}

async function verifyCsrSignature(
  csr: x509.Pkcs10CertificateRequest,
  violations: string[],
): Promise<boolean> {
  try {
    if (await csr.verify()) return true;
    violations.push('the CSR signature does not verify (the CSR was altered or the key does not match)');
  } catch (error) {
    violations.push(
      `the CSR signature cannot be checked (${signatureAlgorithmInWords(csr.signatureAlgorithm)}): ` +
        messageOf(error),
    );
  }
  return false;
}

/** Why two names that look alike differ ("; they differ only in letter case"), or '' when nothing subtle is. */
function differenceHint(actual: string, expected: string): string {
  if (actual.toLowerCase() === expected.toLowerCase()) return '; they differ only in letter case';
  if (actual.trim() === expected.trim()) return '; they differ only in leading or trailing spaces';
  return '';
}

interface RequestedExtensions {
  readonly san: x509.SubjectAlternativeNameExtension | undefined;
  readonly eku: x509.ExtendedKeyUsageExtension | undefined;
  readonly keyUsage: x509.KeyUsagesExtension | undefined;
  readonly basicConstraints: x509.BasicConstraintsExtension | undefined;
  readonly others: readonly x509.Extension[];
}

function requestedExtensions(csr: x509.Pkcs10CertificateRequest, violations: string[]): RequestedExtensions {
  let extensions: x509.Extension[];
  try {
    extensions = csr.extensions;
  } catch (error) {
    violations.push(`the CSR's extension request cannot be read: ${messageOf(error)}`);
    extensions = [];
  }
  const result: {
    san?: x509.SubjectAlternativeNameExtension;
    eku?: x509.ExtendedKeyUsageExtension;
    keyUsage?: x509.KeyUsagesExtension;
    basicConstraints?: x509.BasicConstraintsExtension;
  } = {};
  const others: x509.Extension[] = [];
  for (const extension of extensions) {
    if (extension instanceof x509.SubjectAlternativeNameExtension) result.san = extension;
    else if (extension instanceof x509.ExtendedKeyUsageExtension) result.eku = extension;
    else if (extension instanceof x509.KeyUsagesExtension) result.keyUsage = extension;
    else if (extension instanceof x509.BasicConstraintsExtension) result.basicConstraints = extension;
    // A requested key identifier is computed by the signer anyway (RFC 5280 §4.2.1.2).
    else if (!(extension instanceof x509.SubjectKeyIdentifierExtension)) others.push(extension);
  }
  return {
    san: result.san,
    eku: result.eku,
    keyUsage: result.keyUsage,
    basicConstraints: result.basicConstraints,
    others,
  };
}

/** The SANs to copy: DNS names, IP addresses, e-mail addresses and URIs (RFC 5280 §4.2.1.6). */
function copySans(
  requested: x509.SubjectAlternativeNameExtension | undefined,
  violations: string[],
): SubjectAltName[] {
  if (requested === undefined) return [];
  const sans: SubjectAltName[] = [];
  for (const name of requested.names.items) {
    const { type, value } = name;
    if (type === 'dns' || type === 'ip' || type === 'email' || type === 'url') sans.push({ type, value });
    else {
      violations.push(
        `the CSR asks for the subjectAltName ${sanInWords(name)}, which the lab CA does not sign ` +
          '(DNS names, IP addresses, e-mail addresses and URIs only)',
      );
    }
  }
  return sans;
}

function isOid(value: string): value is ExtendedKeyUsageOid {
  return /^\d+(\.\d+)+$/.test(value);
}

/**
 * The certificate's extended key usage (RFC 5280 §4.2.1.12). No EKU request: clientAuth, added here (a
 * certificate without the extension would be accepted for any purpose, which is not what a client certificate
 * should say). An EKU request with clientAuth: clientAuth, plus serverAuth when asked for. An EKU request without
 * clientAuth: refused, unless the policy allows it, and then signed exactly as asked.
 */
function planEku(
  requested: x509.ExtendedKeyUsageExtension | undefined,
  policy: CsrPolicy,
  violations: string[],
  notes: string[],
): (ExtendedKeyUsageName | ExtendedKeyUsageOid)[] {
  const clientAuth: string = x509.ExtendedKeyUsage.clientAuth;
  const serverAuth: string = x509.ExtendedKeyUsage.serverAuth;
  if (requested === undefined) {
    notes.push('the CSR requests no extended key usage; the signer adds clientAuth');
    return ['clientAuth'];
  }
  const asked = [...requested.usages].map(String);
  const askedWords = asked.map(ekuInWords).join(', ') || 'nothing';
  if (!asked.includes(clientAuth)) {
    if (policy.allowNoClientAuth === true) {
      notes.push(
        `the CSR asks for no clientAuth extended key usage (it asks for ${askedWords}); signed as asked ` +
          '(--allow-no-client-auth): the KMIP server will refuse this certificate for a client',
      );
      return asked.filter(isOid);
    }
    violations.push(
      `the CSR asks for no clientAuth extended key usage (it asks for ${askedWords}); the KMIP server would ` +
        'refuse the certificate for a client (--allow-no-client-auth signs it anyway, for drills)',
    );
    return [];
  }
  const eku: ExtendedKeyUsageName[] = asked.includes(serverAuth)
    ? ['clientAuth', 'serverAuth']
    : ['clientAuth'];
  const dropped = asked.filter((oid) => oid !== clientAuth && oid !== serverAuth);
  if (dropped.length > 0) {
    notes.push(
      `the CSR also asks for ${dropped.map(ekuInWords).join(', ')}; not granted (the certificate carries ` +
        `${eku.join(', ')} only)`,
    );
  }
  return eku;
}

export interface SignCsrOptions {
  /** Default 730; never past the CA's own end. */
  readonly validityDays?: number;
  readonly now?: Date;
}

export interface SignedCsr {
  readonly certificate: x509.X509Certificate;
  readonly certPem: string;
  /** The CSR check's notes, and a shortened validity when the CA ends sooner. */
  readonly notes: readonly string[];
}

/** Signs a checked CSR with `ca`. Refuses (CsrPolicyError) a check with violations. */
export async function signCsr(
  ca: CertificateAuthority,
  check: CsrCheck,
  options: SignCsrOptions = {},
): Promise<SignedCsr> {
  if (check.violations.length > 0) throw new CsrPolicyError(check.violations);
  const days = options.validityDays ?? DEFAULT_CSR_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`validityDays must be a whole number >= 1, not ${days}`);
  const now = options.now ?? new Date();
  const window = validityFor(days, now);
  const notes = [...check.notes];
  const caEnd = ca.certificate.notAfter;
  if (caEnd <= now) throw new Error(`the CA expired on ${caEnd.toISOString()}; it cannot sign`);
  // RFC 5280 §6.1.3: a chain is valid only while every certificate in it is, so a longer life would be a lie.
  if (window.notAfter > caEnd) {
    notes.push(
      `the validity ends with the CA's on ${caEnd.toISOString()}, sooner than the ${days} days asked for`,
    );
  }
  const certificate = await signCertificate(ca, check.csr.publicKey, {
    subject: check.plan.subject,
    sans: check.plan.sans,
    eku: check.plan.eku,
    keyUsage: check.plan.keyUsage,
    notBefore: window.notBefore,
    notAfter: window.notAfter > caEnd ? caEnd : window.notAfter,
  });
  return { certificate, certPem: certificate.toString('pem'), notes };
}

/** The CSR in one line, for messages: "CN=barbican, RSA 2048 bits". */
export function csrSummary(check: CsrCheck): string {
  return `${check.csr.subject === '' ? '(empty subject)' : check.csr.subject}, ${keyInWords(check.key)}`;
}
