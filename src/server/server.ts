import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TtlvItem } from '../ttlv/types.js';
import type { RequestHeader } from '../kmip/message.js';
import type { Principal } from '../kmip-ops/access.js';
import type { OpsLogger } from '../kmip-ops/context.js';
import type { AuditEvent, Dispatcher } from '../kmip-ops/dispatch.js';
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

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CAs whose client certificates are accepted. */
  readonly ca: string | Buffer;
}

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMaterial;
  readonly dispatcher: Dispatcher;
  readonly log: OpsLogger;
  readonly audit?: (event: AuditEvent) => void;
  readonly identity?: IdentityOptions;
  readonly limits?: Partial<ServerLimits>;
}

/** What the server knows of a connection's peer, for identity and the audit trail. */
interface Peer {
  readonly address: string;
  readonly session: { readonly name: string; readonly certificate: CertificateSummary } | undefined;
}

/**
 * How long a refused client may take to send its first request, which is then answered with the reason before
 * the connection closes; a client that sends nothing is closed after this.
 */
const refusalGraceMs = 5_000;

/**
 * The mutual-TLS KMIP listener (KMIP 1.4 §10 / KMIP Profiles "Basic Authentication Suite": TLS with client
 * certificates, port 5696). The handshake accepts any client certificate so that a refusal can be diagnosed by
 * name: an absent, untrusted, expired, not yet valid or wrongly used certificate is logged (subject, issuer, serial,
 * validity, cause), audited, and answered with Authentication Not Successful naming the cause before the
 * connection closes; no request of such a client reaches an operation. Each connection reads whole messages
 * through the framer and serves them in order; connections run concurrently. A body that does not decode is
 * answered with Invalid Message; a header that is not KMIP, or over the size limit, closes the connection.
 */
export class KmipServer {
  private readonly server: tls.Server;
  private readonly limits: ServerLimits;
  private readonly identity: IdentityOptions;
  private readonly connections = new Set<Connection>();
  /** Open TCP connections, handshaking or not. */
  private sockets = 0;
  private closing = false;

  constructor(private readonly options: ServerOptions) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.identity = options.identity ?? defaultIdentityOptions;
    this.server = tls.createServer({
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      // Verified below instead, so that a refusal can say why (node:tls would only drop the connection).
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.limits.handshakeTimeoutMs,
    });
    this.server.on('secureConnection', (socket) => {
      try {
        this.accept(socket);
      } catch (error) {
        // An unexpected failure on one connection must not become an uncaught exception of the process.
        options.log.error('connection failed', {
          client: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        socket.destroy();
      }
    });
    this.server.on('tlsClientError', (error, socket) => {
      options.log.warn('TLS handshake refused', {
        client: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
        cause: describeTlsError(error),
      });
      // node:tls reports a handshake timeout here but leaves the socket open: close it, or the slot stays taken.
      socket.destroy();
    });
    // Counted from the TCP connection, not the end of the handshake: a peer that is still (or never) handshaking
    // holds a socket and memory too.
    this.server.on('connection', (socket: Socket) => {
      if (this.sockets >= this.limits.maxConnections || this.closing) {
        options.log.warn('connection refused', {
          client: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
          cause: this.closing
            ? 'the server is shutting down'
            : `limit of ${this.limits.maxConnections} connections reached`,
        });
        socket.destroy();
        return;
      }
      this.sockets += 1;
      socket.once('close', () => {
        this.sockets -= 1;
      });
    });
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.server.listen(this.options.port, this.options.host);
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the listener has no TCP address');
    return { host: address.address, port: address.port };
  }

  /** Stops accepting, lets every connection finish the requests it has read, then closes them. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
    await Promise.all([...this.connections].map((c) => c.drainAndClose()));
    await closed;
  }

  private accept(socket: tls.TLSSocket): void {
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    let session: Peer['session'];
    let refusal: IdentityRefusal | undefined;
    try {
      session = sessionIdentity(
        {
          authorized: socket.authorized,
          authorizationError: verificationCode(socket.authorizationError),
          certificate: socket.getPeerX509Certificate(),
        },
        this.identity,
      );
    } catch (error) {
      if (!(error instanceof IdentityRefusal)) throw error;
      refusal = error;
      this.refused(address, undefined, error);
    }
    const peer: Peer = { address, session };
    const connection = new Connection(socket, peer, this, refusal, () => this.connections.delete(connection));
    this.connections.add(connection);
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

  get dispatcher(): Dispatcher {
    return this.options.dispatcher;
  }

  get log(): OpsLogger {
    return this.options.log;
  }

  get serverLimits(): ServerLimits {
    return this.limits;
  }

  get identityOptions(): IdentityOptions {
    return this.identity;
  }
}

/** node:tls gives the verification failure as an Error with an OpenSSL code, or (older versions) a string. */
function verificationCode(error: unknown): string | undefined {
  if (error === null || error === undefined) return undefined;
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown';
}

function describeTlsError(error: Error & { code?: string }): string {
  return error.code === undefined ? error.message : `${error.code}: ${error.message}`;
}

/** One client connection: framer in, responses out, requests served in order. */
class Connection {
  private readonly framer: TtlvFramer;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  private draining = false;
  /** Set when a request's identity was refused: answer it, then close. */
  private closeAfterResponse = false;
  private readonly credentialMemo: { verified: string | undefined } = { verified: undefined };

  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly peer: Peer,
    private readonly server: KmipServer,
    private readonly refusal: IdentityRefusal | undefined,
    private readonly onClose: () => void,
  ) {
    const limits = server.serverLimits;
    this.framer = new TtlvFramer({ maxMessageBytes: limits.maxMessageBytes });
    socket.setTimeout(refusal ? refusalGraceMs : limits.idleTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.receive(chunk);
    });
    socket.on('timeout', () => {
      if (!refusal) {
        server.log.warn('connection closed', {
          client: peer.address,
          cause: `idle for ${limits.idleTimeoutMs} ms`,
        });
      }
      socket.destroy();
    });
    socket.on('error', (error: Error) => {
      server.log.info('connection error', { client: peer.address, cause: error.message });
    });
    socket.on('close', () => {
      this.closed = true;
      this.onClose();
    });
  }

  private receive(chunk: Buffer): void {
    try {
      this.framer.push(chunk, (message) => {
        // The framer's view is valid only now: decode before the next chunk can overwrite it.
        let decoded: TtlvItem | TtlvError;
        try {
          decoded = decodeTtlv(message, { maxBytes: this.server.serverLimits.maxMessageBytes });
        } catch (error) {
          if (!(error instanceof TtlvError)) throw error;
          decoded = error;
        }
        this.enqueue(decoded);
      });
    } catch (error) {
      const cause = error instanceof TtlvError ? error.message : String(error);
      this.server.log.warn('connection closed', {
        client: this.peer.address,
        cause: `not a KMIP stream: ${cause}`,
      });
      this.socket.destroy();
    }
  }

  private enqueue(request: TtlvItem | TtlvError): void {
    const { maxQueuedRequests } = this.server.serverLimits;
    this.queued += 1;
    if (this.queued >= maxQueuedRequests) this.socket.pause();
    this.queue = this.queue.then(async () => {
      if (this.closeAfterResponse) return;
      try {
        const response = await this.serve(request);
        if (!this.closed) this.socket.write(encodeTtlv(response));
      } catch (error) {
        // The dispatcher answers every failure itself; reaching here is a bug of ours. It must not stop this
        // connection's queue silently nor (as an unhandled rejection) the process: log it and close this one.
        this.server.log.error('connection failed', {
          client: this.peer.address,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        this.socket.destroy();
        return;
      }
      this.queued -= 1;
      if (this.mustClose()) {
        this.socket.end();
        return;
      }
      if (this.queued < maxQueuedRequests && !this.draining) this.socket.resume();
    });
  }

  private async serve(request: TtlvItem | TtlvError): Promise<TtlvItem> {
    const { dispatcher, log } = this.server;
    if (request instanceof TtlvError) {
      log.warn('request refused', { client: this.peer.address, cause: request.message });
      return dispatcher.invalidMessage(`the request is not valid TTLV: ${request.message}`);
    }
    const session = this.peer.session;
    if (this.refusal || !session) {
      this.closeAfterResponse = true;
      return dispatcher.refuse(
        request,
        errors.authenticationNotSuccessful(this.refusal?.detail ?? 'no client identity'),
      );
    }
    const authenticate = async (header: RequestHeader): Promise<Principal> => {
      try {
        return await requestPrincipal(
          session,
          header.credentials,
          this.server.identityOptions,
          this.credentialMemo,
        );
      } catch (error) {
        if (!(error instanceof IdentityRefusal)) throw error;
        this.server.refused(this.peer.address, session.name, error);
        this.closeAfterResponse = true;
        throw errors.authenticationNotSuccessful(error.detail);
      }
    };
    const origin = { client: this.peer.address, certificateFingerprint: session.certificate.fingerprint };
    return dispatcher.handle(request, authenticate, origin, this.server.serverLimits.maxBatchCount);
  }

  /** Read through a method: the flag is set inside serve(), which flow analysis cannot see across the await. */
  private mustClose(): boolean {
    return this.closeAfterResponse;
  }

  async drainAndClose(): Promise<void> {
    this.draining = true;
    this.socket.pause();
    await this.queue;
    if (!this.closed) {
      this.socket.end();
      await once(this.socket, 'close').catch(() => undefined);
    }
  }
}
