import { once } from 'node:events';
import tls from 'node:tls';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TtlvItem } from '../ttlv/types.js';
import { listenOn, MutualTls, refusalGraceMs, type ListenerOptions, type Peer } from './mutual-tls.js';

export type { TlsMaterial } from './mutual-tls.js';

export interface ServerOptions extends ListenerOptions {
  readonly host: string;
  readonly port: number;
}

/**
 * The mutual-TLS KMIP listener (KMIP 1.4 §10 / KMIP Profiles "Basic Authentication Suite": TLS with client
 * certificates, port 5696), with the client certificate checked and refusals explained as MutualTls does. Each
 * connection reads whole messages through the framer and serves them in order; connections run concurrently. A
 * body that does not decode is answered with Invalid Message; a header that is not KMIP, or over the size limit,
 * closes the connection.
 */
export class KmipServer {
  private readonly server: tls.Server;
  private readonly mutualTls: MutualTls;
  private readonly connections = new Set<Connection>();
  private closing = false;

  constructor(private readonly options: ServerOptions) {
    this.mutualTls = new MutualTls(options);
    this.server = tls.createServer(this.mutualTls.serverOptions());
    this.mutualTls.guard(
      this.server,
      () => this.closing,
      (socket) => {
        this.accept(socket);
      },
    );
  }

  listen(): Promise<{ host: string; port: number }> {
    return listenOn(this.server, this.options.port, this.options.host);
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
    const peer = this.mutualTls.admit(socket);
    const connection = new Connection(socket, peer, this.mutualTls, () =>
      this.connections.delete(connection),
    );
    this.connections.add(connection);
  }
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

  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly peer: Peer,
    private readonly server: MutualTls,
    private readonly onClose: () => void,
  ) {
    const limits = server.limits;
    const refused = peer.refusal !== undefined;
    this.framer = new TtlvFramer({ maxMessageBytes: limits.maxMessageBytes });
    socket.setTimeout(refused ? refusalGraceMs : limits.idleTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.receive(chunk);
    });
    socket.on('timeout', () => {
      if (!refused) {
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
          decoded = decodeTtlv(message, { maxBytes: this.server.limits.maxMessageBytes });
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
    const { maxQueuedRequests } = this.server.limits;
    this.queued += 1;
    if (this.queued >= maxQueuedRequests) this.socket.pause();
    this.queue = this.queue.then(async () => {
      if (this.closeAfterResponse) return;
      try {
        const { response, close } = await this.server.serve(request, this.peer, 'TTLV');
        if (close) this.closeAfterResponse = true;
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

  /** Read through a method: the flag is set after an await, which flow analysis cannot see. */
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
