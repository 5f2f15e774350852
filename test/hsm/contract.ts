/**
 * The one contract every Hsm implementation meets (STYLE.md "src/hsm"): fake-hsm.test.ts and pkcs11-hsm.test.ts
 * each call hsmContract() with a factory. Tests run serially: the master rotation test changes the instance's
 * current master, and the concurrency test measures event-loop delay, which other tests running alongside would
 * disturb.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import {
  HsmError,
  type Hsm,
  type HsmErrorCode,
  type KeyPairSpec,
  type SealedKek,
} from '../../src/hsm/hsm.js';

export interface ContractTarget {
  /** Opens a fresh instance; called once for the suite and once more for the close() test. */
  readonly open: () => Promise<Hsm>;
  /** Optional algorithms the implementation offers, asked once it is open. */
  readonly supports: (hsm: Hsm) => { readonly des: boolean; readonly dsa: boolean };
}

/** Sizes around the AES block and RFC 5649 semiblock edges, plus an empty and a certificate-sized secret. */
const SEAL_SIZES = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 4096] as const;

/** The concurrency property: the longest a 10 ms timer may be late while key pairs generate. */
const MAX_LOOP_DELAY_MS = 200;

export async function rejectsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: HsmErrorCode,
  message?: string,
): Promise<void> {
  const error = await t.throwsAsync(promise, { instanceOf: HsmError }, message);
  t.is(error.code, code, `${message ?? ''} (${error.message})`);
}

/** Each byte of a DES key has odd parity (FIPS 46-3 §3). */
function hasOddParity(key: Uint8Array): boolean {
  return key.every((byte) => {
    let ones = 0;
    for (let bit = 1; bit < 0x100; bit <<= 1) if (byte & bit) ones += 1;
    return ones % 2 === 1;
  });
}

/** Total length of the DER TLV at the start of `der` (X.690 §8.1.3, definite form), read independently of src/. */
function derLength(der: Uint8Array): number {
  const view = Buffer.from(der);
  const first = view.readUInt8(1);
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  return 2 + count + view.readUIntBE(2, count);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

export function hsmContract(test: TestFn, target: ContractTarget): void {
  let opened: Hsm | undefined;
  const hsm = (): Hsm => {
    if (opened === undefined) throw new Error('the HSM under test did not open');
    return opened;
  };

  test.before(async () => {
    opened = await target.open();
  });
  test.after.always(async () => {
    await opened?.close();
  });

  test.serial('contract: seal and unseal round-trip byte-exactly at every size and format', async (t) => {
    const kek = await hsm().createKek();
    for (const size of SEAL_SIZES) {
      for (const format of ['raw', 'opaque', 'pkcs8'] as const) {
        const plaintext = randomBytes(size);
        const sealed = await hsm().seal(kek, plaintext, format);
        t.is(sealed.kekId, kek.id);
        t.is(sealed.format, format);
        if (size >= 16)
          t.false(contains(sealed.blob, plaintext), `sealed ${String(size)} bytes show in clear`);
        const opened = await hsm().unseal(kek, sealed);
        t.deepEqual(Buffer.from(opened), plaintext, `${String(size)} bytes as ${format}`);
      }
    }
    // Bytes that look like padding must survive too (a trailing run of zeros, a single zero).
    for (const plaintext of [
      Buffer.alloc(1),
      Buffer.concat([randomBytes(9), Buffer.alloc(7)]),
      Buffer.alloc(24),
    ]) {
      const opened = await hsm().unseal(kek, await hsm().seal(kek, plaintext, 'opaque'));
      t.deepEqual(Buffer.from(opened), plaintext);
    }
  });

  test.serial('contract: sealing the same bytes twice gives blobs that both open', async (t) => {
    const kek = await hsm().createKek();
    const plaintext = Buffer.from('a 1-byte password is allowed too');
    const [a, b] = await Promise.all([
      hsm().seal(kek, plaintext, 'opaque'),
      hsm().seal(kek, plaintext, 'opaque'),
    ]);
    t.deepEqual(Buffer.from(await hsm().unseal(kek, a)), plaintext);
    t.deepEqual(Buffer.from(await hsm().unseal(kek, b)), plaintext);
  });

  test.serial('contract: a secret sealed under KEK A does not unseal under KEK B', async (t) => {
    const [a, b] = await Promise.all([hsm().createKek(), hsm().createKek()]);
    t.not(a.id, b.id);
    const sealed = await hsm().seal(a, Buffer.from('sealed under A'), 'opaque');
    await rejectsWith(t, hsm().unseal(b, sealed), 'unseal-failed', 'kekId names A');
    // Relabelled as B's: the key wrap's integrity check refuses it.
    await rejectsWith(t, hsm().unseal(b, { ...sealed, kekId: b.id }), 'unseal-failed', 'relabelled');
    t.deepEqual(Buffer.from(await hsm().unseal(a, sealed)).toString(), 'sealed under A');
  });

  test.serial('contract: an altered or foreign blob is refused', async (t) => {
    const kek = await hsm().createKek();
    const sealed = await hsm().seal(kek, randomBytes(40), 'raw');
    const flipped = Uint8Array.from(sealed.blob);
    const last = flipped.length - 1;
    flipped[last] = (flipped[last] ?? 0) ^ 0x01;
    await rejectsWith(t, hsm().unseal(kek, { ...sealed, blob: flipped }), 'unseal-failed', 'flipped bit');
    await rejectsWith(
      t,
      hsm().unseal(kek, { ...sealed, blob: sealed.blob.subarray(0, 12) }),
      'unseal-failed',
      'cut',
    );
    await rejectsWith(t, hsm().unseal(kek, { ...sealed, blob: randomBytes(48) }), 'unseal-failed', 'random');
    const foreignKek: SealedKek = { ...kek, blob: randomBytes(kek.blob.length) };
    await rejectsWith(t, hsm().seal(foreignKek, Buffer.from('x'), 'raw'), 'bad-key', 'random KEK blob');
    const unknownMaster: SealedKek = { ...kek, masterLabel: 'kmipd-master-999' };
    await rejectsWith(t, hsm().seal(unknownMaster, Buffer.from('x'), 'raw'), 'bad-key', 'unknown master');
  });

  test.serial('contract: generated AES keys unseal to 16, 24 and 32 bytes, each one new', async (t) => {
    const kek = await hsm().createKek();
    for (const bits of [128, 192, 256]) {
      const [one, two] = await Promise.all([
        hsm().generateSecretKey(kek, 'AES', bits),
        hsm().generateSecretKey(kek, 'AES', bits),
      ]);
      t.is(one.format, 'raw');
      const keyOne = await hsm().unseal(kek, one);
      const keyTwo = await hsm().unseal(kek, two);
      t.is(keyOne.length, bits / 8);
      t.notDeepEqual(Buffer.from(keyOne), Buffer.from(keyTwo));
    }
  });

  test.serial('contract: DES and triple-DES keys have their length and odd parity', async (t) => {
    if (!target.supports(hsm()).des) {
      t.log('skipped: the implementation offers no DES');
      t.pass();
      return;
    }
    const kek = await hsm().createKek();
    for (const [algorithm, bits, bytes] of [
      ['DES', 64, 8],
      ['DES3', 168, 24],
      ['DES3', 192, 24],
      ['DES3', 112, 16],
    ] as const) {
      const key = await hsm().unseal(kek, await hsm().generateSecretKey(kek, algorithm, bits));
      t.is(key.length, bytes, `${algorithm}-${String(bits)}`);
      t.true(hasOddParity(key), `${algorithm}-${String(bits)} parity`);
    }
  });

  test.serial(
    'contract: HMAC and SKIPJACK keys have the length asked for, including lengths off the 8-byte grid',
    async (t) => {
      const kek = await hsm().createKek();
      for (const [algorithm, bits] of [
        ['HMAC-SHA256', 256],
        ['HMAC-SHA1', 160],
        ['HMAC-SHA512', 512],
        ['HMAC-SHA384', 8],
        ['SKIPJACK', 80],
      ] as const) {
        const key = await hsm().unseal(kek, await hsm().generateSecretKey(kek, algorithm, bits));
        t.is(key.length, bits / 8, `${algorithm}-${String(bits)}`);
      }
    },
  );

  test.serial(
    'contract: sizes and algorithms outside the supported set are refused as unsupported',
    async (t) => {
      const kek = await hsm().createKek();
      await rejectsWith(t, hsm().generateSecretKey(kek, 'AES', 100), 'unsupported', 'AES-100');
      await rejectsWith(t, hsm().generateSecretKey(kek, 'HMAC-SHA256', 12), 'unsupported', 'HMAC 12 bits');
      await rejectsWith(t, hsm().generateSecretKey(kek, 'SKIPJACK', 64), 'unsupported', 'SKIPJACK-64');
      await rejectsWith(
        t,
        hsm().generateKeyPair(kek, { algorithm: 'RSA', bits: 512 }),
        'unsupported',
        'RSA-512',
      );
      await rejectsWith(
        t,
        hsm().generateKeyPair(kek, { algorithm: 'RSA', bits: 2048, publicExponent: 65536n }),
        'unsupported',
        'even exponent',
      );
      await rejectsWith(
        t,
        hsm().generateKeyPair(kek, { algorithm: 'DSA', bits: 1536 }),
        'unsupported',
        'DSA-1536',
      );
      await rejectsWith(
        t,
        hsm().seal(kek, new Uint8Array(1024 * 1024 + 1), 'opaque'),
        'unsupported',
        'over 1 MiB',
      );
      await rejectsWith(t, hsm().random(-1), 'unsupported', 'negative random length');
    },
  );

  const checkPair = async (
    t: ExecutionContext,
    spec: KeyPairSpec,
    expect: (key: KeyObject) => void,
  ): Promise<void> => {
    const kek = await hsm().createKek();
    const pair = await hsm().generateKeyPair(kek, spec);
    t.is(pair.privateKey.format, 'pkcs8');
    t.is(pair.privateKey.kekId, kek.id);
    const publicKey = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
    expect(publicKey);
    const pkcs8 = Buffer.from(await hsm().unseal(kek, pair.privateKey));
    const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    t.is(derLength(pkcs8), pkcs8.length, 'the PKCS#8 DER ends exactly where the unsealed bytes end');
    t.deepEqual(
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      'the private key belongs to the public key',
    );
    const message = Buffer.from('signed inside the contract test');
    const signature = sign('sha256', message, privateKey);
    t.true(verify('sha256', message, publicKey, signature), 'signature verifies with the SPKI');
    pkcs8.fill(0);
  };

  test.serial('contract: RSA-2048 key pair: SPKI and PKCS#8 parse, match, sign and verify', async (t) => {
    await checkPair(t, { algorithm: 'RSA', bits: 2048 }, (key) => {
      t.is(key.asymmetricKeyType, 'rsa');
      t.is(key.asymmetricKeyDetails?.modulusLength, 2048);
      t.is(key.asymmetricKeyDetails?.publicExponent, 65537n);
    });
  });

  test.serial('contract: RSA with a chosen public exponent', async (t) => {
    await checkPair(t, { algorithm: 'RSA', bits: 1024, publicExponent: 3n }, (key) => {
      t.is(key.asymmetricKeyDetails?.publicExponent, 3n);
    });
  });

  for (const [curve, named] of [
    ['P-256', 'prime256v1'],
    ['P-384', 'secp384r1'],
    ['P-521', 'secp521r1'],
  ] as const) {
    test.serial(
      `contract: EC ${curve} key pair: SPKI and PKCS#8 parse, match, sign and verify`,
      async (t) => {
        await checkPair(t, { algorithm: 'EC', curve }, (key) => {
          t.is(key.asymmetricKeyType, 'ec');
          t.is(key.asymmetricKeyDetails?.namedCurve, named);
        });
      },
    );
  }

  test.serial('contract: DSA-2048 key pair (where offered)', async (t) => {
    if (!target.supports(hsm()).dsa) {
      t.log('skipped: the implementation offers no DSA');
      t.pass();
      return;
    }
    await checkPair(t, { algorithm: 'DSA', bits: 2048 }, (key) => {
      t.is(key.asymmetricKeyType, 'dsa');
      t.is(key.asymmetricKeyDetails?.modulusLength, 2048);
      t.is(key.asymmetricKeyDetails?.divisorLength, 256);
    });
  });

  test.serial(
    'contract: 200 seal/unseal calls complete while 3 RSA-2048 generations run; the loop stays free',
    async (t) => {
      const kek = await hsm().createKek();
      let last = performance.now();
      let maxDelay = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        maxDelay = Math.max(maxDelay, now - last);
        last = now;
      }, 10);
      try {
        const pairs = [1, 2, 3].map(() => hsm().generateKeyPair(kek, { algorithm: 'RSA', bits: 2048 }));
        let fastDone = 0;
        const fast = Array.from({ length: 200 }, async (_, i) => {
          const plaintext = randomBytes(1 + (i % 64));
          const opened = await hsm().unseal(kek, await hsm().seal(kek, plaintext, 'opaque'));
          fastDone += 1;
          return Buffer.from(opened).equals(plaintext);
        });
        const results = await Promise.all(fast);
        t.is(fastDone, 200);
        t.true(results.every(Boolean), 'every concurrent round-trip is exact');
        const generated = await Promise.all(pairs);
        t.is(generated.length, 3);
        for (const pair of generated) t.true(pair.publicKeySpki.length > 256);
      } finally {
        clearInterval(ticker);
      }
      t.log(`longest event-loop delay: ${maxDelay.toFixed(1)} ms`);
      t.true(maxDelay < MAX_LOOP_DELAY_MS, `event loop blocked for ${maxDelay.toFixed(1)} ms`);
    },
  );

  test.serial(
    'contract: master rotation: rewrap the KEK, old secrets still open, the retired master is gone',
    async (t) => {
      const oldLabel = hsm().currentMasterLabel();
      const kek = await hsm().createKek();
      t.is(kek.masterLabel, oldLabel);
      const plaintext = randomBytes(33);
      const sealed = await hsm().seal(kek, plaintext, 'opaque');
      const generated = await hsm().generateSecretKey(kek, 'AES', 256);
      const generatedKey = await hsm().unseal(kek, generated);

      const newLabel = await hsm().rotateMaster();
      t.not(newLabel, oldLabel);
      t.is(hsm().currentMasterLabel(), newLabel);
      // Before the rewrap the old master still unwraps the KEK.
      t.deepEqual(Buffer.from(await hsm().unseal(kek, sealed)), plaintext);

      const rewrapped = await hsm().rewrapKek(kek);
      t.is(rewrapped.id, kek.id);
      t.is(rewrapped.masterLabel, newLabel);
      t.notDeepEqual(Buffer.from(rewrapped.blob), Buffer.from(kek.blob));
      t.is(
        await hsm().rewrapKek(rewrapped),
        rewrapped,
        'a KEK under the current master is returned as it is',
      );
      t.deepEqual(Buffer.from(await hsm().unseal(rewrapped, sealed)), plaintext);
      t.deepEqual(Buffer.from(await hsm().unseal(rewrapped, generated)), Buffer.from(generatedKey));

      await rejectsWith(t, hsm().retireMaster(newLabel), 'bad-key', 'the current master cannot retire');
      await hsm().retireMaster(oldLabel);
      await rejectsWith(t, hsm().unseal(kek, sealed), 'bad-key', 'old KEK blob after retirement');
      await rejectsWith(t, hsm().rewrapKek(kek), 'bad-key', 'rewrap after retirement');
      await rejectsWith(t, hsm().retireMaster(oldLabel), 'bad-key', 'retiring twice');
      t.deepEqual(Buffer.from(await hsm().unseal(rewrapped, sealed)), plaintext);
      t.is((await hsm().createKek()).masterLabel, newLabel);
    },
  );

  test.serial('contract: random bytes of the asked length, different each time', async (t) => {
    t.is((await hsm().random(0)).length, 0);
    const [a, b] = await Promise.all([hsm().random(32), hsm().random(32)]);
    t.is(a.length, 32);
    t.notDeepEqual(Buffer.from(a), Buffer.from(b));
  });

  test.serial('contract: a closed instance refuses calls with not-initialised', async (t) => {
    const other = await target.open();
    const kek = await other.createKek();
    await other.close();
    await other.close();
    await rejectsWith(t, other.createKek(), 'not-initialised');
    await rejectsWith(t, other.seal(kek, Buffer.from('x'), 'raw'), 'not-initialised');
  });
}
