import { encodeTtlv } from '../ttlv/encode.js';
import { toHex } from '../ttlv/hex.js';
import { readJsonMessages, readXmlMessages, type TextMessages } from '../kmip/text-messages.js';
import { textNamesFor } from '../kmip/text-names.js';
import { parseCommandLine, readInput, UsageError, type Command } from './command.js';

/**
 * `kmipd encode --from xml|json [--now ISO] FILE`: one line per message of the file, in order: its TTLV as
 * lowercase hex, or `skip: <reason>` when it holds a placeholder that cannot be encoded. Other tools read this
 * output line by line, so its form is fixed.
 */
export const encodeCommand: Command = {
  name: 'encode',
  usage: 'encode --from xml|json [--now ISO] FILE',
  summary: 'print each message of a KMIP XML or JSON file as one line of TTLV hex',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      from: { type: 'string' },
      now: { type: 'string' },
    });
    const from = values.from;
    if (from !== 'xml' && from !== 'json') throw new UsageError('--from must be xml or json');
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('exactly one FILE is needed');
    let nowMs = Date.now();
    if (values.now !== undefined) {
      nowMs = Date.parse(values.now);
      if (Number.isNaN(nowMs) || !/^\d{4}-\d{2}-\d{2}T/.test(values.now)) {
        throw new UsageError(`--now '${values.now}' is not an ISO 8601 date-time`);
      }
    }
    const now = BigInt(Math.floor(nowMs / 1000));
    const text = (await readInput(file)).toString('utf8');
    let read: TextMessages;
    try {
      read = from === 'xml' ? readXmlMessages(text, { now }) : readJsonMessages(text, { now });
    } catch (error) {
      process.stderr.write(
        `kmipd encode: ${file}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 1;
    }
    for (const warning of read.warnings) process.stderr.write(`warning: ${file}: ${warning}\n`);
    let failed = false;
    for (const message of read.messages) {
      if (message.item) {
        process.stdout.write(`${toHex(encodeTtlv(message.item))}\n`);
      } else if (message.error?.code === 'placeholder') {
        process.stdout.write(`skip: ${message.error.detail}\n`);
      } else {
        failed = true;
        const where = message.line === undefined ? '' : ` (line ${message.line})`;
        const reason = message.error?.describe(textNamesFor(message.version)) ?? 'unknown error';
        process.stdout.write(`error: ${message.name}${where}: ${reason}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};
