/**
 * The platform's limit: a node:tls server with the KMIP server's certificate, CA and client-certificate policy,
 * that writes every chunk it reads straight back. A closed-loop client sending a message of a request's size and
 * waiting for its echo measures what TLS, sockets and the event loop cost on this machine, in this run.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

export interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startEchoServer(material: {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}): Promise<EchoServer> {
  const sockets = new Set<tls.TLSSocket>();
  // The same options as src/server/server.ts, so both handshakes cost the same.
  const server = tls.createServer(
    {
      cert: material.cert,
      key: material.key,
      ca: material.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        socket.write(chunk);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    },
  );
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
