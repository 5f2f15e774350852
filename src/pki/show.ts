/**
 * A certificate or a CSR in plain words, one fact a line: what an operator checks before blaming the server
 * (which name, which usages, still valid, signed by which CA).
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { checkCsr, type CsrPolicy } from './csr.js';
import {
  ekuInWords,
  extensionInWords,
  keyInfo,
  keyInWords,
  keyUsageInWords,
  messageOf,
  readPkiObjects,
  sanInWords,
  sha256Fingerprint,
  signatureAlgorithmInWords,
} from './parse.js';
import { x509 } from './x509.js';

export interface DescribeOptions {
  /**
   * The lab CA to compare a certificate's issuer with. Undefined: no comparison. null: a comparison was asked for
   * but there is no lab CA (said so in the output).
   */
  readonly labCa?: x509.X509Certificate | null;
  /** Where the lab CA was looked for, for the output. */
  readonly labCaPath?: string;
  readonly now?: Date;
  /** The policy a CSR is checked against ("sign-csr would ..."); default: the default policy. */
  readonly policy?: CsrPolicy;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const LABEL_WIDTH = 24;

function line(label: string, value: string): string {
  return `  ${`${label}:`.padEnd(LABEL_WIDTH)}${value}`;
}

/** Whole days, rounded; 0 for less than half a day. */
function wholeDays(ms: number): number {
  return Math.round(ms / DAY_MS);
}

function plural(count: number, word: string): string {
  return count === 1 ? `1 ${word}` : `${count} ${word}s`;
}

/** "valid for N more days", "expired N days ago" or "not valid for N more days" (RFC 5280 §4.1.2.5). */
export function validityInWords(notBefore: Date, notAfter: Date, now: Date = new Date()): string {
  if (now < notBefore) {
    const wait = wholeDays(notBefore.getTime() - now.getTime());
    return wait === 0
      ? `not yet valid: not valid for less than a day more (from ${notBefore.toISOString()})`
      : `not yet valid: not valid for ${plural(wait, 'more day')}`;
  }
  if (now > notAfter) {
    const ago = wholeDays(now.getTime() - notAfter.getTime());
    return ago === 0 ? 'expired less than a day ago' : `expired ${plural(ago, 'day')} ago`;
  }
  const left = wholeDays(notAfter.getTime() - now.getTime());
  return left === 0 ? 'valid for less than a day more' : `valid for ${plural(left, 'more day')}`;
}

function critical(extension: x509.Extension): string {
  return extension.critical ? ' (critical)' : '';
}

function sansInWords(extension: x509.SubjectAlternativeNameExtension | null): string {
  if (!extension) return 'none';
  return extension.names.items.map(sanInWords).join(', ') + critical(extension);
}

function ekuLine(extension: x509.ExtendedKeyUsageExtension | null, absent: string): string {
  if (!extension) return absent;
  const usages = [...extension.usages].map((usage) => ekuInWords(String(usage)));
  return usages.join(', ') + critical(extension);
}

function keyUsageLine(extension: x509.KeyUsagesExtension | null, absent: string): string {
  if (!extension) return absent;
  return (keyUsageInWords(extension.usages).join(', ') || 'no usage') + critical(extension);
}

function basicConstraintsLine(extension: x509.BasicConstraintsExtension | null, absent: string): string {
  if (!extension) return absent;
  if (!extension.ca) return `not a CA${critical(extension)}`;
  const path =
    extension.pathLength === undefined ? 'no path length limit' : `path length ${extension.pathLength}`;
  return `a CA, ${path}${critical(extension)}`;
}

/** The extensions described on lines of their own; the rest are listed by name. */
const DESCRIBED_EXTENSIONS = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.37']);

function otherExtensions(extensions: readonly x509.Extension[]): string[] {
  return extensions
    .filter((extension) => !DESCRIBED_EXTENSIONS.has(extension.type))
    .map((extension) => extensionInWords(extension.type) + critical(extension));
}

function lookup<T extends x509.Extension>(
  extensions: readonly x509.Extension[],
  type: abstract new (...args: never[]) => T,
): T | null {
  for (const extension of extensions) if (extension instanceof type) return extension;
  return null;
}

/** A certificate in words. */
export function describeCertificate(cert: x509.X509Certificate, options: DescribeOptions = {}): string[] {
  const now = options.now ?? new Date();
  const extensions = cert.extensions;
  const others = otherExtensions(extensions);
  const lines = [
    'certificate (X.509)',
    line('subject', cert.subject || '(empty)'),
    line('issuer', cert.issuer || '(empty)'),
    line('serial', cert.serialNumber),
    line('valid from', cert.notBefore.toISOString()),
    line('valid until', cert.notAfter.toISOString()),
    line('validity', validityInWords(cert.notBefore, cert.notAfter, now)),
    line('key', keyInWords(keyInfo(cert.publicKey))),
    line('signature', signatureAlgorithmInWords(cert.signatureAlgorithm)),
    line('subject alt names', sansInWords(lookup(extensions, x509.SubjectAlternativeNameExtension))),
    line(
      'key usage',
      keyUsageLine(lookup(extensions, x509.KeyUsagesExtension), 'none (no keyUsage extension)'),
    ),
    line(
      'extended key usage',
      ekuLine(
        lookup(extensions, x509.ExtendedKeyUsageExtension),
        'none (no extendedKeyUsage extension: any purpose, RFC 5280 §4.2.1.12)',
      ),
    ),
    line(
      'basic constraints',
      basicConstraintsLine(
        lookup(extensions, x509.BasicConstraintsExtension),
        'none (no basicConstraints extension: not a CA)',
      ),
    ),
  ];
  if (others.length > 0) lines.push(line('other extensions', others.join(', ')));
  lines.push(line('SHA-256 fingerprint', sha256Fingerprint(cert.rawData)));
  if (options.labCa !== undefined)
    lines.push(line('lab CA', labCaVerdict(cert, options.labCa, options.labCaPath)));
  return lines;
}

/**
 * Whether `cert` was issued by `labCa`: the issuer name matches the CA's subject and the signature verifies with
 * the CA's key (RFC 5280 §6.1.3 (a)(1) and (a)(4)).
 */
function labCaVerdict(cert: x509.X509Certificate, labCa: x509.X509Certificate | null, path?: string): string {
  const where = path === undefined ? '' : ` (${path})`;
  if (labCa === null) return `no lab CA to compare with${where}`;
  const leaf = new NodeX509Certificate(Buffer.from(cert.rawData));
  const ca = new NodeX509Certificate(Buffer.from(labCa.rawData));
  if (leaf.raw.equals(ca.raw)) return `this is this server's lab CA itself${where}`;
  let signed: boolean;
  try {
    signed = leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  } catch {
    signed = false;
  }
  if (signed) return `signed by this server's lab CA${where}`;
  return `NOT signed by this server's lab CA${where}: the lab CA is ${labCa.subject}, this was issued by ${cert.issuer || '(empty)'}`;
}

/** A CSR in words, with what `kmipd pki sign-csr` would make of it under `options.policy`. */
export async function describeCsr(
  csr: x509.Pkcs10CertificateRequest,
  options: DescribeOptions = {},
): Promise<string[]> {
  const check = await checkCsr(csr, options.policy);
  let extensions: x509.Extension[] = [];
  let unreadable: string | undefined;
  try {
    extensions = csr.extensions;
  } catch (error) {
    unreadable = messageOf(error);
  }
  const lines = [
    'certificate signing request (PKCS#10, RFC 2986)',
    line('subject', csr.subject || '(empty)'),
    line('key', keyInWords(check.key)),
    line(
      'signature',
      check.signatureValid
        ? `valid (${signatureAlgorithmInWords(csr.signatureAlgorithm)})`
        : 'does NOT verify (the CSR was altered or the key does not match)',
    ),
  ];
  if (unreadable !== undefined) lines.push(line('requested extensions', `unreadable: ${unreadable}`));
  else if (extensions.length === 0) lines.push(line('requested extensions', 'none'));
  else {
    lines.push('  requested extensions:');
    const san = lookup(extensions, x509.SubjectAlternativeNameExtension);
    const eku = lookup(extensions, x509.ExtendedKeyUsageExtension);
    const keyUsage = lookup(extensions, x509.KeyUsagesExtension);
    const basic = lookup(extensions, x509.BasicConstraintsExtension);
    if (san) lines.push(line('  subject alt names', sansInWords(san)));
    if (keyUsage) lines.push(line('  key usage', keyUsageLine(keyUsage, '')));
    if (eku) lines.push(line('  extended key usage', ekuLine(eku, '')));
    if (basic) lines.push(line('  basic constraints', basicConstraintsLine(basic, '')));
    const others = otherExtensions(extensions);
    if (others.length > 0) lines.push(line('  other', others.join(', ')));
  }
  lines.push(line('key SHA-256', sha256Fingerprint(csr.publicKey.rawData)));
  if (check.violations.length === 0) lines.push('  sign-csr would sign it');
  else {
    lines.push('  sign-csr would refuse it:');
    for (const violation of check.violations) lines.push(`    - ${violation}`);
  }
  for (const note of check.notes) lines.push(`  note: ${note}`);
  return lines;
}

/** Every certificate and CSR in a file (PEM or DER), described; a blank line between two. */
export async function describePkiFile(
  data: Uint8Array | string,
  options: DescribeOptions = {},
): Promise<string[]> {
  const lines: string[] = [];
  for (const object of readPkiObjects(data)) {
    if (lines.length > 0) lines.push('');
    lines.push(
      ...(object.kind === 'certificate'
        ? describeCertificate(object.certificate, options)
        : await describeCsr(object.csr, options)),
    );
  }
  return lines;
}
