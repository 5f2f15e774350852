/**
 * One drill's connection: a TLS handshake with the drill's certificate and versions, one KMIP request, one
 * answer read with a time limit, and a precise account of what happened.
 *
 * What node:tls shows the client, and how it is read here:
 * - an alert the server sends arrives as an 'error' whose code names it (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA) and whose
 *   message ends "SSL alert number N"; before 'secureConnect' it is a refusal in the handshake;
 * - in TLS 1.3 the client's handshake is complete before the server has read the client's certificate
 *   (RFC 8446 §4.4.2.4: the client sends Certificate and Finished last), so 'secureConnect' fires and the server's
 *   refusal arrives afterwards, as an alert on the first read (certificate_required) or as a plain close (a node
 *   server with rejectUnauthorized destroys the socket without an alert). An alert then is still the TLS layer's
 *   refusal, and is reported as such;
 * - a server that closes during a TLS 1.2 handshake shows as 'end' and then ECONNRESET ("Client network socket
 *   disconnected before secure TLS connection was established"), with no alert.
 * The server's own certificate is checked by hand after the handshake (rejectUnauthorized off), so that a failure
 * of ours to trust the server is never mistaken for the server refusing us.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TlsVersion } from './drills.js';
import type { ClientIdentity } from './certificates.js';
import { readQueryAnswer } from './kmip.js';
import type { ClientError, Outcome, TlsAlert } from './outcome.js';

/**
 * OpenSSL 3 at its default security level (1) refuses to negotiate TLS 1.0 and 1.1 at all, since their handshake
 * signatures use SHA-1 and MD5; level 0 lets this client still offer them, so the drill tests the server, not us.
 */
const LEGACY_CIPHERS = 'DEFAULT@SECLEVEL=0';

/**
 * The answer to a Query is a few hundred bytes; this bounds what a hostile or broken server can make the drill
 * buffer.
 */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** How long to wait, after a KMIP refusal, for the server to close the connection as a strict server does. */
const CLOSE_GRACE_MS = 1000;

export interface Attempt {
  readonly host: string;
  readonly port: number;
  /** Sent as SNI (unless an IP address, which RFC 6066 §3 forbids there) and checked against the server's certificate. */
  readonly serverName: string;
  /** Trust anchors for the server's certificate, PEM. */
  readonly serverCa: string | Buffer;
  readonly identity: ClientIdentity | undefined;
  readonly tlsVersion: TlsVersion | undefined;
  readonly request: Uint8Array;
  readonly timeoutMs: number;
}

/** Whether an old TLS version needs the lowered security level on this side. */
function isLegacy(version: TlsVersion | undefined): boolean {
  return version === 'TLSv1' || version === 'TLSv1.1';
}

/** The node:tls options for a drill's versions. */
export function versionOptions(
  version: TlsVersion | undefined,
): Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  if (version === undefined) return {};
  return isLegacy(version)
    ? { minVersion: version, maxVersion: version, ciphers: LEGACY_CIPHERS }
    : { minVersion: version, maxVersion: version };
}

/** TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2.2) a server may send a client it refuses. */
const alertNames: ReadonlyMap<number, string> = new Map([
  [0, 'close_notify'],
  [10, 'unexpected_message'],
  [20, 'bad_record_mac'],
  [22, 'record_overflow'],
  [40, 'handshake_failure'],
  [42, 'bad_certificate'],
  [43, 'unsupported_certificate'],
  [44, 'certificate_revoked'],
  [45, 'certificate_expired'],
  [46, 'certificate_unknown'],
  [47, 'illegal_parameter'],
  [48, 'unknown_ca'],
  [49, 'access_denied'],
  [50, 'decode_error'],
  [51, 'decrypt_error'],
  [70, 'protocol_version'],
  [71, 'insufficient_security'],
  [80, 'internal_error'],
  [86, 'inappropriate_fallback'],
  [90, 'user_canceled'],
  [109, 'missing_extension'],
  [110, 'unsupported_extension'],
  [112, 'unrecognized_name'],
  [113, 'bad_certificate_status_response'],
  [115, 'unknown_psk_identity'],
  [116, 'certificate_required'],
  [120, 'no_application_protocol'],
]);

/** The alert the peer sent, when OpenSSL's error says it received one ("... SSL alert number 48"). */
export function alertOf(error: Error): TlsAlert | undefined {
  const match = /SSL alert number (\d+)/.exec(error.message);
  if (!match?.[1]) return undefined;
  const number = Number(match[1]);
  return { number, name: alertNames.get(number) ?? 'unknown alert' };
}

/** An error as the client saw it: its code and the first line of its message (OpenSSL's has the file and line). */
export function clientErrorOf(error: Error): ClientError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (error as { reason?: unknown }).reason;
  const alert = alertOf(error);
  // OpenSSL's messages are long and name its source files; its `reason` ("tlsv1 alert unknown ca") says the same.
  const message =
    typeof reason === 'string'
      ? `${reason}${alert ? ` (SSL alert number ${alert.number})` : ''}`
      : (error.message.split('\n')[0] ?? error.message);
  return { code, message };
}

type Phase = 'connect' | 'handshake' | 'response';

/** Runs one attempt; never rejects. */
export function attempt(options: Attempt): Promise<Outcome> {
  return new Promise((resolve) => {
    let phase: Phase = 'connect';
    let protocol = '';
    let firstError: Error | undefined;
    let settled = false;
    /** The KMIP refusal read, while waiting to see whether the server closes the connection after it. */
    let grace: NodeJS.Timeout | undefined;
    let refusal: Omit<Extract<Outcome, { kind: 'kmip-refused' }>, 'closed'> | undefined;
    const framer = new TtlvFramer({ maxMessageBytes: MAX_RESPONSE_BYTES });
    const name = options.serverName;

    const socket = tls.connect({
      host: options.host,
      port: options.port,
      ...(isIP(name) === 0 ? { servername: name } : {}),
      ca: options.serverCa,
      ...(options.identity ? { cert: options.identity.certPem, key: options.identity.keyPem } : {}),
      ...versionOptions(options.tlsVersion),
      rejectUnauthorized: false,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
    });

    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      finish(refusal ? { ...refusal, closed: false } : { kind: 'timed-out', phase, ms: options.timeoutMs });
    }, options.timeoutMs);

    // The TCP connection is up: whatever goes wrong from here is the TLS layer's or the server's doing.
    socket.once('connect', () => {
      phase = 'handshake';
    });
    socket.once('secureConnect', () => {
      protocol = socket.getProtocol() ?? '';
      if (!socket.authorized) {
        const reason = String(socket.authorizationError);
        finish({
          kind: 'client-error',
          what: `the drill does not trust the server's certificate (for ${name}): give --server-ca or --server-name`,
          error: { code: reason, message: reason },
        });
        return;
      }
      phase = 'response';
      socket.write(options.request);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk, (message) => {
          onAnswer(message);
        });
      } catch (error) {
        finish({ kind: 'bad-response', protocol, error: `not a KMIP message: ${describe(error)}` });
      }
    });
    const onAnswer = (message: Uint8Array): void => {
      // Only the first answer counts; a second one in the same chunk must not restart the wait for the close.
      if (settled || refusal) return;
      let answer;
      try {
        answer = readQueryAnswer(message);
      } catch (error) {
        finish({ kind: 'bad-response', protocol, error: describe(error) });
        return;
      }
      if (answer.success) {
        finish({ kind: 'accepted', protocol, operations: answer.operations });
        return;
      }
      refusal = {
        kind: 'kmip-refused',
        protocol,
        status: answer.status,
        reason: answer.reason,
        message: answer.message,
      };
      // A strict server closes the connection after refusing the client: give it a moment to do so (the
      // 'close' handler below finishes first when it does).
      const refused = refusal;
      grace = setTimeout(() => {
        finish({ ...refused, closed: false });
      }, CLOSE_GRACE_MS);
      // Nothing more is read: a second answer would be a protocol error of its own, not this drill's business.
      socket.removeAllListeners('data');
      socket.resume();
    };
    socket.on('error', (error) => {
      firstError ??= error;
    });
    socket.once('close', () => {
      if (refusal) finish({ ...refusal, closed: true });
      else finish(closedOutcome(phase, protocol, firstError, framer.pending));
    });
  });
}

/** What a connection that ended before an answer means, from where it was and the error it ended with. */
function closedOutcome(phase: Phase, protocol: string, error: Error | undefined, pending: number): Outcome {
  const alert = error ? alertOf(error) : undefined;
  const clientError = error ? clientErrorOf(error) : undefined;
  switch (phase) {
    case 'connect':
      return {
        kind: 'client-error',
        what: 'no TCP connection to the server',
        error: clientError ?? { code: undefined, message: 'closed before connecting' },
      };
    case 'handshake':
      return { kind: 'tls-refused', phase: 'handshake', alert, error: clientError, protocol: undefined };
    case 'response':
      if (alert)
        return { kind: 'tls-refused', phase: 'after-handshake', alert, error: clientError, protocol };
      if (pending > 0) {
        return {
          kind: 'bad-response',
          protocol,
          error: `the connection ended within a message (${pending} bytes)`,
        };
      }
      // A clean end or a reset (ECONNRESET): either way the server closed without answering.
      return { kind: 'closed', protocol, error: clientError };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether this machine's OpenSSL can speak `version` at all, tried on a loopback handshake with itself (the same
 * options as the drill's client). Returns the reason when it cannot; undefined when it can.
 */
export async function localTlsSupport(
  version: TlsVersion,
  identity: ClientIdentity,
  timeoutMs: number,
): Promise<string | undefined> {
  const server = tls.createServer({
    cert: identity.certPem,
    key: identity.keyPem,
    ...versionOptions(version),
  });
  server.on('tlsClientError', () => {
    // The client side reports the failure; the server's copy of it says nothing more.
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        ...versionOptions(version),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(`the local loopback handshake in ${version} timed out`);
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        const seen = clientErrorOf(error);
        resolve(`local OpenSSL does not speak ${version} (${seen.code ?? seen.message})`);
      });
    });
  } finally {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}
