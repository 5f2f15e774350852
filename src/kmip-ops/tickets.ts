import { randomBytes } from 'node:crypto';
import { errors } from './errors.js';

/**
 * Login tickets (KMIP 2.0 §6.1.30 Login, §6.1.31 Logout; §2.1.13 Ticket): a Login answers a Ticket that later
 * requests present as their Credential (Credential Type Ticket) instead of signing in again. A ticket belongs to the
 * principal that logged in and serves no other; it ends with its Lease Time, after its Request Count, or at Logout.
 * Tickets live in this process only: a restart logs every client out.
 *
 * A Delegated Login (KMIP 2.0 §6.1.12) ticket also carries Rights: requests presenting it may only perform what at
 * least one of them allows. It narrows what its principal may do, and like a Login ticket it serves no other
 * principal: identity here is the client's certificate, and a ticket is a bearer value, so a ticket copied to
 * another client must not make that client someone else.
 */

/**
 * One Right (KMIP 2.0 §7.28): the operations it allows, on the objects it names; "if any field is omitted, then
 * that aspect is unrestricted".
 */
export interface Right {
  /** Operation names; undefined: any operation. */
  readonly operations: ReadonlySet<string> | undefined;
  /** Unique Identifiers; undefined: any object, or none (an operation that names no object). */
  readonly objects: ReadonlySet<string> | undefined;
}

export interface Ticket {
  readonly principal: string;
  /** Delegated Login's Rights; undefined for a Login ticket, which allows whatever its principal may do. */
  readonly rights: readonly Right[] | undefined;
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
  issue(
    principal: string,
    leaseSeconds: number | undefined,
    requestCount: number | undefined,
    rights?: readonly Right[],
  ): Uint8Array {
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
      rights,
      remaining: requestCount !== undefined && requestCount > 0 ? requestCount : undefined,
      expiresAt: this.now() + Math.min(lease, MAX_LEASE_SECONDS),
    });
    return value;
  }

  /**
   * Takes one request from the ticket `value` presented by `principal`. A ticket unknown, ended or another
   * principal's is Invalid Ticket; one whose Request Count is spent is Usage Limit Exceeded (and is then ended).
   * Answers the ticket's Rights (undefined: a Login ticket).
   */
  use(value: Uint8Array, principal: string): readonly Right[] | undefined {
    const ticket = this.find(value, principal);
    if (ticket.remaining !== undefined) {
      if (ticket.remaining <= 0) {
        this.tickets.delete(Buffer.from(value).toString('hex'));
        throw errors.usageLimitExceeded('this ticket has served the number of requests its Login allowed');
      }
      ticket.remaining -= 1;
    }
    return ticket.rights;
  }

  /** Whether `value` is a Delegated Login ticket (one with Rights), whatever its state. */
  isDelegated(value: Uint8Array): boolean {
    return this.tickets.get(Buffer.from(value).toString('hex'))?.rights !== undefined;
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

/**
 * Whether Rights allow an operation on an object (undefined: the request names none). A Right that names objects
 * allows nothing that names no object: an operation such as Create or Locate is not "on" the objects it lists.
 */
export function rightsAllow(rights: readonly Right[], operation: string, uid: string | undefined): boolean {
  return rights.some(
    (right) =>
      (right.operations === undefined || right.operations.has(operation)) &&
      (right.objects === undefined || (uid !== undefined && right.objects.has(uid))),
  );
}
