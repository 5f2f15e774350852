/**
 * Golden vectors beyond the spec's own examples, built with the independent builder (never with src/ttlv/encode.ts).
 * `npx tsx test/support/write-vectors.ts` writes them to test/vectors; vectors.test.ts fails if a file drifts from
 * its definition here. Tag numbers are from KMIP 1.4 §9.1.3.1 (Located Items 4200D5 since 1.3), enumeration values
 * from §9.1.3.2 (Operation Get 0A, Locate 08; Result Status Success 0, Operation Failed 1; Result Reason Item Not
 * Found 1; Object Type Symmetric Key 2; Key Format Type Raw 1; Cryptographic Algorithm AES 3; Name Type
 * Uninterpreted Text String 1).
 */
import { build as b, type Built } from './ttlv-builder.js';

export const T = {
  ActivationDate: 0x420001,
  Attribute: 0x420008,
  AttributeName: 0x42000a,
  AttributeValue: 0x42000b,
  BatchCount: 0x42000d,
  BatchItem: 0x42000f,
  CryptographicAlgorithm: 0x420028,
  CryptographicLength: 0x42002a,
  KeyBlock: 0x420040,
  KeyFormatType: 0x420042,
  KeyMaterial: 0x420043,
  KeyValue: 0x420045,
  MaximumItems: 0x42004f,
  Name: 0x420053,
  NameType: 0x420054,
  NameValue: 0x420055,
  ObjectType: 0x420057,
  Operation: 0x42005c,
  ProtocolVersion: 0x420069,
  ProtocolVersionMajor: 0x42006a,
  ProtocolVersionMinor: 0x42006b,
  RequestHeader: 0x420077,
  RequestMessage: 0x420078,
  RequestPayload: 0x420079,
  ResponseHeader: 0x42007a,
  ResponseMessage: 0x42007b,
  ResponsePayload: 0x42007c,
  ResultMessage: 0x42007d,
  ResultReason: 0x42007e,
  ResultStatus: 0x42007f,
  SymmetricKey: 0x42008f,
  TimeStamp: 0x420092,
  UniqueIdentifier: 0x420094,
  LocatedItems: 0x4200d5,
} as const;

const X = 0x420020; // the spec's example tag (§9.1.2)

export interface ConstructedVector {
  readonly name: string;
  readonly title: readonly string[];
  readonly built: Built;
}

const version = (minor: number): Built =>
  b.structure(T.ProtocolVersion, [
    b.integer(T.ProtocolVersionMajor, 1, 'Protocol Version Major'),
    b.integer(T.ProtocolVersionMinor, minor, 'Protocol Version Minor'),
  ]);

const requestHeader = (): Built =>
  b.structure(T.RequestHeader, [version(4), b.integer(T.BatchCount, 1, 'Batch Count')], 'Request Header');

const responseHeader = (): Built =>
  b.structure(
    T.ResponseHeader,
    [
      version(4),
      b.dateTime(T.TimeStamp, 1205495800n, 'Time Stamp 2008-03-14T11:56:40Z'),
      b.integer(T.BatchCount, 1, 'Batch Count'),
    ],
    'Response Header',
  );

const uid1 = '1f165d65-bbbd-4bd6-999a-4b1e4d4b2a3c';
const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

export const constructedVectors: readonly ConstructedVector[] = [
  {
    name: 'msg-get-request',
    title: [
      'KMIP 1.4 Get request (§4.11): Request Message / Request Header / one Batch Item with a Unique Identifier.',
    ],
    built: b.structure(
      T.RequestMessage,
      [
        requestHeader(),
        b.structure(
          T.BatchItem,
          [
            b.enumeration(T.Operation, 0x0a, 'Operation Get'),
            b.structure(T.RequestPayload, [b.textString(T.UniqueIdentifier, uid1, 'Unique Identifier')]),
          ],
          'Batch Item',
        ),
      ],
      'Request Message',
    ),
  },
  {
    name: 'msg-get-response',
    title: [
      'KMIP 1.4 Get response (§4.11) returning an AES-256 Symmetric Key in Raw format (§2.2.2, §2.1.3).',
    ],
    built: b.structure(
      T.ResponseMessage,
      [
        responseHeader(),
        b.structure(
          T.BatchItem,
          [
            b.enumeration(T.Operation, 0x0a, 'Operation Get'),
            b.enumeration(T.ResultStatus, 0, 'Result Status Success'),
            b.structure(T.ResponsePayload, [
              b.enumeration(T.ObjectType, 2, 'Object Type Symmetric Key'),
              b.textString(T.UniqueIdentifier, uid1, 'Unique Identifier'),
              b.structure(T.SymmetricKey, [
                b.structure(T.KeyBlock, [
                  b.enumeration(T.KeyFormatType, 1, 'Key Format Type Raw'),
                  b.structure(T.KeyValue, [b.byteString(T.KeyMaterial, keyBytes, 'Key Material (32 bytes)')]),
                  b.enumeration(T.CryptographicAlgorithm, 3, 'Cryptographic Algorithm AES'),
                  b.integer(T.CryptographicLength, 256, 'Cryptographic Length'),
                ]),
              ]),
            ]),
          ],
          'Batch Item',
        ),
      ],
      'Response Message',
    ),
  },
  {
    name: 'msg-locate-request',
    title: ['KMIP 1.4 Locate request (§4.9): Maximum Items and a Name attribute whose value is a Structure.'],
    built: b.structure(T.RequestMessage, [
      requestHeader(),
      b.structure(T.BatchItem, [
        b.enumeration(T.Operation, 0x08, 'Operation Locate'),
        b.structure(T.RequestPayload, [
          b.integer(T.MaximumItems, 10, 'Maximum Items'),
          b.structure(T.Attribute, [
            b.textString(T.AttributeName, 'Name', 'Attribute Name'),
            b.structure(T.AttributeValue, [
              b.textString(T.NameValue, 'backup-key', 'Name Value'),
              b.enumeration(T.NameType, 1, 'Name Type Uninterpreted Text String'),
            ]),
          ]),
        ]),
      ]),
    ]),
  },
  {
    name: 'msg-locate-response',
    title: ['KMIP 1.4 Locate response (§4.9) with Located Items (1.3+) and several Unique Identifiers.'],
    built: b.structure(T.ResponseMessage, [
      responseHeader(),
      b.structure(T.BatchItem, [
        b.enumeration(T.Operation, 0x08, 'Operation Locate'),
        b.enumeration(T.ResultStatus, 0, 'Result Status Success'),
        b.structure(T.ResponsePayload, [
          b.integer(T.LocatedItems, 4, 'Located Items'),
          b.textString(T.UniqueIdentifier, '1', 'Unique Identifier (1 byte, 7 padding)'),
          b.textString(T.UniqueIdentifier, '12345678', 'Unique Identifier (8 bytes, no padding)'),
          b.textString(T.UniqueIdentifier, '123456789', 'Unique Identifier (9 bytes, 7 padding)'),
          b.textString(T.UniqueIdentifier, uid1, 'Unique Identifier'),
        ]),
      ]),
    ]),
  },
  {
    name: 'msg-failure-response',
    title: [
      'KMIP 1.4 response with a failed batch item: Result Status Operation Failed, Item Not Found (§6.9-6.11).',
    ],
    built: b.structure(T.ResponseMessage, [
      responseHeader(),
      b.structure(T.BatchItem, [
        b.enumeration(T.Operation, 0x0a, 'Operation Get'),
        b.enumeration(T.ResultStatus, 1, 'Result Status Operation Failed'),
        b.enumeration(T.ResultReason, 1, 'Result Reason Item Not Found'),
        b.textString(T.ResultMessage, 'no object with this identifier', 'Result Message'),
      ]),
    ]),
  },
  {
    name: 'msg-extension-tags',
    title: [
      'A request carrying vendor extension items: tags 0x54xxxx (§9.1.1.1) and an extension enumeration value',
      '8xxxxxxx (§9.1.1.4), nested inside a Batch Item.',
    ],
    built: b.structure(T.RequestMessage, [
      requestHeader(),
      b.structure(T.BatchItem, [
        b.enumeration(T.Operation, 0x0a, 'Operation Get'),
        b.structure(0x540000, [
          b.enumeration(0x540001, 0x80000001, 'extension enumeration value'),
          b.textString(0x54ffff, 'vendor'),
        ]),
      ]),
    ]),
  },
  {
    name: 'integer-negative-and-bounds',
    title: ["Integers are signed 32-bit two's complement (§9.1.1.4): -1, -2^31, 2^31-1, 0."],
    built: b.structure(X, [
      b.integer(0x420004, -1, '-1'),
      b.integer(0x420004, -2147483648, '-2^31'),
      b.integer(0x420004, 2147483647, '2^31-1'),
      b.integer(0x420004, 0, '0'),
    ]),
  },
  {
    name: 'long-integer-negative-and-bounds',
    title: ['Long Integers are signed 64-bit (§9.1.1.4): the spec example negated, -2^63 and 2^63-1.'],
    built: b.structure(X, [
      b.longInteger(0x420004, -123456789000000000n, '-123456789000000000'),
      b.longInteger(0x420004, -(2n ** 63n), '-2^63'),
      b.longInteger(0x420004, 2n ** 63n - 1n, '2^63-1'),
    ]),
  },
  {
    name: 'unsigned-bounds',
    title: [
      'Enumerations and Intervals are unsigned 32-bit (§9.1.1.4): values above 2^31 must not come back negative;',
      'Date-Time is signed (a time before 1970).',
    ],
    built: b.structure(X, [
      b.enumeration(0x420004, 0xffffffff, 'Enumeration 2^32-1'),
      b.enumeration(0x420004, 0x80000000, 'Enumeration 2^31 (extension range)'),
      b.interval(0x420005, 0xffffffff, 'Interval 2^32-1'),
      b.interval(0x420005, 0, 'Interval 0'),
      b.dateTime(0x420006, -86400n, 'Date-Time 1969-12-31T00:00:00Z'),
    ]),
  },
  {
    name: 'big-integer-negative',
    title: [
      "The spec's Big Integer example negated: -1234567890000000000000000000 is 12 significant bytes,",
      'sign-extended with FF to 16 (§9.1.1.4).',
    ],
    built: b.bigInteger(X, -1234567890000000000000000000n),
  },
  {
    name: 'big-integer-sign-byte',
    title: [
      'Big Integers at the width boundaries (§9.1.1.4, minimal sign extension to a multiple of 8 bytes):',
      '2^63 and -2^63-1 need a 9th (sign) byte and so 16 bytes; 2^63-1, -2^63, 0, -1, 128 fit in 8.',
    ],
    built: b.structure(X, [
      b.bigInteger(0x420004, 2n ** 63n, '2^63'),
      b.bigInteger(0x420004, 2n ** 63n - 1n, '2^63-1'),
      b.bigInteger(0x420004, -(2n ** 63n), '-2^63'),
      b.bigInteger(0x420004, -(2n ** 63n) - 1n, '-2^63-1'),
      b.bigInteger(0x420004, 0n, '0'),
      b.bigInteger(0x420004, -1n, '-1'),
      b.bigInteger(0x420004, 128n, '128'),
      b.bigInteger(0x420004, 2n ** 128n - 1n, '2^128-1 (17 significant bytes with the sign byte: 24)'),
    ]),
  },
  {
    name: 'empty-structure',
    title: ['A Structure with no children has length 0 and no value bytes.'],
    built: b.structure(X, []),
  },
  {
    name: 'empty-strings',
    title: [
      'An empty Text String and an empty Byte String: length 0, no padding (§9.1.1.3, minimal padding).',
    ],
    built: b.structure(X, [
      b.textString(0x420004, '', 'empty Text String'),
      b.byteString(0x420005, new Uint8Array(0)),
    ]),
  },
  {
    name: 'empty-text-string',
    title: ['A top-level empty Text String: 8 bytes in all.'],
    built: b.textString(X, ''),
  },
  {
    name: 'text-utf8-multibyte',
    title: [
      'Text Strings are UTF-8 (§9.1.1.4, RFC 3629): 2-byte (ü ß), 3-byte (€ 日本) and 4-byte (U+1D11E) sequences;',
      'the length counts bytes, not characters; a U+FEFF at the start is content, not a byte order mark to drop.',
    ],
    built: b.structure(X, [
      b.textString(0x420004, 'Grüße € 日本 𝄞', 'mixed widths'),
      b.textString(0x420004, '\u{feff}BOM', 'leading U+FEFF'),
      b.textString(0x420004, 'a\u0000b', 'an embedded U+0000'),
    ]),
  },
  {
    name: 'strings-padding-widths',
    title: ['Text and Byte Strings of 7, 8 and 9 bytes: padding of 1, 0 and 7 bytes.'],
    built: b.structure(X, [
      b.textString(0x420004, 'abcdefg'),
      b.textString(0x420004, 'abcdefgh'),
      b.textString(0x420004, 'abcdefghi'),
      b.byteString(0x420005, Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9)),
      b.byteString(0x420005, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0)),
      b.byteString(0x420005, Uint8Array.of(0x80, 1, 2, 3, 4, 5, 6, 7, 0xff)),
    ]),
  },
  {
    name: 'boolean-false',
    title: ['A Boolean with the value False (§9.1.1.4): eight zero bytes.'],
    built: b.boolean(X, false),
  },
  {
    name: 'date-time-extended',
    title: [
      'Date Time Extended (KMIP 2.0+, type 0B; KMIP 2.1 §10.1.2: signed 64-bit POSIX time in microseconds).',
      'The 2.x specs give no byte example; this is the 1.4 Date-Time example plus 123456 microseconds,',
      'and one microsecond before the epoch.',
    ],
    built: b.structure(X, [
      b.dateTimeExtended(0x420004, 1205495800123456n, '2008-03-14T11:56:40.123456Z'),
      b.dateTimeExtended(0x420004, -1n, '1969-12-31T23:59:59.999999Z'),
    ]),
  },
  {
    name: 'all-types-nested',
    title: ['Every item type once, inside three levels of Structure.'],
    built: b.structure(X, [
      b.structure(0x420021, [
        b.structure(0x420022, [
          b.integer(0x420004, 8),
          b.longInteger(0x420004, 123456789000000000n),
          b.bigInteger(0x420004, 1234567890000000000000000000n),
          b.enumeration(0x420004, 255),
          b.boolean(0x420004, true),
        ]),
        b.textString(0x420005, 'Hello World'),
        b.byteString(0x420005, Uint8Array.of(1, 2, 3)),
      ]),
      b.dateTime(0x420006, 1205495800n),
      b.interval(0x420006, 864000),
      b.dateTimeExtended(0x420006, 1205495800000000n),
    ]),
  },
];
