/**
 * Key generation and key formats over real TLS: EC and DSA pairs with KMIP 2.1 attributes, the links between the
 * halves of a pair, and Get with a requested Key Format Type converting exactly as node:crypto does.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { requestXml, valueOf } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection } = serverFixture(test);

const item = (operation: string, payload: string): string =>
  `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
const uidXml = (uid: string): string => `<UniqueIdentifier type="TextString" value="${uid}"/>`;
/** Create Key Pair at KMIP 2.1 with these Common Attributes; the answer as KMIP XML. */
const createPair = (common: string): Promise<string> =>
  connection().requestXml(
    requestXml('2.1', item('CreateKeyPair', `<CommonAttributes>${common}</CommonAttributes>`)),
  );

for (const [curve, spki] of [
  ['P_256', '3059301306072a8648ce3d020106082a8648ce3d030107'],
  ['P_384', '3076301006072a8648ce3d020106052b81040022'],
  ['P_521', '30819b301006072a8648ce3d020106052b81040023'],
] as const) {
  test.serial(
    `Create Key Pair EC ${curve} at KMIP 2.1: linked halves, X.509 public key, PKCS#8 private key`,
    async (t) => {
      const xml = await createPair(
        `<CryptographicAlgorithm type="Enumeration" value="EC"/><RecommendedCurve type="Enumeration" value="${curve}"/>`,
      );
      const privateUid = valueOf(xml, 'PrivateKeyUniqueIdentifier') ?? '';
      const publicUid = valueOf(xml, 'PublicKeyUniqueIdentifier') ?? '';
      t.truthy(privateUid, xml);
      const pub = await connection().requestXml(requestXml('2.1', item('Get', uidXml(publicUid))));
      const der = Buffer.from(valueOf(pub, 'KeyMaterial') ?? '', 'hex');
      t.true(der.toString('hex').startsWith(spki), 'SubjectPublicKeyInfo with the named curve');
      t.regex(pub, /<KeyFormatType type="Enumeration" value="X_509"\/>/);
      const priv = await connection().requestXml(requestXml('2.1', item('Get', uidXml(privateUid))));
      const privateKey = createPrivateKey({
        key: Buffer.from(valueOf(priv, 'KeyMaterial') ?? '', 'hex'),
        format: 'der',
        type: 'pkcs8',
      });
      t.deepEqual(
        createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
        der,
        'the private key belongs to the public key',
      );
      const attributes = await connection().requestXml(
        requestXml('2.1', item('GetAttributes', uidXml(privateUid))),
      );
      t.regex(
        attributes,
        new RegExp(
          `<LinkType type="Enumeration" value="PublicKeyLink"/>\\s*<LinkedObjectIdentifier type="TextString" value="${publicUid}"/>`,
        ),
      );
      t.regex(attributes, /<CryptographicUsageMask type="Integer" value="Sign"\/>/, 'mask defaulted');
    },
  );
}

test.serial('Create Key Pair DSA-2048 at KMIP 1.4', async (t) => {
  const xml = await connection().requestXml(
    requestXml(
      '1.4',
      item(
        'CreateKeyPair',
        `<CommonTemplateAttribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="DSA"/></Attribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="2048"/></Attribute>
        </CommonTemplateAttribute>`,
      ),
    ),
  );
  const pub = await connection().requestXml(
    requestXml('1.4', item('Get', uidXml(valueOf(xml, 'PublicKeyUniqueIdentifier') ?? ''))),
  );
  const key = createPublicKey({
    key: Buffer.from(valueOf(pub, 'KeyMaterial') ?? '', 'hex'),
    format: 'der',
    type: 'spki',
  });
  t.is(key.asymmetricKeyType, 'dsa');
  t.is(key.asymmetricKeyDetails?.modulusLength, 2048);
});

test.serial(
  'Get turns a Transparent RSA key into PKCS#1, PKCS#8 and X.509, as node:crypto writes them',
  async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    // A BigInteger is two's complement (KMIP 1.4 §9.1.1.4), padded to a multiple of 8 bytes: 264 bytes leave a zero
    // byte before a 2048-bit modulus, which is positive.
    const big = (tag: string, b64?: string): string =>
      `<${tag} type="BigInteger" value="${Buffer.from(b64 ?? '', 'base64url')
        .toString('hex')
        .padStart(528, '0')}"/>`;
    const privateMaterial =
      big('Modulus', jwk.n) +
      big('PrivateExponent', jwk.d) +
      big('PublicExponent', jwk.e) +
      big('P', jwk.p) +
      big('Q', jwk.q) +
      big('PrimeExponentP', jwk.dp) +
      big('PrimeExponentQ', jwk.dq) +
      big('CRTCoefficient', jwk.qi);
    const register = (type: string, format: string, fields: string): string =>
      item(
        'Register',
        `<ObjectType type="Enumeration" value="${type}"/><TemplateAttribute/>
      <${type}><KeyBlock><KeyFormatType type="Enumeration" value="${format}"/>
        <KeyValue><KeyMaterial>${fields}</KeyMaterial></KeyValue>
        <CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>
      </KeyBlock></${type}>`,
      );
    const registered = await connection().requestXml(
      requestXml(
        '1.4',
        register('PrivateKey', 'TransparentRSAPrivateKey', privateMaterial) +
          register(
            'PublicKey',
            'TransparentRSAPublicKey',
            big('Modulus', jwk.n) + big('PublicExponent', jwk.e),
          ) +
          register(
            'PrivateKey',
            'TransparentRSAPrivateKey',
            big('Modulus', jwk.n) + big('PrivateExponent', jwk.d),
          ),
      ),
    );
    const uidAt = (i: number): string => valueOf(registered, 'UniqueIdentifier', i) ?? '';
    const [privateUid, publicUid, partialUid] = [uidAt(0), uidAt(1), uidAt(2)];
    const getAs = async (uid: string, format: string): Promise<string> =>
      connection().requestXml(
        requestXml('1.4', item('Get', `${uidXml(uid)}<KeyFormatType type="Enumeration" value="${format}"/>`)),
      );
    for (const type of ['pkcs1', 'pkcs8'] as const) {
      t.is(
        valueOf(await getAs(privateUid, type === 'pkcs1' ? 'PKCS_1' : 'PKCS_8'), 'KeyMaterial'),
        privateKey.export({ format: 'der', type }).toString('hex'),
      );
    }
    for (const [format, type] of [
      ['PKCS_1', 'pkcs1'],
      ['X_509', 'spki'],
    ] as const) {
      t.is(
        valueOf(await getAs(publicUid, format), 'KeyMaterial'),
        publicKey.export({ format: 'der', type }).toString('hex'),
      );
    }
    // Without the CRT fields no RSA private key can be written: refused, not guessed.
    t.regex(await getAs(partialUid, 'PKCS_8'), /KeyFormatTypeNotSupported/);
  },
);

test.serial('Get converts between key formats where defined, and says so where not', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs1 = privateKey.export({ format: 'der', type: 'pkcs1' });
  const registered = await connection().requestXml(
    requestXml(
      '1.4',
      item(
        'Register',
        `<ObjectType type="Enumeration" value="PrivateKey"/><TemplateAttribute/>
        <PrivateKey><KeyBlock><KeyFormatType type="Enumeration" value="PKCS_1"/>
          <KeyValue><KeyMaterial type="ByteString" value="${pkcs1.toString('hex')}"/></KeyValue>
          <CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>
        </KeyBlock></PrivateKey>`,
      ) +
        item(
          'Register',
          `<ObjectType type="Enumeration" value="PublicKey"/><TemplateAttribute/>
        <PublicKey><KeyBlock><KeyFormatType type="Enumeration" value="PKCS_1"/>
          <KeyValue><KeyMaterial type="ByteString" value="${publicKey.export({ format: 'der', type: 'pkcs1' }).toString('hex')}"/></KeyValue>
          <CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>
        </KeyBlock></PublicKey>`,
        ) +
        item(
          'Register',
          `<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute/>
        <SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
          <KeyValue><KeyMaterial type="ByteString" value="000102030405060708090a0b0c0d0e0f"/></KeyValue>
          <CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="128"/>
        </KeyBlock></SymmetricKey>`,
        ),
    ),
  );
  const uidAt = (i: number): string => valueOf(registered, 'UniqueIdentifier', i) ?? '';
  const [privateUid, publicUid, symmetricUid] = [uidAt(0), uidAt(1), uidAt(2)];
  const getAs = (uid: string, format: string): Promise<string> =>
    connection().requestXml(
      requestXml('1.4', item('Get', `${uidXml(uid)}<KeyFormatType type="Enumeration" value="${format}"/>`)),
    );
  t.is(
    valueOf(await getAs(privateUid, 'PKCS_8'), 'KeyMaterial'),
    privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
  );
  t.is(
    valueOf(await getAs(privateUid, 'PKCS_1'), 'KeyMaterial'),
    pkcs1.toString('hex'),
    'as registered: byte-exact',
  );
  t.is(
    valueOf(await getAs(publicUid, 'X_509'), 'KeyMaterial'),
    publicKey.export({ format: 'der', type: 'spki' }).toString('hex'),
  );
  const transparent = await getAs(symmetricUid, 'TransparentSymmetricKey');
  t.regex(transparent, /<KeyMaterial>\s*<Key type="ByteString" value="000102030405060708090a0b0c0d0e0f"\/>/);
  const refused = await getAs(privateUid, 'Raw');
  t.regex(refused, /KeyFormatTypeNotSupported/);
  t.regex(refused, /cannot convert this key from PKCS_1 to Raw/);
});

test.serial(
  'a generated RSA private key: PKCS#1 by default in 2.x, as its Key Format Type says; PKCS#8 in 1.x',
  async (t) => {
    const created = await createPair(
      `<CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>`,
    );
    const uid = valueOf(created, 'PrivateKeyUniqueIdentifier') ?? '';
    const attributes = await connection().requestXml(
      requestXml(
        '2.1',
        item('GetAttributes', `${uidXml(uid)}<AttributeReference type="Enumeration" value="KeyFormatType"/>`),
      ),
    );
    t.is(valueOf(attributes, 'KeyFormatType'), 'PKCS_1', attributes);
    const v2 = await connection().requestXml(requestXml('2.1', item('Get', uidXml(uid))));
    t.is(valueOf(v2, 'KeyFormatType'), 'PKCS_1');
    const pkcs1 = Buffer.from(valueOf(v2, 'KeyMaterial') ?? '', 'hex');
    const v1 = await connection().requestXml(requestXml('1.4', item('Get', uidXml(uid))));
    t.is(valueOf(v1, 'KeyFormatType'), 'PKCS_8');
    const pkcs8 = Buffer.from(valueOf(v1, 'KeyMaterial') ?? '', 'hex');
    // One key in two forms.
    t.is(
      createPrivateKey({ key: pkcs1, format: 'der', type: 'pkcs1' })
        .export({ format: 'der', type: 'pkcs8' })
        .toString('hex'),
      pkcs8.toString('hex'),
    );
    const asked = await connection().requestXml(
      requestXml('2.1', item('Get', `${uidXml(uid)}<KeyFormatType type="Enumeration" value="PKCS_8"/>`)),
    );
    t.is(valueOf(asked, 'KeyMaterial'), pkcs8.toString('hex'), 'a format asked for is still served');
  },
);

// A generated secret key's Key Block: Triple DES states the length it was made with (the OASIS SKFF-M-8 and -12
// vectors: 168 bits over 24 bytes), every other key the length of its bytes (DES asked as 56 is 8 bytes, 64 bits).
for (const [algorithm, bits, bytes, stated] of [
  ['DES3', 168, 24, 168],
  ['DES3', 112, 16, 112],
  ['DES3', 192, 24, 192],
  ['DES', 56, 8, 64],
  ['AES', 256, 32, 256],
] as const) {
  test.serial(
    `Get of a generated ${algorithm}-${String(bits)} key states ${String(stated)} bits`,
    async (t) => {
      const created = await connection().requestXml(
        requestXml(
          '2.1',
          item(
            'Create',
            `<ObjectType type="Enumeration" value="SymmetricKey"/>
          <Attributes>
            <CryptographicAlgorithm type="Enumeration" value="${algorithm}"/>
            <CryptographicLength type="Integer" value="${String(bits)}"/>
          </Attributes>`,
          ),
        ),
      );
      const uid = valueOf(created, 'UniqueIdentifier') ?? '';
      t.truthy(uid, created);
      const got = await connection().requestXml(requestXml('2.1', item('Get', uidXml(uid))));
      t.is(Buffer.from(valueOf(got, 'KeyMaterial') ?? '', 'hex').length, bytes, got);
      t.is(valueOf(got, 'CryptographicLength'), String(stated), got);
    },
  );
}

test.serial(
  'Create makes Secret Data from KMIP 2.0 on: random bytes of the length asked, a Password',
  async (t) => {
    const createSecret = (version: string, bits: number): Promise<string> =>
      connection().requestXml(
        requestXml(
          version,
          item(
            'Create',
            version === '2.1'
              ? `<ObjectType type="Enumeration" value="SecretData"/><Attributes><CryptographicLength type="Integer" value="${String(bits)}"/></Attributes>`
              : `<ObjectType type="Enumeration" value="SecretData"/><TemplateAttribute><Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="${String(bits)}"/></Attribute></TemplateAttribute>`,
          ),
        ),
      );
    const served: string[] = [];
    for (let i = 0; i < 2; i++) {
      const created = await createSecret('2.1', 80);
      const uid = valueOf(created, 'UniqueIdentifier') ?? '';
      t.truthy(uid, created);
      const got = await connection().requestXml(requestXml('2.1', item('Get', uidXml(uid))));
      t.is(valueOf(got, 'SecretDataType'), 'Password', got);
      t.is(valueOf(got, 'KeyFormatType'), 'Opaque', got);
      served.push(valueOf(got, 'KeyMaterial') ?? '');
      // Stored as Register stores Secret Data (its Key Format Type, Digest), and marked as generated.
      const attributes = await connection().requestXml(requestXml('2.1', item('GetAttributes', uidXml(uid))));
      t.regex(attributes, /<KeyFormatType type="Enumeration" value="Opaque"\/>/, attributes);
      t.regex(attributes, /<Digest>/);
      t.regex(attributes, /<RandomNumberGenerator>/);
      t.regex(attributes, /<OriginalCreationDate /);
    }
    t.is(served[0]?.length, 20, '80 bits are 10 bytes');
    t.not(served[0], served[1], 'each Create draws new bytes');
    t.regex(await createSecret('2.1', 81), /<ResultReason type="Enumeration" value="InvalidField"\/>/);
    // KMIP 1.4 §4.1: Create makes symmetric keys only.
    t.regex(await createSecret('1.4', 80), /<ResultReason type="Enumeration" value="InvalidField"\/>/);
  },
);

test.serial(
  'Create makes an 80-bit SKIPJACK key (FIPS 185), refuses other lengths, and ciphers with it are refused',
  async (t) => {
    const attribute = (name: string, type: string, value: string): string =>
      `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue type="${type}" value="${value}"/></Attribute>`;
    const createSkipjack = (bits: number): Promise<string> =>
      connection().requestXml(
        requestXml(
          '1.0',
          item(
            'Create',
            `<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>${attribute('Cryptographic Algorithm', 'Enumeration', 'SKIPJACK')}${attribute('Cryptographic Length', 'Integer', String(bits))}${attribute('Cryptographic Usage Mask', 'Integer', 'Decrypt Encrypt')}</TemplateAttribute>`,
          ),
        ),
      );
    const created = await createSkipjack(80);
    const uid = valueOf(created, 'UniqueIdentifier') ?? '';
    t.truthy(uid, created);
    const got = await connection().requestXml(requestXml('1.0', item('Get', uidXml(uid))));
    t.is(valueOf(got, 'CryptographicAlgorithm'), 'SKIPJACK', got);
    t.is(valueOf(got, 'CryptographicLength'), '80', got);
    t.is(valueOf(got, 'KeyMaterial')?.length, 20, 'ten bytes of key material');
    const other = await createSkipjack(64);
    t.regex(other, /<ResultReason type="Enumeration" value="InvalidField"\/>/, other);
    t.regex(other, /SKIPJACK/);
    await connection().requestXml(requestXml('1.2', item('Activate', uidXml(uid))));
    const encrypted = await connection().requestXml(
      requestXml(
        '1.2',
        item(
          'Encrypt',
          `${uidXml(uid)}<CryptographicParameters><BlockCipherMode type="Enumeration" value="ECB"/></CryptographicParameters><Data type="ByteString" value="0001020304050607"/>`,
        ),
      ),
    );
    t.regex(encrypted, /<ResultStatus type="Enumeration" value="OperationFailed"\/>/, encrypted);
  },
);
