import { handler } from '../context.js';
import { errors } from '../errors.js';

/** The longest Log Message kept: it goes into the server's log, which a client must not be able to flood. */
const MAX_LOG_MESSAGE = 4096;

/**
 * Log (KMIP 2.0 §6.1.29, 2.1 §6.1.29): "requests the server to log a message to the server log"; the response
 * payload is empty. The message goes to the operational log with the principal that sent it, cut to
 * MAX_LOG_MESSAGE characters.
 */
export const log = handler({
  operation: 'Log',
  since: '2.0',
  access: 'info',
  decodeRequest(payload) {
    const message = payload?.text('LogMessage');
    if (message === undefined) throw errors.invalidField('Log needs a Log Message');
    return message;
  },
  execute(message: string, ctx) {
    ctx.log.info('client log message', {
      principal: ctx.principal.name,
      correlationId: ctx.correlationId,
      message: message.slice(0, MAX_LOG_MESSAGE),
      ...(message.length > MAX_LOG_MESSAGE ? { truncatedFrom: message.length } : {}),
    });
    return Promise.resolve(undefined);
  },
  encodeResponse() {
    return [];
  },
});
