/**
 * Token bootstrap cases that need a process of their own (SoftHSM2 reads its configuration once per process, and
 * a PIN is only checked while nobody in the process is logged in): PINs from the environment, a wrong PIN, a
 * missing PIN, a token left half-made, label limits. Uses openToken directly, which leaves no session open.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { HsmError } from '../../src/hsm/hsm.js';
import { ck, loadModule } from '../../src/hsm/pkcs11-module.js';
import { DEFAULT_SOFTHSM_MODULE, openToken, SO_PIN_ENV, USER_PIN_ENV } from '../../src/hsm/token.js';

const present = existsSync(DEFAULT_SOFTHSM_MODULE);
if (!present) console.log(`token tests skipped: ${DEFAULT_SOFTHSM_MODULE} is absent (install softhsm2)`);
const serial = present ? test.serial : test.skip;

const dataDir = mkdtempSync(join(tmpdir(), 'kmipd-token-'));
const env = { [USER_PIN_ENV]: 'user-pin-from-env-1234', [SO_PIN_ENV]: 'so-pin-from-env-5678' };

test.after.always(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function openFailure(fn: () => unknown): HsmError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HsmError) return error;
    throw error;
  }
  throw new Error('expected an HsmError');
}

serial('PINs from the environment create the token and are never written to disk', (t) => {
  const token = openToken({ kind: 'softhsm', dataDir, tokenLabel: 'env-token', env });
  t.true(token.report.created);
  t.is(token.report.pinSource, 'env');
  t.is(token.report.pinsFile, undefined);
  t.false(existsSync(join(dataDir, 'hsm', 'pins.json')));
  const again = openToken({ kind: 'softhsm', dataDir, tokenLabel: 'env-token', env });
  t.false(again.report.created);
  t.is(again.report.serialNumber, token.report.serialNumber);
});

serial('without a PIN in the environment or pins.json an existing token is refused', (t) => {
  const error = openFailure(() => openToken({ kind: 'softhsm', dataDir, tokenLabel: 'env-token', env: {} }));
  t.is(error.code, 'login-failed');
  t.regex(error.detail, new RegExp(USER_PIN_ENV));
});

serial('a wrong PIN fails with login-failed, the CKR name, and not the PIN', (t) => {
  const wrongPin = 'not-the-pin-0123456789';
  for (const options of [
    { kind: 'softhsm', dataDir, tokenLabel: 'env-token', env: { [USER_PIN_ENV]: wrongPin } },
    { kind: 'external', modulePath: DEFAULT_SOFTHSM_MODULE, tokenLabel: 'env-token', userPin: wrongPin },
  ] as const) {
    const error = openFailure(() => openToken(options));
    t.is(error.code, 'login-failed', options.kind);
    t.regex(error.detail, /CKR_PIN_INCORRECT/);
    t.false(error.message.includes(wrongPin));
    t.false(error.detail.includes(wrongPin));
  }
});

serial('external mode opens an existing token by label and refuses an unknown one', (t) => {
  const token = openToken({
    kind: 'external',
    modulePath: DEFAULT_SOFTHSM_MODULE,
    tokenLabel: 'env-token',
    userPin: env[USER_PIN_ENV],
  });
  t.is(token.report.pinSource, 'given');
  t.false(token.report.created);
  const error = openFailure(() =>
    openToken({ kind: 'external', modulePath: DEFAULT_SOFTHSM_MODULE, tokenLabel: 'absent', userPin: 'x' }),
  );
  t.is(error.code, 'not-initialised');
});

serial('a token left without a user PIN (crash after C_InitToken) is finished with the SO PIN', (t) => {
  const pkcs11 = loadModule(DEFAULT_SOFTHSM_MODULE);
  const free = pkcs11
    .C_GetSlotList(true)
    .find((slot) => (pkcs11.C_GetTokenInfo(slot).flags & ck.CKF_TOKEN_INITIALIZED) === 0);
  if (free === undefined) return t.fail('SoftHSM2 has no free slot');
  pkcs11.C_InitToken(free, env[SO_PIN_ENV], 'half-made'.padEnd(32, ' '));
  const token = openToken({ kind: 'softhsm', dataDir, tokenLabel: 'half-made', env });
  t.false(token.report.created);
  token.closeSession(token.openSession());
  return undefined;
});

serial('token labels longer than 32 bytes or with outer blanks are refused', (t) => {
  for (const tokenLabel of ['x'.repeat(33), ' padded', '']) {
    const error = openFailure(() => openToken({ kind: 'softhsm', dataDir, tokenLabel, env }));
    t.is(error.code, 'not-initialised', JSON.stringify(tokenLabel));
  }
});
