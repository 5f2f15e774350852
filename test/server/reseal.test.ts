/**
 * A key generated in the token is stored in the form the token made it in (AES key wrap), which costs an unwrap into
 * a token object at every read; the first Get, which has the bytes in hand for the client anyway, stores them sealed
 * again in the GCM layout (one C_Decrypt per read from then on). Checked on a real SoftHSM2 token and LevelDB: the
 * stored form changes, the bytes served do not, the key still works for Encrypt after a restart (opened from the new
 * form), and no attribute changes that the client could see beyond what Get itself changes (Fresh).
 */
import { createCipheriv, createPrivateKey, createPublicKey, publicEncrypt, constants } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { decodeSecretBlob } from '../../src/hsm/envelope.js';
import {
  fromStored,
  single,
  toStored,
  withAttribute,
  type ManagedObject,
} from '../../src/kmip-ops/managed-object.js';
import { openLevelStore } from '../../src/store/level-store.js';
import { ttlv } from '../../src/ttlv/types.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { requestXml, TestKmipClient, valueOf } from '../support/kmip-client.js';

const item = (operation: string, payload: string): string =>
  `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
const uidXml = (uid: string): string => `<UniqueIdentifier type="TextString" value="${uid}"/>`;
const createAes = `<ObjectType type="Enumeration" value="SymmetricKey"/>
  <Attributes>
    <CryptographicAlgorithm type="Enumeration" value="AES"/>
    <CryptographicLength type="Integer" value="256"/>
    <CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
  </Attributes>`;
const createRsa = `<CommonAttributes>
    <CryptographicAlgorithm type="Enumeration" value="RSA"/>
    <CryptographicLength type="Integer" value="2048"/>
  </CommonAttributes>
  <PrivateKeyAttributes><CryptographicUsageMask type="Integer" value="Decrypt"/></PrivateKeyAttributes>
  <PublicKeyAttributes><CryptographicUsageMask type="Integer" value="Encrypt"/></PublicKeyAttributes>`;

/** The layout of an object's stored material, read from the store of a stopped appliance. */
async function storedObject(dir: string, uid: string): Promise<ManagedObject> {
  const store = await openLevelStore(join(dir, 'store'));
  try {
    const stored = await store.get(uid);
    if (!stored) throw new Error(`object ${uid} is not in the store`);
    return fromStored(stored);
  } finally {
    await store.close();
  }
}

function layoutOf(object: ManagedObject): string {
  const material = object.material;
  if (material?.kind !== 'sealed-key') throw new Error(`object ${object.uid} has no generated key material`);
  return decodeSecretBlob(material.sealed.blob).layout;
}

const attributesWithout = (object: ManagedObject, ...names: string[]): string => {
  const dropped = new Set(names.map((n) => tag(n)));
  return JSON.stringify(
    object.attributes.filter((a) => a.kind !== 'standard' || !dropped.has(a.value.tag)),
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
  );
};

/** SoftHSM2 takes one data directory per process: every start of this file's appliance uses the same one. */
let dataDir: string | undefined;
async function start(): Promise<TestAppliance> {
  const server = await startTestAppliance(dataDir === undefined ? {} : { dataDir });
  dataDir = server.dataDir;
  return server;
}
test.after.always(async () => {
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

async function request(server: TestAppliance, xml: string): Promise<string> {
  const client = await TestKmipClient.connect(server.host, server.port, server);
  try {
    return await client.requestXml(requestXml('2.1', xml));
  } finally {
    client.close();
  }
}

test.serial(
  'the first Get of a generated key stores it sealed again; every read serves the same bytes',
  async (t) => {
    let server = await start();
    const dir = server.dataDir;
    try {
      const aesUid = valueOf(await request(server, item('Create', createAes)), 'UniqueIdentifier') ?? '';
      const pair = await request(server, item('CreateKeyPair', createRsa));
      const privateUid = valueOf(pair, 'PrivateKeyUniqueIdentifier') ?? '';
      const publicUid = valueOf(pair, 'PublicKeyUniqueIdentifier') ?? '';
      t.truthy(aesUid && privateUid && publicUid, pair);
      await request(server, item('Activate', uidXml(aesUid)));
      await server.stop();

      const created = await storedObject(dir, aesUid);
      t.is(layoutOf(created), 'sized', 'a generated secret key is stored as the token wrapped it');
      t.is(layoutOf(await storedObject(dir, privateUid)), 'der', 'a generated private key likewise');

      server = await start();
      const firstAes = valueOf(await request(server, item('Get', uidXml(aesUid))), 'KeyMaterial');
      const firstPrivate = valueOf(await request(server, item('Get', uidXml(privateUid))), 'KeyMaterial');
      t.is(firstAes?.length, 64);
      await server.stop();

      const served = await storedObject(dir, aesUid);
      t.is(layoutOf(served), 'gcm', 'the first Get stored the key in the GCM layout');
      t.is(layoutOf(await storedObject(dir, privateUid)), 'gcm');
      t.is(served.revision, created.revision + 1, 'one write: the Fresh change and the new form together');
      t.is(
        attributesWithout(served, 'Fresh', 'LastChangeDate'),
        attributesWithout(created, 'Fresh', 'LastChangeDate'),
        'no other attribute changed',
      );

      server = await start();
      t.is(valueOf(await request(server, item('Get', uidXml(aesUid))), 'KeyMaterial'), firstAes);
      t.is(valueOf(await request(server, item('Get', uidXml(privateUid))), 'KeyMaterial'), firstPrivate);
      // Encrypt after the restart opens the key in the token from its new form: the ciphertext must be what
      // node:crypto computes with the bytes Get served.
      const iv = Buffer.alloc(12, 7);
      const data = Buffer.from('sealed again, the same key');
      const encrypted = await request(
        server,
        item(
          'Encrypt',
          `${uidXml(aesUid)}
         <CryptographicParameters>
           <BlockCipherMode type="Enumeration" value="GCM"/><TagLength type="Integer" value="16"/>
         </CryptographicParameters>
         <Data type="ByteString" value="${data.toString('hex')}"/>
         <IVCounterNonce type="ByteString" value="${iv.toString('hex')}"/>`,
        ),
      );
      const cipher = createCipheriv('aes-256-gcm', Buffer.from(firstAes ?? '', 'hex'), iv);
      const expected = Buffer.concat([cipher.update(data), cipher.final()]);
      t.is(valueOf(encrypted, 'Data'), expected.toString('hex'), encrypted);
      // The private key served matches its public half, and decrypts after the restart from its new form.
      const publicDer = Buffer.from(
        valueOf(
          await request(
            server,
            item('Get', `${uidXml(publicUid)}<KeyFormatType type="Enumeration" value="X_509"/>`),
          ),
          'KeyMaterial',
        ) ?? '',
        'hex',
      );
      const privateKey = createPrivateKey({
        key: Buffer.from(firstPrivate ?? '', 'hex'),
        format: 'der',
        type: 'pkcs1', // a 2.x Get serves a generated RSA private key as its Key Format Type says
      });
      t.is(
        createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('hex'),
        createPublicKey({ key: publicDer, format: 'der', type: 'spki' })
          .export({ format: 'der', type: 'spki' })
          .toString('hex'),
      );
      const secret = Buffer.from('for the private key');
      const ciphertext = publicEncrypt(
        { key: createPublicKey(privateKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
        secret,
      );
      await request(server, item('Activate', uidXml(privateUid)));
      const decrypted = await request(
        server,
        item(
          'Decrypt',
          `${uidXml(privateUid)}
         <CryptographicParameters><PaddingMethod type="Enumeration" value="OAEP"/><HashingAlgorithm type="Enumeration" value="SHA_1"/></CryptographicParameters>
         <Data type="ByteString" value="${ciphertext.toString('hex')}"/>`,
        ),
      );
      t.is(valueOf(decrypted, 'Data'), secret.toString('hex'), decrypted);
    } finally {
      await server.stop();
    }
  },
);

test.serial(
  'a key served before (Fresh already False) is sealed again by its next Get, Last Change Date kept',
  async (t) => {
    let server = await start();
    const dir = server.dataDir;
    try {
      const uid = valueOf(await request(server, item('Create', createAes)), 'UniqueIdentifier') ?? '';
      await server.stop();
      // As a version before this one left a key it had served: Fresh False, still in the key-wrap form.
      const store = await openLevelStore(join(dir, 'store'));
      let before: ManagedObject;
      try {
        const stored = await store.get(uid);
        if (!stored) throw new Error('created key missing');
        const object = fromStored(stored);
        before = {
          ...object,
          attributes: withAttribute(object.attributes, ttlv.boolean(tag('Fresh'), false)),
          revision: object.revision + 1,
        };
        await store.commit({
          put: [{ object: toStored(before, before.revision), expectedRevision: object.revision }],
        });
      } finally {
        await store.close();
      }
      t.is(layoutOf(before), 'sized');

      server = await start();
      const first = valueOf(await request(server, item('Get', uidXml(uid))), 'KeyMaterial');
      const second = valueOf(await request(server, item('Get', uidXml(uid))), 'KeyMaterial');
      t.is(second, first);
      await server.stop();

      const after = await storedObject(dir, uid);
      t.is(layoutOf(after), 'gcm');
      t.is(after.revision, before.revision + 1, 'written once, by the first Get only');
      t.is(
        attributesWithout(after),
        attributesWithout(before),
        'no attribute changed, Last Change Date included',
      );
      t.deepEqual(single(after.attributes, 'LastChangeDate'), single(before.attributes, 'LastChangeDate'));
    } finally {
      await server.stop();
    }
  },
);
