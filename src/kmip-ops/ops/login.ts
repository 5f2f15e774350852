import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import type { Fields } from '../../kmip/fields.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';

const T = tags('Ticket', 'TicketType', 'TicketValue');
const TicketType = enumValues('TicketType', 'Login');

/** A Login or Delegated Login request's Request Count (absent or 0: no limit; tickets.ts). */
export function requestCount(payload: Fields | undefined): number | undefined {
  const count = payload?.integer('RequestCount');
  if (count !== undefined && count < 0) throw errors.invalidField('Request Count cannot be negative');
  return count;
}

/** The response payload of Login and Delegated Login: the Ticket. */
export function ticketPayload(value: Uint8Array): TtlvItem[] {
  return [
    ttlv.structure(T.Ticket, [
      ttlv.enumeration(T.TicketType, TicketType.Login),
      ttlv.byteString(T.TicketValue, value),
    ]),
  ];
}

/**
 * Login (KMIP 2.0 §6.1.30): a Ticket for later requests of the same client (Credential Type Ticket; tickets.ts),
 * valid for the Lease Time asked (an hour when 0 or absent, a day at most) and, with a Request Count, for that many
 * requests. The client is the principal its certificate (and Credential) made; the ticket serves that principal only.
 */
export const login = handler({
  operation: 'Login',
  since: '2.0',
  access: 'info',
  decodeRequest(payload): { lease: number | undefined; count: number | undefined } {
    return { lease: payload?.interval('LeaseTime'), count: requestCount(payload) };
  },
  execute(request: { lease: number | undefined; count: number | undefined }, ctx) {
    // A Delegated Login ticket's holder may not trade it for one without its Rights (delegated-login.ts).
    if (ctx.rights !== undefined)
      throw errors.permissionDenied('a Delegated Login ticket cannot log in again');
    return Promise.resolve(ctx.tickets.issue(ctx.principal.name, request.lease, request.count));
  },
  encodeResponse: ticketPayload,
});

/** Logout (KMIP 2.0 §6.1.31): ends the client's own ticket; later requests presenting it are Invalid Ticket. */
export const logout = handler({
  operation: 'Logout',
  since: '2.0',
  access: 'info',
  decodeRequest(payload): Uint8Array {
    const value = payload?.struct('Ticket')?.bytes('TicketValue');
    if (value === undefined) throw errors.invalidField('Logout needs the Ticket to end');
    return value;
  },
  execute(value: Uint8Array, ctx) {
    ctx.tickets.end(value, ctx.principal.name);
    return Promise.resolve(undefined);
  },
  encodeResponse(): TtlvItem[] {
    return [];
  },
});
