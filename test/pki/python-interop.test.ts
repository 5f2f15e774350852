/**
 * The lab PKI from Python's ssl module, which is what PyKMIP and Barbican's kmip_plugin connect with: a client
 * set up as they set it up (create_default_context with the lab CA, load_cert_chain with the client's files)
 * completes a handshake with a node:tls server using the lab server certificate. Skipped, with the reason, when
 * /usr/bin/python3 is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CIPHERS } from 'node:tls';
import test from 'ava';
import { ensureLabPki, issueClientCertificate, type LabPkiPaths } from '../../src/pki/lab-pki.js';
import { startMutualTlsServer, removeTempDirs, tempDir, type MutualTlsServer } from './support.js';

test.after.always(removeTempDirs);

const PYTHON = '/usr/bin/python3';

/** argv: port, server_hostname, ca, cert, key, [max TLS version "1.2" and cipher list]. Prints what it saw. */
const CLIENT = `
import json, socket, ssl, sys
port, hostname, ca, cert, key = sys.argv[1:6]
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(cert, key)
if len(sys.argv) > 6:
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(sys.argv[6])
with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
    with context.wrap_socket(raw, server_hostname=hostname) as tls:
        greeting = tls.recv(16).decode()
        print(json.dumps({"greeting": greeting, "version": tls.version(), "cipher": tls.cipher()[0]}))
`;

interface PythonResult {
  greeting: string;
  version: string;
  cipher: string;
}

function runPython(args: readonly string[]): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', CLIENT, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python3 failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as PythonResult);
    });
  });
}

const hasPython = existsSync(PYTHON);
if (!hasPython) console.log(`python interop tests skipped: ${PYTHON} is not installed`);
const pythonTest = hasPython ? test.serial : test.skip;

let lab: LabPkiPaths;
let labDir: string;
let server: MutualTlsServer;

test.before(async () => {
  if (!hasPython) return;
  labDir = join(tempDir('python'), 'certs');
  lab = (await ensureLabPki(labDir)).paths;
  server = await startMutualTlsServer(
    { ca: lab.ca, cert: lab.serverCert, key: lab.serverKey },
    // node:tls's default list admits plain-RSA suites already (through HIGH); one is named so that the legacy
    // test below does not depend on that default.
    { ciphers: `${DEFAULT_CIPHERS}:AES128-GCM-SHA256` },
  );
});

test.after.always(async () => {
  if (hasPython) await server.close();
});

for (const hostname of ['localhost', '127.0.0.1']) {
  pythonTest(
    `python ssl (admin.pem, admin.key) completes a handshake, verifying the server as ${hostname}`,
    async (t) => {
      const result = await runPython([String(server.port), hostname, lab.ca, lab.adminCert, lab.adminKey]);
      t.is(result.greeting, 'ok\n');
      t.deepEqual(await server.nextOutcome(), { ok: true, peerCn: 'admin' });
    },
  );
}

pythonTest(
  'python ssl with the files issue-client writes, as PyKMIP and Barbican are configured',
  async (t) => {
    const out = tempDir('python-client');
    const files = await issueClientCertificate(labDir, { cn: 'barbican', outDir: out });
    const result = await runPython([String(server.port), 'localhost', files.ca, files.cert, files.key]);
    t.is(result.greeting, 'ok\n');
    t.deepEqual(await server.nextOutcome(), { ok: true, peerCn: 'barbican' });
  },
);

pythonTest(
  'TLS 1.2 with RSA key exchange (the suites older PyKMIP offers) works with the RSA server key',
  async (t) => {
    const result = await runPython([
      String(server.port),
      'localhost',
      lab.ca,
      lab.adminCert,
      lab.adminKey,
      'AES128-GCM-SHA256',
    ]);
    t.deepEqual(result, { greeting: 'ok\n', version: 'TLSv1.2', cipher: 'AES128-GCM-SHA256' });
    t.deepEqual(await server.nextOutcome(), { ok: true, peerCn: 'admin' });
  },
);
