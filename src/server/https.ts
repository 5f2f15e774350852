import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { TtlvError } from '../ttlv/errors.js';
import type { TtlvItem } from '../ttlv/types.js';
import {
  messageToJson,
  messageToXml,
  readJsonMessages,
  readXmlMessages,
  type TextMessages,
} from '../kmip/text-messages.js';
import { errors } from '../kmip-ops/errors.js';
import {
  addressOf,
  listenOn,
  MutualTls,
  refusalGraceMs,
  type ListenerOptions,
  type Peer,
} from './mutual-tls.js';

export interface HttpsServerOptions extends ListenerOptions {
  readonly host: string;
  readonly port: number;
}

/** The one request path of the HTTPS profile (KMIP Profiles, HTTPS Profile "Request URI"). */
export const kmipPath = '/kmip';

type EncodingName = 'TTLV' | 'KMIP XML' | 'KMIP JSON';

/**
 * The message encodings by the Content-Type that names them (KMIP Profiles: HTTPS Profile "HTTP Encoding" for
 * TTLV as application/octet-stream, the XML Profile for text/xml, the JSON Profile for application/json;
 * application/xml is the same XML under its other registered type, RFC 7303).
 */
const encodingsByMediaType: ReadonlyMap<string, EncodingName> = new Map([
  ['application/octet-stream', 'TTLV'],
  ['text/xml', 'KMIP XML'],
  ['application/xml', 'KMIP XML'],
  ['application/json', 'KMIP JSON'],
]);

interface Encoding {
  readonly name: EncodingName;
  /** As the client sent it (lowercase, without parameters): the response carries the same. */
  readonly mediaType: string;
}

/** A plain HTTP refusal, for requests that are not KMIP at all (wrong path, method, type, size). */
interface HttpRefusal {
  readonly status: 404 | 405 | 413 | 415;
  readonly cause: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * KMIP over HTTPS (KMIP 2.1 §10.2.1, specified in the KMIP Profiles' HTTPS, XML and JSON profiles): `POST /kmip`
 * whose body is one Request Message in TTLV, KMIP XML or KMIP JSON as its Content-Type says, answered with HTTP
 * 200 and the Response Message in the same encoding and Content-Type. It shares the TTLV listener's mutual TLS
 * (certificate checks, identity, refusals named in the log and audit trail), dispatcher and limits: a body over
 * the message size limit is refused with 413 before it is buffered, a body that does not decode gets Invalid
 * Message in the request's encoding, and a refused client gets Authentication Not Successful and the connection
 * closes. Anything that is not a KMIP request (another path, method or Content-Type) gets a plain HTTP status.
 */
export class KmipHttpsServer {
  private readonly server: https.Server;
  private readonly mutualTls: MutualTls;
  private readonly peers = new WeakMap<Socket, Peer>();
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly options: HttpsServerOptions) {
    this.mutualTls = new MutualTls(options);
    const { limits } = this.mutualTls;
    this.server = https.createServer(this.mutualTls.serverOptions(), (request, response) => {
      const served = this.answer(request, response);
      this.inFlight.add(served);
      void served.finally(() => this.inFlight.delete(served));
    });
    this.mutualTls.guard(
      this.server,
      () => this.closing,
      (socket) => {
        const peer = this.mutualTls.admit(socket);
        this.peers.set(socket, peer);
        if (peer.refusal) socket.setTimeout(refusalGraceMs);
      },
    );
    // The TTLV listener's idle limit, between requests and while keeping a connection alive.
    this.server.keepAliveTimeout = limits.idleTimeoutMs;
    this.server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => {
      const peer = this.peers.get(socket);
      if (peer && !peer.refusal) {
        options.log.warn('connection closed', {
          client: peer.address,
          cause: `idle for ${limits.idleTimeoutMs} ms`,
        });
      }
      socket.destroy();
    });
  }

  listen(): Promise<{ host: string; port: number }> {
    return listenOn(this.server, this.options.port, this.options.host);
  }

  /** Stops accepting, closes idle connections, lets the requests in flight finish, then closes the rest. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
    this.server.closeIdleConnections();
    // A kept-alive connection may still bring a request (answered with Connection: close): wait for those too.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const peer = this.peers.get(request.socket);
    const client = peer?.address ?? addressOf(request.socket);
    try {
      if (!peer) throw new Error('a request on a connection whose TLS client was not admitted');
      const encoding = this.check(request);
      if ('status' in encoding) {
        this.refuse(response, client, encoding);
        return;
      }
      const body = await readBody(request, this.mutualTls.limits.maxMessageBytes);
      if (body === undefined) {
        this.refuse(response, client, tooLarge(this.mutualTls.limits.maxMessageBytes));
        return;
      }
      const message = readMessage(body, encoding.name, this.mutualTls.limits.maxMessageBytes);
      const served = await this.mutualTls.serve(message, peer, encoding.name);
      const bytes = this.write(served.response, message, encoding, client);
      response.writeHead(200, {
        'Content-Type': encoding.mediaType,
        'Content-Length': String(bytes.length),
        // KMIP answers are never to be cached by anything between client and server.
        'Cache-Control': 'no-cache',
        ...(served.close || this.closing ? { Connection: 'close' } : {}),
      });
      response.end(bytes);
    } catch (error) {
      // The dispatcher answers every KMIP failure itself; reaching here is a bug of ours. It must not become an
      // unhandled rejection: log it, answer 500 when nothing was sent yet, and close this connection.
      this.options.log.error('request failed', {
        client,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      if (response.headersSent) {
        response.destroy();
      } else {
        response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        response.end('internal error; see the server log\n');
      }
    }
  }

  /** The encoding of a request to the KMIP path, or why it is not one. */
  private check(request: IncomingMessage): Encoding | HttpRefusal {
    const path = (request.url ?? '').split('?')[0];
    if (path !== kmipPath)
      return { status: 404, cause: `no KMIP service at ${path ?? ''}; use POST ${kmipPath}` };
    if (request.method !== 'POST') {
      return {
        status: 405,
        cause: `method ${request.method ?? '?'} is not allowed; KMIP requests are POST ${kmipPath}`,
        headers: { Allow: 'POST' },
      };
    }
    const declared = Number(request.headers['content-length']);
    if (declared > this.mutualTls.limits.maxMessageBytes)
      return tooLarge(this.mutualTls.limits.maxMessageBytes);
    const contentType = request.headers['content-type'] ?? '';
    const [type = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
    const name = encodingsByMediaType.get(type);
    const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length);
    if (name === undefined || (charset !== undefined && charset !== 'utf-8' && charset !== '"utf-8"')) {
      return {
        status: 415,
        cause:
          `Content-Type '${contentType}' is not a KMIP encoding; use ${[...encodingsByMediaType.keys()].join(', ')}` +
          ' (text in UTF-8)',
      };
    }
    return { name, mediaType: type };
  }

  private refuse(response: ServerResponse, client: string, refusal: HttpRefusal): void {
    this.options.log.warn('request refused', { client, cause: `HTTP ${refusal.status}: ${refusal.cause}` });
    // Its body (if any) may still be on its way: close after the answer rather than read it.
    response.writeHead(refusal.status, {
      'Content-Type': 'text/plain; charset=utf-8',
      ...refusal.headers,
      Connection: 'close',
    });
    response.end(`${refusal.cause}\n`);
  }

  /**
   * The response in the request's encoding. KMIP XML cannot carry every Text String (XML 1.0 has no form for most
   * C0 controls): such a response is replaced by General Failure saying so, since the client cannot be sent it.
   */
  private write(answer: TtlvItem, request: TtlvItem | TtlvError, encoding: Encoding, client: string): Buffer {
    try {
      return encodeAs(answer, encoding.name);
    } catch (error) {
      if (!(error instanceof TtlvError)) throw error;
      this.options.log.warn('response not sent', { client, cause: `${encoding.name}: ${error.message}` });
      const failure = errors.generalFailure(
        `the response cannot be written in ${encoding.name} (${error.detail}); ask over TTLV`,
      );
      const replacement =
        request instanceof TtlvError
          ? this.mutualTls.dispatcher.invalidMessage(failure.message)
          : this.mutualTls.dispatcher.refuse(request, failure);
      return encodeAs(replacement, encoding.name);
    }
  }
}

function tooLarge(maxBytes: number): HttpRefusal {
  return {
    status: 413,
    cause: `the request body is larger than ${maxBytes} bytes, this server's message limit`,
  };
}

/**
 * The body, or undefined as soon as it is larger than maxBytes: nothing more is kept then, and the rest is read and
 * dropped until the refusal closes the connection (closing with unread bytes would reset it, and the client might
 * lose the answer).
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off('data', onData);
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      resolve(Buffer.concat(chunks));
    });
    request.once('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One Request Message from a body, or the TtlvError saying why the body is not one. */
function readMessage(body: Buffer, encoding: EncodingName, maxBytes: number): TtlvItem | TtlvError {
  try {
    if (encoding === 'TTLV') return decodeTtlv(body, { maxBytes });
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return new TtlvError('bad-utf8', -1, [], 'the body is not valid UTF-8');
    }
    return onlyMessage(encoding === 'KMIP XML' ? readXmlMessages(text) : readJsonMessages(text));
  } catch (error) {
    if (error instanceof TtlvError) return error;
    throw error;
  }
}

function onlyMessage(read: TextMessages): TtlvItem | TtlvError {
  const [message, ...rest] = read.messages;
  if (!message || rest.length > 0) {
    return new TtlvError('bad-text', -1, [], `the body must hold one message, not ${read.messages.length}`);
  }
  return message.item ?? message.error ?? new TtlvError('bad-text', -1, [], 'the message does not read');
}

function encodeAs(message: TtlvItem, encoding: EncodingName): Buffer {
  switch (encoding) {
    case 'TTLV':
      return encodeTtlv(message);
    case 'KMIP XML':
      return Buffer.from(`${messageToXml(message)}\n`, 'utf8');
    case 'KMIP JSON':
      return Buffer.from(`${JSON.stringify(messageToJson(message))}\n`, 'utf8');
  }
}
