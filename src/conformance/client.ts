/**
 * The runner's own KMIP client: TTLV over mutual TLS, one request at a time, each answer awaited with a time limit.
 * (src/ must not import the test client; this one is the same idea with errors a runner can report.)
 */
import tls from 'node:tls';
import { isIP } from 'node:net';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TtlvItem } from '../ttlv/types.js';

export interface ClientCredentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** Generous: RSA key pairs are generated inside a software token at a few per second. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export class ConformanceClient {
  /** Responses are bounded by what the vectors ask for; 64 MiB keeps a broken server from filling memory. */
  private readonly framer = new TtlvFramer({ maxMessageBytes: 64 * 1024 * 1024 });
  private pending: { resolve: (m: Buffer) => void; reject: (e: Error) => void } | undefined;
  private closedWith: Error | undefined;

  private constructor(
    private readonly socket: tls.TLSSocket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk, (message) => {
          const waiting = this.pending;
          this.pending = undefined;
          waiting?.resolve(Buffer.from(message));
        });
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        socket.destroy();
      }
    });
    socket.on('error', (error: Error) => {
      this.fail(error);
    });
    socket.on('close', () => {
      this.fail(new Error('the server closed the connection'));
    });
  }

  private fail(error: Error): void {
    this.closedWith ??= error;
    const waiting = this.pending;
    this.pending = undefined;
    waiting?.reject(error);
  }

  static connect(
    address: ServerAddress,
    credentials: ClientCredentials,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<ConformanceClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: address.host,
        port: address.port,
        ca: credentials.ca,
        cert: credentials.cert,
        key: credentials.key,
        // SNI takes host names only; an IP address is checked against the certificate's IP entries.
        ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TLS handshake with ${address.host}:${address.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new ConformanceClient(socket, timeoutMs));
      });
      socket.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends one message and returns the decoded answer. */
  async request(message: TtlvItem): Promise<TtlvItem> {
    if (this.closedWith) throw this.closedWith;
    const bytes = encodeTtlv(message);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`no response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.socket.write(bytes);
    });
    return decodeTtlv(answer);
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.on('error', () => undefined);
    this.socket.end();
    this.socket.destroySoon();
  }
}
