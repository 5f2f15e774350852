import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TtlvItem } from '../ttlv/types.js';
import type { OpsLogger, Principal } from '../kmip-ops/context.js';
import type { Dispatcher } from '../kmip-ops/dispatch.js';
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
  readonly limits?: Partial<ServerLimits>;
}

/** What the server knows of a connection's peer, for identity and the audit trail. */
export interface Peer {
  readonly address: string;
  readonly principal: Principal;
  readonly certificateFingerprint: string | undefined;
}

/**
 * The mutual-TLS KMIP listener (KMIP 1.4 §10 / KMIP Profiles "Basic Authentication Suite": TLS with client
 * certificates, port 5696). Each connection reads whole messages through the framer and serves them one after
 * another; connections run concurrently. A body that does not decode is answered with Invalid Message and the
 * connection goes on; a header that is not KMIP, or over the size limit, closes the connection (the stream has lost
 * its framing). Every refusal is logged with its cause.
 */
export class KmipServer {
  private readonly server: tls.Server;
  private readonly limits: ServerLimits;
  private readonly connections = new Set<Connection>();
  /** Open TCP connections, handshaking or not. */
  private sockets = 0;
  private closing = false;

  constructor(private readonly options: ServerOptions) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.server = tls.createServer({
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.limits.handshakeTimeoutMs,
    });
    this.server.on('secureConnection', (socket) => {
      this.accept(socket);
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
    const cert = socket.getPeerX509Certificate();
    const principal = cert ? principalOf(cert) : undefined;
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (!principal) {
      this.options.log.warn('connection refused', {
        client: address,
        cause: 'client certificate has no subject CN',
      });
      socket.destroy();
      return;
    }
    const peer: Peer = {
      address,
      principal: { name: principal, admin: false },
      certificateFingerprint: cert ? createHash('sha256').update(cert.raw).digest('hex') : undefined,
    };
    const connection = new Connection(socket, peer, this.options, this.limits, () =>
      this.connections.delete(connection),
    );
    this.connections.add(connection);
  }
}

/** The principal of a client certificate: its subject CN (issue 4 makes the field configurable). */
function principalOf(cert: X509Certificate): string | undefined {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return cn === undefined || cn === '' ? undefined : cn;
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

  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly peer: Peer,
    private readonly options: ServerOptions,
    private readonly limits: ServerLimits,
    private readonly onClose: () => void,
  ) {
    this.framer = new TtlvFramer({ maxMessageBytes: limits.maxMessageBytes });
    socket.setTimeout(limits.idleTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.receive(chunk);
    });
    socket.on('timeout', () => {
      this.options.log.warn('connection closed', {
        client: peer.address,
        cause: `idle for ${limits.idleTimeoutMs} ms`,
      });
      socket.destroy();
    });
    socket.on('error', (error: Error) => {
      this.options.log.info('connection error', { client: peer.address, cause: error.message });
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
          decoded = decodeTtlv(message, { maxBytes: this.limits.maxMessageBytes });
        } catch (error) {
          if (!(error instanceof TtlvError)) throw error;
          decoded = error;
        }
        this.enqueue(decoded);
      });
    } catch (error) {
      const cause = error instanceof TtlvError ? error.message : String(error);
      this.options.log.warn('connection closed', {
        client: this.peer.address,
        cause: `not a KMIP stream: ${cause}`,
      });
      this.socket.destroy();
    }
  }

  private enqueue(request: TtlvItem | TtlvError): void {
    this.queued += 1;
    if (this.queued >= this.limits.maxQueuedRequests) this.socket.pause();
    this.queue = this.queue.then(async () => {
      const response = await this.serve(request);
      if (!this.closed) this.socket.write(encodeTtlv(response));
      this.queued -= 1;
      if (this.queued < this.limits.maxQueuedRequests && !this.draining) this.socket.resume();
    });
  }

  private async serve(request: TtlvItem | TtlvError): Promise<TtlvItem> {
    const { dispatcher, log } = this.options;
    if (request instanceof TtlvError) {
      log.warn('request refused', {
        client: this.peer.address,
        principal: this.peer.principal.name,
        cause: request.message,
      });
      return dispatcher.invalidMessage(`the request is not valid TTLV: ${request.message}`);
    }
    const origin = {
      client: this.peer.address,
      ...(this.peer.certificateFingerprint === undefined
        ? {}
        : { certificateFingerprint: this.peer.certificateFingerprint }),
    };
    return dispatcher.handle(request, this.peer.principal, origin, this.limits.maxBatchCount);
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
