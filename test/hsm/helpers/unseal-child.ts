/**
 * Run by pkcs11-hsm.test.ts in a separate process: a real restart. Opens the embedded token of the data directory
 * in argv[2], unseals the secret given as JSON in argv[3] ({ kek, sealed } with base64 blobs) and prints its
 * plaintext as hex on stdout. Exit 1 with the HsmError code on stderr otherwise.
 */
import { openPkcs11Hsm } from '../../../src/hsm/pkcs11-hsm.js';
import { HsmError, type SealedKek, type SealedSecret } from '../../../src/hsm/hsm.js';

interface Wire {
  readonly kek: { readonly id: string; readonly masterLabel: string; readonly blob: string };
  readonly sealed: { readonly kekId: string; readonly format: SealedSecret['format']; readonly blob: string };
  readonly tokenLabel: string;
}

const [dataDir, json] = process.argv.slice(2);
if (dataDir === undefined || json === undefined) throw new Error('usage: unseal-child DIR JSON');
const wire = JSON.parse(json) as Wire;
const kek: SealedKek = { ...wire.kek, blob: Buffer.from(wire.kek.blob, 'base64') };
const sealed: SealedSecret = { ...wire.sealed, blob: Buffer.from(wire.sealed.blob, 'base64') };
try {
  const hsm = await openPkcs11Hsm({ token: { kind: 'softhsm', dataDir, tokenLabel: wire.tokenLabel } });
  const plaintext = await hsm.unseal(kek, sealed);
  process.stdout.write(
    `${JSON.stringify({ created: hsm.report.token.created, plaintext: Buffer.from(plaintext).toString('hex') })}\n`,
  );
  await hsm.close();
} catch (error) {
  process.stderr.write(`${error instanceof HsmError ? error.code : 'error'}\n`);
  process.exitCode = 1;
}
