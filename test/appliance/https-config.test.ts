/** The KMIP over HTTPS setting: off unless asked for, by flag, environment variable or config file. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError, resolveConfig } from '../../src/appliance/config.js';

const made: string[] = [];
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-https-config-'));
  made.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

test('no HTTPS listener unless asked for', (t) => {
  t.is(resolveConfig({ data: dataDir() }, {}).httpsPort, undefined);
});

test('--https-port over KMIPD_HTTPS_PORT over httpsPort in kmipd.json', (t) => {
  const dir = dataDir();
  writeFileSync(join(dir, 'kmipd.json'), JSON.stringify({ httpsPort: 8443 }));
  t.is(resolveConfig({ data: dir }, {}).httpsPort, 8443);
  t.is(resolveConfig({ data: dir }, { KMIPD_HTTPS_PORT: '9443' }).httpsPort, 9443);
  t.is(resolveConfig({ data: dir, 'https-port': '10443' }, { KMIPD_HTTPS_PORT: '9443' }).httpsPort, 10443);
});

test('an HTTPS port that is not a port, or is the TTLV port, is refused by name', (t) => {
  t.throws(() => resolveConfig({ data: dataDir(), 'https-port': 'https' }, {}), {
    instanceOf: ConfigError,
    message: /httpsPort https is not a TCP port/,
  });
  t.throws(() => resolveConfig({ data: dataDir(), 'https-port': '70000' }, {}), { instanceOf: ConfigError });
  t.throws(() => resolveConfig({ data: dataDir(), port: '5696', 'https-port': '5696' }, {}), {
    instanceOf: ConfigError,
    message: /port of its own/,
  });
  t.is(resolveConfig({ data: dataDir(), port: '0', 'https-port': '0' }, {}).httpsPort, 0, 'two free ports');
});
