import { createWriteStream, type WriteStream } from 'node:fs';

/** How long an audit line may wait to be written with the next ones: the window an abrupt crash can lose. */
const FLUSH_MS = 10;
/** A batch this long is written at once. */
const BATCH_LINES = 256;

/**
 * The audit trail file (DIR/logs/audit.log): one JSON line per event, appended, readable by its owner only.
 *
 * Lines are written in batches: one write per line costs about as much as a Get (measured: 50-90 µs a call through
 * winston's stream pipeline, one request at a time). A batch goes out FLUSH_MS after its first line, or at once when
 * it holds BATCH_LINES.
 *
 * This is a plain append stream rather than a winston transport: under load, winston's File transport pushes back,
 * and winston's end() then ends the transport while the logger still holds lines for it. close() lost batches that
 * way (512 of 1,000 lines made it to the file) or threw "write after end" from the stream (an uncaught error event
 * that ends the process). Here the stream buffers whatever it is given, and close() resolves only once every line
 * is in the file.
 */
export class AuditTrail {
  private readonly stream: WriteStream;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    path: string,
    /** Told once, of the first write failure (a full disk, say); the server goes on serving without its trail. */
    private readonly onError: (error: Error) => void,
  ) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (error) => {
      if (this.failure) return;
      this.failure = error;
      this.onError(error);
    });
  }

  /** Queues one line (without its newline). Lines given after close() are dropped: the file is closed. */
  write(line: string): void {
    if (this.closing || this.failure) return;
    this.pending.push(line);
    if (this.pending.length >= BATCH_LINES) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.flush();
      }, FLUSH_MS);
      // A pending batch does not keep the process alive; close() writes it.
      this.timer.unref();
    }
  }

  /** Writes what is pending and closes the file; resolves when every line is in it (or the file failed). */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.flush();
      if (this.failure || this.stream.destroyed) {
        resolve();
        return;
      }
      this.stream.once('close', () => {
        resolve();
      });
      this.stream.end();
    });
    return this.closing;
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.failure) return;
    this.stream.write(this.pending.join('\n') + '\n');
    this.pending = [];
  }
}
