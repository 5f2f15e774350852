import { TtlvError } from './errors.js';
import { ItemType } from './types.js';

export interface FramerOptions {
  /**
   * Largest message accepted, header included. It bounds the memory one connection can make us hold: a header
   * claiming more is refused before a byte of its body is buffered.
   */
  readonly maxMessageBytes: number;
}

/**
 * Cuts a byte stream into whole TTLV messages, whatever the chunking (pg-protocol's parser shape: one buffer with a
 * read cursor, compacted or grown only when needed).
 *
 * Each message must be a top-level Structure with a tag of the form 0x42xxxx (KMIP 1.4 §9.1: Request Message
 * 0x420078 and Response Message 0x42007B). The header is checked byte by byte as it arrives, so garbage (a TLS
 * record or "GET /" sent to the wrong port) is refused at its first byte. After an error the stream has lost its
 * framing, so every later push throws the same error.
 *
 * The Uint8Array handed to `onMessage` is a view into the framer's buffer, valid only during the callback.
 */
export class TtlvFramer {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private failure: TtlvError | undefined;
  /** Total bytes consumed before `buf[start]`, so errors can name a stream offset. */
  private consumed = 0;

  constructor(private readonly options: FramerOptions) {
    if (options.maxMessageBytes < 8) throw new RangeError('maxMessageBytes must allow at least a header');
  }

  /** Bytes of an incomplete message held so far. */
  get pending(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): void {
    if (this.failure) throw this.failure;
    this.append(chunk);
    for (;;) {
      const available = this.end - this.start;
      const header = this.checkHeader(available);
      if (header === undefined) break;
      if (available < header) break;
      const message = this.buf.subarray(this.start, this.start + header);
      this.start += header;
      this.consumed += header;
      onMessage(message);
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Checks the bytes of the header present so far; returns the whole message length once it is known. */
  private checkHeader(available: number): number | undefined {
    const { buf, start } = this;
    if (available >= 1 && buf[start] !== 0x42) {
      this.reject('bad-header', 0, `first byte 0x${hexByte(buf, start)} is not a KMIP tag (0x42xxxx)`);
    }
    if (available >= 4 && buf[start + 3] !== ItemType.Structure) {
      this.reject(
        'bad-header',
        3,
        `item type 0x${hexByte(buf, start + 3)} where a message Structure (0x01) must be`,
      );
    }
    if (available < 8) return undefined;
    const length = buf.readUInt32BE(start + 4);
    if (length % 8 !== 0) this.reject('bad-header', 4, `structure length ${length} is not a multiple of 8`);
    if (length + 8 > this.options.maxMessageBytes) {
      this.reject(
        'too-large',
        4,
        `message of ${length + 8} bytes exceeds the limit of ${this.options.maxMessageBytes}`,
      );
    }
    return length + 8;
  }

  private reject(code: 'bad-header' | 'too-large', at: number, detail: string): never {
    const tag = this.end - this.start >= 3 ? this.buf.readUIntBE(this.start, 3) : undefined;
    this.failure = new TtlvError(code, this.consumed + at, tag === undefined ? [] : [tag], detail);
    throw this.failure;
  }

  private append(chunk: Uint8Array): void {
    const needed = this.end - this.start + chunk.length;
    if (this.end + chunk.length > this.buf.length) {
      if (needed <= this.buf.length) {
        // Enough room once the consumed prefix is dropped.
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        let size = Math.max(this.buf.length * 2, 4096);
        while (size < needed) size *= 2;
        const next = Buffer.allocUnsafe(size);
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
      }
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}

function hexByte(buf: Buffer, at: number): string {
  return buf.readUInt8(at).toString(16).padStart(2, '0');
}
