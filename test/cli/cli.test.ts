/**
 * The `kmipd encode` and `kmipd decode` command forms, run as a user runs them (a child process of bin/kmipd.js).
 * Expected TTLV is written out by hand from KMIP 1.4 §9.1 (tags from §9.1.3.1), not produced by the encoder.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kmipd-cli-'));
test.after.always(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kmipd(args: readonly string[], input?: string | Buffer): Promise<Result> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [join(root, 'bin/kmipd.js'), ...args],
      { cwd: root, env: { ...process.env, KMIPD_FROM_SOURCE: '1' }, encoding: 'buffer' },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : 0;
        resolvePromise({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    child.stdin?.end(input);
  });
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const header14 = `<RequestHeader>
      <ProtocolVersion>
        <ProtocolVersionMajor type="Integer" value="1"/>
        <ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion>
      <BatchCount type="Integer" value="1"/>
    </RequestHeader>`;

// Request Message { Request Header { Protocol Version { 1, 4 }, Batch Count 1 } }
const headerOnlyHex = [
  '42007801 00000040',
  '42007701 00000038',
  '42006901 00000020',
  '42006a02 00000004 00000001 00000000',
  '42006b02 00000004 00000004 00000000',
  '42000d02 00000004 00000001 00000000',
]
  .join('')
  .replace(/ /g, '');

test('encode --from xml prints one lowercase hex line per message', async (t) => {
  const xml = file(
    'two.xml',
    `<KMIP>\n  <RequestMessage>${header14}</RequestMessage>\n  <RequestMessage>${header14}</RequestMessage>\n</KMIP>`,
  );
  const result = await kmipd(['encode', '--from', 'xml', xml]);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(result.stdout.split('\n'), [headerOnlyHex, headerOnlyHex, '']);
});

test('encode: $NOW-N in a Date-Time, literal $ text, and skip for other placeholders', async (t) => {
  const xml = file(
    'placeholders.xml',
    `<KMIP>
      <RequestMessage>
        <RequestHeader>
          <TimeStamp type="DateTime" value="$NOW-60"/>
          <ClientCorrelationValue type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
        </RequestHeader>
      </RequestMessage>
      <RequestMessage>
        <RequestHeader>
          <AsynchronousCorrelationValue type="ByteString" value="$CORRELATION_VALUE"/>
        </RequestHeader>
      </RequestMessage>
    </KMIP>`,
  );
  const result = await kmipd(['encode', '--from', 'xml', '--now', '2008-03-14T11:57:40Z', xml]);
  t.is(result.code, 0, result.stderr);
  const [first, second] = result.stdout.split('\n');
  // 2008-03-14T11:56:40Z = 0x47DA67F8 (KMIP 1.4 §9.1.2 example); "$UNIQUE_IDENTIFIER_0" is 20 bytes.
  t.is(
    first,
    '4200780100000038' +
      '4200770100000030' +
      '420092090000000800000000' +
      '47da67f8' +
      '42010507' +
      '00000014' +
      Buffer.from('$UNIQUE_IDENTIFIER_0').toString('hex') +
      '00000000',
  );
  t.regex(second ?? '', /^skip: line 10: placeholder \$CORRELATION_VALUE in a ByteString has no value$/);
});

test('encode --from json reads one message or an array of them', async (t) => {
  const message = {
    tag: 'RequestMessage',
    value: [
      {
        tag: 'RequestHeader',
        value: [
          {
            tag: 'ProtocolVersion',
            value: [
              { tag: 'ProtocolVersionMajor', type: 'Integer', value: 1 },
              { tag: 'ProtocolVersionMinor', type: 'Integer', value: '0x00000004' },
            ],
          },
          { tag: 'BatchCount', type: 'Integer', value: 1 },
        ],
      },
    ],
  };
  const one = await kmipd(['encode', '--from', 'json', file('one.json', JSON.stringify(message))]);
  t.is(one.stdout, `${headerOnlyHex}\n`);
  const many = await kmipd([
    'encode',
    '--from',
    'json',
    file('many.json', JSON.stringify([message, message])),
  ]);
  t.is(many.stdout, `${headerOnlyHex}\n${headerOnlyHex}\n`);
});

test('encode reports a message it cannot read and exits 1', async (t) => {
  const xml = file('bad.xml', `<RequestMessage><Nonsense type="Integer" value="1"/></RequestMessage>`);
  const result = await kmipd(['encode', '--from', 'xml', xml]);
  t.is(result.code, 1);
  t.regex(result.stdout, /^error: RequestMessage \(line 1\): bad-text .*unknown tag name 'Nonsense'/);
});

test('decode prints XML with names for the message version, from hex text on stdin', async (t) => {
  const result = await kmipd(
    ['decode'],
    `# a request header\n${headerOnlyHex.replace(/(.{16})/g, '$1 | ')}\n`,
  );
  t.is(result.code, 0, result.stderr);
  t.is(
    result.stdout,
    `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
</RequestMessage>
`,
  );
});

test('decode --to json reads binary TTLV from a file, several messages in a row', async (t) => {
  const bytes = Buffer.from(headerOnlyHex + headerOnlyHex, 'hex');
  const result = await kmipd(['decode', '--to', 'json', file('two.ttlv', bytes)]);
  t.is(result.code, 0, result.stderr);
  const objects = result.stdout.split(/\n(?=\{)/).map((text) => JSON.parse(text) as { tag: string });
  t.is(objects.length, 2);
  t.is(objects[0]?.tag, 'RequestMessage');
  t.true(result.stdout.includes('"tag": "ProtocolVersionMinor"'));
});

test('decode of bad input exits 1 with the code, the byte offset and the named tag path', async (t) => {
  // Batch Count with a non-zero last padding byte, the 72nd byte of the message.
  const bad = `${headerOnlyHex.slice(0, -2)}01`;
  const result = await kmipd(['decode'], bad);
  t.is(result.code, 1);
  t.is(
    result.stderr.trim(),
    'kmipd decode: bad-padding at offset 71 (RequestMessage/RequestHeader/BatchCount): padding bytes must be zero',
  );
  const truncated = await kmipd(['decode'], headerOnlyHex.slice(0, 40));
  t.is(truncated.code, 1);
  t.regex(truncated.stderr, /truncated/);
  const garbage = await kmipd(['decode'], 'GET / HTTP/1.1\r\n');
  t.is(garbage.code, 1);
  t.regex(garbage.stderr, /bad-text/);
});

test('a wrong command line exits 2 with the usage', async (t) => {
  const result = await kmipd(['encode', '--from', 'yaml', 'x']);
  t.is(result.code, 2);
  t.regex(result.stderr, /usage: kmipd encode --from xml\|json/);
  const unknown = await kmipd(['frobnicate']);
  t.is(unknown.code, 2);
});
