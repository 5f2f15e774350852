import { performance } from 'node:perf_hooks';

/** A connection counts as active for this long after its last request. */
const ACTIVE_MS = 20;
/** The count is made at most this often: it walks every connection seen lately. */
const RECOUNT_MS = 1;

/**
 * How many connections sent a request lately, over every listener (TTLV and HTTPS).
 *
 * The token's work for a request can run on the event loop or on a token thread (Pkcs11HsmOptions.gcmUnsealOnThread).
 * A hand-off pays only when other requests wait for the event loop meanwhile, and they do when several connections
 * are busy. Requests in flight do not tell that: the event loop reads a connection's request and runs it up to its
 * first real wait before it reads the next connection's, so the count stays at 1 under any load.
 */
export class ClientActivity {
  private readonly lastRequest = new Map<string, number>();
  private counted = 0;
  private countedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /**
   * A request from the connection with this peer address (address and port: one entry per connection). It also
   * recounts now and then, so that entries quiet for longer than ACTIVE_MS go even when nothing asks for the count;
   * a connection that closes goes at once (forget()).
   */
  noteRequest(peer: string): void {
    const now = this.clock();
    this.lastRequest.set(peer, now);
    if (now - this.countedAt >= RECOUNT_MS) this.recount(now);
  }

  /** The connection with this peer address has closed: it counts no more. */
  forget(peer: string): void {
    if (this.lastRequest.delete(peer)) this.countedAt = Number.NEGATIVE_INFINITY;
  }

  /** Connections with a request in the last ACTIVE_MS; ones quiet for longer are forgotten. */
  activeConnections(): number {
    const now = this.clock();
    if (now - this.countedAt >= RECOUNT_MS) this.recount(now);
    return this.counted;
  }

  /** Entries held: the connections of the last ACTIVE_MS, and those since the last recount. */
  get tracked(): number {
    return this.lastRequest.size;
  }

  private recount(now: number): void {
    let active = 0;
    for (const [peer, at] of this.lastRequest) {
      if (now - at > ACTIVE_MS) this.lastRequest.delete(peer);
      else active += 1;
    }
    this.counted = active;
    this.countedAt = now;
  }
}
