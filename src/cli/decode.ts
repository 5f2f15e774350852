import { decodeTtlv } from '../ttlv/decode.js';
import { TtlvError } from '../ttlv/errors.js';
import { TtlvFramer } from '../ttlv/framer.js';
import { parseHex } from '../ttlv/hex.js';
import type { TtlvItem } from '../ttlv/types.js';
import { messageToJson, messageToXml, newestVersion } from '../kmip/text-messages.js';
import { textNamesFor } from '../kmip/text-names.js';
import { parseCommandLine, readInput, UsageError, type Command } from './command.js';

/** Largest message `decode` accepts: generous, since it reads files, not a network peer. */
const maxMessageBytes = 64 * 1024 * 1024;

/**
 * `kmipd decode [--to xml|json] [FILE|-]`: reads TTLV (binary, or hex text in any of the forms parseHex accepts)
 * holding one or more messages and prints each with names resolved. Bad input exits 1 with the TtlvError's code,
 * byte offset and tag path.
 */
export const decodeCommand: Command = {
  name: 'decode',
  usage: 'decode [--to xml|json] [FILE|-]',
  summary: 'print TTLV (binary or hex) as KMIP XML or JSON, with names resolved',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { to: { type: 'string', default: 'xml' } });
    const to = values.to;
    if (to !== 'xml' && to !== 'json') throw new UsageError('--to must be xml or json');
    if (positionals.length > 1) throw new UsageError('at most one FILE');
    const input = await readInput(positionals[0] ?? '-');
    const namer = textNamesFor(newestVersion);
    const messages: TtlvItem[] = [];
    let offset = 0;
    try {
      // Binary TTLV starts with a 0x42 tag byte; anything else is taken as hex text.
      const bytes = input[0] === 0x42 ? input : parseHex(input.toString('latin1'));
      const framer = new TtlvFramer({ maxMessageBytes });
      framer.push(bytes, (message) => {
        try {
          messages.push(decodeTtlv(message, { maxBytes: maxMessageBytes }));
        } catch (error) {
          if (error instanceof TtlvError) {
            throw new TtlvError(error.code, offset + error.offset, error.path, error.detail);
          }
          throw error;
        }
        offset += message.length;
      });
      if (framer.pending > 0) {
        throw new TtlvError('truncated', offset, [], `input ends ${framer.pending} bytes into a message`);
      }
      if (messages.length === 0) throw new TtlvError('truncated', 0, [], 'no message in the input');
    } catch (error) {
      if (!(error instanceof TtlvError)) throw error;
      process.stderr.write(`kmipd decode: ${error.describe(namer)}\n`);
      return 1;
    }
    for (const message of messages) {
      process.stdout.write(
        to === 'xml' ? `${messageToXml(message)}\n` : `${JSON.stringify(messageToJson(message), null, 2)}\n`,
      );
    }
    return 0;
  },
};
