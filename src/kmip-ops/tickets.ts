import { randomBytes } from 'node:crypto';
import { errors } from './errors.js';

/**
 * Login tickets (KMIP 2.0 §6.1.30 Login, §6.1.31 Logout; §2.1.13 Ticket): a Login answers a Ticket that later
 * requests present as their Credential (Credential Type Ticket) instead of signing in again. A ticket belongs to the
 * principal that logged in and serves no other; it ends with its Lease Time, after its Request Count, or at Logout.
 * Tickets live in this process only: a restart logs every client out.
 */
export interface Ticket {
  readonly principal: string;
  /** Requests it may still authenticate; undefined: no limit. */
  remaining: number | undefined;
  /** Seconds since the epoch after which it is no longer valid. */
  readonly expiresAt: number;
}

/** A Lease Time of 0 or none: this long (seconds). */
const DEFAULT_LEASE_SECONDS = 3600;
/** The longest lease granted, whatever the request asks. */
const MAX_LEASE_SECONDS = 24 * 3600;
/** Tickets kept at once; the oldest go first beyond this (a client logging in in a loop cannot grow the map). */
const MAX_TICKETS = 10_000;

export class TicketBook {
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  /** A new ticket for `principal`: 32 random bytes, as the Ticket Value. */
  issue(principal: string, leaseSeconds: number | undefined, requestCount: number | undefined): Uint8Array {
    this.sweep();
    while (this.tickets.size >= MAX_TICKETS) {
      const oldest = this.tickets.keys().next().value;
      if (oldest === undefined) break;
      this.tickets.delete(oldest);
    }
    const lease = leaseSeconds === undefined || leaseSeconds <= 0 ? DEFAULT_LEASE_SECONDS : leaseSeconds;
    const value = randomBytes(32);
    this.tickets.set(value.toString('hex'), {
      principal,
      remaining: requestCount !== undefined && requestCount > 0 ? requestCount : undefined,
      expiresAt: this.now() + Math.min(lease, MAX_LEASE_SECONDS),
    });
    return value;
  }

  /**
   * Takes one request from the ticket `value` presented by `principal`. A ticket unknown, ended or another
   * principal's is Invalid Ticket; one whose Request Count is spent is Usage Limit Exceeded (and is then ended).
   */
  use(value: Uint8Array, principal: string): void {
    const ticket = this.find(value, principal);
    if (ticket.remaining !== undefined) {
      if (ticket.remaining <= 0) {
        this.tickets.delete(Buffer.from(value).toString('hex'));
        throw errors.usageLimitExceeded('this ticket has served the number of requests its Login allowed');
      }
      ticket.remaining -= 1;
    }
  }

  /** Logout: ends the ticket, which must be the principal's own and still valid. */
  end(value: Uint8Array, principal: string): void {
    this.find(value, principal);
    this.tickets.delete(Buffer.from(value).toString('hex'));
  }

  private find(value: Uint8Array, principal: string): Ticket {
    const ticket = this.tickets.get(Buffer.from(value).toString('hex'));
    if (ticket?.principal !== principal || ticket.expiresAt <= this.now()) {
      throw errors.invalidTicket(
        'the ticket is unknown, has ended (Logout, Lease Time), or is not this client’s',
      );
    }
    return ticket;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, ticket] of this.tickets) if (ticket.expiresAt <= now) this.tickets.delete(key);
  }
}
