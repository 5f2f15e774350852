/**
 * The AES-GCM layout of seal() (envelope.ts layout 4) over a real SoftHSM2 token: exact round trips, every part of
 * the blob and of its additional authenticated data bound, KEK separation, the key-wrap layouts of earlier
 * versions still readable, and the PKCS#11 GCM parameters checked against node:crypto (a known-answer test: a
 * round trip alone would pass even if the token read the IV or the AAD wrongly).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import type { SealedSecret } from '../../src/hsm/hsm.js';
import { ck } from '../../src/hsm/pkcs11-module.js';
import { openPkcs11Hsm, type Pkcs11Hsm, type Pkcs11HsmOptions } from '../../src/hsm/pkcs11-hsm.js';
import { gcmMechanism, TokenThread } from '../../src/hsm/token-thread.js';
import { DEFAULT_SOFTHSM_MODULE, openToken } from '../../src/hsm/token.js';
import { rejectsWith } from './contract.js';

const SIZES = [0, 1, 15, 16, 17, 32, 4096] as const;
const HEADER = 8;
const IV = 12;
const TAG = 16;

if (!existsSync(DEFAULT_SOFTHSM_MODULE)) {
  test.skip('GCM layout over SoftHSM2', (t) => {
    t.pass();
  });
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'kmipd-gcm-'));
  const token = { kind: 'softhsm', dataDir, tokenLabel: 'kmipd-gcm', env: {} } as const;
  const opened: Pkcs11Hsm[] = [];
  const open = async (
    legacy = false,
    gcmUnsealOnThread: Pkcs11HsmOptions['gcmUnsealOnThread'] = false,
  ): Promise<Pkcs11Hsm> => {
    const hsm = await openPkcs11Hsm({
      token,
      gcmUnsealOnThread,
      ...(legacy ? { sealMechanism: 'CKM_AES_KEY_WRAP_PAD' as const } : {}),
    });
    opened.push(hsm);
    return hsm;
  };
  test.after.always(async () => {
    for (const hsm of opened) await hsm.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const altered = (sealed: SealedSecret, offset: number): SealedSecret => {
    const blob = Uint8Array.from(sealed.blob);
    blob[offset] = (blob[offset] ?? 0) ^ 0x01;
    return { ...sealed, blob };
  };

  test.serial('gcm: SoftHSM2 passes the self-test, so seal() writes layout 4', async (t) => {
    const hsm = await open();
    t.is(hsm.report.sealMechanism, 'CKM_AES_GCM');
    t.is((await open(true)).report.sealMechanism, 'CKM_AES_KEY_WRAP_PAD');
  });

  test.serial('gcm: two seals of the same bytes use different IVs', async (t) => {
    const hsm = await open();
    const kek = await hsm.createKek();
    const plaintext = Buffer.from('same bytes');
    const [a, b] = await Promise.all([hsm.seal(kek, plaintext, 'raw'), hsm.seal(kek, plaintext, 'raw')]);
    t.notDeepEqual(
      Buffer.from(a.blob).subarray(HEADER, HEADER + IV),
      Buffer.from(b.blob).subarray(HEADER, HEADER + IV),
    );
  });

  /** unseal() decrypts on the event loop or on a token thread (Pkcs11HsmOptions.gcmUnsealOnThread): both. */
  const places = [
    ['on the event loop', false],
    ['on a token thread', true],
  ] as const;

  for (const [where, onThread] of places) {
    test.serial(`gcm: byte-exact round trip ${where}, blob = header | IV | ciphertext | tag`, async (t) => {
      const hsm = await open(false, onThread);
      const kek = await hsm.createKek();
      for (const size of SIZES) {
        const plaintext = randomBytes(size);
        const sealed = await hsm.seal(kek, plaintext, 'opaque');
        const blob = Buffer.from(sealed.blob);
        t.is(blob.readUInt8(3), 4, 'layout 4');
        t.is(blob.readUInt32BE(4), size, 'the header carries the plaintext length');
        t.is(blob.length, HEADER + IV + size + TAG);
        if (size >= 16) t.false(blob.includes(plaintext), 'no plaintext in the blob');
        t.deepEqual(Buffer.from(await hsm.unseal(kek, sealed)), plaintext, `${String(size)} bytes`);
      }
    });

    test.serial(
      `gcm: tampering with IV, ciphertext, tag or header is refused as unseal-failed ${where}`,
      async (t) => {
        const hsm = await open(false, onThread);
        const kek = await hsm.createKek();
        const sealed = await hsm.seal(kek, randomBytes(32), 'raw');
        const offsets: readonly (readonly [string, number])[] = [
          ['magic', 0],
          ['version', 2],
          ['layout', 3],
          ['length', 7],
          ['IV first byte', HEADER],
          ['IV last byte', HEADER + IV - 1],
          ['ciphertext', HEADER + IV + 5],
          ['tag first byte', HEADER + IV + 32],
          ['tag last byte', sealed.blob.length - 1],
        ];
        for (const [name, offset] of offsets) {
          await rejectsWith(t, hsm.unseal(kek, altered(sealed, offset)), 'unseal-failed', name);
        }
        await rejectsWith(
          t,
          hsm.unseal(kek, { ...sealed, blob: sealed.blob.subarray(0, sealed.blob.length - 1) }),
          'unseal-failed',
          'cut',
        );
        await rejectsWith(
          t,
          hsm.unseal(kek, { ...sealed, blob: Buffer.concat([sealed.blob, Buffer.alloc(1)]) }),
          'unseal-failed',
          'extended',
        );
        t.is((await hsm.unseal(kek, sealed)).length, 32, 'the original still opens');
      },
    );
  }

  test.serial(
    'gcm: the token thread is sent compact copies, never the buffer a blob is a slice of',
    async (t) => {
      const hsm = await open(false, true);
      const kek = await hsm.createKek();
      const secret = randomBytes(32);
      const sealed = await hsm.seal(kek, secret, 'raw');
      // The blob as a slice of a larger buffer that holds something else too, as Node's shared pool does.
      const neighbour = Buffer.from('another request key material, not for the token thread');
      const big = Buffer.alloc(8192);
      neighbour.copy(big, 0);
      big.set(sealed.blob, 4096);
      const sliced = { ...sealed, blob: big.subarray(4096, 4096 + sealed.blob.length) };
      const posted: ArrayBufferLike[] = [];
      const collect = (value: unknown): void => {
        if (ArrayBuffer.isView(value)) posted.push(value.buffer);
        else if (value !== null && typeof value === 'object')
          for (const v of Object.values(value)) collect(v);
      };
      // Called below with each Worker as `this`, as the prototype's method always is.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const original = Worker.prototype.postMessage;
      const spy = function (
        this: Worker,
        message: unknown,
        transfer?: Parameters<Worker['postMessage']>[1],
      ): void {
        collect(message);
        original.call(this, message, transfer);
      };
      Worker.prototype.postMessage = spy as typeof Worker.prototype.postMessage;
      try {
        t.deepEqual(Buffer.from(await hsm.unseal(kek, sliced)), secret);
      } finally {
        Worker.prototype.postMessage = original;
      }
      t.true(posted.length >= 3, 'the key handle, IV, AAD and ciphertext went to the thread');
      for (const buffer of posted) {
        t.true(buffer.byteLength < 256, `a posted buffer of ${String(buffer.byteLength)} bytes`);
        t.false(Buffer.from(buffer).includes(neighbour), 'nothing of the neighbouring bytes');
      }
    },
  );

  test.serial('gcm: with a hint, it is asked at each unseal, and both places answer exactly', async (t) => {
    let asked = 0;
    // Every other call on the token thread, the rest on the event loop, all at once.
    const hsm = await open(false, () => {
      asked += 1;
      return asked % 2 === 0;
    });
    const kek = await hsm.createKek();
    const plaintexts = Array.from({ length: 40 }, (_, i) => randomBytes(1 + i));
    const sealed = await Promise.all(plaintexts.map((p) => hsm.seal(kek, p, 'raw')));
    const opened = await Promise.all(sealed.map((s) => hsm.unseal(kek, s)));
    t.is(asked, sealed.length, 'the hint is asked once per GCM unseal');
    t.deepEqual(
      opened.map((o) => Buffer.from(o)),
      plaintexts,
    );
    const one = await hsm.seal(kek, randomBytes(8), 'raw');
    for (let i = 0; i < 2; i++)
      await rejectsWith(t, hsm.unseal(kek, altered(one, HEADER)), 'unseal-failed', 'IV');
  });

  test.serial('gcm: the format and the KEK id are bound by the AAD', async (t) => {
    const hsm = await open();
    const kek = await hsm.createKek();
    const sealed = await hsm.seal(kek, randomBytes(20), 'opaque');
    await rejectsWith(t, hsm.unseal(kek, { ...sealed, format: 'raw' }), 'unseal-failed', 'format');
    // The same KEK under another id: the key opens the ciphertext, the AAD does not match.
    const renamed = { ...kek, id: 'another-id' };
    await rejectsWith(t, hsm.unseal(renamed, { ...sealed, kekId: renamed.id }), 'unseal-failed', 'KEK id');
  });

  test.serial('gcm: a blob sealed under KEK A does not open under KEK B', async (t) => {
    const hsm = await open();
    const [a, b] = await Promise.all([hsm.createKek(), hsm.createKek()]);
    const sealed = await hsm.seal(a, Buffer.from('under A'), 'opaque');
    await rejectsWith(t, hsm.unseal(b, sealed), 'unseal-failed', 'kekId names A');
    await rejectsWith(t, hsm.unseal(b, { ...sealed, kekId: b.id }), 'unseal-failed', 'relabelled');
  });

  test.serial('gcm: key-wrap blobs of earlier versions still open, and the other way round', async (t) => {
    const legacy = await open(true);
    const current = await open();
    const kek = await legacy.createKek();
    for (const size of SIZES) {
      const plaintext = randomBytes(size);
      const old = await legacy.seal(kek, plaintext, 'raw');
      t.is(Buffer.from(old.blob).readUInt8(3), 1, 'layout 1 "framed"');
      t.deepEqual(Buffer.from(await current.unseal(kek, old)), plaintext, `framed ${String(size)} bytes`);
      const fresh = await current.seal(kek, plaintext, 'raw');
      t.deepEqual(Buffer.from(await legacy.unseal(kek, fresh)), plaintext, `gcm ${String(size)} bytes`);
    }
    const generated = await current.generateSecretKey(kek, 'AES', 256);
    t.is(Buffer.from(generated.blob).readUInt8(3), 2, 'generated keys stay layout 2 "sized"');
    t.is((await current.unseal(kek, generated)).length, 32);
    const framed = await legacy.seal(kek, randomBytes(40), 'raw');
    await rejectsWith(t, current.unseal(kek, altered(framed, framed.blob.length - 1)), 'unseal-failed');
  });

  test.serial(
    'gcm: only the key-wrap layouts read faster sealed again, and only where seal() writes GCM',
    async (t) => {
      const legacy = await open(true);
      const current = await open();
      const kek = await current.createKek();
      const generated = await current.generateSecretKey(kek, 'AES', 128);
      const framed = await legacy.seal(kek, randomBytes(16), 'raw');
      const gcm = await current.seal(kek, randomBytes(16), 'raw');
      t.true(current.readsFasterResealed(generated), 'a generated key (layout 2)');
      t.true(current.readsFasterResealed(framed), 'a secret of an earlier version (layout 1)');
      t.false(current.readsFasterResealed(gcm), 'already in the GCM layout');
      t.false(legacy.readsFasterResealed(generated), 'seal() of a key-wrap HSM gives no faster form');
    },
  );

  test.serial('gcm: the PKCS#11 GCM parameters give what node:crypto gives (known answer)', async (t) => {
    await open();
    const opened = openToken(token);
    const session = opened.openSession();
    const thread = await TokenThread.start(opened.report.modulePath, opened.slot);
    try {
      const value = randomBytes(32);
      const key = opened.pkcs11.C_CreateObject(session, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_TOKEN, value: false },
        { type: ck.CKA_ENCRYPT, value: true },
        { type: ck.CKA_DECRYPT, value: true },
        { type: ck.CKA_VALUE, value },
      ]);
      for (const size of SIZES) {
        const iv = randomBytes(IV);
        const aad = randomBytes(size % 40);
        const plaintext = randomBytes(size);
        const fromToken = await thread.run('C_Encrypt', {
          op: 'encrypt',
          key: Uint8Array.from(key),
          mechanism: gcmMechanism(iv, aad),
          input: Uint8Array.from(plaintext),
          outputLength: size + TAG,
        });
        const cipher = createCipheriv('aes-256-gcm', value, iv);
        cipher.setAAD(aad);
        const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
        t.deepEqual(fromToken, expected, `${String(size)} bytes`);
      }
    } finally {
      await thread.close();
      opened.closeSession(session);
    }
  });
}
