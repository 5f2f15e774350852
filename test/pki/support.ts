/**
 * Support for the PKI tests. A tiny mutual-TLS harness: a node:tls server configured the way the KMIP listener is
 * (requestCert + rejectUnauthorized, the lab CA as the only trust anchor) and a node:tls client, with what each
 * side saw.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { x509 } from '../../src/pki/x509.js';

/**
 * The hash a certificate is signed with. @peculiar/x509 types it with the DOM's Algorithm, which this project's
 * lib settings (no DOM) leave unresolved, so it is read through a narrower type.
 */
export function signatureHash(cert: x509.X509Certificate): string {
  const algorithm = cert.signatureAlgorithm as { hash?: { name?: unknown } };
  return String(algorithm.hash?.name);
}

const tempDirs: string[] = [];

/** A new temporary directory, removed by removeTempDirs (the tests write private keys into them). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kmipd-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** For test.after.always: removes every directory tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ServerFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * What the server saw of one connection: the peer's CN after a good handshake; or why it was refused. With
 * rejectUnauthorized, node:tls destroys the socket without saying why (the server sees only "socket hang up"),
 * so a server that wants to name the cause runs with `diagnose`: rejectUnauthorized off, then the verification
 * result (`socket.authorized`, `socket.authorizationError`) checked by hand before anything is read.
 */
export type ServerOutcome =
  { ok: true; peerCn: string | undefined } | { ok: false; authorizationError?: string; error?: string };

export interface MutualTlsServer {
  readonly port: number;
  /** The outcome of the next connection. */
  nextOutcome(): Promise<ServerOutcome>;
  close(): Promise<void>;
}

export async function startMutualTlsServer(
  files: ServerFiles,
  { diagnose = false, ...extra }: tls.TlsOptions & { diagnose?: boolean } = {},
): Promise<MutualTlsServer> {
  const outcomes: ServerOutcome[] = [];
  const waiting: ((outcome: ServerOutcome) => void)[] = [];
  const report = (outcome: ServerOutcome) => {
    const waiter = waiting.shift();
    if (waiter) waiter(outcome);
    else outcomes.push(outcome);
  };
  const server = tls.createServer({
    ca: readFileSync(files.ca),
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    requestCert: true,
    rejectUnauthorized: !diagnose,
    ...extra,
  });
  server.on('secureConnection', (socket) => {
    if (!socket.authorized) {
      report({ ok: false, authorizationError: String(socket.authorizationError) });
      socket.destroy();
      return;
    }
    const peer = socket.getPeerCertificate();
    const cn = peer.subject.CN;
    report({ ok: true, peerCn: Array.isArray(cn) ? cn.join(',') : cn });
    socket.end('ok\n');
  });
  server.on('tlsClientError', (error) => {
    report({ ok: false, error: error.message });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    nextOutcome() {
      const ready = outcomes.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

export interface ClientFiles {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

/** What the client saw: the server's greeting, or the error that ended the connection. */
export type ClientOutcome = { ok: true; greeting: string } | { ok: false; error: Error };

export function connectClient(
  port: number,
  files: ClientFiles,
  servername = 'localhost',
): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    let data = '';
    let failure: Error | undefined;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername,
      ca: readFileSync(files.ca),
      ...(files.cert === undefined ? {} : { cert: readFileSync(files.cert) }),
      ...(files.key === undefined ? {} : { key: readFileSync(files.key) }),
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (error: Error) => {
      failure = error;
    });
    socket.on('close', () => {
      if (data === 'ok\n') resolve({ ok: true, greeting: data });
      else resolve({ ok: false, error: failure ?? new Error(`closed after '${data}'`) });
    });
  });
}

export type CsrKey = 'rsa-1024' | 'rsa-2048' | 'ec-p256';

export interface MadeCsr {
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly pem: string;
  readonly der: Buffer;
}

/** A PKCS#10 CSR made with @peculiar/x509, as a client's tooling would make it. */
export async function makeCsr(options: {
  readonly subject: string;
  readonly key?: CsrKey;
  readonly extensions?: x509.Extension[];
}): Promise<MadeCsr> {
  const key = options.key ?? 'rsa-2048';
  const algorithm =
    key === 'ec-p256'
      ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: key === 'rsa-1024' ? 1024 : 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        };
  const keys = await crypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.subject,
    keys,
    signingAlgorithm: algorithm,
    extensions: options.extensions ?? [],
  });
  return { csr, pem: csr.toString('pem'), der: Buffer.from(csr.rawData) };
}

/** `der` with one byte of its last bytes (the signature BIT STRING, RFC 2986 §4.2) inverted. */
export function tamperSignature(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  const last = copy.length - 1;
  copy[last] = (copy[last] ?? 0) ^ 0xff;
  return copy;
}

/** The openssl binary's path, or undefined (tests that need it skip with the reason printed). */
export function opensslPath(): string | undefined {
  const found = spawnSync('which', ['openssl'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}
