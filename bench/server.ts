/**
 * End-to-end server throughput and latency over mutual TLS, against the platform's limit measured in the same run:
 * a raw node:tls echo server with the same certificates. A real appliance (SoftHSM2 token, LevelDB store, lab PKI)
 * starts on a temporary data directory; closed-loop clients on C = 1, 8 and 32 connections send pre-encoded
 * requests (Get, Encrypt of 64 bytes with AES-256-GCM, Create AES-256, Locate by Name among N named objects,
 * Register Secret Data), plus connection-per-request Create at C = 1 and 8 (Barbican's plugin opens one connection
 * per operation), and Get on 8 connections while 2 others generate RSA-2048 key pairs. Encrypt uses one Active key
 * created in the token, which the setup's checked Encrypt has already brought into the token: a hot key. Every
 * answer's Result Status is checked. Prints ops/s, p50/p99 and the ratio to the echo server at the same C, Encrypt's
 * ratio to Get at the same C, and the goals beside the figures; asserts nothing.
 *
 * Run: npm run bench [-- --seconds N | --quick] [--client worker|inline] [--objects N] [--profile DIR]
 * --profile DIR writes a CPU profile of the server's thread over each cell's measured window.
 */
import { createCipheriv } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeTtlv } from '../src/ttlv/decode.js';
import { messageToXml } from '../src/kmip/text-messages.js';
import { startTestAppliance, type TestAppliance } from '../test/support/appliance.js';
import { TestKmipClient } from '../test/support/kmip-client.js';
import { startEchoServer, type EchoServer } from './support/echo.js';
import type { CellResult, CellSpec, GroupResult, GroupSpec, TlsFiles } from './support/load.js';
import {
  activatePayload,
  batchItem,
  createAesPayload,
  createRsaKeyPairPayload,
  encodeRequest,
  encryptGcmPayload,
  getPayload,
  locateByNamePayload,
  registerSecretPayload,
  requestXml,
  uidsOf,
} from './support/requests.js';
import { CellProfiler } from './support/profile.js';
import { inlineRunner, workerRunner, type LoadRunner } from './support/runner.js';
import { mainThreadCpuMs } from './support/thread-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    client: { type: 'string', default: 'worker' },
    objects: { type: 'string', default: '1000' },
    profile: { type: 'string' },
  },
});
// --quick: short cells for CI, where the figures are only a smoke test of the whole path.
const seconds = Number(values.seconds ?? (values.quick ? '0.5' : '3'));
const warmupMs = values.quick ? 200 : 500;
const locateObjects = Number(values.objects);
if (!(seconds > 0) || !(locateObjects > 0)) throw new Error('--seconds and --objects take positive numbers');
if (values.client !== 'worker' && values.client !== 'inline') throw new Error('--client is worker or inline');
const placement = values.client;

const connectionCounts = [1, 8, 32] as const;
const encryptOp = 'Encrypt AES-256-GCM 64 B';
const connectPerRequestCounts = [1, 8] as const;
const rsaConnections = 2;
/** Encrypt's workload: 64 bytes of data, and one fixed 12-byte IV (see encryptGcmPayload). */
const encryptData = Uint8Array.from({ length: 64 }, (_, i) => i);
const encryptIv = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
/** The goal of issue 5: Encrypt AES-GCM of 64 bytes at >= 50% of the Get rate of the same run. */
const encryptGoal = 0.5;
const getConnectionsUnderRsa = 8;

// ---------------------------------------------------------------------------------------------------------------

interface Row {
  readonly op: string;
  readonly c: number;
  readonly result: GroupResult;
  /** The echo server's ops/s at the same C and pattern, or undefined for the echo rows themselves. */
  readonly echo: number | undefined;
  /** Event-loop utilisation of the server's thread and the process's CPU (cores) over the measured window. */
  readonly serverElu: number;
  /** CPU of the server's thread over wall time: below srv loop, the thread waits while busy. */
  readonly serverCpu: number;
  readonly cpuCores: number;
  readonly clientElu: number;
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

function printHeader(): void {
  const cpuList = cpus();
  const model = cpuList[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `kmipd server bench: ${cpuList.length} cores (${model}), ${platform()} ${release()}, Node ${process.version}`,
  );
  console.log(
    `client: ${
      placement === 'worker'
        ? 'worker thread in the server process (disturbs the server less than --client inline: its work goes to ' +
          'the second core, not to the server thread)'
        : 'on the server thread (inline)'
    }; ` +
      `client and server share the machine's ${cpuList.length} cores, so every figure includes the client's cost`,
  );
  console.log(
    `cells: ${fmt(seconds, 1)} s measured after ${warmupMs} ms warm-up; closed loop (one request in flight per ` +
      `connection); requests pre-encoded; every answer's Result Status checked`,
  );
  console.log('');
}

function printRows(title: string, rows: readonly Row[]): void {
  console.log(title);
  const head = [
    'operation',
    'C',
    'ops/s',
    'p50 ms',
    'p99 ms',
    'vs echo',
    'srv loop',
    'srv cpu',
    'cpu',
    'cli loop',
    'failed',
  ];
  const widths = [30, 3, 9, 8, 8, 8, 9, 8, 5, 9, 7];
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 10) : cell.padStart(widths[i] ?? 8)))
      .join(' ');
  console.log(line(head));
  for (const row of rows) {
    const r = row.result;
    console.log(
      line([
        row.op,
        String(row.c),
        fmt(r.opsPerSecond),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        row.echo === undefined ? '' : `${fmt((100 * r.opsPerSecond) / row.echo)}%`,
        `${fmt(100 * row.serverElu)}%`,
        `${fmt(100 * row.serverCpu)}%`,
        fmt(row.cpuCores, 2),
        `${fmt(100 * row.clientElu)}%`,
        String(r.failures),
      ]),
    );
  }
  console.log('');
}

/** Encrypt's ops/s over Get's at the same C in this run (NaN when either row is missing). */
function encryptToGet(rows: readonly Row[], c: number): number {
  const get = rows.find((r) => r.op === 'Get' && r.c === c);
  const encrypt = rows.find((r) => r.op === encryptOp && r.c === c);
  return get && encrypt ? encrypt.result.opsPerSecond / get.result.opsPerSecond : Number.NaN;
}

function printEncryptVsGet(rows: readonly Row[]): void {
  console.log(`-- ${encryptOp} against Get, each C measured right after Get in this run`);
  const widths = [3, 12, 8, 8, 10, 8, 8, 9];
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i] ?? 8)).join(' ');
  console.log(line(['C', 'encrypt/s', 'p50 ms', 'p99 ms', 'get/s', 'p50 ms', 'p99 ms', 'vs Get']));
  for (const c of connectionCounts) {
    const get = rows.find((r) => r.op === 'Get' && r.c === c)?.result;
    const encrypt = rows.find((r) => r.op === encryptOp && r.c === c)?.result;
    if (!get || !encrypt) continue;
    console.log(
      line([
        String(c),
        fmt(encrypt.opsPerSecond),
        fmt(encrypt.p50Ms, 2),
        fmt(encrypt.p99Ms, 2),
        fmt(get.opsPerSecond),
        fmt(get.p50Ms, 2),
        fmt(get.p99Ms, 2),
        `${fmt(100 * encryptToGet(rows, c))}%`,
      ]),
    );
  }
  console.log('');
}

// ---------------------------------------------------------------------------------------------------------------

/** Sends a pre-encoded request once outside the measurement, to prove it succeeds; returns the answer as XML. */
async function trySetup(client: TestKmipClient, request: Uint8Array, what: string): Promise<string> {
  const xml = messageToXml(decodeTtlv(await client.sendBytes(request)));
  const statuses = [...xml.matchAll(/<ResultStatus type="Enumeration" value="([^"]*)"\/>/g)].map((m) => m[1]);
  if (statuses.length === 0 || statuses.some((s) => s !== 'Success'))
    throw new Error(`setup: ${what} does not succeed:\n${xml}`);
  return xml;
}

const byteStringOf = (xml: string, element: string): Buffer | undefined => {
  const match = new RegExp(`<${element} type="ByteString" value="([0-9a-fA-F]*)"/>`).exec(xml);
  return match?.[1] === undefined ? undefined : Buffer.from(match[1], 'hex');
};

/**
 * The Encrypt request, after proving outside the measurement that its answer is what node:crypto computes with the
 * key's bytes (read back with Get): a benchmark of a wrong answer would be worthless.
 */
async function prepareEncrypt(client: TestKmipClient): Promise<Uint8Array> {
  const created = await trySetup(
    client,
    encodeRequest(requestXml([batchItem('Create', createAesPayload())])),
    'Create of the Encrypt key',
  );
  const uid = uidsOf(created)[0];
  if (uid === undefined) throw new Error('setup: Create returned no Unique Identifier');
  await trySetup(
    client,
    encodeRequest(requestXml([batchItem('Activate', activatePayload(uid))])),
    'Activate',
  );
  const key = byteStringOf(
    await trySetup(client, encodeRequest(requestXml([batchItem('Get', getPayload(uid))])), 'Get of the key'),
    'KeyMaterial',
  );
  const request = encodeRequest(
    requestXml([batchItem('Encrypt', encryptGcmPayload(uid, encryptData, encryptIv))]),
  );
  const answer = await trySetup(client, request, 'Encrypt AES-GCM');
  if (key?.length !== 32) throw new Error('setup: Get of the Encrypt key gave no 32-byte Key Material');
  const cipher = createCipheriv('aes-256-gcm', key, encryptIv);
  const expected = Buffer.concat([cipher.update(encryptData), cipher.final()]);
  const data = byteStringOf(answer, 'Data');
  const tag = byteStringOf(answer, 'AuthenticatedEncryptionTag');
  if (!data?.equals(expected) || !tag?.equals(cipher.getAuthTag()))
    throw new Error(`setup: Encrypt AES-GCM does not answer what node:crypto computes:\n${answer}`);
  return request;
}

interface Requests {
  readonly get: Uint8Array;
  readonly encrypt: Uint8Array;
  readonly create: Uint8Array;
  readonly locate: Uint8Array;
  readonly register: Uint8Array;
  readonly createKeyPair: Uint8Array;
}

/**
 * Creates the objects the requests need (one key for Get, one Active key for Encrypt, N named keys for Locate) and
 * encodes every request.
 */
async function prepare(server: TestAppliance): Promise<Requests> {
  const client = await TestKmipClient.connect(server.host, server.port, server);
  // TestKmipClient.sendBytes adds a 'close' listener per request and never removes it: harmless for the few setup
  // requests here, but it would warn past ten.
  client.socket.setMaxListeners(0);
  try {
    const created = await trySetup(
      client,
      encodeRequest(requestXml([batchItem('Create', createAesPayload())])),
      'Create',
    );
    const getUid = uidsOf(created)[0];
    if (getUid === undefined) throw new Error('setup: Create returned no Unique Identifier');
    // N named keys, in batches well under the server's Maximum Batch Count.
    const perBatch = 100;
    for (let first = 0; first < locateObjects; first += perBatch) {
      const items: string[] = [];
      for (let i = first; i < Math.min(locateObjects, first + perBatch); i++)
        items.push(batchItem('Create', createAesPayload(`bench-locate-${i}`)));
      await trySetup(client, encodeRequest(requestXml(items)), 'Create of named keys');
    }
    const target = `bench-locate-${Math.floor(locateObjects / 2)}`;
    const requests: Requests = {
      get: encodeRequest(requestXml([batchItem('Get', getPayload(getUid))])),
      encrypt: await prepareEncrypt(client),
      create: encodeRequest(requestXml([batchItem('Create', createAesPayload())])),
      locate: encodeRequest(requestXml([batchItem('Locate', locateByNamePayload(target))])),
      register: encodeRequest(requestXml([batchItem('Register', registerSecretPayload('s3cret-Passw0rd!'))])),
      createKeyPair: encodeRequest(requestXml([batchItem('CreateKeyPair', createRsaKeyPairPayload(2048))])),
    };
    await trySetup(client, requests.get, 'Get');
    const located = uidsOf(await trySetup(client, requests.locate, 'Locate by Name'));
    if (located.length !== 1)
      throw new Error(
        `setup: Locate by Name found ${located.length} objects, not exactly one, among ${locateObjects}`,
      );
    await trySetup(client, requests.register, 'Register Secret Data');
    await trySetup(client, requests.createKeyPair, 'CreateKeyPair RSA-2048');
    return requests;
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Target {
  readonly port: number;
}

class Bench {
  readonly rows: Row[] = [];
  private readonly failures: string[] = [];

  constructor(
    private readonly runner: LoadRunner,
    private readonly tls: TlsFiles,
    private readonly host: string,
    private readonly profiler: CellProfiler | undefined,
  ) {}

  /** Runs one cell (its groups at once) and samples the server side's meters over exactly the measured window. */
  async cell(
    name: string,
    target: Target,
    groups: readonly GroupSpec[],
  ): Promise<{ result: CellResult; serverElu: number; serverCpu: number; cpuCores: number }> {
    const spec: CellSpec = {
      host: this.host,
      port: target.port,
      tls: this.tls,
      groups,
      warmupMs,
      measureMs: seconds * 1000,
    };
    let elu = performance.eventLoopUtilization();
    let cpu = process.cpuUsage();
    let wall = performance.now();
    let thread = mainThreadCpuMs();
    let serverElu = Number.NaN;
    let serverCpu = Number.NaN;
    let cpuCores = Number.NaN;
    let profiled: Promise<unknown> = Promise.resolve();
    const result = await this.runner.run(spec, {
      onMeasureStart: () => {
        elu = performance.eventLoopUtilization();
        cpu = process.cpuUsage();
        wall = performance.now();
        thread = mainThreadCpuMs();
        this.profiler?.start();
      },
      onMeasureEnd: () => {
        serverElu = performance.eventLoopUtilization(elu).utilization;
        const used = process.cpuUsage(cpu);
        const elapsed = performance.now() - wall;
        cpuCores = (used.user + used.system) / 1000 / elapsed;
        const threadNow = mainThreadCpuMs();
        if (thread !== undefined && threadNow !== undefined) serverCpu = (threadNow - thread) / elapsed;
        profiled = this.profiler?.stop(name) ?? profiled;
      },
    });
    await profiled;
    for (const group of result.groups) {
      for (const sample of group.failureSamples) this.failures.push(`${group.label}: ${sample}`);
    }
    return { result, serverElu, serverCpu, cpuCores };
  }

  /** One operation at one C: a row. */
  async measure(
    op: string,
    target: Target,
    group: Omit<GroupSpec, 'label'>,
    echo: number | undefined,
  ): Promise<Row> {
    const { result, serverElu, serverCpu, cpuCores } = await this.cell(
      `${op} C${group.connections}`,
      target,
      [{ ...group, label: op }],
    );
    const first = result.groups[0];
    if (!first) throw new Error('a cell without its group');
    const row: Row = {
      op,
      c: group.connections,
      result: first,
      echo,
      serverElu,
      serverCpu,
      cpuCores,
      clientElu: result.clientElu,
    };
    this.rows.push(row);
    process.stderr.write(`  ${op} C=${group.connections}: ${fmt(first.opsPerSecond)} ops/s\n`);
    return row;
  }

  printFailures(): void {
    const total = this.rows.reduce((n, row) => n + row.result.failures, 0);
    if (total === 0) {
      const checked = this.rows.reduce((n, row) => n + row.result.crossChecked, 0);
      console.log(
        `failures: none (every answer's Result Status read by header walk; ${checked} also fully decoded)`,
      );
      return;
    }
    console.log(
      `FAILURES: ${total} failed answers or connections; the figures of those cells are worthless. Samples:`,
    );
    for (const failure of this.failures) console.log(`  ${failure}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

printHeader();
const server = await startTestAppliance();
let echoServer: EchoServer | undefined;
let runner: LoadRunner | undefined;
let profiler: CellProfiler | undefined;
try {
  if (values.profile !== undefined) profiler = await CellProfiler.open(values.profile);
  const pki = server.appliance.pki;
  if (!pki) throw new Error('the bench runs on the lab PKI');
  echoServer = await startEchoServer({
    cert: await readFile(pki.serverCert),
    key: await readFile(pki.serverKey),
    ca: await readFile(pki.ca),
  });
  const tls: TlsFiles = {
    ca: await readFile(server.ca, 'utf8'),
    cert: await readFile(server.cert, 'utf8'),
    key: await readFile(server.key, 'utf8'),
  };
  process.stderr.write(`setup: ${locateObjects} named keys for Locate, one key for Get ...\n`);
  const requests = await prepare(server);
  runner = placement === 'worker' ? workerRunner() : inlineRunner();
  const bench = new Bench(runner, tls, server.host, profiler);
  const kmip: Target = { port: server.port };
  const echo: Target = { port: echoServer.port };
  const persistent = (
    request: Uint8Array,
    connections: number,
    check: 'kmip' | 'echo' = 'kmip',
  ): Omit<GroupSpec, 'label'> => ({
    request,
    connections,
    connectPerRequest: false,
    check,
  });

  // Echo and the operations at each C one after another, so that drift of this VM between cells hurts less.
  for (const c of connectionCounts) {
    // The echo message has the size of a Get request: the smallest of the four, the platform's best case.
    const limit = await bench.measure(
      'echo (Get-sized message)',
      echo,
      persistent(requests.get, c, 'echo'),
      undefined,
    );
    const echoRate = limit.result.opsPerSecond;
    await bench.measure('Get', kmip, persistent(requests.get, c), echoRate);
    // Right after Get at the same C, so that its ratio to Get suffers the least from this VM's drift.
    await bench.measure(encryptOp, kmip, persistent(requests.encrypt, c), echoRate);
    await bench.measure('Create AES-256', kmip, persistent(requests.create, c), echoRate);
    await bench.measure(
      `Locate by Name (1 of ${locateObjects})`,
      kmip,
      persistent(requests.locate, c),
      echoRate,
    );
    await bench.measure('Register SecretData', kmip, persistent(requests.register, c), echoRate);
  }
  for (const c of connectPerRequestCounts) {
    const once = (request: Uint8Array, check: 'kmip' | 'echo'): Omit<GroupSpec, 'label'> => ({
      request,
      connections: c,
      connectPerRequest: true,
      check,
    });
    const limit = await bench.measure(
      'echo, connection per message',
      echo,
      once(requests.create, 'echo'),
      undefined,
    );
    await bench.measure(
      'Create, connection per request',
      kmip,
      once(requests.create, 'kmip'),
      limit.result.opsPerSecond,
    );
  }

  // Get beside RSA-2048 generation, with the same Get cell without it just before, in the same run.
  const quiet = await bench.measure(
    'Get (no other load)',
    kmip,
    persistent(requests.get, getConnectionsUnderRsa),
    undefined,
  );
  const loaded = await bench.cell('Get beside RSA', kmip, [
    { label: 'Get beside RSA', ...persistent(requests.get, getConnectionsUnderRsa) },
    { label: 'CreateKeyPair RSA-2048', ...persistent(requests.createKeyPair, rsaConnections) },
  ]);
  const [getLoaded, rsa] = loaded.result.groups;
  if (!getLoaded || !rsa) throw new Error('the RSA cell lost a group');
  for (const [op, result] of [
    [`Get beside ${rsaConnections} RSA-2048 conns`, getLoaded],
    [`CreateKeyPair RSA-2048`, rsa],
  ] as const) {
    bench.rows.push({
      op,
      c: result === rsa ? rsaConnections : getConnectionsUnderRsa,
      result,
      echo: undefined,
      serverElu: loaded.serverElu,
      serverCpu: loaded.serverCpu,
      cpuCores: loaded.cpuCores,
      clientElu: loaded.result.clientElu,
    });
  }

  // ---- report --------------------------------------------------------------------------------------------------
  const rowsOf = (predicate: (row: Row) => boolean): Row[] => bench.rows.filter(predicate);
  console.log(
    'columns: ops/s and latency of answers inside the measured window; vs echo = ops/s over the echo server at the ' +
      'same C and pattern; srv loop = event-loop utilisation of the server thread; srv cpu = CPU time of that thread over wall time (below srv loop: the thread is busy but waiting, in a blocking native call or for a core); cpu = cores used by the whole ' +
      'process (server, client, token and LevelDB threads); cli loop = the client thread' +
      (placement === 'inline' ? ' (the same thread as the server)' : ''),
  );
  console.log('');
  for (const c of connectionCounts)
    printRows(
      `-- ${c} persistent connection${c === 1 ? '' : 's'}`,
      rowsOf(
        (r) =>
          r.c === c &&
          !r.op.includes('connection per') &&
          !r.op.includes('RSA') &&
          !r.op.includes('no other'),
      ),
    );
  printRows(
    '-- a new mutual-TLS connection per request',
    rowsOf((r) => r.op.includes('connection per')),
  );
  printRows(
    `-- Get on ${getConnectionsUnderRsa} connections, alone and beside ${rsaConnections} connections generating RSA-2048 key pairs`,
    rowsOf((r) => r.op.includes('RSA') || r.op.includes('no other')),
  );
  printEncryptVsGet(bench.rows);
  bench.printFailures();
  console.log('');

  const get8 = bench.rows.find((r) => r.op === 'Get' && r.c === 8);
  const creates = rowsOf((r) => r.op === 'Create AES-256');
  const bestCreate = creates.reduce<Row | undefined>(
    (best, r) => (!best || r.result.opsPerSecond > best.result.opsPerSecond ? r : best),
    undefined,
  );
  const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
  console.log('goals (printed, not asserted):');
  if (get8?.echo !== undefined) {
    const ratio = get8.result.opsPerSecond / get8.echo;
    console.log(
      `  Get at 8 connections >= 40% of the echo limit: ${fmt(100 * ratio)}% (${fmt(get8.result.opsPerSecond)} vs ${fmt(get8.echo)} ops/s) -> ${verdict(ratio >= 0.4)}`,
    );
  }
  const encryptRatios = connectionCounts.map((c) => ({ c, ratio: encryptToGet(bench.rows, c) }));
  console.log(
    `  Encrypt AES-GCM 64 B >= ${fmt(100 * encryptGoal)}% of the Get rate at each C: ` +
      `${encryptRatios.map(({ c, ratio }) => `C=${c} ${fmt(100 * ratio)}%`).join(', ')} -> ` +
      verdict(encryptRatios.every(({ ratio }) => ratio >= encryptGoal)),
  );
  if (bestCreate) {
    const rate = bestCreate.result.opsPerSecond;
    console.log(
      `  Create AES-256 >= 3,000/s: best ${fmt(rate)}/s at C=${bestCreate.c} (${creates.map((r) => `C=${r.c} ${fmt(r.result.opsPerSecond)}`).join(', ')}) -> ${verdict(rate >= 3000)}`,
    );
  }
  console.log(
    `  Get p99 < 5 ms while RSA-2048 key pairs are generated: ${fmt(getLoaded.p99Ms, 2)} ms ` +
      `(p50 ${fmt(getLoaded.p50Ms, 2)} ms, ${fmt(getLoaded.opsPerSecond)} ops/s; without RSA: p99 ${fmt(quiet.result.p99Ms, 2)} ms, ` +
      `p50 ${fmt(quiet.result.p50Ms, 2)} ms, ${fmt(quiet.result.opsPerSecond)} ops/s; ${rsa.ops} key pairs in the window) -> ${verdict(getLoaded.p99Ms < 5)}`,
  );
  if (values.profile !== undefined)
    console.log(`\nCPU profiles of the server thread per cell: ${values.profile}`);
} finally {
  profiler?.close();
  await runner?.close();
  await echoServer?.close();
  await server.dispose();
}
