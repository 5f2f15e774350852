/**
 * TTLV codec throughput against the platform's own JSON codec, measured in the same run on the same content:
 * decodeTtlv(bytes) vs JSON.parse(text of the KMIP JSON encoding), encodeTtlv(tree) vs JSON.stringify(object of
 * the KMIP JSON encoding). Goal: both ratios >= 1. Prints ops/s and the ratio; asserts nothing.
 *
 * Run: npm run bench:ttlv [-- --seconds N]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { decodeTtlv } from '../src/ttlv/decode.js';
import { encodeTtlv } from '../src/ttlv/encode.js';
import type { TtlvItem } from '../src/ttlv/types.js';
import { messageToJson, readXmlMessages } from '../src/kmip/text-messages.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' } } });
const seconds = Number(values.seconds);

const header = `
  <ResponseHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <TimeStamp type="DateTime" value="2026-11-23T10:00:00+00:00"/>
    <BatchCount type="Integer" value="1"/>
  </ResponseHeader>`;

const getResponse = `<ResponseMessage>${header}
  <BatchItem>
    <Operation type="Enumeration" value="Get"/>
    <ResultStatus type="Enumeration" value="Success"/>
    <ResponsePayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>
      <UniqueIdentifier type="TextString" value="5b1d2a3c-6f7e-4a8b-9c0d-1e2f3a4b5c6d"/>
      <SymmetricKey>
        <KeyBlock>
          <KeyFormatType type="Enumeration" value="Raw"/>
          <KeyValue>
            <KeyMaterial type="ByteString" value="${'a5'.repeat(32)}"/>
          </KeyValue>
          <CryptographicAlgorithm type="Enumeration" value="AES"/>
          <CryptographicLength type="Integer" value="256"/>
        </KeyBlock>
      </SymmetricKey>
    </ResponsePayload>
  </BatchItem>
</ResponseMessage>`;

const uid = (i: number): string => `5b1d2a3c-6f7e-4a8b-9c0d-${i.toString(16).padStart(12, '0')}`;
const locateResponse = `<ResponseMessage>${header}
  <BatchItem>
    <Operation type="Enumeration" value="Locate"/>
    <ResultStatus type="Enumeration" value="Success"/>
    <ResponsePayload>
      <LocatedItems type="Integer" value="50"/>
${Array.from({ length: 50 }, (_, i) => `      <UniqueIdentifier type="TextString" value="${uid(i)}"/>`).join('\n')}
    </ResponsePayload>
  </BatchItem>
</ResponseMessage>`;

function message(xml: string): TtlvItem {
  const [first] = readXmlMessages(xml).messages;
  if (!first?.item) throw new Error(`bench message does not parse: ${first?.error?.message ?? 'empty'}`);
  return first.item;
}

/** Runs fn repeatedly for about `seconds`, after a warm-up; returns operations per second. */
function rate(fn: () => unknown): number {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    now = performance.now();
  }
  return ops / ((now - start) / 1000);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(11);

console.log(
  `TTLV codec vs JSON, same content, same run. Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}).`,
);
console.log(
  'message            bytes(ttlv/json)   decode/s   JSON.parse/s  ratio |   encode/s JSON.stringify/s  ratio',
);
for (const [name, xml] of [
  ['Get response', getResponse],
  ['Locate 50 response', locateResponse],
] as const) {
  const tree = message(xml);
  const bytes = encodeTtlv(tree);
  const jsonObject = messageToJson(tree);
  const jsonText = JSON.stringify(jsonObject);
  const decode = rate(() => decodeTtlv(bytes));
  const parse = rate(() => JSON.parse(jsonText) as unknown);
  const encode = rate(() => encodeTtlv(tree));
  const stringify = rate(() => JSON.stringify(jsonObject));
  console.log(
    `${name.padEnd(18)} ${`${bytes.length}/${jsonText.length}`.padStart(16)} ${fmt(decode)} ${fmt(parse)}  ${(decode / parse).toFixed(2).padStart(5)} | ${fmt(encode)} ${fmt(stringify)}      ${(encode / stringify).toFixed(2).padStart(5)}`,
  );
}
