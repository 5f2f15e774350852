/**
 * The cryptographic calls of the Hsm contract inside a real SoftHSM2 token (a fresh token in a temporary data
 * directory: one SoftHSM2 configuration per process, so this file has its own).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openPkcs11Hsm } from '../../src/hsm/pkcs11-hsm.js';
import { DEFAULT_SOFTHSM_MODULE } from '../../src/hsm/token.js';
import { cryptoContract } from './crypto-contract.js';

if (!existsSync(DEFAULT_SOFTHSM_MODULE)) {
  console.log(`token crypto tests skipped: ${DEFAULT_SOFTHSM_MODULE} is absent (install softhsm2)`);
  test.skip('token crypto over SoftHSM2', (t) => {
    t.pass();
  });
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'kmipd-crypto-'));
  test.after.always(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  cryptoContract(test, {
    open: () => openPkcs11Hsm({ token: { kind: 'softhsm', dataDir, tokenLabel: 'kmipd-crypto', env: {} } }),
    token: true,
  });
}
