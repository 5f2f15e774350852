/**
 * The cryptographic calls of the Hsm contract, each checked against node:crypto doing the same computation
 * independently (deterministic outputs byte for byte, randomised ones by verifying with the other side).
 * crypto-fake.test.ts and crypto-pkcs11.test.ts call cryptoContract(); `token` marks what only the token offers
 * (CMAC, pre-hashed signatures, the key cache).
 */
import {
  constants,
  createCipheriv,
  pbkdf2Sync,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { TestFn } from 'ava';
import type { Hsm, KeyRef, KeySource, SealedKek } from '../../src/hsm/hsm.js';
import { rejectsWith } from './contract.js';

export interface CryptoTarget {
  readonly open: () => Promise<Hsm>;
  /** The PKCS#11 Hsm: CMAC, pre-hashed signatures and the key cache are checked too. */
  readonly token: boolean;
}

let serial = 0;
/** A KeyRef with a fresh id whose source calls are counted. */
function ref(source: KeySource): KeyRef & { calls: number } {
  serial += 1;
  const counted = {
    id: `key-${String(serial)}`,
    calls: 0,
    source: () => {
      counted.calls += 1;
      // A copy each time: the Hsm may zero or move what it is given.
      if ('bytes' in source) return Promise.resolve({ ...source, bytes: Uint8Array.from(source.bytes) });
      return Promise.resolve(source);
    },
  };
  return counted;
}

const der = (key: KeyObject, type: 'pkcs8' | 'spki'): Uint8Array =>
  type === 'pkcs8'
    ? key.export({ type: 'pkcs8', format: 'der' })
    : key.export({ type: 'spki', format: 'der' });

export function cryptoContract(test: TestFn, target: CryptoTarget): void {
  let hsm: Hsm;
  let kek: SealedKek;
  const name = target.token ? 'pkcs11' : 'fake';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  test.before(async () => {
    hsm = await target.open();
    kek = await hsm.createKek();
  });

  test(`${name} crypto: AES-256 ECB, CBC and CBC with PKCS#7 padding equal node:crypto`, async (t) => {
    const bytes = randomBytes(32);
    const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes });
    const iv = randomBytes(16);
    const block = randomBytes(32);
    const odd = randomBytes(21);
    const node = (mode: string, data: Buffer, pad: boolean): Buffer => {
      const cipher = createCipheriv(`aes-256-${mode}`, bytes, mode === 'ecb' ? null : iv).setAutoPadding(pad);
      return Buffer.concat([cipher.update(data), cipher.final()]);
    };
    const ecb = await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, block);
    t.deepEqual(Buffer.from(ecb.data), node('ecb', block, false));
    const cbc = await hsm.encrypt(key, { algorithm: 'AES', mode: 'CBC', iv }, block);
    t.deepEqual(Buffer.from(cbc.data), node('cbc', block, false));
    const padded = await hsm.encrypt(key, { algorithm: 'AES', mode: 'CBC-PAD', iv }, odd);
    t.deepEqual(Buffer.from(padded.data), node('cbc', odd, true));
    t.deepEqual(
      Buffer.from(await hsm.decrypt(key, { algorithm: 'AES', mode: 'CBC-PAD', iv }, padded.data)),
      odd,
    );
    await rejectsWith(
      t,
      hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, odd),
      'bad-input',
      'partial block',
    );
    const ecbPad = await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB-PAD' }, odd);
    t.deepEqual(Buffer.from(ecbPad.data), node('ecb', odd, true));
    t.deepEqual(Buffer.from(await hsm.decrypt(key, { algorithm: 'AES', mode: 'ECB-PAD' }, ecbPad.data)), odd);
    await rejectsWith(
      t,
      hsm.decrypt(key, { algorithm: 'AES', mode: 'ECB-PAD' }, node('ecb', Buffer.alloc(16), false)),
      'bad-input',
      'a zero last byte is no PKCS#7 padding',
    );
    await rejectsWith(t, hsm.encrypt(key, { algorithm: 'AES', mode: 'CBC' }, block), 'bad-input', 'no IV');
    if (target.token) t.is(key.calls, 1, 'the key went into the token once');
  });

  test(`${name} crypto: AES-GCM equals node:crypto, tag apart; a wrong tag or AAD fails`, async (t) => {
    const bytes = randomBytes(16);
    const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes });
    const iv = randomBytes(12);
    const aad = Buffer.from('header');
    const data = randomBytes(45);
    const cipher = createCipheriv('aes-128-gcm', bytes, iv, { authTagLength: 16 }).setAAD(aad);
    const expected = Buffer.concat([cipher.update(data), cipher.final()]);
    const out = await hsm.encrypt(key, { algorithm: 'AES', mode: 'GCM', iv, aad }, data);
    t.deepEqual(Buffer.from(out.data), expected);
    t.deepEqual(Buffer.from(out.tag ?? []), cipher.getAuthTag());
    const spec = { algorithm: 'AES', mode: 'GCM', iv, aad } as const;
    t.deepEqual(Buffer.from(await hsm.decrypt(key, spec, out.data, out.tag)), data);
    const badTag = Buffer.from(out.tag ?? []);
    badTag[0] = (badTag[0] ?? 0) ^ 1;
    await rejectsWith(t, hsm.decrypt(key, spec, out.data, badTag), 'bad-input', 'altered tag');
    await rejectsWith(
      t,
      hsm.decrypt(key, { ...spec, aad: Buffer.from('other') }, out.data, out.tag),
      'bad-input',
    );
    const short = await hsm.encrypt(key, { ...spec, tagBytes: 12 }, data);
    t.is(short.tag?.length, 12);
    t.deepEqual(Buffer.from(short.data), expected);
  });

  test(`${name} crypto: 3DES CBC with padding equals node:crypto`, async (t) => {
    const bytes = randomBytes(24);
    const key = ref({ kind: 'secret-bytes', keyType: 'DES3', bytes });
    const iv = randomBytes(8);
    const data = randomBytes(13);
    const cipher = createCipheriv('des-ede3-cbc', bytes, iv);
    const expected = Buffer.concat([cipher.update(data), cipher.final()]);
    const out = await hsm.encrypt(key, { algorithm: 'DES3', mode: 'CBC-PAD', iv }, data);
    t.deepEqual(Buffer.from(out.data), expected);
  });

  test(`${name} crypto: RSA OAEP and PKCS#1 v1.5 both ways with node:crypto`, async (t) => {
    const publicKey = ref({ kind: 'public-spki', bytes: der(rsa.publicKey, 'spki') });
    const privateKey = ref({ kind: 'private-pkcs8', bytes: der(rsa.privateKey, 'pkcs8') });
    const data = randomBytes(40);
    const label = Buffer.from('label');
    const oaep = { algorithm: 'RSA', padding: 'OAEP', hash: 'SHA-256', mgfHash: 'SHA-256', label } as const;
    const sealed = await hsm.encrypt(publicKey, oaep, data);
    const opened = privateDecrypt(
      {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
        oaepLabel: label,
      },
      sealed.data,
    );
    t.deepEqual(opened, data);
    const fromNode = publicEncrypt(
      { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      data,
    );
    t.deepEqual(Buffer.from(await hsm.decrypt(privateKey, oaep, fromNode)), data);
    if (target.token) {
      const pkcs1 = publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING }, data);
      const spec = { algorithm: 'RSA', padding: 'PKCS1' } as const;
      t.deepEqual(Buffer.from(await hsm.decrypt(privateKey, spec, pkcs1)), data);
      const sha1 = { algorithm: 'RSA', padding: 'OAEP', hash: 'SHA-1' } as const;
      const native = await hsm.encrypt(publicKey, sha1, data);
      const nodeOptions = {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha1',
      };
      t.deepEqual(privateDecrypt(nodeOptions, native.data), data, 'OAEP SHA-1 by the token itself');
    }
    await rejectsWith(t, hsm.decrypt(privateKey, oaep, randomBytes(256)), 'bad-input', 'garbage ciphertext');
  });

  test(`${name} crypto: RSA signatures: PKCS#1 v1.5 equals node's, PSS verifies both ways`, async (t) => {
    const privateKey = ref({ kind: 'private-pkcs8', bytes: der(rsa.privateKey, 'pkcs8') });
    const publicKey = ref({ kind: 'public-spki', bytes: der(rsa.publicKey, 'spki') });
    const data = randomBytes(100);
    const pkcs1 = { algorithm: 'RSA', padding: 'PKCS1', hash: 'SHA-256' } as const;
    const signature = await hsm.sign(privateKey, pkcs1, data);
    t.deepEqual(Buffer.from(signature), sign('sha256', data, rsa.privateKey));
    t.true(await hsm.verify(publicKey, pkcs1, data, signature));
    t.false(await hsm.verify(publicKey, pkcs1, randomBytes(100), signature));
    const pss = { algorithm: 'RSA', padding: 'PSS', hash: 'SHA-256', saltBytes: 32 } as const;
    const pssSignature = await hsm.sign(privateKey, pss, data);
    const pssOptions = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    t.true(verify('sha256', data, pssOptions, pssSignature));
    const nodePss = sign('sha256', data, { ...pssOptions, key: rsa.privateKey });
    t.true(await hsm.verify(publicKey, pss, data, nodePss));
    nodePss[5] = (nodePss[5] ?? 0) ^ 0x40;
    t.false(await hsm.verify(publicKey, pss, data, nodePss));
    t.false(await hsm.verify(publicKey, pss, data, new Uint8Array(3)), 'a short signature is just invalid');
    if (target.token) {
      const digest = createHash('sha256').update(data).digest();
      const prehashed = await hsm.sign(privateKey, { ...pkcs1, prehashed: true }, digest);
      t.deepEqual(Buffer.from(prehashed), Buffer.from(signature), 'DigestInfo added for a pre-hashed digest');
    }
  });

  test(`${name} crypto: ECDSA P-256 signatures are DER and verify both ways`, async (t) => {
    const privateKey = ref({ kind: 'private-pkcs8', bytes: der(ec.privateKey, 'pkcs8') });
    const publicKey = ref({ kind: 'public-spki', bytes: der(ec.publicKey, 'spki') });
    const data = randomBytes(64);
    const spec = { algorithm: 'ECDSA', hash: 'SHA-256' } as const;
    const signature = await hsm.sign(privateKey, spec, data);
    t.is(signature[0], 0x30, 'DER SEQUENCE');
    t.true(verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'der' }, signature));
    const nodeSignature = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'der' });
    t.true(await hsm.verify(publicKey, spec, data, nodeSignature));
    t.false(await hsm.verify(publicKey, spec, randomBytes(64), nodeSignature));
    t.false(await hsm.verify(publicKey, spec, data, Buffer.from('not DER')));
  });

  test(`${name} crypto: HMAC equals node's, MAC verification, digests`, async (t) => {
    const bytes = randomBytes(32);
    const key = ref({ kind: 'secret-bytes', keyType: 'GENERIC', bytes });
    const data = randomBytes(77);
    const spec = { algorithm: 'HMAC', hash: 'SHA-256' } as const;
    const mac = await hsm.mac(key, spec, data);
    t.deepEqual(Buffer.from(mac), createHmac('sha256', bytes).update(data).digest());
    t.true(await hsm.macVerify(key, spec, data, mac));
    t.false(await hsm.macVerify(key, spec, randomBytes(77), mac));
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-512'] as const) {
      const expected = createHash(hash.replace('-', '').toLowerCase()).update(data).digest();
      t.deepEqual(Buffer.from(await hsm.digest(hash, data)), expected, hash);
    }
  });

  test(`${name} crypto: keys generated by the Hsm work from their sealed form`, async (t) => {
    const sealed = await hsm.generateSecretKey(kek, 'AES', 256);
    const key = ref({ kind: 'sealed-secret', kek, sealed, keyType: 'AES' });
    const block = randomBytes(16);
    const out = await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, block);
    const plain = await hsm.unseal(kek, sealed);
    t.deepEqual(
      Buffer.from(sealed.sha256),
      createHash('sha256').update(plain).digest(),
      'digest of the key value',
    );
    const cipher = createCipheriv('aes-256-ecb', plain, null).setAutoPadding(false);
    t.deepEqual(Buffer.from(out.data), Buffer.concat([cipher.update(block), cipher.final()]));
    const pair = await hsm.generateKeyPair(kek, { algorithm: 'EC', curve: 'P-256' });
    const signer = ref({ kind: 'sealed-private', kek, sealed: pair.privateKey, keyType: 'EC' });
    const data = randomBytes(20);
    const signature = await hsm.sign(signer, { algorithm: 'ECDSA', hash: 'SHA-384' }, data);
    const spki = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
    t.true(verify('sha384', data, { key: spki, dsaEncoding: 'der' }, signature));
    const rsaPair = await hsm.generateKeyPair(kek, { algorithm: 'RSA', bits: 1024 });
    const rsaSigner = ref({ kind: 'sealed-private', kek, sealed: rsaPair.privateKey, keyType: 'RSA' });
    const rsaSignature = await hsm.sign(
      rsaSigner,
      { algorithm: 'RSA', padding: 'PKCS1', hash: 'SHA-1' },
      data,
    );
    const pkcs8 = await hsm.unseal(kek, rsaPair.privateKey);
    const nodeKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    t.deepEqual(Buffer.from(rsaSignature), sign('sha1', data, nodeKey));
  });

  test(`${name} crypto: AES key wrap (RFC 3394) and with padding (RFC 5649) unwrap with node:crypto`, async (t) => {
    const unwrap = (key: Uint8Array, mode: 'wrap' | 'wrap-pad', wrapped: Uint8Array): Buffer => {
      const iv = Buffer.from(mode === 'wrap' ? 'a6a6a6a6a6a6a6a6' : 'a65959a6', 'hex');
      const decipher = createDecipheriv(`id-aes${String(key.length * 8)}-${mode}`, key, iv);
      return Buffer.concat([decipher.update(wrapped), decipher.final()]);
    };
    for (const size of [16, 32]) {
      const bytes = randomBytes(size);
      const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes });
      const data = randomBytes(40);
      const kw = await hsm.wrap(key, 'KW', data);
      t.is(kw.length, 48);
      t.deepEqual(unwrap(bytes, 'wrap', kw), data, `KW under AES-${String(size * 8)}`);
      const kwp = await hsm.wrap(key, 'KWP', data);
      t.deepEqual(unwrap(bytes, 'wrap-pad', kwp), data, `KWP under AES-${String(size * 8)}`);
    }
    // A key the token generated, wrapping from its sealed form.
    const sealed = await hsm.generateSecretKey(kek, 'AES', 256);
    const generated = ref({ kind: 'sealed-secret', kek, sealed, keyType: 'AES' });
    const data = randomBytes(24);
    const wrapped = await hsm.wrap(generated, 'KW', data);
    t.deepEqual(unwrap(await hsm.unseal(kek, sealed), 'wrap', wrapped), data);
    // Lengths the modes cannot take exactly, and keys that cannot wrap.
    await rejectsWith(t, hsm.wrap(generated, 'KW', randomBytes(8)), 'bad-input', 'KW of one semiblock');
    await rejectsWith(t, hsm.wrap(generated, 'KW', randomBytes(20)), 'bad-input', 'KW of 20 bytes');
    await rejectsWith(t, hsm.wrap(generated, 'KWP', randomBytes(20)), 'bad-input', 'KWP of 20 bytes');
    const des3 = ref({ kind: 'secret-bytes', keyType: 'DES3', bytes: randomBytes(24) });
    await rejectsWith(t, hsm.wrap(des3, 'KW', randomBytes(16)), 'bad-input', 'a 3DES wrapping key');
    const ecPublic = ref({ kind: 'public-spki', bytes: der(ec.publicKey, 'spki') });
    await rejectsWith(t, hsm.wrap(ecPublic, 'KW', randomBytes(16)), 'bad-input', 'an EC public key');
  });

  test(`${name} crypto: AES key unwrap takes what node:crypto wrapped, and refuses tampered bytes`, async (t) => {
    const wrapWithNode = (key: Uint8Array, mode: 'wrap' | 'wrap-pad', data: Uint8Array): Buffer => {
      const iv = Buffer.from(mode === 'wrap' ? 'a6a6a6a6a6a6a6a6' : 'a65959a6', 'hex');
      const cipher = createCipheriv(`id-aes${String(key.length * 8)}-${mode}`, key, iv);
      return Buffer.concat([cipher.update(data), cipher.final()]);
    };
    for (const size of [16, 24, 32]) {
      const bytes = randomBytes(size);
      const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes });
      // KWP takes any length (RFC 5649 §4.1); KW whole semiblocks only.
      for (const length of [5, 16, 20, 32, 40]) {
        const data = randomBytes(length);
        const kwp = wrapWithNode(bytes, 'wrap-pad', data);
        t.deepEqual(Buffer.from(await hsm.unwrap(key, 'KWP', kwp)), data, `KWP of ${String(length)} bytes`);
        if (length % 8 !== 0) continue;
        const kw = wrapWithNode(bytes, 'wrap', data);
        t.deepEqual(
          Buffer.from(await hsm.unwrap(key, 'KW', kw)),
          data,
          `KW of ${String(length)} bytes, AES-${String(size * 8)}`,
        );
      }
    }
    // The round trip through the token's own wrap, with a key it generated.
    const sealed = await hsm.generateSecretKey(kek, 'AES', 256);
    const generated = ref({ kind: 'sealed-secret', kek, sealed, keyType: 'AES' });
    const data = randomBytes(32);
    t.deepEqual(Buffer.from(await hsm.unwrap(generated, 'KW', await hsm.wrap(generated, 'KW', data))), data);
    // A flipped bit fails the integrity check; so does the right bytes under another key, or in the other mode.
    const good = await hsm.wrap(generated, 'KW', data);
    const flipped = Buffer.from(good);
    flipped[5] = (flipped[5] ?? 0) ^ 1;
    await rejectsWith(t, hsm.unwrap(generated, 'KW', flipped), 'bad-input', 'a tampered KW blob');
    const other = ref({ kind: 'secret-bytes', keyType: 'AES', bytes: randomBytes(32) });
    await rejectsWith(t, hsm.unwrap(other, 'KW', good), 'bad-input', 'KW under another key');
    await rejectsWith(t, hsm.unwrap(generated, 'KWP', good), 'bad-input', 'a KW blob read as KWP');
    await rejectsWith(t, hsm.unwrap(generated, 'KW', randomBytes(16)), 'bad-input', 'KW of two semiblocks');
    await rejectsWith(t, hsm.unwrap(generated, 'KW', randomBytes(30)), 'bad-input', 'KW of 30 bytes');
    const des3 = ref({ kind: 'secret-bytes', keyType: 'DES3', bytes: randomBytes(24) });
    await rejectsWith(t, hsm.unwrap(des3, 'KW', good), 'bad-input', 'a 3DES unwrapping key');
  });

  test(`${name} crypto: PBKDF2 with the password held as an HMAC key gives node:crypto's bytes`, async (t) => {
    const cases = [
      { password: Buffer.from('password'), hash: 'SHA-1', iterations: 1, length: 20 },
      { password: Buffer.from('password'), hash: 'SHA-1', iterations: 4096, length: 16 },
      { password: Buffer.from('password'), hash: 'SHA-256', iterations: 2, length: 45 },
      { password: randomBytes(100), hash: 'SHA-256', iterations: 3, length: 32 },
      { password: randomBytes(12), hash: 'SHA-512', iterations: 5, length: 80 },
    ] as const;
    for (const { password, hash, iterations, length } of cases) {
      const salt = randomBytes(9);
      const held = ref({ kind: 'secret-bytes', keyType: 'GENERIC', bytes: Uint8Array.from(password) });
      t.deepEqual(
        Buffer.from(await hsm.pbkdf2(held, hash, salt, iterations, length)),
        pbkdf2Sync(password, salt, iterations, length, hash.replace('-', '').toLowerCase()),
        `${hash}, ${String(iterations)} iterations, ${String(length)} bytes, a ${String(password.length)}-byte password`,
      );
    }
    // RFC 6070's first vector, as written there.
    const rfc = ref({ kind: 'secret-bytes', keyType: 'GENERIC', bytes: Buffer.from('password') });
    t.is(
      Buffer.from(await hsm.pbkdf2(rfc, 'SHA-1', Buffer.from('salt'), 2, 20)).toString('hex'),
      'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957',
    );
    await rejectsWith(t, hsm.pbkdf2(rfc, 'SHA-1', Buffer.from('salt'), 0, 20), 'bad-input', 'no iteration');
    await rejectsWith(t, hsm.pbkdf2(rfc, 'SHA-1', Buffer.from('salt'), 100_001, 20), 'bad-input', 'too many');
    await rejectsWith(t, hsm.pbkdf2(rfc, 'SHA-1', Buffer.from('salt'), 1, 0), 'bad-input', 'no output');
  });

  test(`${name} crypto: ECDH agrees on node:crypto's shared secret, for generated and registered keys`, async (t) => {
    for (const curve of ['P-256', 'secp256k1'] as const) {
      // Ours generated in the token, the peer's made by node:crypto.
      const ours = await hsm.generateKeyPair(kek, { algorithm: 'EC', curve });
      const peer = generateKeyPairSync('ec', { namedCurve: curve });
      const generated = ref({ kind: 'sealed-private', kek, sealed: ours.privateKey, keyType: 'EC' });
      const secret = await hsm.ecdh(generated, der(peer.publicKey, 'spki'));
      const expected = diffieHellman({
        privateKey: peer.privateKey,
        publicKey: createPublicKey({ key: Buffer.from(ours.publicKeySpki), format: 'der', type: 'spki' }),
      });
      t.deepEqual(Buffer.from(secret), expected, `${curve}: generated key`);
      t.is(secret.length, 32);
      // A registered private key (PKCS#8), the same agreement from the other side.
      const registered = ref({ kind: 'private-pkcs8', bytes: der(peer.privateKey, 'pkcs8') });
      t.deepEqual(
        Buffer.from(await hsm.ecdh(registered, ours.publicKeySpki)),
        expected,
        `${curve}: registered key`,
      );
    }
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const registered = ref({ kind: 'private-pkcs8', bytes: der(p256.privateKey, 'pkcs8') });
    await rejectsWith(
      t,
      hsm.ecdh(registered, der(k1.publicKey, 'spki')),
      'bad-input',
      'a peer on another curve',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await rejectsWith(t, hsm.ecdh(registered, der(rsa.publicKey, 'spki')), 'bad-input', 'an RSA peer');
    const rsaPrivate = ref({ kind: 'private-pkcs8', bytes: der(rsa.privateKey, 'pkcs8') });
    await rejectsWith(
      t,
      hsm.ecdh(rsaPrivate, der(p256.publicKey, 'spki')),
      'bad-input',
      'an RSA private key',
    );
  });

  test(`${name} crypto: a key of the wrong kind is refused as bad input`, async (t) => {
    const aes = ref({ kind: 'secret-bytes', keyType: 'AES', bytes: randomBytes(16) });
    await rejectsWith(
      t,
      hsm.sign(aes, { algorithm: 'RSA', padding: 'PKCS1', hash: 'SHA-256' }, randomBytes(8)),
      'bad-input',
    );
    const ecPublic = ref({ kind: 'public-spki', bytes: der(ec.publicKey, 'spki') });
    await rejectsWith(
      t,
      hsm.encrypt(ecPublic, { algorithm: 'RSA', padding: 'PKCS1' }, randomBytes(8)),
      'bad-input',
    );
  });

  test(`${name} crypto: multi-part operations give what the single-part calls give`, async (t) => {
    const bytes = randomBytes(32);
    const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes });
    const iv = randomBytes(12);
    const aad = Buffer.from('aad');
    const data = randomBytes(100);
    const parts = [data.subarray(0, 33), data.subarray(33, 64), data.subarray(64)];
    const run = async (
      op: Parameters<Hsm['beginStream']>[1],
      k: KeyRef | undefined,
      last: { tag?: Uint8Array; signature?: Uint8Array } = {},
    ): Promise<{ data: Buffer; tag?: Uint8Array; valid?: boolean }> => {
      const id = await hsm.beginStream(k, op);
      const out: Uint8Array[] = [];
      for (const part of parts.slice(0, -1)) out.push(await hsm.updateStream(id, part));
      const end = await hsm.finishStream(id, parts.at(-1) ?? new Uint8Array(0), last);
      return { ...end, data: Buffer.concat([...out, end.data]) };
    };
    const gcm = { algorithm: 'AES', mode: 'GCM', iv, aad } as const;
    const whole = await hsm.encrypt(key, gcm, data);
    const streamed = await run({ kind: 'encrypt', spec: gcm }, key);
    t.deepEqual(streamed.data, Buffer.from(whole.data), 'GCM ciphertext');
    t.deepEqual(Buffer.from(streamed.tag ?? []), Buffer.from(whole.tag ?? []), 'GCM tag');
    const decryptParts = [Buffer.from(whole.data).subarray(0, 50), Buffer.from(whole.data).subarray(50)];
    const id = await hsm.beginStream(key, { kind: 'decrypt', spec: gcm });
    const first = await hsm.updateStream(id, decryptParts[0] ?? new Uint8Array(0));
    const rest = await hsm.finishStream(id, decryptParts[1] ?? new Uint8Array(0), {
      tag: whole.tag ?? new Uint8Array(0),
    });
    t.deepEqual(Buffer.concat([first, rest.data]), data, 'GCM decryption in parts');
    const cbc = { algorithm: 'AES', mode: 'CBC-PAD', iv: randomBytes(16) } as const;
    t.deepEqual(
      (await run({ kind: 'encrypt', spec: cbc }, key)).data,
      Buffer.from((await hsm.encrypt(key, cbc, data)).data),
    );
    const hmacKey = ref({ kind: 'secret-bytes', keyType: 'GENERIC', bytes });
    const hmac = { algorithm: 'HMAC', hash: 'SHA-256' } as const;
    const mac = await run({ kind: 'mac', spec: hmac }, hmacKey);
    t.deepEqual(mac.data, createHmac('sha256', bytes).update(data).digest(), 'HMAC in parts');
    t.true((await run({ kind: 'mac-verify', spec: hmac }, hmacKey, { signature: mac.data })).valid);
    t.false((await run({ kind: 'mac-verify', spec: hmac }, hmacKey, { signature: randomBytes(32) })).valid);
    const digest = await run({ kind: 'digest', hash: 'SHA-256' }, undefined);
    t.deepEqual(digest.data, createHash('sha256').update(data).digest(), 'digest in parts');
    const signer = ref({ kind: 'private-pkcs8', bytes: der(rsa.privateKey, 'pkcs8') });
    const verifier = ref({ kind: 'public-spki', bytes: der(rsa.publicKey, 'spki') });
    const pkcs1 = { algorithm: 'RSA', padding: 'PKCS1', hash: 'SHA-256' } as const;
    const signature = await run({ kind: 'sign', spec: pkcs1 }, signer);
    t.deepEqual(signature.data, sign('sha256', data, rsa.privateKey), 'RSA signature in parts');
    t.true((await run({ kind: 'verify', spec: pkcs1 }, verifier, { signature: signature.data })).valid);
    const aborted = await hsm.beginStream(key, { kind: 'encrypt', spec: gcm });
    hsm.abortStream(aborted);
    await rejectsWith(t, hsm.updateStream(aborted, data), 'bad-input', 'an aborted operation is gone');
  });

  if (target.token) {
    test(`${name} crypto: RSA encryption has no parts, and a refused start holds nothing`, async (t) => {
      const publicKey = ref({ kind: 'public-spki', bytes: der(rsa.publicKey, 'spki') });
      await rejectsWith(
        t,
        hsm.beginStream(publicKey, { kind: 'encrypt', spec: { algorithm: 'RSA', padding: 'PKCS1' } }),
        'unsupported',
      );
      await rejectsWith(t, hsm.finishStream('no-such-stream', new Uint8Array(0), {}), 'bad-input');
    });

    test(`${name} crypto: AES-CMAC matches RFC 4493 example 2`, async (t) => {
      const key = ref({
        kind: 'secret-bytes',
        keyType: 'AES',
        bytes: Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'),
      });
      const mac = await hsm.mac(
        key,
        { algorithm: 'CMAC' },
        Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex'),
      );
      t.is(Buffer.from(mac).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
    });

    test(`${name} crypto: forgetKey drops the held key, the next call loads it again`, async (t) => {
      const key = ref({ kind: 'secret-bytes', keyType: 'AES', bytes: randomBytes(16) });
      const block = randomBytes(16);
      const first = await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, block);
      await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, block);
      t.is(key.calls, 1);
      hsm.forgetKey(key.id);
      const again = await hsm.encrypt(key, { algorithm: 'AES', mode: 'ECB' }, block);
      t.is(key.calls, 2);
      t.deepEqual(Buffer.from(again.data), Buffer.from(first.data));
    });
  }

  test.after.always(async () => {
    await hsm.close();
  });
}
