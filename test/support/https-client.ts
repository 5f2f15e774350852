/**
 * A minimal HTTPS client for tests of KMIP over HTTPS: one request per connection (no agent), the answer's status,
 * headers and whole body. Independent of the server's code.
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface HttpsFiles {
  readonly ca: string;
  /** Without cert and key, the client presents no certificate. */
  readonly cert?: string;
  readonly key?: string;
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpsRequest {
  readonly method?: string;
  readonly path?: string;
  readonly contentType?: string;
  /** Sent in one write with its Content-Length, or as chunks without one (chunked transfer encoding). */
  readonly body?: Buffer | string | readonly Buffer[];
  /** A Content-Length header without sending a body: the answer must come from the headers alone. */
  readonly declaredLength?: number;
}

export function httpsRequest(
  host: string,
  port: number,
  files: HttpsFiles,
  request: HttpsRequest,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
    const body = request.body;
    if (request.declaredLength !== undefined) headers['Content-Length'] = String(request.declaredLength);
    else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const outgoing = https.request(
      {
        host,
        port,
        method: request.method ?? 'POST',
        path: request.path ?? '/kmip',
        headers,
        agent: false,
        ca: readFileSync(files.ca),
        ...(files.cert === undefined ? {} : { cert: readFileSync(files.cert) }),
        ...(files.key === undefined ? {} : { key: readFileSync(files.key) }),
        servername: 'localhost',
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.once('end', () => {
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          });
        });
        incoming.once('error', reject);
      },
    );
    outgoing.once('error', reject);
    if (request.declaredLength !== undefined) {
      outgoing.flushHeaders();
      return;
    }
    if (Array.isArray(body)) {
      for (const chunk of body as readonly Buffer[]) outgoing.write(chunk);
      outgoing.end();
    } else {
      outgoing.end(body as Buffer | string | undefined);
    }
  });
}
