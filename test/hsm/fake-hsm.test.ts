/** The Hsm contract over the node:crypto fake, plus what only the fake promises. */
import test from 'ava';
import { FakeHsm } from '../../src/hsm/fake-hsm.js';
import { hsmContract, rejectsWith } from './contract.js';

hsmContract(test, {
  open: () => Promise.resolve(new FakeHsm()),
  supports: () => ({ des: true, dsa: true }),
});

test('fake: blobs are marked, so a PKCS#11-style blob is refused cleanly', async (t) => {
  const hsm = new FakeHsm();
  const kek = await hsm.createKek();
  const sealed = await hsm.seal(kek, Buffer.from('marked'), 'opaque');
  t.is(kek.blob[0], 0x46);
  t.is(sealed.blob[0], 0x46);
  const foreign = Uint8Array.from(sealed.blob);
  foreign[0] = 0x4b;
  await rejectsWith(t, hsm.unseal(kek, { ...sealed, blob: foreign }), 'unseal-failed');
  await hsm.close();
});

test('fake: instances do not share master keys', async (t) => {
  const one = new FakeHsm();
  const two = new FakeHsm();
  const kek = await one.createKek();
  t.is(kek.masterLabel, two.currentMasterLabel());
  await rejectsWith(t, two.seal(kek, Buffer.from('x'), 'raw'), 'bad-key');
  await one.close();
  await two.close();
});
