import { once } from 'node:events';
import type { Server, Socket } from 'node:net';
import type tls from 'node:tls';
import { TtlvError } from '../ttlv/errors.js';
import type { TtlvItem } from '../ttlv/types.js';
import type { RequestHeader } from '../kmip/message.js';
import type { Principal } from '../kmip-ops/access.js';
import type { OpsLogger } from '../kmip-ops/context.js';
import type { AuditEvent, Dispatcher } from '../kmip-ops/dispatch.js';
import type { ClientActivity } from './client-activity.js';
import { errors } from '../kmip-ops/errors.js';
import {
  defaultIdentityOptions,
  IdentityRefusal,
  requestPrincipal,
  sessionIdentity,
  type CertificateSummary,
  type IdentityOptions,
} from '../identity/identity.js';
import { defaultLimits, type ServerLimits } from './limits.js';

/**
 * What the KMIP listeners share (TTLV on its own port, and KMIP over HTTPS): one TLS configuration, the client
 * certificate checked by the server itself so that a refusal can be explained, the identity of each client, the
 * log and audit of refusals, and the serving of one decoded request through the dispatcher.
 */

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CAs whose client certificates are accepted. */
  readonly ca: string | Buffer;
}

export interface ListenerOptions {
  readonly tls: TlsMaterial;
  readonly dispatcher: Dispatcher;
  readonly log: OpsLogger;
  readonly audit?: (event: AuditEvent) => void;
  readonly identity?: IdentityOptions;
  readonly limits?: Partial<ServerLimits>;
  /** Told of every request, for the count of busy connections (client-activity.ts). */
  readonly activity?: ClientActivity;
}

/** What the server knows of a connection's peer, for identity and the audit trail. */
export interface Peer {
  readonly address: string;
  readonly session: { readonly name: string; readonly certificate: CertificateSummary } | undefined;
  /** Why this client's certificate was refused; its requests are then answered with that reason only. */
  readonly refusal: IdentityRefusal | undefined;
  /** The Credential already verified on this connection (requestPrincipal checks a password once). */
  readonly credentialMemo: { verified: string | undefined };
}

/** The answer to one request, and whether the connection must close after it (a refused identity). */
export interface Served {
  readonly response: TtlvItem;
  readonly close: boolean;
}

/**
 * How long a refused client may take to send its first request, which is then answered with the reason before
 * the connection closes; a client that sends nothing is closed after this.
 */
export const refusalGraceMs = 5_000;

export function addressOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/** Starts a listener on a host and port (0: any free port) and answers the address it got. */
export async function listenOn(
  server: Server,
  port: number,
  host: string,
): Promise<{ host: string; port: number }> {
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the listener has no TCP address');
  return { host: address.address, port: address.port };
}

/**
 * Mutual TLS as both listeners do it (KMIP 1.4 §10 / KMIP Profiles "Basic Authentication Suite": TLS with client
 * certificates). The handshake accepts any client certificate so that a refusal can be diagnosed by name: an
 * absent, untrusted, expired, not yet valid or wrongly used certificate is logged (subject, issuer, serial,
 * validity, cause), audited, and answered with Authentication Not Successful naming the cause; no request of such
 * a client reaches an operation.
 */
export class MutualTls {
  readonly limits: ServerLimits;
  readonly identity: IdentityOptions;

  constructor(private readonly options: ListenerOptions) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.identity = options.identity ?? defaultIdentityOptions;
  }

  get dispatcher(): Dispatcher {
    return this.options.dispatcher;
  }

  get log(): OpsLogger {
    return this.options.log;
  }

  /** The node:tls settings of every listener: one certificate, TLS 1.2 and later, client certificates asked for. */
  serverOptions(): tls.TlsOptions {
    return {
      cert: this.options.tls.cert,
      key: this.options.tls.key,
      ca: this.options.tls.ca,
      requestCert: true,
      // Verified in admit() instead, so that a refusal can say why (node:tls would only drop the connection).
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.limits.handshakeTimeoutMs,
    };
  }

  /**
   * The connection limit and the logging of refused handshakes, on a listener, and each connection that completes
   * its handshake handed to `accept`. `closing` tells whether the listener is shutting down (new connections are
   * then refused).
   */
  guard(server: tls.Server, closing: () => boolean, accept: (socket: tls.TLSSocket) => void): void {
    let sockets = 0;
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      try {
        accept(socket);
      } catch (error) {
        // An unexpected failure on one connection must not become an uncaught exception of the process.
        this.options.log.error('connection failed', {
          client: addressOf(socket),
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        socket.destroy();
      }
    });
    server.on('tlsClientError', (error: Error & { code?: string }, socket: tls.TLSSocket) => {
      this.options.log.warn('TLS handshake refused', {
        client: addressOf(socket),
        cause: error.code === undefined ? error.message : `${error.code}: ${error.message}`,
      });
      // node:tls reports a handshake timeout here but leaves the socket open: close it, or the slot stays taken.
      socket.destroy();
    });
    // Counted from the TCP connection, not the end of the handshake: a peer that is still (or never) handshaking
    // holds a socket and memory too.
    server.on('connection', (socket: Socket) => {
      if (sockets >= this.limits.maxConnections || closing()) {
        this.options.log.warn('connection refused', {
          client: addressOf(socket),
          cause: closing()
            ? 'the server is shutting down'
            : `limit of ${this.limits.maxConnections} connections reached`,
        });
        socket.destroy();
        return;
      }
      sockets += 1;
      socket.once('close', () => {
        sockets -= 1;
      });
    });
  }

  /** The identity of a client after the handshake; a refused one is logged and audited here, once. */
  admit(socket: tls.TLSSocket): Peer {
    const address = addressOf(socket);
    // A closed connection is busy no more: a client that opens one per request must count as one, not as every
    // connection of the last moments (client-activity.ts).
    const { activity } = this.options;
    if (activity) {
      socket.once('close', () => {
        activity.forget(address);
      });
    }
    const credentialMemo = { verified: undefined };
    try {
      const session = sessionIdentity(
        {
          authorized: socket.authorized,
          authorizationError: verificationCode(socket.authorizationError),
          certificate: socket.getPeerX509Certificate(),
        },
        this.identity,
      );
      return { address, session, refusal: undefined, credentialMemo };
    } catch (error) {
      if (!(error instanceof IdentityRefusal)) throw error;
      this.refused(address, undefined, error);
      return { address, session: undefined, refusal: error, credentialMemo };
    }
  }

  /** Logs and audits a refused client (the cause, and the certificate when there is one). */
  refused(address: string, name: string | undefined, refusal: IdentityRefusal): void {
    this.options.log.warn('client refused', {
      client: address,
      cause: refusal.refusal,
      detail: refusal.detail,
      ...(refusal.certificate ? { certificate: refusal.certificate } : {}),
    });
    this.options.audit?.({
      correlationId: '-',
      principal: name ?? refusal.certificate?.subject ?? '-',
      client: address,
      ...(refusal.certificate ? { certificateFingerprint: refusal.certificate.fingerprint } : {}),
      operation: 'Authenticate',
      version: '1.0',
      objects: [],
      outcome: 'failure',
      reason: `AuthenticationNotSuccessful/${refusal.refusal}`,
      message: refusal.detail,
    });
  }

  /**
   * One request of a peer, decoded or not: Invalid Message for one that did not decode, Authentication Not
   * Successful (and close) for a refused client or Credential, else the dispatcher's answer with the peer's
   * principal.
   */
  async serve(
    request: TtlvItem | TtlvError,
    peer: Peer,
    encoding: 'TTLV' | 'KMIP XML' | 'KMIP JSON',
  ): Promise<Served> {
    const { dispatcher, log } = this;
    this.options.activity?.noteRequest(peer.address);
    if (request instanceof TtlvError) {
      log.warn('request refused', { client: peer.address, cause: request.message });
      return {
        response: dispatcher.invalidMessage(`the request is not valid ${encoding}: ${request.message}`),
        close: false,
      };
    }
    const session = peer.session;
    if (peer.refusal || !session) {
      return {
        response: dispatcher.refuse(
          request,
          errors.authenticationNotSuccessful(peer.refusal?.detail ?? 'no client identity'),
        ),
        close: true,
      };
    }
    let close = false;
    const authenticate = async (header: RequestHeader): Promise<Principal> => {
      try {
        return await requestPrincipal(session, header.credentials, this.identity, peer.credentialMemo);
      } catch (error) {
        if (!(error instanceof IdentityRefusal)) throw error;
        this.refused(peer.address, session.name, error);
        close = true;
        throw errors.authenticationNotSuccessful(error.detail);
      }
    };
    const origin = { client: peer.address, certificateFingerprint: session.certificate.fingerprint };
    const response = await dispatcher.handle(request, authenticate, origin, this.limits.maxBatchCount);
    return { response, close };
  }
}

/** node:tls gives the verification failure as an Error with an OpenSSL code, or (older versions) a string. */
function verificationCode(error: unknown): string | undefined {
  if (error === null || error === undefined) return undefined;
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown';
}
