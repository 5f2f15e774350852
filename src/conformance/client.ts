/**
 * The runner's own KMIP clients: TTLV over mutual TLS, and KMIP over HTTPS in TTLV, KMIP XML or KMIP JSON; one
 * request at a time, each answer awaited with a time limit. (src/ must not import the test client; this one is the
 * same idea with errors a runner can report.)
 */
import https from 'node:https';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvFramer } from '../ttlv/framer.js';
import type { TtlvItem } from '../ttlv/types.js';
import {
  messageToJson,
  messageToXml,
  readJsonMessages,
  readXmlMessages,
  type TextMessages,
} from '../kmip/text-messages.js';
import type { VectorFile } from './vectors.js';

/** One conversation with a server: a request out, its answer back as TTLV. */
export interface KmipExchange {
  request(message: TtlvItem): Promise<TtlvItem>;
  close(): void;
}

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

/** Responses are bounded by what the vectors ask for; 64 MiB keeps a broken server from filling memory. */
const maxResponseBytes = 64 * 1024 * 1024;

export class ConformanceClient implements KmipExchange {
  private readonly framer = new TtlvFramer({ maxMessageBytes: maxResponseBytes });
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

export type MessageEncoding = 'TTLV' | 'KMIP XML' | 'KMIP JSON';

/** The Content-Type of each encoding (KMIP Profiles: HTTPS, XML and JSON profiles). */
const mediaTypes: Readonly<Record<MessageEncoding, string>> = {
  TTLV: 'application/octet-stream',
  'KMIP XML': 'text/xml',
  'KMIP JSON': 'application/json',
};

/** The path of KMIP over HTTPS (KMIP Profiles, HTTPS Profile "Request URI"). */
const kmipPath = '/kmip';

/**
 * KMIP over HTTPS: each message is `POST /kmip` in the chosen encoding, on one kept-alive connection, and the
 * answer (HTTP 200, the same Content-Type) is read back to TTLV for the comparator.
 */
export class HttpsConformanceClient implements KmipExchange {
  private readonly agent: https.Agent;

  constructor(
    private readonly address: ServerAddress,
    credentials: ClientCredentials,
    private readonly encoding: MessageEncoding,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      // SNI takes host names only; an IP address is checked against the certificate's IP entries.
      ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
    });
  }

  async request(message: TtlvItem): Promise<TtlvItem> {
    const body = encodeMessage(message, this.encoding);
    const answer = await new Promise<{ status: number; type: string | undefined; body: Buffer }>(
      (resolve, reject) => {
        const outgoing = https.request(
          {
            host: this.address.host,
            port: this.address.port,
            method: 'POST',
            path: kmipPath,
            agent: this.agent,
            timeout: this.timeoutMs,
            headers: {
              'Content-Type': mediaTypes[this.encoding],
              'Content-Length': String(body.length),
              'Cache-Control': 'no-cache',
            },
          },
          (incoming) => {
            const chunks: Buffer[] = [];
            let size = 0;
            incoming.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > maxResponseBytes) {
                incoming.destroy(new Error(`the response is larger than ${maxResponseBytes} bytes`));
                return;
              }
              chunks.push(chunk);
            });
            incoming.once('end', () => {
              resolve({
                status: incoming.statusCode ?? 0,
                type: incoming.headers['content-type'],
                body: Buffer.concat(chunks),
              });
            });
            incoming.once('error', reject);
          },
        );
        outgoing.once('timeout', () => {
          outgoing.destroy(new Error(`no response within ${this.timeoutMs} ms`));
        });
        outgoing.once('error', reject);
        outgoing.end(body);
      },
    );
    const said = (): string => answer.body.toString('utf8').slice(0, 200).trim();
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status} from POST ${kmipPath}: ${said()}`);
    const type = answer.type?.split(';')[0]?.trim().toLowerCase();
    if (type !== mediaTypes[this.encoding]) {
      throw new Error(
        `the answer is ${answer.type ?? 'without a Content-Type'}, not ${mediaTypes[this.encoding]}`,
      );
    }
    return decodeMessage(answer.body, this.encoding);
  }

  close(): void {
    this.agent.destroy();
  }
}

function encodeMessage(message: TtlvItem, encoding: MessageEncoding): Buffer {
  switch (encoding) {
    case 'TTLV':
      return encodeTtlv(message);
    case 'KMIP XML':
      return Buffer.from(messageToXml(message), 'utf8');
    case 'KMIP JSON':
      return Buffer.from(JSON.stringify(messageToJson(message)), 'utf8');
  }
}

function decodeMessage(body: Buffer, encoding: MessageEncoding): TtlvItem {
  if (encoding === 'TTLV') return decodeTtlv(body);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  const read: TextMessages = encoding === 'KMIP XML' ? readXmlMessages(text) : readJsonMessages(text);
  const [message, ...rest] = read.messages;
  if (!message || rest.length > 0)
    throw new Error(`the answer holds ${read.messages.length} messages, not one`);
  if (!message.item) throw message.error ?? new Error('the answer does not read');
  return message.item;
}

/**
 * How a vector is sent: the message-encoding profiles (KMIP Profiles: HTTPS, JSON, XML) over HTTPS in the encoding
 * they test, every other profile as TTLV on the KMIP port.
 */
export type Transport =
  { readonly https: false } | { readonly https: true; readonly encoding: MessageEncoding };

const msgencTransports: Readonly<Record<string, Transport>> = {
  'MSGENC-HTTPS': { https: true, encoding: 'TTLV' },
  'MSGENC-XML': { https: true, encoding: 'KMIP XML' },
  'MSGENC-JSON': { https: true, encoding: 'KMIP JSON' },
};

export function transportOf(vector: VectorFile): Transport {
  return msgencTransports[vector.profile] ?? { https: false };
}

/** Where a server listens: TTLV, and KMIP over HTTPS when it offers it. */
export interface ServerTarget {
  readonly ttlv: ServerAddress;
  readonly https: ServerAddress | undefined;
}

/** A vector that needs a transport the target does not offer: the runner skips it, saying so. */
export class TransportUnavailableError extends Error {
  override readonly name = 'TransportUnavailableError';
}

/** A fresh connection for one vector file, over the transport its profile tests. */
export async function connectFor(
  vector: VectorFile,
  target: ServerTarget,
  credentials: ClientCredentials,
): Promise<KmipExchange> {
  const transport = transportOf(vector);
  if (!transport.https) return ConformanceClient.connect(target.ttlv, credentials);
  if (target.https === undefined) {
    throw new TransportUnavailableError(
      `the ${vector.profile} profile is KMIP over HTTPS, and no HTTPS port was given (--https-port)`,
    );
  }
  return new HttpsConformanceClient(target.https, credentials, transport.encoding);
}
