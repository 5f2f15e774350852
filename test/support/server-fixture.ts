/**
 * One appliance per test file, and one admin connection to it over real mutual TLS: the setup the server tests
 * share. `serverFixture(test)` registers the before and after hooks on the file's ava `test` and answers accessors,
 * usable once the before hook has run (in tests and in other hooks).
 */
import type { TestFn } from 'ava';
import { startTestAppliance, type TestAppliance } from './appliance.js';
import { VersionedClient, type Version } from './crypto-client.js';
import { TestKmipClient } from './kmip-client.js';

export interface ServerFixture {
  /** The appliance, started before the file's tests. */
  readonly server: () => TestAppliance;
  /** The admin client's connection, with the appliance's lab PKI admin certificate. */
  readonly connection: () => TestKmipClient;
  /** The admin connection, speaking one KMIP version. */
  readonly client: (version: Version) => VersionedClient;
}

export function serverFixture(
  test: TestFn,
  options?: Parameters<typeof startTestAppliance>[0],
): ServerFixture {
  let started: TestAppliance | undefined;
  let connected: TestKmipClient | undefined;

  test.before(async () => {
    started = await startTestAppliance(options);
    connected = await TestKmipClient.connect(started.host, started.port, started);
  });
  test.after.always(async () => {
    connected?.close();
    await started?.dispose();
  });

  const server = (): TestAppliance => {
    if (started === undefined) throw new Error('the test appliance is not started yet (test.before)');
    return started;
  };
  const connection = (): TestKmipClient => {
    if (connected === undefined) throw new Error('the test connection is not open yet (test.before)');
    return connected;
  };
  return {
    server,
    connection,
    client: (version) => new VersionedClient(connection(), version),
  };
}
