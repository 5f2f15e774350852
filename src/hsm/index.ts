/**
 * The HSM layer's public face: the interface, the PKCS#11 implementation with its token bootstrap, and the fake.
 * Everything else in this folder is internal.
 */
export * from './hsm.js';
export { openPkcs11Hsm, type Pkcs11Hsm, type Pkcs11HsmOptions, type Pkcs11HsmReport } from './pkcs11-hsm.js';
export {
  DEFAULT_SOFTHSM_MODULE,
  SO_PIN_ENV,
  USER_PIN_ENV,
  type ExternalTokenOptions,
  type SoftHsmTokenOptions,
  type TokenOptions,
  type TokenReport,
} from './token.js';
export { FakeHsm, type FakeHsmOptions } from './fake-hsm.js';
export { MAX_SECRET_BYTES } from './key-specs.js';
