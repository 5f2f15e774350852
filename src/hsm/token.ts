/**
 * Finding (and, for the embedded SoftHSM2 default, creating) the token the server keeps its master keys in.
 *
 * Embedded default ({ kind: 'softhsm', dataDir }): everything lives in DIR/hsm, private to the server's user:
 *
 *   DIR/hsm/            0700
 *   DIR/hsm/softhsm2.conf  0600  tokendir DIR/hsm/tokens, file object store, errors-only log; SOFTHSM2_CONF
 *   DIR/hsm/tokens/     0700  SoftHSM2's token files (objects encrypted by SoftHSM2 under a key derived from the PIN)
 *   DIR/hsm/pins.json   0600  only the PINs this code generated; PINs given in the environment are never written
 *
 * The first start initialises a token with the given label on SoftHSM2's free slot and sets its user PIN
 * (PKCS#11 v2.40 §5.5, C_InitToken and C_InitPIN); later starts find it by label and reuse it. SoftHSM2 renumbers
 * its slots after C_InitToken, so a token is only ever found by label, never by slot number.
 *
 * Production HSM ({ kind: 'external' }): the token must already exist; it is found by label and logged into with
 * the PIN given, and nothing is written to disk.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HsmError } from './hsm.js';
import {
  call,
  ck,
  ckrName,
  loadModule,
  toHsmError,
  type Handle,
  type Pkcs11,
  type TokenInfo,
} from './pkcs11-module.js';

export const DEFAULT_SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN_ENV = 'KMIPD_HSM_USER_PIN';
export const SO_PIN_ENV = 'KMIPD_HSM_SO_PIN';

/** The token label field is 32 bytes, blank padded (PKCS#11 v2.40 §3.2 CK_TOKEN_INFO). */
const LABEL_BYTES = 32;

export interface SoftHsmTokenOptions {
  readonly kind: 'softhsm';
  readonly dataDir: string;
  readonly tokenLabel: string;
  /** Default DEFAULT_SOFTHSM_MODULE. */
  readonly modulePath?: string;
  /** Where KMIPD_HSM_USER_PIN / KMIPD_HSM_SO_PIN are read from; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ExternalTokenOptions {
  readonly kind: 'external';
  readonly modulePath: string;
  readonly tokenLabel: string;
  readonly userPin: string;
}

export type TokenOptions = SoftHsmTokenOptions | ExternalTokenOptions;

/** What bootstrap found or made, for the start-up banner ("created token X in DIR/hsm"). Holds no secret. */
export interface TokenReport {
  readonly modulePath: string;
  readonly tokenLabel: string;
  readonly serialNumber: string;
  /**
   * The slot says it is a hardware device (PKCS#11 CK_SLOT_INFO CKF_HW_SLOT); SoftHSM2's slots do not. KMIP 2.x's
   * Protection Storage Mask of every object says Hardware or Software from it.
   */
  readonly hardwareSlot: boolean;
  /** True when this call initialised the token. */
  readonly created: boolean;
  /** Embedded only: DIR/hsm, the SOFTHSM2_CONF written there, and the PIN file if one is in use. */
  readonly hsmDir?: string;
  readonly configFile?: string;
  readonly pinsFile?: string;
  /** Where the user PIN came from. */
  readonly pinSource: 'env' | 'file' | 'generated' | 'given';
  /** Things an operator should know (a PIN file that was readable by others, now tightened). */
  readonly warnings: readonly string[];
}

export interface Token {
  readonly pkcs11: Pkcs11;
  readonly slot: Handle;
  readonly report: TokenReport;
  /**
   * Opens a read/write session and logs the user in. Login state belongs to the application and token, not the
   * session (PKCS#11 v2.40 §5.6), so a second login answers CKR_USER_ALREADY_LOGGED_IN, which is fine. The same
   * rule means a PIN is only checked while no other session of this process is logged in to the token.
   */
  openSession(): Handle;
  closeSession(session: Handle): void;
}

interface StoredPins {
  user?: string;
  so?: string;
}

/** Opens the token described by `options`, creating it first in the embedded case. */
export function openToken(options: TokenOptions): Token {
  checkLabel(options.tokenLabel);
  return options.kind === 'softhsm' ? openSoftHsmToken(options) : openExternalToken(options);
}

function checkLabel(label: string): void {
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes === 0 || bytes > LABEL_BYTES || label !== label.trim()) {
    throw new HsmError(
      'not-initialised',
      `token label must be 1-${String(LABEL_BYTES)} bytes without outer blanks`,
    );
  }
}

function openExternalToken(options: ExternalTokenOptions): Token {
  const pkcs11 = loadModule(options.modulePath);
  const slot = findTokenSlot(pkcs11, options.tokenLabel);
  if (slot === undefined) {
    throw new HsmError(
      'not-initialised',
      `no token labelled "${options.tokenLabel}" in ${options.modulePath}`,
    );
  }
  const report: TokenReport = {
    modulePath: options.modulePath,
    tokenLabel: options.tokenLabel,
    serialNumber: serialOf(pkcs11, slot),
    hardwareSlot: hardwareSlot(pkcs11, slot),
    created: false,
    pinSource: 'given',
    warnings: [],
  };
  return checkedToken(pkcs11, slot, options.userPin, report);
}

function openSoftHsmToken(options: SoftHsmTokenOptions): Token {
  const env = options.env ?? process.env;
  const modulePath = options.modulePath ?? DEFAULT_SOFTHSM_MODULE;
  const hsmDir = resolve(options.dataDir, 'hsm');
  const tokenDir = join(hsmDir, 'tokens');
  const configFile = join(hsmDir, 'softhsm2.conf');
  const pinsFile = join(hsmDir, 'pins.json');
  const warnings: string[] = [];

  privateDir(hsmDir);
  privateDir(tokenDir);
  // Rewritten at every start so that a moved data directory still points at its own tokens.
  writeFileSync(
    configFile,
    [
      '# Written by kmipd at every start: the embedded SoftHSM2 token of this data directory.',
      `directories.tokendir = ${tokenDir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(configFile, 0o600);

  const stored = readPins(pinsFile, warnings);
  const envUser = nonEmpty(env[USER_PIN_ENV]);
  const envSo = nonEmpty(env[SO_PIN_ENV]);

  const pkcs11 = loadModule(modulePath, configFile);
  let slot = findTokenSlot(pkcs11, options.tokenLabel);
  let created = false;
  let pinSource: TokenReport['pinSource'] = envUser !== undefined ? 'env' : 'file';
  let userPin = envUser ?? stored.user;
  let soPin = envSo ?? stored.so;

  if (slot === undefined) {
    // Generate what the environment does not give, and write it down *before* C_InitToken, so that a crash
    // between the two never leaves a token whose PINs nobody knows.
    const generated: StoredPins = {};
    if (userPin === undefined) {
      generated.user = newPin();
      userPin = generated.user;
    }
    if (soPin === undefined) {
      generated.so = newPin();
      soPin = generated.so;
    }
    if (generated.user !== undefined || generated.so !== undefined) {
      writePins(pinsFile, { ...stored, ...generated });
      if (generated.user !== undefined) pinSource = 'generated';
    }
    const free = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true)).find(
      (candidate) => (tokenInfo(pkcs11, candidate).flags & ck.CKF_TOKEN_INITIALIZED) === 0,
    );
    if (free === undefined)
      throw new HsmError('not-initialised', 'SoftHSM2 offers no free slot for a new token');
    const initPin = soPin;
    call('C_InitToken', () => pkcs11.C_InitToken(free, initPin, options.tokenLabel.padEnd(LABEL_BYTES, ' ')));
    slot = findTokenSlot(pkcs11, options.tokenLabel);
    if (slot === undefined) throw new HsmError('token-error', 'token not found by label after C_InitToken');
    created = true;
  }
  if ((tokenInfo(pkcs11, slot).flags & ck.CKF_USER_PIN_INITIALIZED) === 0) {
    // A new token, or one left half-made by a crash between C_InitToken and C_InitPIN.
    if (userPin === undefined || soPin === undefined) {
      throw new HsmError(
        'login-failed',
        `token "${options.tokenLabel}" has no user PIN and no SO PIN is known`,
      );
    }
    initUserPin(pkcs11, slot, soPin, userPin);
  }
  if (userPin === undefined) {
    throw new HsmError('login-failed', `no user PIN: set ${USER_PIN_ENV} or restore ${pinsFile}`);
  }
  const report: TokenReport = {
    modulePath,
    tokenLabel: options.tokenLabel,
    serialNumber: serialOf(pkcs11, slot),
    hardwareSlot: hardwareSlot(pkcs11, slot),
    created,
    hsmDir,
    configFile,
    ...(existsSync(pinsFile) ? { pinsFile } : {}),
    pinSource,
    warnings,
  };
  return checkedToken(pkcs11, slot, userPin, report);
}

/** Sets the user PIN as the SO (PKCS#11 v2.40 §5.5: C_InitPIN needs an SO session). */
function initUserPin(pkcs11: Pkcs11, slot: Handle, soPin: string, userPin: string): void {
  const session = call('C_OpenSession', () =>
    pkcs11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION),
  );
  try {
    call('C_Login SO', () => {
      pkcs11.C_Login(session, ck.CKU_SO, soPin);
    });
    call('C_InitPIN', () => {
      pkcs11.C_InitPIN(session, userPin);
    });
    call('C_Logout', () => {
      pkcs11.C_Logout(session);
    });
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

/** A Token whose PIN has been checked by one login; the PIN stays in this closure and nowhere else. */
function checkedToken(pkcs11: Pkcs11, slot: Handle, userPin: string, report: TokenReport): Token {
  const token: Token = {
    pkcs11,
    slot,
    report,
    openSession() {
      const session = call('C_OpenSession', () =>
        pkcs11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION),
      );
      try {
        pkcs11.C_Login(session, ck.CKU_USER, userPin);
      } catch (error) {
        if (ckrName(error) !== 'CKR_USER_ALREADY_LOGGED_IN') {
          pkcs11.C_CloseSession(session);
          throw toHsmError('C_Login', error);
        }
      }
      return session;
    },
    closeSession(session) {
      call('C_CloseSession', () => {
        pkcs11.C_CloseSession(session);
      });
    },
  };
  token.closeSession(token.openSession());
  return token;
}

function tokenInfo(pkcs11: Pkcs11, slot: Handle): TokenInfo {
  return call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
}

/** PKCS#11 2.40 §3.2 CK_SLOT_INFO: CKF_HW_SLOT, "a hardware slot, as opposed to a software slot" (pkcs11js lacks it). */
const CKF_HW_SLOT = 0x4;

function hardwareSlot(pkcs11: Pkcs11, slot: Handle): boolean {
  const info = call('C_GetSlotInfo', () => pkcs11.C_GetSlotInfo(slot));
  return (info.flags & CKF_HW_SLOT) !== 0;
}

function serialOf(pkcs11: Pkcs11, slot: Handle): string {
  return tokenInfo(pkcs11, slot).serialNumber.trim();
}

/** The slot of the initialised token with this label; labels are blank padded, hence the trimEnd. */
function findTokenSlot(pkcs11: Pkcs11, label: string): Handle | undefined {
  const matches = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true)).filter((slot) => {
    const info = tokenInfo(pkcs11, slot);
    return (info.flags & ck.CKF_TOKEN_INITIALIZED) !== 0 && info.label.trimEnd() === label;
  });
  if (matches.length > 1) throw new HsmError('not-initialised', `more than one token is labelled "${label}"`);
  return matches[0];
}

function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** 24 random bytes as base64url: 32 printable characters, within every token's PIN length range. */
function newPin(): string {
  return randomBytes(24).toString('base64url');
}

function readPins(file: string, warnings: string[]): StoredPins {
  if (!existsSync(file)) return {};
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    warnings.push(`${file} was readable by other users; its mode is now 0600`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new HsmError('login-failed', `${file} is not valid JSON`);
  }
  const pins: StoredPins = {};
  if (typeof parsed === 'object' && parsed !== null) {
    const user: unknown = Reflect.get(parsed, 'user');
    const so: unknown = Reflect.get(parsed, 'so');
    if (typeof user === 'string' && user !== '') pins.user = user;
    if (typeof so === 'string' && so !== '') pins.so = so;
  }
  return pins;
}

/** Writes the PIN file atomically (a fresh 0600 file renamed into place), so it never exists half written. */
function writePins(file: string, pins: StoredPins): void {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(pins, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
  chmodSync(file, 0o600);
}
