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
import { mkdir } from 'node:fs/promises';
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
} from './issue.js';

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
    made.push('lab CA (ca.pem)');
    ca = created;
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
