/**
 * A fixed set of logged-in sessions, lent out one call at a time. A PKCS#11 session runs one operation at a time
 * and must not be used from two threads at once (PKCS#11 v2.40 Usage Guide, on sessions in
 * multi-threaded applications),
 * and the *Async calls run on libuv worker threads: so each call borrows a session for itself and gives it back.
 * Waiting callers are served in arrival order.
 */
import { HsmError } from './hsm.js';
import type { Handle } from './pkcs11-module.js';

interface Waiter {
  readonly resolve: (session: Handle) => void;
  readonly reject: (error: HsmError) => void;
}

export class SessionPool {
  private readonly idle: Handle[];
  private readonly all: readonly Handle[];
  private readonly waiters: Waiter[] = [];
  private lent = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(
    sessions: readonly Handle[],
    private readonly closeSession: (session: Handle) => void,
  ) {
    this.all = sessions;
    this.idle = [...sessions];
  }

  get size(): number {
    return this.all.length;
  }

  /** Runs `fn` with a session of its own; the session comes back to the pool whatever `fn` does. */
  async use<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    const session = await this.borrow();
    try {
      return await fn(session);
    } finally {
      this.giveBack(session);
    }
  }

  /** Refuses new calls, lets the calls in flight finish, then closes every session (and so its session objects). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedError());
    if (this.lent > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    for (const session of this.all) {
      try {
        this.closeSession(session);
      } catch {
        // A session the token already dropped is as closed as it gets.
      }
    }
    this.idle.length = 0;
  }

  private borrow(): Promise<Handle> {
    if (this.closing) return Promise.reject(closedError());
    const session = this.idle.pop();
    if (session !== undefined) {
      this.lent += 1;
      return Promise.resolve(session);
    }
    // A waiter is handed a session that stays lent throughout, so close() never sees it idle in transit.
    return new Promise<Handle>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  private giveBack(session: Handle): void {
    const next = this.waiters.shift();
    if (next !== undefined) {
      next.resolve(session);
      return;
    }
    this.lent -= 1;
    this.idle.push(session);
    if (this.closing && this.lent === 0) this.drained?.();
  }
}

/**
 * At most `limit` holders at a time. Used for key pair generation: an RSA generation holds a session and a libuv
 * worker thread for a second or more, so capping them keeps sessions and threads free for the fast calls.
 */
export class Gate {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => {
        this.queue.push(resolve);
      });
    } else {
      this.active += 1;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}

function closedError(): HsmError {
  return new HsmError('not-initialised', 'the HSM is closed');
}
