import type { TtlvItem } from '../../ttlv/types.js';
import { enumValues } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';

const InteropFunction = enumValues('InteropFunction', 'Begin', 'End', 'Reset');

interface InteropRequest {
  readonly fn: number;
  readonly identifier: string;
}

/**
 * Interop (KMIP 2.0 §6.1.25, 2.1 §6.1.26): a client marks where an interoperability test case begins and ends
 * (Interop Function, §11.22; Interop Identifier, the test case's name). The response payload is empty (Table 224).
 *
 * Begin and End change nothing here: the server acknowledges them and writes the marker to the operational log, so
 * that a lab run can be read test case by test case. Reset ("resets the server to the state it would be in at the
 * beginning of an interop session") would mean discarding every object; this server does not do that, and says so
 * with Feature Not Supported (one of the reasons §6.1.25.1 lists) instead of claiming a reset it did not make.
 *
 * The operation exists from KMIP 2.0 on (the dispatcher answers 1.x with Operation Not Supported). §6.1.25 says it
 * SHALL NOT be available in a production server; this one changes no state for it, and answers it to let the
 * OASIS test cases (BL-M-*-21, TC-*-20), which wrap every case in Begin/End, run against it.
 */
export const interop = handler({
  operation: 'Interop',
  since: '2.0',
  access: 'info',
  decodeRequest(payload): InteropRequest {
    if (!payload) throw errors.invalidField('Interop needs an Interop Function and an Interop Identifier');
    return {
      fn: payload.requiredEnumeration('InteropFunction'),
      identifier: payload.requiredText('InteropIdentifier'),
    };
  },
  execute({ fn, identifier }: InteropRequest, ctx) {
    if (fn === InteropFunction.Reset) {
      throw errors.featureNotSupported('Interop Reset is not supported: this server keeps its objects');
    }
    if (fn !== InteropFunction.Begin && fn !== InteropFunction.End) {
      throw errors.invalidField(`Interop Function ${String(fn)} is not Begin, End or Reset`);
    }
    ctx.log.info(fn === InteropFunction.Begin ? 'interop test begins' : 'interop test ends', {
      correlationId: ctx.correlationId,
      principal: ctx.principal.name,
      interopIdentifier: identifier,
    });
    return Promise.resolve();
  },
  encodeResponse(): TtlvItem[] {
    return [];
  },
});
