import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServerLimits } from '../server/limits.js';
import {
  identityFields,
  type ClientCertMode,
  type IdentityField,
  type PasswordAuth,
} from '../identity/identity.js';
import { allRoles, type Role } from '../kmip-ops/access.js';

/**
 * The appliance's settings, from (highest first) command-line flags, environment variables (KMIPD_*), a JSON
 * config file (--config FILE, or DATA/kmipd.json when it exists), and the embedded defaults.
 */
export interface ApplianceConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /**
   * KMIP over HTTPS (`POST /kmip`: TTLV, KMIP XML, KMIP JSON) on this port of the same host, with the same TLS and
   * identity; undefined (the default) for no HTTPS listener. 0 picks a free port.
   */
  readonly httpsPort: number | undefined;
  /** An existing PKI instead of the lab one: all three or none. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly clientCa: string | undefined;
  /** A PKCS#11 module other than the embedded SoftHSM2 (then KMIPD_HSM_USER_PIN gives the PIN). */
  readonly pkcs11Module: string | undefined;
  readonly tokenLabel: string;
  readonly logLevel: string;
  readonly limits: Partial<ServerLimits>;
  readonly identity: IdentitySettings;
}

/** Identity and access settings (issue 4): where the principal comes from and how Credentials are checked. */
export interface IdentitySettings {
  readonly field: IdentityField;
  readonly requireClientAuthEku: boolean;
  readonly clientCertMode: ClientCertMode;
  readonly passwordAuth: PasswordAuth;
  /** The users file: password hashes, roles, groups and grants. */
  readonly usersFile: string | undefined;
  /** Certificate names mapped to principals (config file key "principals"). */
  readonly principalMap: ReadonlyMap<string, string>;
  /** Roles of principals the users file does not list (config file key "defaultRoles"; default creator). */
  readonly defaultRoles: readonly Role[];
}

export const defaults = {
  dataDir: './data',
  host: '127.0.0.1',
  port: 5696,
  tokenLabel: 'kmipd',
  logLevel: 'info',
} as const;

/** The settings a user can give, each by flag, environment variable and config-file key. */
export const settings = [
  { key: 'dataDir', flag: 'data', env: 'KMIPD_DATA' },
  { key: 'host', flag: 'host', env: 'KMIPD_HOST' },
  { key: 'port', flag: 'port', env: 'KMIPD_PORT' },
  { key: 'httpsPort', flag: 'https-port', env: 'KMIPD_HTTPS_PORT' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'KMIPD_TLS_CERT' },
  { key: 'tlsKey', flag: 'tls-key', env: 'KMIPD_TLS_KEY' },
  { key: 'clientCa', flag: 'client-ca', env: 'KMIPD_CLIENT_CA' },
  { key: 'pkcs11Module', flag: 'pkcs11-module', env: 'KMIPD_PKCS11_MODULE' },
  { key: 'tokenLabel', flag: 'token-label', env: 'KMIPD_TOKEN_LABEL' },
  { key: 'logLevel', flag: 'log-level', env: 'KMIPD_LOG_LEVEL' },
  { key: 'identityField', flag: 'identity-field', env: 'KMIPD_IDENTITY_FIELD' },
  { key: 'clientCertMode', flag: 'client-cert-mode', env: 'KMIPD_CLIENT_CERT_MODE' },
  { key: 'passwordAuth', flag: 'password-auth', env: 'KMIPD_PASSWORD_AUTH' },
  { key: 'users', flag: 'users', env: 'KMIPD_USERS' },
  { key: 'requireClientAuthEku', flag: 'require-client-auth-eku', env: 'KMIPD_REQUIRE_CLIENT_AUTH_EKU' },
] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Raw = Partial<
  Record<(typeof settings)[number]['key'] | 'limits' | 'principals' | 'defaultRoles', unknown>
>;

export function resolveConfig(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  configFile?: string,
): ApplianceConfig {
  const fromFlagsAndEnv: Record<string, string | undefined> = {};
  for (const s of settings) fromFlagsAndEnv[s.key] = flags[s.flag] ?? env[s.env];
  const dataDir = resolve(fromFlagsAndEnv['dataDir'] ?? defaults.dataDir);
  const file =
    configFile ?? (existsSync(join(dataDir, 'kmipd.json')) ? join(dataDir, 'kmipd.json') : undefined);
  let fromFile: Raw = {};
  if (file !== undefined) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Raw;
    } catch (error) {
      throw new ConfigError(`config file ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const pick = (key: (typeof settings)[number]['key']): string | undefined => {
    const value = fromFlagsAndEnv[key] ?? fromFile[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new ConfigError(`${key} must be a string`);
    return String(value);
  };
  const tcpPort = (key: 'port' | 'httpsPort', text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value > 65535)
      throw new ConfigError(`${key} ${text} is not a TCP port`);
    return value;
  };
  const port = tcpPort('port', pick('port') ?? String(defaults.port));
  const httpsText = pick('httpsPort');
  const httpsPort = httpsText === undefined ? undefined : tcpPort('httpsPort', httpsText);
  if (httpsPort !== undefined && httpsPort !== 0 && httpsPort === port) {
    throw new ConfigError(
      `httpsPort ${httpsPort} is the TTLV port too: give KMIP over HTTPS a port of its own`,
    );
  }
  const tlsCert = pick('tlsCert');
  const tlsKey = pick('tlsKey');
  const clientCa = pick('clientCa');
  const given = [tlsCert, tlsKey, clientCa].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new ConfigError(
      '--tls-cert, --tls-key and --client-ca go together: give all three, or none for the lab PKI',
    );
  }
  const limits = (fromFile.limits ?? {}) as Partial<ServerLimits>;
  const oneOf = <T extends string>(
    key: (typeof settings)[number]['key'],
    allowed: readonly T[],
    fallback: T,
  ): T => {
    const value = pick(key) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, not '${value}'`);
    }
    return value as T;
  };
  const principals: unknown = fromFile.principals ?? {};
  if (typeof principals !== 'object' || principals === null || Array.isArray(principals)) {
    throw new ConfigError('principals must map certificate names to principal names');
  }
  const defaultRoles = fromFile.defaultRoles ?? ['creator'];
  if (!Array.isArray(defaultRoles) || !defaultRoles.every((r): r is Role => allRoles.includes(r as Role))) {
    throw new ConfigError(`defaultRoles must list roles among ${allRoles.join(', ')}`);
  }
  const requireEku = pick('requireClientAuthEku');
  const identity: IdentitySettings = {
    field: oneOf('identityField', identityFields, 'cn'),
    requireClientAuthEku: requireEku === 'true' || requireEku === '1',
    clientCertMode: oneOf<ClientCertMode>('clientCertMode', ['session', 'session-and-username'], 'session'),
    passwordAuth: oneOf<PasswordAuth>('passwordAuth', ['none', 'optional', 'required'], 'none'),
    usersFile: pick('users'),
    principalMap: new Map(Object.entries(principals as Record<string, string>)),
    defaultRoles,
  };
  if (identity.passwordAuth !== 'none' && identity.usersFile === undefined) {
    throw new ConfigError(`--password-auth ${identity.passwordAuth} needs --users FILE`);
  }
  return {
    identity,
    dataDir,
    host: pick('host') ?? defaults.host,
    port,
    httpsPort,
    tlsCert,
    tlsKey,
    clientCa,
    pkcs11Module: pick('pkcs11Module'),
    tokenLabel: pick('tokenLabel') ?? defaults.tokenLabel,
    logLevel: pick('logLevel') ?? defaults.logLevel,
    limits,
  };
}
