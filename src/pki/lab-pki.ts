/**
 * The lab PKI the server makes on first start, so that mutual TLS works out of the box: a lab CA unique to this
 * install, a server certificate and an "admin" client certificate, all in one directory the server owns. It is a
 * lab convenience, not a production CA: production deployments bring their own certificates.
 */
import {
  X509Certificate as NodeX509Certificate,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, join, resolve } from 'node:path';
import {
  CERTIFICATE_MODE,
  CLIENT_KEY_MODE,
  PRIVATE_DIR_MODE,
  PRIVATE_KEY_MODE,
  ensureDirectory,
  readIfExists,
  unsafeFileNameReason,
  writeFileAtomic,
} from './files.js';
import {
  createCertificateAuthority,
  hostSan,
  issueCertificate,
  loadCertificateAuthority,
  validityFor,
  type CertificateAuthority,
  type CertificateProfile,
  type IssuedCertificate,
  type SubjectAltName,
} from './issue.js';
import { x509 } from './x509.js';

/** Where each file of the lab PKI lives. */
export interface LabPkiPaths {
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

export interface LabPkiOptions {
  /** Host names or IP addresses the server certificate must also cover, besides localhost, 127.0.0.1 and ::1. */
  readonly serverNames?: readonly string[];
  /** Validity of the server and admin certificates; default 730 (two years). The CA always gets ten years. */
  readonly validityDays?: number;
}

export interface LabPkiResult {
  /** What this call made, in words ("lab CA (ca.pem)"); empty when everything was already there. */
  readonly made: string[];
  readonly paths: LabPkiPaths;
}

/**
 * Ten years: the lab CA is what clients are told to trust, so replacing it means reconfiguring every client.
 * RSA-3072 because the key outlives 2030, after which NIST SP 800-57 no longer counts RSA-2048 as enough.
 */
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 730;
/** Always in the server certificate: the names a client on the same machine connects with. */
const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'] as const;
export const ADMIN_CN = 'admin';

export function labPkiPaths(certsDir: string): LabPkiPaths {
  return {
    ca: join(certsDir, 'ca.pem'),
    caKey: join(certsDir, 'ca.key'),
    serverCert: join(certsDir, 'server.pem'),
    serverKey: join(certsDir, 'server.key'),
    adminCert: join(certsDir, `${ADMIN_CN}.pem`),
    adminKey: join(certsDir, `${ADMIN_CN}.key`),
  };
}

/**
 * Makes what is missing of the lab PKI in `certsDir` and says what it made. A second call with everything in
 * place makes nothing and touches no file. A missing leaf is re-issued from the existing CA; a new CA (when
 * ca.pem is missing) re-issues both leaves, since the old ones chain to a CA nobody has any more; so is a leaf
 * that has expired, does not match its key or the CA, or lacks one of the server names asked for. `certsDir` is
 * created, or narrowed, to mode 0700: it holds the CA's private key.
 */
export async function ensureLabPki(certsDir: string, options: LabPkiOptions = {}): Promise<LabPkiResult> {
  const paths = labPkiPaths(certsDir);
  const made: string[] = [];
  await ensureDirectory(certsDir, PRIVATE_DIR_MODE);
  const now = new Date();
  const days = options.validityDays ?? LEAF_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`validityDays must be a whole number >= 1, not ${days}`);

  const [caPem, caKeyPem] = await Promise.all([readIfExists(paths.ca), readIfExists(paths.caKey)]);
  let ca: CertificateAuthority;
  let caIsNew = false;
  if (caPem === undefined) {
    ca = await makeLabCa(paths, now);
    made.push('lab CA (ca.pem)');
    caIsNew = true;
  } else if (caKeyPem === undefined) {
    throw new Error(
      `${paths.ca} exists but its private key ${paths.caKey} is missing: restore the key, or remove ${paths.ca} ` +
        'to make a new lab CA (every client must then trust the new ca.pem)',
    );
  } else {
    ca = await loadLabCaFrom(paths, caPem, caKeyPem, now);
  }

  const notAfterCap = ca.certificate.notAfter;
  const context: LeafContext = { ca, caIsNew, now, made };
  const serverNames = unique([...LOCAL_NAMES, ...(options.serverNames ?? [])]);
  await ensureLeaf(context, {
    what: 'server certificate',
    certPath: paths.serverCert,
    keyPath: paths.serverKey,
    requiredNames: serverNames,
    profile: {
      // The first configured name, for the old clients that still look at the CN; modern ones use the SANs.
      subject: { commonName: options.serverNames?.[0] ?? 'localhost', organizationName: 'kmipd lab' },
      sans: serverNames.map(hostSan),
      eku: ['serverAuth'],
      ...capValidity(validityFor(days, now), notAfterCap),
    },
  });
  await ensureLeaf(context, {
    what: `${ADMIN_CN} client certificate`,
    certPath: paths.adminCert,
    keyPath: paths.adminKey,
    requiredNames: [],
    profile: {
      subject: { commonName: ADMIN_CN, organizationName: 'kmipd lab' },
      sans: [],
      eku: ['clientAuth'],
      ...capValidity(validityFor(days, now), notAfterCap),
    },
  });
  return { made, paths };
}

/** Makes a new lab CA and writes it to `paths`, replacing whatever was there. */
async function makeLabCa(paths: LabPkiPaths, now: Date): Promise<CertificateAuthority & IssuedCertificate> {
  const created = await createCertificateAuthority({
    // The random suffix (with the random serial) tells lab CAs of different installs apart: in logs, in the
    // issuer of a refused client certificate, and in a trust store that holds more than one of them.
    subject: {
      commonName: `kmipd lab CA ${randomBytes(4).toString('hex')}`,
      organizationName: 'kmipd lab',
    },
    ...validityFor(CA_VALIDITY_DAYS, now),
    keyAlgorithm: 'rsa-3072',
  });
  // The key first: a crash in between leaves no ca.pem, so the next start makes a whole new CA.
  await writeFileAtomic(paths.caKey, created.keyPem, PRIVATE_KEY_MODE);
  await writeFileAtomic(paths.ca, created.certPem, CERTIFICATE_MODE);
  return created;
}

/** What replacing a lab CA means, for refusals and for the report of a forced replacement. */
export const REPLACING_CA_MEANS =
  'every client must then trust the new ca.pem, and every certificate the old CA signed (the server and admin ' +
  'certificates, each client certificate, each signed CSR) stops being accepted';

export interface CreateLabCaOptions {
  /** Replace an existing lab CA. The old ca.pem and ca.key are kept beside it under a dated name. */
  readonly force?: boolean;
  readonly now?: Date;
}

export type CreateLabCaResult =
  | { readonly created: true; readonly ca: x509.X509Certificate; readonly replaced?: LabCaBackup }
  | { readonly created: false; readonly reason: string; readonly existing?: x509.X509Certificate };

/** Where a replaced CA was moved to. */
export interface LabCaBackup {
  readonly subject: string;
  readonly cert: string;
  readonly key: string | undefined;
}

/**
 * Makes the lab CA of `certsDir` if there is none. An existing one (or half of one: a ca.pem without its key) is
 * replaced only with `force`, since every client trusts it; the refusal says what is there and what replacing
 * it means. The server and admin certificates are not touched here: ensureLabPki (at the next start) re-issues
 * them, because they no longer chain to the lab CA.
 */
export async function createLabCa(
  certsDir: string,
  options: CreateLabCaOptions = {},
): Promise<CreateLabCaResult> {
  const paths = labPkiPaths(certsDir);
  await ensureDirectory(certsDir, PRIVATE_DIR_MODE);
  const now = options.now ?? new Date();
  const [caPem, caKeyPem] = await Promise.all([readIfExists(paths.ca), readIfExists(paths.caKey)]);
  let existing: x509.X509Certificate | undefined;
  let replaced: LabCaBackup | undefined;
  if (caPem !== undefined || caKeyPem !== undefined) {
    let described: string;
    try {
      existing = caPem === undefined ? undefined : new x509.X509Certificate(caPem.toString());
      described =
        existing === undefined
          ? `${paths.caKey} exists without ca.pem`
          : `${paths.ca} holds ${existing.subject}, valid until ${existing.notAfter.toISOString()}` +
            (caKeyPem === undefined ? ' (its key ca.key is missing)' : '');
    } catch {
      described = `${paths.ca} exists but is not a readable certificate`;
    }
    if (options.force !== true) {
      return {
        created: false,
        reason: `a lab CA is already there: ${described}; not replaced. Replacing it (--force) makes a new CA: ${REPLACING_CA_MEANS}`,
        ...(existing === undefined ? {} : { existing }),
      };
    }
    // Kept, not deleted: a forced replacement by mistake can then be undone by moving the two files back.
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const backup = {
      cert: join(certsDir, `ca-replaced-${stamp}.pem`),
      key: join(certsDir, `ca-replaced-${stamp}.key`),
    };
    if (caPem !== undefined) await rename(paths.ca, backup.cert);
    if (caKeyPem !== undefined) await rename(paths.caKey, backup.key);
    replaced = {
      subject: existing?.subject ?? '(unreadable)',
      cert: caPem === undefined ? '(none)' : backup.cert,
      key: caKeyPem === undefined ? undefined : backup.key,
    };
  }
  const created = await makeLabCa(paths, now);
  return { created: true, ca: created.certificate, ...(replaced === undefined ? {} : { replaced }) };
}

export interface ServerCertificateOptions {
  /** The server's name: its CN, its first SAN (when it is a host name or address) and the base of its file names. */
  readonly name: string;
  /** More host names and IP addresses (RFC 5280 §4.2.1.6 dNSName, iPAddress). */
  readonly sans?: readonly string[];
  readonly outDir: string;
  /** Default 730 days, never past the CA's own end. */
  readonly validityDays?: number;
}

export interface ServerCertificateFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly names: readonly SubjectAltName[];
  readonly notAfter: Date;
}

/**
 * Why `name` is not a host name or IP address that can go into a subjectAltName, or undefined when it can. DNS
 * names follow RFC 1123 §2.1 (letters, digits, hyphens; labels of 1-63; at most 253), with a wildcard allowed as
 * the whole leftmost label only (RFC 6125 §6.4.3).
 */
export function hostNameProblem(name: string): string | undefined {
  if (isIP(name) !== 0) return undefined;
  if (name === '') return 'it is empty';
  if (name.length > 253) return 'it is longer than 253 characters';
  const labels = name.replace(/\.$/, '').split('.');
  for (const [index, label] of labels.entries()) {
    if (label === '*' && index === 0 && labels.length > 1) continue;
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      return `'${label}' is not a DNS label (letters, digits and inner hyphens, 1 to 63 characters) nor is the name an IP address`;
    }
  }
  return undefined;
}

/**
 * Signs a server certificate with the lab CA of `certsDir` for `name` and `sans` and writes OUTDIR/<name>.pem,
 * OUTDIR/<name>.key (0600) and OUTDIR/ca.pem. The lab CA must exist.
 */
export async function issueServerCertificate(
  certsDir: string,
  options: ServerCertificateOptions,
): Promise<ServerCertificateFiles> {
  const { name, outDir } = options;
  const unsafe = unsafeFileNameReason(name);
  if (unsafe !== undefined) throw new Error(`the name '${name}' cannot be used as a file name: ${unsafe}`);
  for (const host of [name, ...(options.sans ?? [])]) {
    const problem = hostNameProblem(host);
    if (problem !== undefined) throw new Error(`'${host}' cannot go into the certificate: ${problem}`);
  }
  const paths = labPkiPaths(certsDir);
  const reserved = resolve(outDir) === resolve(certsDir) ? ['ca', 'server', ADMIN_CN] : ['ca'];
  if (reserved.includes(name)) {
    throw new Error(`the name '${name}' would overwrite ${name}.pem of the lab PKI in ${outDir}`);
  }
  const days = options.validityDays ?? LEAF_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`validityDays must be a whole number >= 1, not ${days}`);
  const [caPem, caKeyPem] = await Promise.all([readIfExists(paths.ca), readIfExists(paths.caKey)]);
  if (caPem === undefined || caKeyPem === undefined) {
    throw new Error(`no lab CA in ${certsDir} (ca.pem and ca.key): make it first with 'kmipd pki create-ca'`);
  }
  const now = new Date();
  const ca = await loadLabCaFrom(paths, caPem, caKeyPem, now);
  const names = unique([name, ...(options.sans ?? [])]).map(hostSan);
  const issued = await issueCertificate(ca, {
    subject: { commonName: name, organizationName: 'kmipd lab' },
    sans: names,
    eku: ['serverAuth'],
    ...capValidity(validityFor(days, now), ca.certificate.notAfter),
  });
  const files = {
    cert: join(outDir, `${name}.pem`),
    key: join(outDir, `${name}.key`),
    ca: join(outDir, 'ca.pem'),
  };
  await mkdir(outDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await writeFileAtomic(files.key, issued.keyPem, PRIVATE_KEY_MODE);
  await writeFileAtomic(files.cert, issued.certPem, CERTIFICATE_MODE);
  if (resolve(files.ca) !== resolve(paths.ca)) await writeFileAtomic(files.ca, caPem, CERTIFICATE_MODE);
  return { ...files, names, notAfter: issued.certificate.notAfter };
}

interface LeafSpec {
  readonly what: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Host names and addresses the certificate must cover; one it lacks gets the certificate re-issued. */
  readonly requiredNames: readonly string[];
  readonly profile: CertificateProfile;
}

/** What every leaf of one ensureLabPki call shares. */
interface LeafContext {
  readonly ca: CertificateAuthority;
  /** Made by this call: every existing leaf chains to the CA it replaced. */
  readonly caIsNew: boolean;
  readonly now: Date;
  /** Where the leaf reports what it made. */
  readonly made: string[];
}

async function ensureLeaf({ ca, caIsNew, now, made }: LeafContext, spec: LeafSpec) {
  const [certPem, keyPem] = await Promise.all([readIfExists(spec.certPath), readIfExists(spec.keyPath)]);
  const reason = caIsNew ? 'the lab CA is new' : reissueReason(ca, certPem, keyPem, spec, now);
  if (reason === null) return;
  const issued = await issueCertificate(ca, spec.profile);
  // The key first: a crash in between leaves the old certificate with a key it does not match, which the next
  // call notices and re-issues.
  await writeFileAtomic(spec.keyPath, issued.keyPem, PRIVATE_KEY_MODE);
  await writeFileAtomic(spec.certPath, issued.certPem, CERTIFICATE_MODE);
  const files = `${basename(spec.certPath)}, ${basename(spec.keyPath)}`;
  made.push(
    certPem === undefined ? `${spec.what} (${files})` : `${spec.what} (${files}), re-issued: ${reason}`,
  );
}

/** Why an existing leaf must be re-issued, or null when it is fine as it is. */
function reissueReason(
  ca: CertificateAuthority,
  certPem: Buffer | undefined,
  keyPem: Buffer | undefined,
  spec: LeafSpec,
  now: Date,
): string | null {
  if (certPem === undefined) return 'missing';
  if (keyPem === undefined) return `${basename(spec.keyPath)} was missing`;
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(certPem);
  } catch {
    return `${basename(spec.certPath)} was not a readable certificate`;
  }
  if (!cert.verify(caPublicKey(ca))) return 'it was not signed by the lab CA';
  const notAfter = new Date(cert.validTo);
  if (notAfter <= now) return `it expired on ${notAfter.toISOString()}`;
  let keyMatches: boolean;
  try {
    keyMatches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    keyMatches = false;
  }
  if (!keyMatches) return `${basename(spec.keyPath)} did not belong to it`;
  const lacking = spec.requiredNames.filter((name) =>
    hostSan(name).type === 'ip' ? cert.checkIP(name) === undefined : cert.checkHost(name) === undefined,
  );
  if (lacking.length > 0) return `it did not cover ${lacking.join(', ')}`;
  return null;
}

/**
 * Signs a client certificate with the lab CA of `certsDir` and writes OUTDIR/<cn>.pem, OUTDIR/<cn>.key (mode
 * 0400) and OUTDIR/ca.pem: everything a KMIP client (PyKMIP, Barbican's kmip_plugin) is configured with. An
 * existing key file, even a read-only one, is replaced. The lab CA must exist (see ensureLabPki).
 */
export async function issueClientCertificate(
  certsDir: string,
  options: ClientCertificateOptions,
): Promise<ClientCertificateFiles> {
  const { cn, outDir } = options;
  const unsafe = unsafeFileNameReason(cn);
  if (unsafe !== undefined) throw new Error(`the CN '${cn}' cannot be used as a file name: ${unsafe}`);
  const paths = labPkiPaths(certsDir);
  const files = {
    cert: join(outDir, `${cn}.pem`),
    key: join(outDir, `${cn}.key`),
    ca: join(outDir, 'ca.pem'),
  };
  // Never let a client's files overwrite the lab PKI's own or the CA certificate written beside them.
  const reserved = resolve(outDir) === resolve(certsDir) ? ['ca', 'server', ADMIN_CN] : ['ca'];
  if (reserved.includes(cn)) {
    const clash = cn === 'ca' ? 'the CA certificate ca.pem written beside it' : `the lab PKI's own ${cn}.pem`;
    throw new Error(`the CN '${cn}' would overwrite ${clash} in ${outDir}`);
  }
  const days = options.validityDays ?? LEAF_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`validityDays must be a whole number >= 1, not ${days}`);

  const [caPem, caKeyPem] = await Promise.all([readIfExists(paths.ca), readIfExists(paths.caKey)]);
  if (caPem === undefined || caKeyPem === undefined) {
    throw new Error(
      `no lab CA in ${certsDir} (ca.pem and ca.key): start kmipd once, or make the lab PKI first`,
    );
  }
  const now = new Date();
  const ca = await loadLabCaFrom(paths, caPem, caKeyPem, now);
  const issued = await issueCertificate(ca, {
    subject: { commonName: cn, organizationName: 'kmipd lab' },
    sans: [],
    // Without clientAuth, but with an EKU that excludes it: a certificate with no EKU at all would still be
    // accepted for client authentication (RFC 5280 §4.2.1.12), which defeats the drill.
    eku: options.clientAuth === false ? ['serverAuth'] : ['clientAuth'],
    ...capValidity(validityFor(days, now), ca.certificate.notAfter),
  });
  await mkdir(outDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await writeFileAtomic(files.key, issued.keyPem, CLIENT_KEY_MODE);
  await writeFileAtomic(files.cert, issued.certPem, CERTIFICATE_MODE);
  if (resolve(files.ca) !== resolve(paths.ca)) await writeFileAtomic(files.ca, caPem, CERTIFICATE_MODE);
  return { ...files, notAfter: issued.certificate.notAfter };
}

export interface ClientCertificateOptions {
  /** The client's identity (the principal, by default) and the base of its file names. */
  readonly cn: string;
  readonly outDir: string;
  /** Default 730 days, never past the CA's own end. */
  readonly validityDays?: number;
  /** Default true. false issues a certificate for serverAuth only, which a mutual-TLS server must refuse. */
  readonly clientAuth?: boolean;
}

export interface ClientCertificateFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly notAfter: Date;
}

/** The lab CA of `certsDir`, for callers that sign with it (CSR signing, drills). */
export async function loadLabCa(certsDir: string): Promise<CertificateAuthority> {
  const paths = labPkiPaths(certsDir);
  const [caPem, caKeyPem] = await Promise.all([readIfExists(paths.ca), readIfExists(paths.caKey)]);
  if (caPem === undefined || caKeyPem === undefined) {
    throw new Error(`no lab CA in ${certsDir} (ca.pem and ca.key)`);
  }
  return loadLabCaFrom(paths, caPem, caKeyPem, new Date());
}

async function loadLabCaFrom(
  paths: LabPkiPaths,
  caPem: Buffer,
  caKeyPem: Buffer,
  now: Date,
): Promise<CertificateAuthority> {
  let ca: CertificateAuthority;
  try {
    ca = await loadCertificateAuthority(caPem, caKeyPem);
  } catch (error) {
    throw new Error(`the lab CA in ${paths.ca} cannot be used: ${describe(error)}`, { cause: error });
  }
  // Certificates signed now would fail every chain check: say so instead of issuing them.
  if (ca.certificate.notAfter <= now) {
    throw new Error(
      `the lab CA in ${paths.ca} expired on ${ca.certificate.notAfter.toISOString()}: remove ca.pem and ca.key ` +
        'to make a new one (every client must then trust the new ca.pem)',
    );
  }
  return ca;
}

/** A leaf must not outlive its CA: a chain is only valid while every certificate in it is (RFC 5280 §6.1.3). */
function capValidity(window: { notBefore: Date; notAfter: Date }, caNotAfter: Date) {
  return {
    notBefore: window.notBefore,
    notAfter: window.notAfter > caNotAfter ? caNotAfter : window.notAfter,
  };
}

function caPublicKey(ca: CertificateAuthority): KeyObject {
  return createPublicKey({ key: Buffer.from(ca.certificate.publicKey.rawData), format: 'der', type: 'spki' });
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
