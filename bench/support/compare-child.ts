/**
 * One measurement of bench/compare.ts, in a process of its own: starts an appliance from a compiled build (DIST, a
 * dist/ tree of some revision) on a temporary data directory, prepares one request, drives it over C mutual-TLS
 * connections from a worker thread, and prints one JSON line: ops/s, p50/p99 and the server thread's CPU per request.
 *
 * Run by compare.ts: tsx bench/support/compare-child.ts DIST OP C SECONDS WARMUP_SECONDS
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ApplianceModule from '../../src/appliance/appliance.js';
import type * as ConfigModule from '../../src/appliance/config.js';
import { TestKmipClient } from '../../test/support/kmip-client.js';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { messageToXml } from '../../src/kmip/text-messages.js';
import {
  batchItem,
  createAesPayload,
  createRsaKeyPairPayload,
  encodeRequest,
  getPayload,
  requestXml,
  uidsOf,
} from './requests.js';
import { compareOps, type CompareOp, type CompareSample } from './compare-protocol.js';
import { workerRunner } from './runner.js';
import { mainThreadCpuMs } from './thread-cpu.js';

const [dist, opArg, connections, seconds, warmup] = process.argv.slice(2);
const op = compareOps.find((known) => known === opArg);
if (dist === undefined || op === undefined) {
  throw new Error(`usage: compare-child.ts DIST ${compareOps.join('|')} C SECONDS WARMUP_SECONDS`);
}
const c = Number(connections);
const measureMs = Number(seconds) * 1000;

const { resolveConfig } = (await import(join(dist, 'appliance/config.js'))) as typeof ConfigModule;
const { startAppliance } = (await import(join(dist, 'appliance/appliance.js'))) as typeof ApplianceModule;
const dataDir = await mkdtemp(join(tmpdir(), 'kmipd-compare-'));
const appliance = await startAppliance(resolveConfig({ data: dataDir, port: '0', 'log-level': 'warn' }, {}), {
  console: false,
});
const runner = workerRunner();
try {
  const pki = appliance.pki;
  if (!pki) throw new Error('the comparison runs on the lab PKI');
  const { host, port } = appliance.address;
  const files = { ca: pki.ca, cert: pki.adminCert, key: pki.adminKey };
  const client = await TestKmipClient.connect(host, port, files);
  const created = decodeTtlv(
    await client.sendBytes(encodeRequest(requestXml([batchItem('Create', createAesPayload())]))),
  );
  client.close();
  const uid = uidsOf(messageToXml(created))[0];
  if (uid === undefined) throw new Error('setup: Create returned no Unique Identifier');
  const requests: Record<CompareOp, Uint8Array> = {
    get: encodeRequest(requestXml([batchItem('Get', getPayload(uid))])),
    'get-beside-rsa': encodeRequest(requestXml([batchItem('Get', getPayload(uid))])),
    discover: encodeRequest(requestXml([batchItem('DiscoverVersions', '')])),
    create: encodeRequest(requestXml([batchItem('Create', createAesPayload())])),
  };
  const rsa = encodeRequest(requestXml([batchItem('CreateKeyPair', createRsaKeyPairPayload(2048))]));
  const tls = {
    ca: await readFile(pki.ca, 'utf8'),
    cert: await readFile(pki.adminCert, 'utf8'),
    key: await readFile(pki.adminKey, 'utf8'),
  };
  let cpuStart = 0;
  let cpuMs = Number.NaN;
  const result = await runner.run(
    {
      host,
      port,
      tls,
      groups: [
        {
          label: op,
          request: requests[op],
          connections: c,
          connectPerRequest: false,
          check: 'kmip',
        },
        ...(op === 'get-beside-rsa'
          ? [{ label: 'rsa', request: rsa, connections: 2, connectPerRequest: false, check: 'kmip' as const }]
          : []),
      ],
      warmupMs: Number(warmup) * 1000,
      measureMs,
    },
    {
      onMeasureStart: () => {
        cpuStart = mainThreadCpuMs() ?? Number.NaN;
      },
      onMeasureEnd: () => {
        cpuMs = (mainThreadCpuMs() ?? Number.NaN) - cpuStart;
      },
    },
  );
  const group = result.groups[0];
  if (group === undefined) throw new Error('a cell without its group');
  const sample: CompareSample = {
    opsPerSecond: group.opsPerSecond,
    p50Ms: group.p50Ms,
    p99Ms: group.p99Ms,
    serverUsPerOp: (cpuMs * 1000) / group.ops,
    failures: result.groups.reduce((n, g) => n + g.failures, 0),
  };
  console.log(JSON.stringify(sample));
} finally {
  await runner.close();
  await appliance.stop();
  await rm(dataDir, { recursive: true, force: true });
}
