/**
 * A minimal KMIP client for tests: requests written as KMIP XML (readable in the test), sent as TTLV over mutual
 * TLS, responses decoded and shown as KMIP XML again. Independent of the server's dispatcher.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { TtlvFramer } from '../../src/ttlv/framer.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { messageToXml, readXmlMessages } from '../../src/kmip/text-messages.js';

export interface ClientFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export class TestKmipClient {
  private readonly framer = new TtlvFramer({ maxMessageBytes: 64 * 1024 * 1024 });
  private readonly waiting: ((message: Buffer) => void)[] = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk, (message) => this.waiting.shift()?.(Buffer.from(message)));
    });
  }

  static connect(host: string, port: number, files: ClientFiles): Promise<TestKmipClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host,
        port,
        ca: readFileSync(files.ca),
        cert: readFileSync(files.cert),
        key: readFileSync(files.key),
        servername: 'localhost',
      });
      socket.once('secureConnect', () => {
        resolve(new TestKmipClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends raw bytes and waits for one response message (raw). */
  sendBytes(bytes: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const closed = (): void => {
        reject(new Error('connection closed before a response'));
      };
      this.waiting.push((response) => {
        this.socket.off('close', closed);
        resolve(response);
      });
      this.socket.once('close', closed);
      this.socket.write(bytes);
    });
  }

  /** Sends one request written as KMIP XML; returns the response tree. */
  async request(xml: string): Promise<TtlvItem> {
    const [message] = readXmlMessages(xml, { now: BigInt(Math.floor(Date.now() / 1000)) }).messages;
    if (!message?.item) throw new Error(`test request does not parse: ${message?.error?.message ?? 'empty'}`);
    return decodeTtlv(await this.sendBytes(encodeTtlv(message.item)));
  }

  /** Sends one request written as KMIP XML; returns the response as KMIP XML. */
  async requestXml(xml: string): Promise<string> {
    return messageToXml(await this.request(xml));
  }

  close(): void {
    this.socket.end();
  }
}

/** A request message around batch items, in KMIP XML. */
export function requestXml(version: string, items: string, headerExtra = ''): string {
  const [major, minor] = version.split('.');
  const count = (items.match(/<BatchItem>/g) ?? []).length;
  return `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="${major ?? '1'}"/>
      <ProtocolVersionMinor type="Integer" value="${minor ?? '0'}"/>
    </ProtocolVersion>
    ${headerExtra}
    <BatchCount type="Integer" value="${count}"/>
  </RequestHeader>
  ${items}
</RequestMessage>`;
}

/** The text of the first element with this name in a KMIP XML document, e.g. value of UniqueIdentifier. */
export function valueOf(xml: string, element: string, nth = 0): string | undefined {
  const pattern = new RegExp(`<${element} type="[A-Za-z]+" value="([^"]*)"/>`, 'g');
  return [...xml.matchAll(pattern)][nth]?.[1];
}
