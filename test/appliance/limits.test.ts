/**
 * Connection limits: each refuses with its cause in the operational log. (Its own file: one SoftHSM2 data
 * directory per process.)
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { startTestAppliance } from '../support/appliance.js';
import { TestKmipClient } from '../support/kmip-client.js';

async function logContains(dataDir: string, pattern: RegExp): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      if (pattern.test(readFileSync(join(dataDir, 'logs', 'kmipd.log'), 'utf8'))) return true;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function closes(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolveClose) => {
    const timer = setTimeout(() => {
      resolveClose(false);
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolveClose(true);
    });
    socket.on('error', () => undefined);
    socket.resume();
  });
}

test.serial('idle, handshake and connection-count limits refuse with their cause logged', async (t) => {
  const server = await startTestAppliance({
    limits: { idleTimeoutMs: 400, handshakeTimeoutMs: 400, maxConnections: 2 },
  });
  try {
    const idle = await TestKmipClient.connect(server.host, server.port, server);
    t.true(await closes(idle.socket, 3000), 'an idle connection is closed');
    t.true(await logContains(server.dataDir, /idle for 400 ms/));

    const silent = net.connect(server.port, server.host);
    t.true(await closes(silent, 3000), 'a connection that never handshakes is closed');
    t.true(await logContains(server.dataDir, /TLS handshake refused/));

    const first = await TestKmipClient.connect(server.host, server.port, server);
    const second = await TestKmipClient.connect(server.host, server.port, server);
    const third = net.connect(server.port, server.host);
    t.true(await closes(third, 3000), 'a connection over the limit is refused');
    t.true(await logContains(server.dataDir, /limit of 2 connections reached/));
    first.close();
    second.close();
  } finally {
    await server.dispose();
  }
});
