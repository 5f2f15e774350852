/**
 * Runs the drills against a KMIP server, one connection after another (so that each refusal the server logs lines
 * up with one drill), and collects what happened.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateAuthority } from '../pki/issue.js';
import { loadLabCa } from '../pki/lab-pki.js';
import { makeClientCertificates, type ClientIdentity } from './certificates.js';
import { attempt, localTlsSupport } from './connect.js';
import { selectDrills, type CertificateKind, type Drill, type TlsVersion } from './drills.js';
import { queryRequest, type UsernamePassword } from './kmip.js';
import { verdictOf, type Outcome, type Verdict } from './outcome.js';

export const DEFAULT_CN = 'drill-client';
export const DEFAULT_TIMEOUT_MS = 5000;

export interface DrillOptions {
  readonly host: string;
  readonly port: number;
  /** The CA the server trusts for client certificates: the drill signs its certificates with it. */
  readonly ca: CertificateAuthority;
  /** Trust anchors for the server's own certificate, PEM. */
  readonly serverCa: string | Buffer;
  /** The Credential a valid client sends; without it the Credential drills are skipped. */
  readonly username?: string;
  readonly password?: string;
  /** CN of the valid client certificate. Default: the username when given (a session-and-username server wants them equal), else DEFAULT_CN. */
  readonly cn?: string;
  /** SNI and the name checked in the server's certificate. Default: host. */
  readonly serverName?: string;
  /** Per drill, from the TCP connect to the answer. Default DEFAULT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Drill names; default every drill. */
  readonly only?: readonly string[];
  /** Called as each drill ends, for progress output. */
  readonly onResult?: (result: DrillResult) => void;
}

export interface DrillResult {
  readonly drill: Drill;
  readonly outcome: Outcome;
  readonly verdict: Verdict;
}

export interface DrillReport {
  readonly target: { readonly host: string; readonly port: number; readonly serverName: string };
  readonly results: readonly DrillResult[];
  readonly asExpected: number;
  readonly notAsExpected: number;
  readonly skipped: number;
}

/** The CA of a --certs directory (ca.pem and ca.key, as the lab PKI writes them) and its certificate as PEM. */
export async function loadDrillCa(certsDir: string): Promise<{ ca: CertificateAuthority; caPem: Buffer }> {
  const [ca, caPem] = await Promise.all([loadLabCa(certsDir), readFile(join(certsDir, 'ca.pem'))]);
  return { ca, caPem };
}

export async function runDrills(options: DrillOptions): Promise<DrillReport> {
  const selected = selectDrills(options.only);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError(`timeout must be >= 1 ms, not ${timeoutMs}`);
  const serverName = options.serverName ?? options.host;
  const username = options.username;
  const cn = options.cn ?? username ?? DEFAULT_CN;
  // Certain to differ from both the username and the valid CN.
  const otherCn = `not-${username ?? cn}-${randomBytes(3).toString('hex')}`;

  const runnable = selected.filter((drill) => skipReason(drill, options) === undefined);
  const identities = await makeClientCertificates(
    options.ca,
    runnable.map((drill) => drill.certificate),
    { cn, otherCn },
  );
  const validCredential: UsernamePassword | undefined =
    username === undefined
      ? undefined
      : { username, ...(options.password === undefined ? {} : { password: options.password }) };

  const results: DrillResult[] = [];
  const localSupport = new Map<TlsVersion, string | undefined>();
  for (const drill of selected) {
    const outcome = await runOne(drill);
    const result = { drill, outcome, verdict: verdictOf(drill.expect, outcome) };
    results.push(result);
    options.onResult?.(result);
  }
  return {
    target: { host: options.host, port: options.port, serverName },
    results,
    asExpected: results.filter((r) => r.verdict === 'as-expected').length,
    notAsExpected: results.filter((r) => r.verdict === 'not-as-expected').length,
    skipped: results.filter((r) => r.verdict === 'skipped').length,
  };

  async function runOne(drill: Drill): Promise<Outcome> {
    const reason = skipReason(drill, options);
    if (reason !== undefined) return { kind: 'skipped', reason };
    const identity = identityFor(drill.certificate);
    if (drill.tlsVersion === 'TLSv1' || drill.tlsVersion === 'TLSv1.1') {
      // Only a drill that could have been refused tells something about the server: if this side cannot speak
      // the version, the server was never asked.
      const valid = identityFor('valid') ?? identity;
      if (valid && !localSupport.has(drill.tlsVersion)) {
        localSupport.set(drill.tlsVersion, await localTlsSupport(drill.tlsVersion, valid, timeoutMs));
      }
      const unsupported = localSupport.get(drill.tlsVersion);
      if (unsupported !== undefined) return { kind: 'skipped', reason: unsupported };
    }
    return attempt({
      host: options.host,
      port: options.port,
      serverName,
      serverCa: options.serverCa,
      identity,
      tlsVersion: drill.tlsVersion,
      request: queryRequest(credentialFor(drill)),
      timeoutMs,
    });
  }

  function identityFor(kind: CertificateKind): ClientIdentity | undefined {
    return identities.get(kind);
  }

  function credentialFor(drill: Drill): UsernamePassword | undefined {
    if (validCredential === undefined || drill.credential === 'valid') return validCredential;
    let wrong = `wrong-${randomBytes(8).toString('hex')}`;
    // Astronomically unlikely, and free to rule out.
    if (wrong === options.password) wrong += '-again';
    return { username: validCredential.username, password: wrong };
  }
}

/** Why a drill cannot run with these options, or undefined when it can. */
function skipReason(drill: Drill, options: DrillOptions): string | undefined {
  if (drill.needsUsername && options.username === undefined) {
    return 'needs the Credential of a valid client (--username, --password)';
  }
  return undefined;
}
