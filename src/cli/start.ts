import type { Command } from './command.js';

/** `kmipd start`: the KMIP server. The listener, token and store arrive with the appliance core (issue 3). */
export const startCommand: Command = {
  name: 'start',
  usage: 'start [--data DIR]',
  summary: 'run the KMIP server (not built yet)',
  run() {
    process.stderr.write(
      'kmipd start: the KMIP server is not built yet. The TTLV codec and the encode/decode commands work today.\n',
    );
    return Promise.resolve(1);
  },
};
