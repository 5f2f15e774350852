/**
 * Every OASIS conformance vector file (../shared/kmip-vectors) parses, and every message in it is stable through
 * XML -> TTLV -> XML -> TTLV and TTLV -> JSON -> TTLV, with the names of the KMIP version the message declares.
 * Placeholders that are not Text Strings get typed stand-ins, so that every message reaches TTLV.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { toHex } from '../../src/ttlv/hex.js';
import type { ItemTypeName } from '../../src/ttlv/types.js';
import {
  messageToJson,
  messageToXml,
  readJsonMessages,
  readXmlMessages,
} from '../../src/kmip/text-messages.js';

const vectorsRoot = resolve(import.meta.dirname, '../../../shared/kmip-vectors');

function xmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? xmlFiles(join(dir, entry.name))
        : entry.name.endsWith('.xml')
          ? [join(dir, entry.name)]
          : [],
    )
    .sort();
}

const standIns: Record<ItemTypeName, string | undefined> = {
  Structure: undefined,
  Integer: '7',
  LongInteger: '7',
  BigInteger: '0000000000000007',
  Enumeration: '0x00000007',
  Boolean: 'true',
  TextString: undefined,
  ByteString: '07',
  DateTime: '0x0000000000000007',
  Interval: '7',
  DateTimeExtended: '0x0000000000000007',
};
const options = { now: 1_700_000_000n, substitute: (_: string, type: ItemTypeName) => standIns[type] };

/**
 * Messages that no KMIP 1.0-2.1 vocabulary can read, each with its reason; the test checks that each fails with
 * exactly this name, so an entry that starts to read must be removed.
 */
const unreadable: Readonly<Record<string, { readonly name: string; readonly reason: string }>> = {
  'testcases-v2.0/TC-DLOGIN-2-20.xml': {
    name: "'NotAuthorized'",
    reason: 'expects Result Reason NotAuthorized, which no KMIP specification 1.0-2.1 defines (2.0 §11.46)',
  },
};

/** KMIP 3.0 is a committee draft with no specification text here: its new names may stay unresolved. */
const isDraft = (file: string): boolean => file.includes('profiles-v3.0');

if (!existsSync(vectorsRoot)) {
  test('conformance vectors', (t) => {
    t.log(`skipped: ${vectorsRoot} is absent (the vectors live beside the checkout in ../shared)`);
    t.pass();
  });
} else {
  const files = xmlFiles(vectorsRoot);

  test('the vector folders hold the files their README lists', (t) => {
    t.true(files.length >= 665, `found ${files.length} XML files`);
  });

  test('the stray closing root element of TC-ECDSA-SIGN-1-14.xml is read up to the first root, with a warning', (t) => {
    const file = files.find((f) => f.endsWith('TC-ECDSA-SIGN-1-14.xml'));
    if (file === undefined) return t.fail('TC-ECDSA-SIGN-1-14.xml is missing');
    const read = readXmlMessages(readFileSync(file, 'utf8'), options);
    t.true(read.messages.length > 0);
    t.true(read.messages.every((m) => m.item !== undefined));
    t.regex(read.warnings.join('\n'), /after the root element/);
  });

  for (const file of files) {
    const name = relative(vectorsRoot, file);
    test(`vector ${name}`, (t) => {
      const read = readXmlMessages(readFileSync(file, 'utf8'), options);
      t.true(read.messages.length > 0, 'no message in the file');
      let unresolved = 0;
      for (const message of read.messages) {
        const where = `${message.name} at line ${message.line ?? '?'}`;
        if (!message.item) {
          if (isDraft(file)) {
            unresolved += 1;
            continue;
          }
          const known = unreadable[name];
          if (known !== undefined && message.error?.detail.includes(known.name) === true) {
            t.log(`${where}: ${known.reason}`);
            unresolved += 1;
            continue;
          }
          return t.fail(`${where}: ${message.error?.message ?? 'no item'}`);
        }
        const bytes = encodeTtlv(message.item);
        const decoded = decodeTtlv(bytes);
        const xml = messageToXml(decoded);
        const again = readXmlMessages(xml, options).messages[0];
        if (!again?.item)
          return t.fail(`${where}: its own XML does not read back: ${again?.error?.message ?? ''}`);
        t.is(toHex(encodeTtlv(again.item)), toHex(bytes), `${where}: XML -> TTLV -> XML -> TTLV changed it`);
        t.is(messageToXml(again.item), xml, `${where}: the XML form is not stable`);
        const json = readJsonMessages(JSON.stringify(messageToJson(decoded)), options).messages[0];
        if (!json?.item)
          return t.fail(`${where}: its JSON does not read back: ${json?.error?.message ?? ''}`);
        t.is(toHex(encodeTtlv(json.item)), toHex(bytes), `${where}: TTLV -> JSON -> TTLV changed it`);
      }
      if (unresolved > 0)
        t.log(`${unresolved} of ${read.messages.length} messages use names outside KMIP 1.0-2.1`);
      if (unreadable[name] !== undefined)
        t.true(unresolved > 0, 'listed as unreadable but read: remove the entry');
    });
  }
}
