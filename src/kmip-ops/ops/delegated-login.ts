import { ItemType } from '../../ttlv/types.js';
import type { Fields } from '../../kmip/fields.js';
import { enumName, tags } from '../../kmip/vocabulary.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import type { Right } from '../tickets.js';
import { requestCount, ticketPayload } from './login.js';

const T = tags('Operation');

interface DelegatedLoginRequest {
  readonly lease: number | undefined;
  readonly count: number | undefined;
  readonly rights: readonly Right[];
}

/** One Right structure (KMIP 2.0 §7.28): its Operations by name and its Objects by Unique Identifier. */
function readRight(right: Fields, ctx: RequestContext): Right {
  if (right.optional('UsageLimits') !== undefined) {
    throw errors.featureNotSupported(
      'a Right with Usage Limits is not supported; give its operations and objects',
    );
  }
  const operations = right.struct('Operations');
  const objects = right.struct('Objects');
  return {
    operations:
      operations === undefined
        ? undefined
        : new Set(
            operations.enumerations('Operation').map((value) => enumName(ctx.version, T.Operation, value)),
          ),
    objects: objects === undefined ? undefined : new Set(objects.texts('UniqueIdentifier')),
  };
}

/**
 * Delegated Login (KMIP 2.0 §6.1.12): a Ticket, like Login's (login.ts), whose requests may only perform what at
 * least one of its Rights allows (tickets.ts `rightsAllow`: checked by the dispatcher on the objects a request
 * names, and by loadObject on each object an operation loads; Query lists only the operations they allow). It
 * serves the client that asked for it, never another (tickets.ts). The Lease Time (an Interval, or the Date Time
 * the ticket ends) and Request Count are Login's: an hour when 0 or absent, a day at most; a Request Count of 0 is
 * no limit. Usage Limits, on the request or on a Right, are refused as Feature Not Supported rather than ignored:
 * a ticket must not allow more than it was asked to.
 */
export const delegatedLogin = handler({
  operation: 'DelegatedLogin',
  since: '2.0',
  access: 'info',
  decodeRequest(payload, ctx): DelegatedLoginRequest {
    if (payload?.optional('UsageLimits') !== undefined) {
      throw errors.featureNotSupported('Delegated Login with Usage Limits is not supported');
    }
    // "The lease time Interval or Date Time for the ticket" (2.0 Table 184): a Date Time is when the ticket ends.
    const leaseItem = payload?.optional('LeaseTime');
    let lease: number | undefined;
    if (leaseItem?.type === ItemType.DateTime) {
      lease = Number(leaseItem.value) - Math.floor(ctx.now().getTime() / 1000);
      if (lease <= 0) throw errors.invalidField('the Lease Time of a Delegated Login is already past');
    } else {
      lease = payload?.interval('LeaseTime');
    }
    const count = requestCount(payload);
    const rights = payload?.struct('Rights');
    if (rights === undefined) throw errors.invalidField('Delegated Login needs the Rights the ticket grants');
    return { lease, count, rights: rights.structs('Right').map((right) => readRight(right, ctx)) };
  },
  execute(request: DelegatedLoginRequest, ctx) {
    // A ticket presented with this request may itself be delegated: the new one may not widen its Rights.
    if (ctx.rights !== undefined) {
      throw errors.permissionDenied('a Delegated Login ticket cannot delegate further');
    }
    return Promise.resolve(
      ctx.tickets.issue(ctx.principal.name, request.lease, request.count, request.rights),
    );
  },
  encodeResponse: ticketPayload,
});
