/**
 * The users file (`--users FILE`): principals with password hashes, roles, groups and read grants (DESIGN.md
 * "Identity, access, audit"). One name space: a KMIP Credential username and a certificate principal are looked up
 * the same way, so a principal known only by its certificate is an entry without a password.
 *
 * Format (version 1), JSON:
 *
 *   {
 *     "version": 1,
 *     "users": {
 *       "alice": { "password": "scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>", "roles": ["creator"], "groups": ["ops"] },
 *       "backup-host": { "roles": ["observer"] }
 *     },
 *     "groups": { "ops": { "roles": ["observer"] } },
 *     "grants": [ { "owner": "alice", "to": "bob" }, { "owner": "alice", "toGroup": "ops" } ]
 *   }
 *
 * - `version` is required and must be 1; `users`, `groups`, `grants` may be left out (empty). Unknown keys are
 *   refused everywhere: in an access-control file a misspelt key ("role") silently ignored is a hole or a mystery.
 * - A user's roles are its own plus those of its groups. Every group a user names must be defined under `groups`.
 *   A principal absent from the file has no roles here; the caller applies its default.
 * - `password` is a hash, never the password: `scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (standard base64
 *   with padding). The parameters travel with each hash, so the default cost can be raised later without
 *   invalidating existing entries. argon2 is not accepted: Node 20 has no argon2 in node:crypto and this project
 *   takes no native hashing dependency; the scheme prefix leaves room for it (one entry in `schemes`).
 * - Grants: `{ "owner": O, "to": P }` lets principal P read the objects owned by O, or `{ "owner": O, "toGroup": G }`
 *   every member of group G. A grant adds visibility only; what the grantee may read of those objects is what its
 *   roles allow (an observer reads key material, an auditor metadata, a principal without a role nothing). Owners
 *   and grantees need not be listed under `users` (certificate principals with the default role can own objects).
 *
 * Passwords never appear in a message or an error, and neither does any part of a `password` field (someone may
 * have pasted a clear password there). Writes are atomic (temporary file, fsync, rename) with mode 0600; there is
 * no lock, so two concurrent writers may lose one update (the file is changed by an administrator's command).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Role as AccessRole } from '../kmip-ops/access.js';
import { RESERVED_PRINCIPAL_PREFIX } from './reserved.js';

export const roles = ['admin', 'creator', 'observer', 'auditor'] as const;
export type Role = (typeof roles)[number];

// The access layer names the same roles; this fails to compile if the two lists drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type RolesMatchAccessRoles = Assert<Same<Role, AccessRole>>;

export function isRole(name: string): name is Role {
  return (roles as readonly string[]).includes(name);
}

export const usersFileVersion = 1;
/** Mode of the users file: the hashes can be attacked offline, so only the server's user reads them. */
export const usersFileMode = 0o600;

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and roughly 50-100 ms per hash on a current server core. */
export const defaultScryptParams: ScryptParams = { ln: 15, r: 8, p: 1 };

/** Bounds on parameters read from the file, so an edited entry cannot make a login exhaust memory (256 MiB). */
const scryptBounds = { ln: [10, 20], r: [1, 32], p: [1, 16], maxMemory: 256 * 1024 * 1024 } as const;
const saltBytes = 16;
const hashBytes = 32;

/** The key derivation function; injectable so that tests can observe every call. */
export type Kdf = (password: Buffer, salt: Buffer, params: ScryptParams, length: number) => Promise<Buffer>;

export const scryptKdf: Kdf = (password, salt, params, length) =>
  new Promise((resolve, reject) => {
    const N = 2 ** params.ln;
    // Node refuses by default anything above 32 MiB, which N = 2^15, r = 8 already reaches.
    const maxmem = 256 * N * params.r + 1024 * 1024;
    scrypt(password, salt, length, { N, r: params.r, p: params.p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });

interface PasswordHash {
  readonly scheme: 'scrypt';
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
  /** As written in the file, written back unchanged. */
  readonly text: string;
}

const scryptPattern =
  /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Strict base64: the text must be exactly what encoding its bytes gives back. */
function base64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The parsed hash, or why it is not one. The reason never quotes the text (it may be a pasted clear password). */
function parsePasswordHash(text: string): PasswordHash | string {
  if (/^\$?argon2/.test(text)) {
    return 'argon2 hashes are not supported (Node 20 has no argon2 in node:crypto); use an scrypt hash';
  }
  const match = scryptPattern.exec(text);
  if (!match) {
    return (
      'not a password hash in a known scheme (expected scrypt$ln=..,r=..,p=..$<salt>$<hash>; ' +
      'passwords are never stored in clear: set them with `kmipd users add`)'
    );
  }
  const [, ln, r, p, saltText, hashText] = match;
  const params = { ln: Number(ln), r: Number(r), p: Number(p) };
  for (const key of ['ln', 'r', 'p'] as const) {
    const [min, max] = scryptBounds[key];
    if (params[key] < min || params[key] > max)
      return `scrypt ${key}=${params[key]} is outside ${min}..${max}`;
  }
  if (128 * 2 ** params.ln * params.r > scryptBounds.maxMemory) {
    return `scrypt ln=${params.ln},r=${params.r} needs more than ${scryptBounds.maxMemory / 2 ** 20} MiB`;
  }
  const salt = saltText === undefined ? undefined : base64(saltText);
  const hash = hashText === undefined ? undefined : base64(hashText);
  if (salt === undefined || salt.length < 8) return 'the scrypt salt is not base64 of at least 8 bytes';
  if (hash === undefined || hash.length < 16 || hash.length > 64) {
    return 'the scrypt hash is not base64 of 16 to 64 bytes';
  }
  return { scheme: 'scrypt', params, salt, hash, text };
}

/** The UTF-8 bytes hashed for a password. NFC, so that the same characters typed on different systems match. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

export interface HashOptions {
  readonly params?: ScryptParams;
  readonly kdf?: Kdf;
}

/** A new hash of `password` with a random salt, in the file's text form. */
export async function hashPassword(password: string, options: HashOptions = {}): Promise<string> {
  if (password === '') throw new Error('an empty password is refused');
  const params = options.params ?? defaultScryptParams;
  const salt = randomBytes(saltBytes);
  const secret = passwordBytes(password);
  try {
    const hash = await (options.kdf ?? scryptKdf)(secret, salt, params, hashBytes);
    const text = `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
    // Parameters outside the bounds would give a file the loader refuses; better to fail now.
    const parsed = parsePasswordHash(text);
    if (typeof parsed === 'string') throw new Error(parsed);
    return text;
  } finally {
    secret.fill(0);
  }
}

/** The users file is unreadable, malformed, or the change asked for does not apply. Never quotes a password. */
export class UsersFileError extends Error {
  override readonly name = 'UsersFileError';
  constructor(
    readonly path: string,
    readonly code: 'unreadable' | 'invalid' | 'user-exists' | 'no-such-user' | 'bad-request',
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

interface UserRecord {
  readonly name: string;
  readonly password: PasswordHash | undefined;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

interface GroupRecord {
  readonly name: string;
  readonly roles: readonly Role[];
}

export type Grant =
  { readonly owner: string; readonly to: string } | { readonly owner: string; readonly toGroup: string };

interface Model {
  readonly users: Map<string, UserRecord>;
  readonly groups: Map<string, GroupRecord>;
  readonly grants: Grant[];
}

/** What a caller may know of a user: never the hash. */
export interface UserInfo {
  readonly name: string;
  /** The user's own roles, without those of its groups (see rolesOf). */
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly hasPassword: boolean;
}

export type PasswordCheck = 'ok' | 'unknown-user' | 'bad-password' | 'no-password';

export interface LoadOptions {
  readonly kdf?: Kdf;
}

/** Roles in the canonical order of `roles`, each once. */
function ordered(list: Iterable<Role>): Role[] {
  const set = new Set(list);
  return roles.filter((role) => set.has(role));
}

const paramsKey = (params: ScryptParams): string => `${params.ln},${params.r},${params.p}`;

/** The users file, loaded and checked. */
export class Users {
  readonly #model: Model;
  readonly #kdf: Kdf;
  /**
   * What an unknown user (or one without a password) is "verified" against: the parameters most hashes in the
   * file use, so that the answer takes as long as for a real user and timing does not tell which names exist.
   */
  readonly #dummyParams: ScryptParams;
  readonly #dummySalt = randomBytes(saltBytes);
  readonly #dummyHash = randomBytes(hashBytes);

  /** Problems worth a warning that do not stop the server (a file readable by others). */
  readonly warnings: readonly string[];

  constructor(
    readonly path: string,
    model: Model,
    options: LoadOptions & { readonly warnings?: readonly string[] } = {},
  ) {
    this.#model = model;
    this.#kdf = options.kdf ?? scryptKdf;
    this.warnings = options.warnings ?? [];
    const counts = new Map<string, { params: ScryptParams; count: number }>();
    for (const user of model.users.values()) {
      if (!user.password) continue;
      const key = paramsKey(user.password.params);
      const entry = counts.get(key) ?? { params: user.password.params, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    let best: { params: ScryptParams; count: number } | undefined;
    for (const entry of counts.values()) if (!best || entry.count > best.count) best = entry;
    this.#dummyParams = best?.params ?? defaultScryptParams;
  }

  lookup(name: string): UserInfo | undefined {
    const user = this.#model.users.get(name);
    return user && info(user);
  }

  /** Every user, in file order. */
  list(): UserInfo[] {
    return [...this.#model.users.values()].map(info);
  }

  /** Every group with its roles, in file order. */
  groups(): { readonly name: string; readonly roles: readonly Role[] }[] {
    return [...this.#model.groups.values()].map((group) => ({ name: group.name, roles: [...group.roles] }));
  }

  grants(): Grant[] {
    return [...this.#model.grants];
  }

  /** Own roles plus those of the principal's groups; none for a principal the file does not list. */
  rolesOf(principal: string): Role[] {
    const user = this.#model.users.get(principal);
    if (!user) return [];
    const all = [...user.roles];
    for (const group of user.groups) all.push(...(this.#model.groups.get(group)?.roles ?? []));
    return ordered(all);
  }

  /** The owners whose objects `principal` may read (directly or through one of its groups). */
  grantsTo(principal: string): string[] {
    const groups = new Set(this.#model.users.get(principal)?.groups ?? []);
    const owners = new Set<string>();
    for (const grant of this.#model.grants) {
      if ('to' in grant ? grant.to === principal : groups.has(grant.toGroup)) owners.add(grant.owner);
    }
    return [...owners];
  }

  /**
   * Checks a KMIP Credential password. Every answer costs one key derivation, so an unknown name or one without a
   * password cannot be told from a wrong password by the time it takes.
   */
  async verifyPassword(name: string, password: string): Promise<PasswordCheck> {
    const user = this.#model.users.get(name);
    const secret = passwordBytes(password);
    try {
      if (!user?.password) {
        const derived = await this.#kdf(secret, this.#dummySalt, this.#dummyParams, this.#dummyHash.length);
        // The comparison too, so that the two paths do the same work; its result means nothing.
        timingSafeEqual(derived, this.#dummyHash);
        return user ? 'no-password' : 'unknown-user';
      }
      const { salt, params, hash } = user.password;
      const derived = await this.#kdf(secret, salt, params, hash.length);
      return derived.length === hash.length && timingSafeEqual(derived, hash) ? 'ok' : 'bad-password';
    } finally {
      secret.fill(0);
    }
  }
}

function info(user: UserRecord): UserInfo {
  return {
    name: user.name,
    roles: [...user.roles],
    groups: [...user.groups],
    hasPassword: user.password !== undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and checking the file

/** A problem at a place in the document; turned into a UsersFileError naming the file. */
class Problem extends Error {}

function fail(where: string, what: string): never {
  throw new Problem(where === '' ? what : `${where}: ${what}`);
}

/** `users.alice`, or `users["a b"]` when the name is not a plain word. */
function at(where: string, key: string): string {
  const part = /^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return where === '' ? part.replace(/^\./, '') : `${where}${part}`;
}

function objectAt(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(where, 'must be a JSON object');
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(at(where, key), `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function arrayAt(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(where, 'must be a JSON array');
  return value as unknown[];
}

/** Principal and group names: anything printable, since certificate names can hold spaces and punctuation. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (name.length > 1024) return 'is longer than 1024 characters';
  if (name.startsWith(RESERVED_PRINCIPAL_PREFIX))
    return `starts with ${RESERVED_PRINCIPAL_PREFIX}, reserved for the server`;
  return undefined;
}

function nameAt(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, 'must be a string');
  const problem = nameProblem(value);
  if (problem !== undefined) fail(where, `name ${problem}`);
  return value;
}

function rolesAt(value: unknown, where: string): Role[] {
  return arrayAt(value, where).map((role, index) => {
    const here = `${where}[${index}]`;
    if (typeof role !== 'string') fail(here, 'must be a role name (a string)');
    if (!isRole(role)) fail(here, `unknown role ${JSON.stringify(role)} (known: ${roles.join(', ')})`);
    return role;
  });
}

function parseModel(document: unknown): Model {
  const top = objectAt(document, 'the file');
  onlyKeys(top, ['version', 'users', 'groups', 'grants'], '');
  const version = top['version'];
  if (version === undefined) fail('version', `is missing (expected ${usersFileVersion})`);
  if (version !== usersFileVersion) {
    fail(
      'version',
      `${JSON.stringify(version)} is not supported (this kmipd reads version ${usersFileVersion})`,
    );
  }

  const groups = new Map<string, GroupRecord>();
  for (const [name, value] of Object.entries(objectAt(top['groups'] ?? {}, 'groups'))) {
    const where = at('groups', name);
    nameAt(name, where);
    const group = objectAt(value, where);
    onlyKeys(group, ['roles'], where);
    groups.set(name, { name, roles: rolesAt(group['roles'] ?? [], at(where, 'roles')) });
  }

  const users = new Map<string, UserRecord>();
  for (const [name, value] of Object.entries(objectAt(top['users'] ?? {}, 'users'))) {
    const where = at('users', name);
    nameAt(name, where);
    const user = objectAt(value, where);
    onlyKeys(user, ['password', 'roles', 'groups'], where);
    let password: PasswordHash | undefined;
    if (user['password'] !== undefined) {
      if (typeof user['password'] !== 'string') fail(at(where, 'password'), 'must be a string');
      const parsed = parsePasswordHash(user['password']);
      if (typeof parsed === 'string') fail(at(where, 'password'), parsed);
      password = parsed;
    }
    const memberOf = arrayAt(user['groups'] ?? [], at(where, 'groups')).map((group, index) => {
      const here = `${at(where, 'groups')}[${index}]`;
      const groupName = nameAt(group, here);
      if (!groups.has(groupName))
        fail(here, `group ${JSON.stringify(groupName)} is not defined under "groups"`);
      return groupName;
    });
    users.set(name, {
      name,
      password,
      roles: rolesAt(user['roles'] ?? [], at(where, 'roles')),
      groups: [...new Set(memberOf)],
    });
  }

  const grants = arrayAt(top['grants'] ?? [], 'grants').map((value, index): Grant => {
    const where = `grants[${index}]`;
    const grant = objectAt(value, where);
    onlyKeys(grant, ['owner', 'to', 'toGroup'], where);
    const owner = nameAt(grant['owner'], at(where, 'owner'));
    if ((grant['to'] === undefined) === (grant['toGroup'] === undefined)) {
      fail(where, 'needs exactly one of "to" (a principal) and "toGroup" (a group)');
    }
    if (grant['to'] !== undefined) return { owner, to: nameAt(grant['to'], at(where, 'to')) };
    const group = nameAt(grant['toGroup'], at(where, 'toGroup'));
    if (!groups.has(group))
      fail(at(where, 'toGroup'), `group ${JSON.stringify(group)} is not defined under "groups"`);
    return { owner, toGroup: group };
  });

  return { users, groups, grants };
}

/**
 * Where JSON.parse stopped, without its message: V8 quotes the text around the error, which here may be a hash or
 * a password pasted in the wrong place.
 */
function jsonErrorPlace(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : '';
  const line = /\(line (\d+) column (\d+)\)/.exec(message);
  if (line) return ` at line ${line[1] ?? '?'}, column ${line[2] ?? '?'}`;
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const lines = before.split('\n');
    return ` at line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
  }
  if (/end of JSON input/i.test(message)) return ' (it ends too early)';
  return '';
}

function parseText(path: string, text: string): Model {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsersFileError(path, 'invalid', `not valid JSON${jsonErrorPlace(error, text)}`);
  }
  try {
    return parseModel(document);
  } catch (error) {
    if (error instanceof Problem) throw new UsersFileError(path, 'invalid', error.message);
    throw error;
  }
}

/** The file's text and mode, or undefined when it does not exist (and `missingOk`). */
async function readUsersFile(
  path: string,
  missingOk: boolean,
): Promise<{ text: string; mode: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    throw new UsersFileError(path, 'unreadable', `cannot open: ${code ?? String(error)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UsersFileError(path, 'unreadable', 'is not a regular file');
    const bytes = await handle.readFile();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new UsersFileError(path, 'invalid', 'is not UTF-8 text');
    }
    return { text, mode: stat.mode & 0o777 };
  } catch (error) {
    if (error instanceof UsersFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsersFileError(path, 'unreadable', `cannot read: ${code ?? String(error)}`);
  } finally {
    await handle.close();
  }
}

/** Reads and checks the users file; any problem is a UsersFileError naming the file and the entry. */
export async function loadUsers(path: string, options: LoadOptions = {}): Promise<Users> {
  const file = await readUsersFile(path, false);
  if (!file) throw new UsersFileError(path, 'unreadable', 'does not exist');
  const model = parseText(path, file.text);
  const warnings =
    (file.mode & 0o077) !== 0
      ? [
          `${path}: mode ${file.mode.toString(8).padStart(4, '0')} lets others read the password hashes; ` +
            `chmod 600 it`,
        ]
      : [];
  return new Users(path, model, { ...options, warnings });
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

function serialize(model: Model): string {
  const users = Object.fromEntries(
    [...model.users.values()].map((user) => [
      user.name,
      {
        ...(user.password ? { password: user.password.text } : {}),
        roles: [...user.roles],
        ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
      },
    ]),
  );
  const groups = Object.fromEntries(
    [...model.groups.values()].map((group) => [group.name, { roles: [...group.roles] }]),
  );
  return `${JSON.stringify({ version: usersFileVersion, users, groups, grants: model.grants }, null, 2)}\n`;
}

/** Temporary file in the same directory, exact mode before any byte, fsync, rename: never half a file. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': never follow or reuse something already at the temporary name; the umask is undone by chmod.
  const handle = await open(temporary, 'wx', usersFileMode);
  try {
    await handle.chmod(usersFileMode);
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename itself survives a crash only once the directory is flushed; not every platform allows that.
  try {
    const dir = await open(directory, 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    // best effort
  }
}

/** Reads (or starts) the file, applies `change`, writes it back atomically. */
async function update(path: string, change: (model: Model) => void): Promise<{ created: boolean }> {
  const file = await readUsersFile(path, true);
  const model: Model = file
    ? parseText(path, file.text)
    : { users: new Map(), groups: new Map(), grants: [] };
  change(model);
  const text = serialize(model);
  // Whatever is written must load again.
  parseText(path, text);
  try {
    await writeAtomic(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsersFileError(path, 'unreadable', `cannot write: ${code ?? String(error)}`);
  }
  return { created: !file };
}

export interface NewUser {
  readonly name: string;
  /** Absent: a principal known only by its certificate. */
  readonly password?: string;
  readonly roles: readonly string[];
  readonly groups?: readonly string[];
  /** Replace an existing entry (password, roles and groups all) instead of refusing. */
  readonly replace?: boolean;
}

export interface AddUserResult {
  /** The file did not exist and was made. */
  readonly createdFile: boolean;
  readonly replaced: boolean;
  /** Groups the user named that the file did not define; they were added with no roles. */
  readonly createdGroups: readonly string[];
}

/**
 * Adds (or with `replace`, replaces) a user. The file is made (mode 0600) if absent; an existing file must be
 * valid, or it is left alone. A group not yet defined is added without roles, to be given roles by editing the file.
 */
export async function addUser(
  path: string,
  user: NewUser,
  options: HashOptions = {},
): Promise<AddUserResult> {
  const nameIssue = nameProblem(user.name);
  if (nameIssue !== undefined) throw new UsersFileError(path, 'bad-request', `the user name ${nameIssue}`);
  for (const group of user.groups ?? []) {
    const issue = nameProblem(group);
    if (issue !== undefined) throw new UsersFileError(path, 'bad-request', `a group name ${issue}`);
  }
  const unknown = user.roles.filter((role) => !isRole(role));
  if (unknown.length > 0) {
    throw new UsersFileError(
      path,
      'bad-request',
      `unknown role ${unknown.map((role) => JSON.stringify(role)).join(', ')} (known: ${roles.join(', ')})`,
    );
  }
  if (user.password === '') throw new UsersFileError(path, 'bad-request', 'an empty password is refused');
  // Checked before the (slow) hash; checked again inside update against the file as it is then.
  if (!user.replace && (await userExists(path, user.name))) {
    throw new UsersFileError(
      path,
      'user-exists',
      `user ${JSON.stringify(user.name)} already exists (--replace to replace it)`,
    );
  }
  const passwordText = user.password === undefined ? undefined : await hashPassword(user.password, options);
  const password = passwordText === undefined ? undefined : parsePasswordHash(passwordText);
  if (typeof password === 'string') throw new Error(password);
  let replaced = false;
  const createdGroups: string[] = [];
  const { created } = await update(path, (model) => {
    replaced = model.users.has(user.name);
    if (replaced && !user.replace) {
      throw new UsersFileError(
        path,
        'user-exists',
        `user ${JSON.stringify(user.name)} already exists (--replace to replace it)`,
      );
    }
    const groups = [...new Set(user.groups ?? [])];
    for (const group of groups) {
      if (model.groups.has(group)) continue;
      model.groups.set(group, { name: group, roles: [] });
      createdGroups.push(group);
    }
    model.users.set(user.name, {
      name: user.name,
      password,
      roles: ordered(user.roles.filter(isRole)),
      groups,
    });
  });
  return { createdFile: created, replaced, createdGroups };
}

/** Whether the file lists `name`; false when the file does not exist yet. An invalid file is a UsersFileError. */
export async function userExists(path: string, name: string): Promise<boolean> {
  const file = await readUsersFile(path, true);
  return file !== undefined && parseText(path, file.text).users.has(name);
}

/** Removes a user. Grants naming it stay: they are about objects, which outlive the entry. */
export async function removeUser(path: string, name: string): Promise<void> {
  const file = await readUsersFile(path, false);
  if (!file) throw new UsersFileError(path, 'unreadable', 'does not exist');
  await update(path, (model) => {
    if (!model.users.delete(name)) {
      throw new UsersFileError(path, 'no-such-user', `no user ${JSON.stringify(name)}`);
    }
  });
}
