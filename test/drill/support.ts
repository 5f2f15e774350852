/**
 * Purpose-built node:tls servers for the drill tests, each misbehaving (or behaving) in one known way, and
 * recording what every client presented and sent, so a test can check both sides of each drill.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { enumValue, tag } from '../../src/kmip/vocabulary.js';
import { ensureLabPki } from '../../src/pki/lab-pki.js';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { TtlvFramer } from '../../src/ttlv/framer.js';
import { ItemType, ttlv, type TtlvItem } from '../../src/ttlv/types.js';

/** A lab PKI in a temporary directory: the CA (ca.pem, ca.key) and a server certificate for 127.0.0.1. */
export interface TestPki {
  readonly certsDir: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  dispose(): Promise<void>;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-drill-'));
  const certsDir = join(dir, 'certs');
  const { paths } = await ensureLabPki(certsDir);
  const [ca, serverCert, serverKey] = await Promise.all([
    readFile(paths.ca),
    readFile(paths.serverCert),
    readFile(paths.serverKey),
  ]);
  return {
    certsDir,
    ca,
    serverCert,
    serverKey,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A Response Message to a Query, built here from src/ttlv (not by the code under test). */
export function queryResponse(result: { reason: string; message: string } | 'success'): Buffer {
  const items: TtlvItem[] = [ttlv.enumeration(tag('Operation'), enumValue('Operation', 'Query'))];
  if (result === 'success') {
    items.push(
      ttlv.enumeration(tag('ResultStatus'), enumValue('ResultStatus', 'Success')),
      ttlv.structure(tag('ResponsePayload'), [
        ttlv.enumeration(tag('Operation'), enumValue('Operation', 'Query')),
        ttlv.enumeration(tag('Operation'), enumValue('Operation', 'Create')),
        ttlv.enumeration(tag('Operation'), enumValue('Operation', 'Get')),
      ]),
    );
  } else {
    items.push(
      ttlv.enumeration(tag('ResultStatus'), enumValue('ResultStatus', 'OperationFailed')),
      ttlv.enumeration(tag('ResultReason'), enumValue('ResultReason', result.reason)),
      ttlv.textString(tag('ResultMessage'), result.message),
    );
  }
  return encodeTtlv(
    ttlv.structure(tag('ResponseMessage'), [
      ttlv.structure(tag('ResponseHeader'), [
        ttlv.structure(tag('ProtocolVersion'), [
          ttlv.integer(tag('ProtocolVersionMajor'), 1),
          ttlv.integer(tag('ProtocolVersionMinor'), 2),
        ]),
        ttlv.dateTime(tag('TimeStamp'), BigInt(Math.floor(Date.now() / 1000))),
        ttlv.integer(tag('BatchCount'), 1),
      ]),
      ttlv.structure(tag('BatchItem'), items),
    ]),
  );
}

/** What one client presented and sent. */
export interface SeenConnection {
  readonly protocol: string | null;
  /** The client certificate, when the server asked for one and got it. */
  readonly certificate: X509Certificate | undefined;
  /** The Operation of the request's first batch item, by value. */
  readonly operation: number | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/**
 * How the server answers a request:
 * - 'success': Query succeeded, connection left open;
 * - 'auth-refused': Authentication Not Successful, then the connection is closed;
 * - 'auth-refused-open': the same, but the connection is left open;
 * - 'close': the connection is closed when the request arrives, with no answer;
 * - 'silent': the request is read and never answered;
 * - 'garbage': an answer that is not KMIP.
 */
export type Behaviour = 'success' | 'auth-refused' | 'auth-refused-open' | 'close' | 'silent' | 'garbage';

export const AUTH_MESSAGE = 'the drill server refuses everyone';

export interface FakeServer {
  readonly port: number;
  readonly seen: SeenConnection[];
  close(): Promise<void>;
}

function child(item: TtlvItem | undefined, name: string): TtlvItem | undefined {
  return item?.type === ItemType.Structure ? item.value.find((c) => c.tag === tag(name)) : undefined;
}

function text(item: TtlvItem | undefined): string | undefined {
  return item?.type === ItemType.TextString ? item.value : undefined;
}

/** What the request carried: its operation and the Username and Password of its first Credential. */
function readRequest(bytes: Uint8Array): Pick<SeenConnection, 'operation' | 'username' | 'password'> {
  const message = decodeTtlv(bytes);
  const value = child(
    child(child(child(message, 'RequestHeader'), 'Authentication'), 'Credential'),
    'CredentialValue',
  );
  const operation = child(child(message, 'BatchItem'), 'Operation');
  return {
    operation: operation?.type === ItemType.Enumeration ? operation.value : undefined,
    username: text(child(value, 'Username')),
    password: text(child(value, 'Password')),
  };
}

export async function startFakeServer(
  pki: TestPki,
  behaviour: Behaviour,
  tlsOptions: tls.TlsOptions = {},
): Promise<FakeServer> {
  const seen: SeenConnection[] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    cert: pki.serverCert,
    key: pki.serverKey,
    ca: pki.ca,
    ...tlsOptions,
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      // The drill client hangs up whenever it has seen enough.
    });
    const peer = socket.getPeerX509Certificate();
    const framer = new TtlvFramer({ maxMessageBytes: 1024 * 1024 });
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk, (request) => {
        seen.push({ protocol: socket.getProtocol(), certificate: peer, ...readRequest(request) });
        switch (behaviour) {
          case 'success':
            socket.write(queryResponse('success'));
            return;
          case 'auth-refused':
            socket.end(queryResponse({ reason: 'AuthenticationNotSuccessful', message: AUTH_MESSAGE }));
            return;
          case 'auth-refused-open':
            socket.write(queryResponse({ reason: 'AuthenticationNotSuccessful', message: AUTH_MESSAGE }));
            return;
          case 'close':
            socket.end();
            return;
          case 'silent':
            return;
          case 'garbage':
            socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
            return;
        }
      });
    });
  });
  server.on('tlsClientError', () => {
    // Refusals are the point of these servers; the client side reports them.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A TCP server that accepts connections and never says a word, TLS or otherwise. */
export async function startMuteTcpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}
