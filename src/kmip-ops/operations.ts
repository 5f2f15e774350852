import { versionAtLeast } from '../kmip/registry.js';
import type { AnyHandler, RequestContext } from './context.js';
import { activate } from './ops/activate.js';
import { check } from './ops/check.js';
import { addAttribute } from './ops/add-attribute.js';
import { archive } from './ops/archive.js';
import { create } from './ops/create.js';
import { decrypt } from './ops/crypto/decrypt.js';
import { encrypt } from './ops/crypto/encrypt.js';
import { hash } from './ops/crypto/hash.js';
import { mac } from './ops/crypto/mac.js';
import { macVerify } from './ops/crypto/mac-verify.js';
import { rngRetrieve } from './ops/crypto/rng-retrieve.js';
import { rngSeed } from './ops/crypto/rng-seed.js';
import { sign } from './ops/crypto/sign.js';
import { signatureVerify } from './ops/crypto/signature-verify.js';
import { createKeyPair } from './ops/create-key-pair.js';
import { deleteAttribute } from './ops/delete-attribute.js';
import { destroy } from './ops/destroy.js';
import { discoverVersions } from './ops/discover-versions.js';
import { exportObject } from './ops/export.js';
import { get } from './ops/get.js';
import { getAttributeList } from './ops/get-attribute-list.js';
import { getAttributes } from './ops/get-attributes.js';
import { getUsageAllocation } from './ops/get-usage-allocation.js';
import { importObject } from './ops/import.js';
import { interop } from './ops/interop.js';
import { locate } from './ops/locate.js';
import { log } from './ops/log.js';
import { modifyAttribute } from './ops/modify-attribute.js';
import { obtainLease } from './ops/obtain-lease.js';
import { queryHandler } from './ops/query.js';
import { recover } from './ops/recover.js';
import { register } from './ops/register.js';
import { reKey } from './ops/re-key.js';
import { reKeyKeyPair } from './ops/re-key-key-pair.js';
import { deriveKey } from './ops/derive-key.js';
import { createSplitKey } from './ops/create-split-key.js';
import { certify } from './ops/certify.js';
import { reCertify } from './ops/re-certify.js';
import { joinSplitKey } from './ops/join-split-key.js';
import { login, logout } from './ops/login.js';
import { delegatedLogin } from './ops/delegated-login.js';
import { revoke } from './ops/revoke.js';
import { setAttribute } from './ops/set-attribute.js';

/** Every operation this server implements: the one table the dispatcher and Query both read. */
export function allOperations(): AnyHandler[] {
  const handlers: AnyHandler[] = [
    create,
    createKeyPair,
    register,
    get,
    getAttributes,
    getAttributeList,
    addAttribute,
    modifyAttribute,
    deleteAttribute,
    setAttribute,
    locate,
    activate,
    revoke,
    destroy,
    discoverVersions,
    interop,
    log,
    encrypt,
    decrypt,
    sign,
    signatureVerify,
    mac,
    macVerify,
    hash,
    rngRetrieve,
    rngSeed,
    getUsageAllocation,
    reKey,
    deriveKey,
    createSplitKey,
    certify,
    reCertify,
    joinSplitKey,
    login,
    logout,
    delegatedLogin,
    check,
    obtainLease,
    archive,
    recover,
    reKeyKeyPair,
    exportObject,
    importObject,
  ];
  // Under a Delegated Login ticket, Query lists only the operations its Rights allow on some object or on none.
  const query = queryHandler((ctx: RequestContext) =>
    [...handlers, query]
      .filter((h) => versionAtLeast(ctx.version, h.since))
      .map((h) => h.operation)
      .filter((name) => ctx.rights?.some((r) => r.operations?.has(name) ?? true) ?? true),
  );
  handlers.push(query);
  return handlers;
}
