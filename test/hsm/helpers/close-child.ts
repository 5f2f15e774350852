/**
 * Run by pkcs11-hsm.test.ts in a separate process, where nothing but the Hsm keeps the event loop alive. Opens the
 * embedded token of the data directory in argv[2] (label argv[3]) again and again; each time it aborts multi-part
 * operations (an abort is a token-thread call nobody awaits) and closes the Hsm while those calls are still on the
 * token threads, after a varying pause. Prints "closed N" when every close() settled. A close whose thread the
 * process stopped referencing while it waited never settles: Node then exits with status 13 (unsettled top-level
 * await) without printing.
 */
import { randomBytes } from 'node:crypto';
import { openPkcs11Hsm } from '../../../src/hsm/pkcs11-hsm.js';

const ROUNDS = 24;
const [dataDir, tokenLabel] = process.argv.slice(2);
if (dataDir === undefined || tokenLabel === undefined) throw new Error('usage: close-child DIR LABEL');
const pauses: (() => Promise<void>)[] = [
  () => Promise.resolve(),
  () => new Promise((resolve) => setImmediate(resolve)),
  () => new Promise((resolve) => setTimeout(resolve, 0)),
];
for (let round = 0; round < ROUNDS; round++) {
  const hsm = await openPkcs11Hsm({ token: { kind: 'softhsm', dataDir, tokenLabel } });
  const bytes = randomBytes(32);
  const key = {
    id: 'k',
    source: () => Promise.resolve({ kind: 'secret-bytes', keyType: 'AES', bytes } as const),
  };
  const gcm = { algorithm: 'AES', mode: 'GCM', iv: randomBytes(12) } as const;
  const streams = await Promise.all(
    Array.from({ length: 4 }, () => hsm.beginStream(key, { kind: 'encrypt', spec: gcm })),
  );
  for (const id of streams) hsm.abortStream(id);
  await pauses[round % pauses.length]?.();
  await hsm.close();
}
process.stdout.write(`closed ${String(ROUNDS)}\n`);
