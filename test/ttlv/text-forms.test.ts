/**
 * KMIP XML and JSON text forms (KMIP Additional Message Encodings 1.0 §4.1, §6.1) with a small hand-written names
 * table, so that these tests pin the ttlv layer alone; the registry-backed forms are tested over the OASIS vectors
 * in test/kmip/vectors.test.ts.
 */
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { TtlvError } from '../../src/ttlv/errors.js';
import { toHex } from '../../src/ttlv/hex.js';
import { formatKmipJson, parseKmipJson } from '../../src/ttlv/json.js';
import { defaultDecodeLimits } from '../../src/ttlv/limits.js';
import type { TextNames } from '../../src/ttlv/text-names.js';
import { ItemType, ttlv, type TtlvItem } from '../../src/ttlv/types.js';
import { formatKmipXml, parseKmipXml, readXmlDocument } from '../../src/ttlv/xml.js';

const tags: Record<string, number> = {
  Message: 0x420078,
  Attribute: 0x420008,
  AttributeName: 0x42000a,
  AttributeValue: 0x42000b,
  CryptographicAlgorithm: 0x420028,
  CryptographicUsageMask: 0x42002c,
  Count: 0x42000d,
  Big: 0x420052,
  Long: 0x420060,
  Flag: 0x420061,
  Text: 0x420062,
  Bytes: 0x420063,
  When: 0x420064,
  Lease: 0x420065,
  WhenExact: 0x420066,
};
const names = (key: string): number => tags[key] ?? -1;
const algorithms = new Map([
  [3, 'AES'],
  [4, 'RSA'],
]);
const usage = new Map([
  [0x4, 'Encrypt'],
  [0x8, 'Decrypt'],
  [0x1, 'Sign'],
]);

const fakeNames: TextNames = {
  tagName: (tag) => Object.entries(tags).find(([, value]) => value === tag)?.[0],
  tagByName: (name) => tags[name],
  enumName: (tag, value) => (tag === names('CryptographicAlgorithm') ? algorithms.get(value) : undefined),
  enumValue: (tag, name) =>
    tag === names('CryptographicAlgorithm') ? [...algorithms].find(([, n]) => n === name)?.[0] : undefined,
  isMask: (tag) => tag === names('CryptographicUsageMask'),
  maskNames: (_tag, value) => {
    const out: string[] = [];
    let rest = value;
    for (const [bit, name] of usage) {
      if (value & bit) {
        out.push(name);
        rest &= ~bit;
      }
    }
    return rest === 0 ? out : undefined;
  },
  maskValue: (_tag, list) => {
    let value = 0;
    for (const name of list) {
      const bit = [...usage].find(([, n]) => n === name)?.[0];
      if (bit === undefined) return undefined;
      value |= bit;
    }
    return value;
  },
  attributeNameTag: names('AttributeName'),
  attributeValueTag: names('AttributeValue'),
  attributeTag: (name) => tags[name.replace(/ /g, '')],
};

const sample: TtlvItem = ttlv.structure(names('Message'), [
  ttlv.enumeration(names('CryptographicAlgorithm'), 3),
  ttlv.integer(names('CryptographicUsageMask'), 0xc),
  ttlv.integer(names('Count'), -5),
  ttlv.bigInteger(names('Big'), 0x10001n),
  ttlv.longInteger(names('Long'), -123456789000000000n),
  ttlv.boolean(names('Flag'), true),
  ttlv.textString(names('Text'), 'a "quoted" <tag> & tab\there'),
  ttlv.byteString(names('Bytes'), new Uint8Array([0, 1, 0xfe])),
  ttlv.dateTime(names('When'), 1205495800n),
  ttlv.interval(names('Lease'), 864000),
  ttlv.dateTimeExtended(names('WhenExact'), 1205495800123456n),
  ttlv.structure(names('Attribute'), [
    ttlv.textString(names('AttributeName'), 'Cryptographic Algorithm'),
    ttlv.enumeration(names('AttributeValue'), 4),
  ]),
  ttlv.structure(names('Attribute'), [
    ttlv.textString(names('AttributeName'), 'Cryptographic Usage Mask'),
    ttlv.integer(names('AttributeValue'), 0x5),
  ]),
  ttlv.textString(0x540001, 'extension'),
]);

const hexOf = (item: TtlvItem): string => toHex(encodeTtlv(item));

test('XML: writes names, masks, the spec date form and TTLV elements for unnamed tags', (t) => {
  const xml = formatKmipXml(sample, fakeNames);
  t.true(xml.includes('<CryptographicAlgorithm type="Enumeration" value="AES"/>'));
  t.true(xml.includes('<CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>'));
  t.true(xml.includes('<Big type="BigInteger" value="0000000000010001"/>'));
  t.true(xml.includes('<When type="DateTime" value="2008-03-14T11:56:40+00:00"/>'));
  t.true(xml.includes('<WhenExact type="DateTimeExtended" value="2008-03-14T11:56:40.123456+00:00"/>'));
  t.true(xml.includes('value="a &quot;quoted&quot; &lt;tag&gt; &amp; tab&#9;here"'));
  // 1.x attribute values take the enumeration and mask of the attribute their name denotes.
  t.true(xml.includes('<AttributeValue type="Enumeration" value="RSA"/>'));
  t.true(xml.includes('<AttributeValue type="Integer" value="Encrypt Sign"/>'));
  t.true(xml.includes('<TTLV tag="0x540001" type="TextString" value="extension"/>'));
});

test('XML: round trip to identical TTLV', (t) => {
  const xml = formatKmipXml(sample, fakeNames);
  t.is(hexOf(parseKmipXml(xml, fakeNames)), hexOf(sample));
});

test('JSON: round trip to identical TTLV, masks joined by |', (t) => {
  const json = formatKmipJson(sample, fakeNames);
  const text = JSON.stringify(json);
  t.true(text.includes('{"tag":"CryptographicUsageMask","type":"Integer","value":"Encrypt|Decrypt"}'));
  t.true(text.includes('{"tag":"Long","type":"LongInteger","value":"0xfe4964b45a8b6e00"}'));
  t.true(text.includes('{"tag":"Count","type":"Integer","value":-5}'));
  t.is(hexOf(parseKmipJson(JSON.parse(text), fakeNames)), hexOf(sample));
});

test('XML: hex forms and both mask separators are read', (t) => {
  const item = parseKmipXml(
    `<Message>
       <CryptographicAlgorithm type="Enumeration" value="0x00000004"/>
       <CryptographicUsageMask type="Integer" value="Encrypt|Decrypt   Sign"/>
       <Count type="Integer" value="0xFFFFFFFF"/>
       <Flag type="Boolean" value="0x0000000000000000"/>
       <When type="DateTime" value="2008-03-14T21:56:40+10:00"/>
     </Message>`,
    fakeNames,
  );
  t.deepEqual(item, {
    tag: names('Message'),
    type: ItemType.Structure,
    value: [
      ttlv.enumeration(names('CryptographicAlgorithm'), 4),
      ttlv.integer(names('CryptographicUsageMask'), 0xd),
      ttlv.integer(names('Count'), -1),
      ttlv.boolean(names('Flag'), false),
      ttlv.dateTime(names('When'), 1205495800n),
    ],
  });
});

test('placeholders: $NOW offsets with --now, literal text, substitution, and an error otherwise', (t) => {
  const xml = `<Message>
      <When type="DateTime" value="$NOW-3600"/>
      <Text type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
      <Bytes type="ByteString" value="$IV_COUNTER_NONCE"/>
    </Message>`;
  const error = t.throws(() => parseKmipXml(xml, fakeNames, { now: 10_000n }), { instanceOf: TtlvError });
  t.is(error.code, 'placeholder');
  t.regex(error.detail, /\$IV_COUNTER_NONCE/);
  const item = parseKmipXml(xml, fakeNames, {
    now: 10_000n,
    substitute: (name, type) => (name === '$IV_COUNTER_NONCE' && type === 'ByteString' ? 'abcd' : undefined),
  });
  t.deepEqual(item.type === ItemType.Structure ? item.value : [], [
    ttlv.dateTime(names('When'), 6_400n),
    ttlv.textString(names('Text'), '$UNIQUE_IDENTIFIER_0'),
    ttlv.byteString(names('Bytes'), new Uint8Array([0xab, 0xcd])),
  ]);
  const noNow = t.throws(() => parseKmipXml('<When type="DateTime" value="$NOW"/>', fakeNames), {
    instanceOf: TtlvError,
  });
  t.is(noNow.code, 'placeholder');
});

const badXml: readonly [string, string, RegExp][] = [
  ['unknown tag name', '<Nope type="Integer" value="1"/>', /unknown tag name 'Nope'/],
  ['unknown type', '<Count type="Float" value="1"/>', /unknown item type 'Float'/],
  ['integer out of range', '<Count type="Integer" value="2147483648"/>', /not an Integer/],
  ['unknown enumeration name', '<CryptographicAlgorithm type="Enumeration" value="ROT13"/>', /not a value/],
  ['unknown mask bit', '<CryptographicUsageMask type="Integer" value="Encrypt Fly"/>', /not an Integer/],
  ['odd hex', '<Bytes type="ByteString" value="abc"/>', /not hex bytes/],
  ['bad boolean', '<Flag type="Boolean" value="yes"/>', /not a Boolean/],
  ['date without zone', '<When type="DateTime" value="2008-03-14T11:56:40"/>', /ISO 8601/],
  ['impossible date', '<When type="DateTime" value="2008-02-30T11:56:40Z"/>', /ISO 8601/],
  ['fractional DateTime', '<When type="DateTime" value="2008-03-14T11:56:40.5Z"/>', /whole seconds/],
  ['structure with value', '<Message value="1"/>', /children, not a value/],
  [
    'scalar with children',
    '<Count type="Integer" value="1"><Count type="Integer" value="1"/></Count>',
    /child elements/,
  ],
  ['missing value', '<Count type="Integer"/>', /missing value/],
  ['text content', '<Message>hello</Message>', /unexpected text/],
  ['malformed XML', '<Message><Count type="Integer" value="1"></Message>', /XML/],
];

for (const [name, xml, pattern] of badXml) {
  test(`XML refuses: ${name}`, (t) => {
    const error = t.throws(() => parseKmipXml(xml, fakeNames), { instanceOf: TtlvError });
    t.is(error.code, 'bad-text');
    t.regex(error.message, pattern);
  });
}

test('XML document: reads the first root only and warns about content after it', (t) => {
  const document = readXmlDocument('<KMIP><Message/><Message/></KMIP>\n</KMIP>\n');
  t.is(document.elements.length, 2);
  t.is(document.warnings.length, 1);
});

test('JSON refuses a structure whose value is not an array, and a tag that is not a string', (t) => {
  t.throws(() => parseKmipJson({ tag: 'Message', value: 3 }, fakeNames), {
    instanceOf: TtlvError,
    message: /array/,
  });
  t.throws(() => parseKmipJson({ tag: 7, value: [] }, fakeNames), { instanceOf: TtlvError, message: /tag/ });
});

/** `depth` Structures nested in each other, as the binary decoder counts depth (the message is the first). */
function nested(depth: number): TtlvItem {
  let item: TtlvItem = ttlv.structure(names('Message'), []);
  for (let i = 1; i < depth; i++) item = ttlv.structure(names('Message'), [item]);
  return item;
}

test('XML and JSON take Structures nested as deep as the binary decoder does, and no deeper', (t) => {
  const limit = defaultDecodeLimits.maxDepth;
  const deepest = nested(limit);
  t.deepEqual(decodeTtlv(encodeTtlv(deepest)), deepest, 'the binary decoder takes this depth');
  t.deepEqual(parseKmipXml(formatKmipXml(deepest, fakeNames), fakeNames), deepest);
  t.deepEqual(parseKmipJson(formatKmipJson(deepest, fakeNames), fakeNames), deepest);
  const tooDeep = nested(limit + 1);
  t.throws(() => decodeTtlv(encodeTtlv(tooDeep)), { instanceOf: TtlvError, message: /nested deeper/ });
  const xmlError = t.throws(() => parseKmipXml(formatKmipXml(tooDeep, fakeNames), fakeNames));
  t.is((xmlError as TtlvError | undefined)?.code, 'too-deep');
  const jsonError = t.throws(() => parseKmipJson(formatKmipJson(tooDeep, fakeNames), fakeNames));
  t.is((jsonError as TtlvError | undefined)?.code, 'too-deep');
});

test('a client-sized nesting (100,000 levels) is refused as too deep, not by running out of stack', (t) => {
  const levels = 100_000;
  const xml = '<Message>'.repeat(levels) + '</Message>'.repeat(levels);
  t.is(t.throws(() => parseKmipXml(xml, fakeNames), { instanceOf: TtlvError }).code, 'too-deep');
  const json = '{"tag":"Message","value":['.repeat(levels) + ']}'.repeat(levels);
  t.is(
    t.throws(() => parseKmipJson(JSON.parse(json), fakeNames), { instanceOf: TtlvError }).code,
    'too-deep',
  );
});
