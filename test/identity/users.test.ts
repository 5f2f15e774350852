/**
 * The users file (src/identity/users.ts) and `kmipd users` (src/cli/users.ts, through the Command's run() with
 * its streams passed in). Most hashes here use ln=10 to keep the tests fast; the default cost is exercised by the
 * format, timing and command tests.
 */
import { scryptSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import test from 'ava';
import { UsageError } from '../../src/cli/command.js';
import { createUsersCommand, readFirstLine, type UsersIo } from '../../src/cli/users.js';
import {
  addUser,
  defaultScryptParams,
  hashPassword,
  loadUsers,
  removeUser,
  roles,
  scryptKdf,
  userExists,
  UsersFileError,
  type Kdf,
  type ScryptParams,
} from '../../src/identity/users.js';

const root = mkdtempSync(join(tmpdir(), 'kmipd-users-'));
test.after.always(() => {
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh path for a users file, in its own directory (so leftover temporary files can be counted). */
function freshPath(): string {
  const dir = mkdtempSync(join(root, `t${(counter += 1)}-`));
  return join(dir, 'users.json');
}

const fast = { params: { ln: 10, r: 8, p: 1 } } as const;

function write(content: unknown): string {
  const path = freshPath();
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function invalid(
  t: import('ava').ExecutionContext,
  content: unknown,
  pattern: RegExp,
): Promise<string> {
  const path = write(content);
  const error = await t.throwsAsync(loadUsers(path), { instanceOf: UsersFileError });
  t.is(error.code, 'invalid');
  t.true(error.message.startsWith(`${path}: `), error.message);
  t.regex(error.message, pattern);
  return error.message;
}

const aHash = `scrypt$ln=10,r=8,p=1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

// ---------------------------------------------------------------------------------------------------------------
// Hashes

test('hashPassword: scrypt with its parameters in the string, a 16-byte salt, and N = 2^ln', async (t) => {
  const text = await hashPassword('correct horse');
  const match = /^scrypt\$ln=15,r=8,p=1\$([^$]+)\$([^$]+)$/.exec(text);
  t.truthy(match, text);
  const salt = Buffer.from(match?.[1] ?? '', 'base64');
  const hash = Buffer.from(match?.[2] ?? '', 'base64');
  t.is(salt.length, 16);
  t.is(hash.length, 32);
  // Computed independently of the module's parser: ln is log2 of N.
  const expected = scryptSync('correct horse', salt, 32, {
    N: 2 ** 15,
    r: 8,
    p: 1,
    maxmem: 64 * 1024 * 1024,
  });
  t.true(expected.equals(hash));
  t.deepEqual(defaultScryptParams, { ln: 15, r: 8, p: 1 });
});

test('hashPassword refuses an empty password and parameters the loader would refuse', async (t) => {
  await t.throwsAsync(hashPassword(''), { message: /empty password/ });
  await t.throwsAsync(hashPassword('x', { params: { ln: 4, r: 8, p: 1 } }), { message: /ln=4 is outside/ });
});

// ---------------------------------------------------------------------------------------------------------------
// Round trip

test('add then verify: ok, bad-password, unknown-user, no-password', async (t) => {
  const path = freshPath();
  const first = await addUser(path, { name: 'alice', password: 'wonderland', roles: ['creator'] }, fast);
  t.deepEqual(first, { createdFile: true, replaced: false, createdGroups: [] });
  await addUser(path, { name: 'backup-host', roles: ['observer'] }, fast);
  const users = await loadUsers(path);
  t.is(await users.verifyPassword('alice', 'wonderland'), 'ok');
  t.is(await users.verifyPassword('alice', 'Wonderland'), 'bad-password');
  t.is(await users.verifyPassword('alice', ''), 'bad-password');
  t.is(await users.verifyPassword('mallory', 'wonderland'), 'unknown-user');
  t.is(await users.verifyPassword('backup-host', 'anything'), 'no-password');
  t.deepEqual(users.lookup('alice'), { name: 'alice', roles: ['creator'], groups: [], hasPassword: true });
  t.deepEqual(users.lookup('backup-host'), {
    name: 'backup-host',
    roles: ['observer'],
    groups: [],
    hasPassword: false,
  });
  t.is(users.lookup('mallory'), undefined);
  t.deepEqual(users.warnings, []);
});

test('passwords are compared after NFC normalization, so composed and decomposed accents match', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'zoé', password: 'caf\u00e9', roles: ['observer'] }, fast);
  const users = await loadUsers(path);
  t.is(await users.verifyPassword('zoé', 'cafe\u0301'), 'ok');
});

test('the file never contains the password, and the same password twice gives different hashes', async (t) => {
  const path = freshPath();
  const password = 'Tr0ub4dor&3-unique-marker';
  await addUser(path, { name: 'alice', password, roles: ['creator'] }, fast);
  await addUser(path, { name: 'carol', password, roles: ['creator'] }, fast);
  const raw = readFileSync(path);
  for (const form of [
    password,
    Buffer.from(password).toString('base64'),
    Buffer.from(password).toString('hex'),
  ]) {
    t.is(raw.indexOf(form), -1, `found ${form}`);
  }
  const document = JSON.parse(raw.toString()) as { users: Record<string, { password: string }> };
  const alice = document.users['alice']?.password ?? '';
  const carol = document.users['carol']?.password ?? '';
  t.regex(alice, /^scrypt\$ln=10,r=8,p=1\$/);
  t.not(alice.split('$')[2], carol.split('$')[2], 'salts differ');
  t.not(alice, carol);
  const users = await loadUsers(path);
  t.is(await users.verifyPassword('alice', password), 'ok');
  t.is(await users.verifyPassword('carol', password), 'ok');
});

test.serial(
  'the file is made with mode 0600 and kept at 0600; a looser mode is warned about on load',
  async (t) => {
    const path = freshPath();
    const umask = process.umask(0o000);
    try {
      await addUser(path, { name: 'alice', roles: ['admin'] }, fast);
    } finally {
      process.umask(umask);
    }
    t.is(statSync(path).mode & 0o777, 0o600);
    chmodSync(path, 0o644);
    const loose = await loadUsers(path);
    t.is(loose.warnings.length, 1);
    t.regex(loose.warnings[0] ?? '', /mode 0644 lets others read the password hashes/);
    await addUser(path, { name: 'bob', roles: ['observer'] }, fast);
    t.is(statSync(path).mode & 0o777, 0o600);
  },
);

test('writes are atomic: a new file replaces the old by rename, no temporary file stays, readers never see half', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'user0', roles: ['observer'] }, fast);
  const inode = statSync(path).ino;
  const state: { reading: boolean } = { reading: true };
  let reads = 0;
  const reader = (async () => {
    while (state.reading) {
      JSON.parse(readFileSync(path, 'utf8'));
      reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  for (let index = 1; index <= 8; index += 1) {
    await addUser(path, { name: `user${index}`, password: `p${index}`, roles: ['observer'] }, fast);
  }
  state.reading = false;
  await reader;
  t.true(reads > 0);
  t.not(statSync(path).ino, inode, 'renamed into place, not rewritten in place');
  t.deepEqual(readdirSync(join(path, '..')), ['users.json']);
  t.is((await loadUsers(path)).list().length, 9);
});

test('an existing user is refused unless replace; replace changes password, roles and groups', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'alice', password: 'old', roles: ['creator'], groups: ['ops'] }, fast);
  const before = readFileSync(path);
  const error = await t.throwsAsync(
    addUser(path, { name: 'alice', password: 'new', roles: ['admin'] }, fast),
    {
      instanceOf: UsersFileError,
    },
  );
  t.is(error.code, 'user-exists');
  t.true(readFileSync(path).equals(before), 'the file is untouched');
  const result = await addUser(
    path,
    { name: 'alice', password: 'new', roles: ['admin'], replace: true },
    fast,
  );
  t.true(result.replaced);
  const users = await loadUsers(path);
  t.is(await users.verifyPassword('alice', 'old'), 'bad-password');
  t.is(await users.verifyPassword('alice', 'new'), 'ok');
  t.deepEqual(users.rolesOf('alice'), ['admin']);
  t.deepEqual(users.lookup('alice')?.groups, []);
  // The group made by the first add stays: others may use it and it may have been given roles by hand.
  t.deepEqual(users.groups(), [{ name: 'ops', roles: [] }]);
});

test('addUser refuses unknown roles, empty passwords and bad names, and leaves an invalid file alone', async (t) => {
  const path = freshPath();
  await t.throwsAsync(addUser(path, { name: 'alice', roles: ['root'] }, fast), {
    message: /unknown role "root"/,
  });
  await t.throwsAsync(addUser(path, { name: 'alice', password: '', roles: ['admin'] }, fast), {
    message: /empty password/,
  });
  await t.throwsAsync(addUser(path, { name: '', roles: ['admin'] }, fast), { message: /user name is empty/ });
  await t.throwsAsync(addUser(path, { name: 'a\nb', roles: ['admin'] }, fast), {
    message: /control character/,
  });
  await t.throwsAsync(addUser(path, { name: 'kmipd:certify-ca', roles: ['admin'] }, fast), {
    message: /starts with kmipd:, reserved for the server/,
  });
  await invalid(
    t,
    {
      version: 1,
      users: { bob: { roles: ['observer'] } },
      grants: [{ owner: 'kmipd:certify-ca', to: 'bob' }],
    },
    /reserved for the server/,
  );
  t.false(await userExists(path, 'alice'));
  const broken = write('{"version": 1, "users": {"x": {"roles": ["root"]}}}');
  const before = readFileSync(broken);
  await t.throwsAsync(addUser(broken, { name: 'alice', roles: ['admin'] }, fast), {
    message: /unknown role "root"/,
  });
  t.true(readFileSync(broken).equals(before));
});

test('removeUser removes an entry and refuses an unknown one; grants naming it stay', async (t) => {
  const path = write({
    version: 1,
    users: { alice: { roles: ['creator'] }, bob: { roles: ['observer'] } },
    grants: [{ owner: 'alice', to: 'bob' }],
  });
  await removeUser(path, 'alice');
  const users = await loadUsers(path);
  t.is(users.lookup('alice'), undefined);
  t.deepEqual(users.grantsTo('bob'), ['alice']);
  const error = await t.throwsAsync(removeUser(path, 'alice'), { instanceOf: UsersFileError });
  t.is(error.code, 'no-such-user');
});

// ---------------------------------------------------------------------------------------------------------------
// Checking the file

test('invalid files are refused with a message naming the file and the problem', async (t) => {
  await invalid(
    t,
    '{"version": 1, "users": {',
    /not valid JSON \(it ends too early\)|not valid JSON at line/,
  );
  await invalid(t, '{\n  "version": 1,\n  "users": {} x\n}', /not valid JSON at line 3, column \d+/);
  await invalid(t, [], /the file: must be a JSON object/);
  await invalid(t, { users: {} }, /version: is missing \(expected 1\)/);
  await invalid(t, { version: 2 }, /version: 2 is not supported \(this kmipd reads version 1\)/);
  await invalid(t, { version: '1' }, /version: "1" is not supported/);
  await invalid(
    t,
    { version: 1, users: { alice: { roles: ['creator', 'superuser'] } } },
    /users\.alice\.roles\[1\]: unknown role "superuser" \(known: admin, creator, observer, auditor\)/,
  );
  await invalid(
    t,
    { version: 1, groups: { ops: { roles: ['root'] } } },
    /groups\.ops\.roles\[0\]: unknown role "root"/,
  );
  await invalid(
    t,
    { version: 1, users: { alice: { password: 'bcrypt$2b$10$abcdefghijklmnopqrstuv', roles: [] } } },
    /users\.alice\.password: not a password hash in a known scheme/,
  );
  await invalid(
    t,
    { version: 1, users: { alice: { password: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', roles: [] } } },
    /users\.alice\.password: argon2 hashes are not supported/,
  );
  await invalid(
    t,
    { version: 1, users: { alice: { password: aHash.replace('ln=10', 'ln=30') } } },
    /ln=30 is outside 10\.\.20/,
  );
  await invalid(
    t,
    { version: 1, users: { alice: { password: aHash.replace(/\$[^$]+$/, '$AAAA') } } },
    /hash is not base64 of 16 to 64 bytes/,
  );
  await invalid(t, { version: 1, users: { alice: { role: ['admin'] } } }, /users\.alice\.role: unknown key/);
  await invalid(
    t,
    { version: 1, extra: true },
    /extra: unknown key \(allowed: version, users, groups, grants\)/,
  );
  await invalid(
    t,
    { version: 1, users: { alice: { groups: ['opz'] } }, groups: { ops: {} } },
    /users\.alice\.groups\[0\]: group "opz" is not defined under "groups"/,
  );
  await invalid(
    t,
    { version: 1, users: { 'a b': { roles: 'admin' } } },
    /users\["a b"\]\.roles: must be a JSON array/,
  );
  await invalid(t, { version: 1, users: [] }, /users: must be a JSON object/);
  await invalid(t, { version: 1, grants: [{ owner: 'alice' }] }, /grants\[0\]: needs exactly one of "to"/);
  await invalid(
    t,
    { version: 1, grants: [{ owner: 'alice', to: 'bob', toGroup: 'ops' }] },
    /grants\[0\]: needs exactly one of "to"/,
  );
  await invalid(
    t,
    { version: 1, grants: [{ owner: 'alice', toGroup: 'ops' }] },
    /grants\[0\]\.toGroup: group "ops" is not defined/,
  );
});

test('a clear password pasted into the file is refused without being quoted, even in a JSON error', async (t) => {
  const secret = 'hunter2-clear-text';
  const message = await invalid(
    t,
    { version: 1, users: { alice: { password: secret, roles: ['admin'] } } },
    /clear/,
  );
  t.false(message.includes(secret));
  // V8's own JSON.parse messages quote the text around the error; ours give only the place.
  const json = await invalid(
    t,
    `{"version": 1, "users": {"alice": {"password": "${secret}" "roles": []}}}`,
    /JSON/,
  );
  t.false(json.includes(secret), json);
  const bare = await invalid(t, secret, /not valid JSON/);
  t.false(bare.includes(secret), bare);
});

test('a missing or unreadable file is a UsersFileError', async (t) => {
  const missing = join(root, 'nope', 'users.json');
  const error = await t.throwsAsync(loadUsers(missing), { instanceOf: UsersFileError });
  t.is(error.code, 'unreadable');
  t.regex(error.message, /ENOENT/);
  const dir = await t.throwsAsync(loadUsers(root), { instanceOf: UsersFileError });
  t.regex(dir.message, /not a regular file/);
});

// ---------------------------------------------------------------------------------------------------------------
// Roles and grants

test('rolesOf: own roles plus group roles, each once, in canonical order; none for an unlisted principal', async (t) => {
  const path = write({
    version: 1,
    users: {
      alice: { roles: ['observer'], groups: ['ops', 'audit'] },
      bob: { groups: ['ops'] },
      carol: { roles: [] },
    },
    groups: { ops: { roles: ['creator', 'observer'] }, audit: { roles: ['auditor'] } },
  });
  const users = await loadUsers(path);
  t.deepEqual(users.rolesOf('alice'), ['creator', 'observer', 'auditor']);
  t.deepEqual(users.rolesOf('bob'), ['creator', 'observer']);
  t.deepEqual(users.rolesOf('carol'), []);
  t.deepEqual(users.rolesOf('dave'), []);
  // Names are map keys, not object properties.
  t.deepEqual(users.rolesOf('__proto__'), []);
  t.deepEqual(users.rolesOf('constructor'), []);
  t.deepEqual([...roles], ['admin', 'creator', 'observer', 'auditor']);
});

test('grantsTo: owners granted to the principal directly or through its groups, each once', async (t) => {
  const path = write({
    version: 1,
    users: { bob: { roles: ['observer'], groups: ['ops'] }, eve: { roles: ['auditor'] } },
    groups: { ops: { roles: [] } },
    grants: [
      { owner: 'alice', to: 'bob' },
      { owner: 'alice', toGroup: 'ops' },
      { owner: 'carol', toGroup: 'ops' },
      { owner: 'dave', to: 'eve' },
      { owner: 'frank', to: 'cert-only-principal' },
    ],
  });
  const users = await loadUsers(path);
  t.deepEqual(users.grantsTo('bob'), ['alice', 'carol']);
  t.deepEqual(users.grantsTo('eve'), ['dave']);
  // A grantee need not be in "users" (a certificate principal with the default role).
  t.deepEqual(users.grantsTo('cert-only-principal'), ['frank']);
  t.deepEqual(users.grantsTo('nobody'), []);
  t.is(users.grants().length, 5);
});

// ---------------------------------------------------------------------------------------------------------------
// Timing

/** The real kdf, with every call's parameters recorded. */
function spyKdf(): { kdf: Kdf; calls: ScryptParams[] } {
  const calls: ScryptParams[] = [];
  return {
    calls,
    kdf: (password, salt, params, length) => {
      calls.push(params);
      return scryptKdf(password, salt, params, length);
    },
  };
}

test('an unknown user, or one without a password, costs one key derivation with the parameters the file uses', async (t) => {
  const path = freshPath();
  const params = { ln: 11, r: 8, p: 1 };
  await addUser(path, { name: 'alice', password: 'a', roles: ['creator'] }, { params });
  await addUser(path, { name: 'bob', password: 'b', roles: ['creator'] }, { params });
  await addUser(path, { name: 'old', password: 'c', roles: ['creator'] }, fast);
  await addUser(path, { name: 'host', roles: ['observer'] }, fast);
  const spy = spyKdf();
  const users = await loadUsers(path, { kdf: spy.kdf });
  t.is(await users.verifyPassword('alice', 'a'), 'ok');
  t.is(await users.verifyPassword('mallory', 'a'), 'unknown-user');
  t.is(await users.verifyPassword('host', 'a'), 'no-password');
  t.is(await users.verifyPassword('old', 'x'), 'bad-password');
  t.deepEqual(spy.calls, [params, params, params, fast.params]);
});

test('with no hash in the file, the dummy derivation uses the default cost', async (t) => {
  const spy = spyKdf();
  const users = await loadUsers(write({ version: 1 }), { kdf: spy.kdf });
  t.is(await users.verifyPassword('anyone', 'x'), 'unknown-user');
  t.deepEqual(spy.calls, [defaultScryptParams]);
});

test.serial('timing (loose): verifying an unknown user takes about as long as a known one', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'alice', password: 'wonderland', roles: ['creator'] });
  const users = await loadUsers(path);
  const time = async (name: string): Promise<number> => {
    const start = process.hrtime.bigint();
    await users.verifyPassword(name, 'guess');
    return Number(process.hrtime.bigint() - start);
  };
  const median = (values: number[]): number =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const known: number[] = [];
  const unknown: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    known.push(await time('alice'));
    unknown.push(await time('nobody'));
  }
  t.true(median(unknown) >= 0.3 * median(known), `unknown ${median(unknown)} ns, known ${median(known)} ns`);
});

// ---------------------------------------------------------------------------------------------------------------
// The command

interface Captured {
  readonly io: UsersIo;
  readonly out: () => string;
  readonly err: () => string;
}

function capture(stdin: UsersIo['stdin'] = Readable.from([])): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      stdin,
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
    },
    out: () => out,
    err: () => err,
  };
}

async function cli(
  args: readonly string[],
  stdin?: UsersIo['stdin'],
): Promise<{ code: number; out: string; err: string }> {
  const captured = capture(stdin);
  const code = await createUsersCommand(() => captured.io).run(args);
  return { code, out: captured.out(), err: captured.err() };
}

test('users add --password-stdin reads the first line only and strips only the line end', async (t) => {
  const path = freshPath();
  const added = await cli(
    [
      'add',
      'alice',
      '--role',
      'creator',
      '--role',
      'observer',
      '--group',
      'ops',
      '--users',
      path,
      '--password-stdin',
    ],
    Readable.from([Buffer.from(' pass word \nsecond line\n')]),
  );
  t.is(added.code, 0, added.err);
  t.is(
    added.out,
    `created ${path} (mode 0600)\n` +
      `added group 'ops' with no roles: give it roles under "groups" in ${path}\n` +
      "added user 'alice': roles creator, observer, groups ops, password set\n",
  );
  t.false(added.out.includes('pass word'));
  const crlf = await cli(
    ['add', 'bob', '--role', 'auditor', '--users', path, '--password-stdin'],
    Readable.from(['split ', 'across chunks\r\n']),
  );
  t.is(crlf.code, 0, crlf.err);
  const users = await loadUsers(path);
  t.is(await users.verifyPassword('alice', ' pass word '), 'ok');
  t.is(await users.verifyPassword('alice', 'pass word'), 'bad-password');
  t.is(await users.verifyPassword('bob', 'split across chunks'), 'ok');
  t.deepEqual(users.rolesOf('alice'), ['creator', 'observer']);
  t.false(readFileSync(path, 'utf8').includes('pass word'));
});

test('readFirstLine: no line end at all, and a line too long', async (t) => {
  t.is(await readFirstLine(Readable.from(['no newline'])), 'no newline');
  t.is(await readFirstLine(Readable.from([''])), '');
  await t.throwsAsync(readFirstLine(Readable.from([Buffer.alloc(5000, 0x61)])), {
    message: /longer than 4096/,
  });
  await t.throwsAsync(readFirstLine(Readable.from([Buffer.from([0xff, 0x0a])])), { message: /not UTF-8/ });
});

test('users add: an empty password, an existing user, --no-password and --replace', async (t) => {
  const path = freshPath();
  const empty = await cli(
    ['add', 'alice', '--role', 'admin', '--users', path, '--password-stdin'],
    Readable.from(['\n']),
  );
  t.is(empty.code, 1);
  t.regex(empty.err, /empty password is refused/);
  const certOnly = await cli(['add', 'host', '--role', 'observer', '--users', path, '--no-password']);
  t.is(certOnly.code, 0, certOnly.err);
  t.regex(certOnly.out, /added user 'host': roles observer, no password \(certificate only\)/);
  const again = await cli(['add', 'host', '--role', 'admin', '--users', path, '--no-password']);
  t.is(again.code, 1);
  t.regex(again.err, /user 'host' already exists \(--replace to replace it\)/);
  const replaced = await cli(
    ['add', 'host', '--role', 'admin', '--users', path, '--password-stdin', '--replace'],
    Readable.from(['now with one\n']),
  );
  t.is(replaced.code, 0, replaced.err);
  t.regex(replaced.out, /replaced user 'host': roles admin, password set/);
  t.is(await (await loadUsers(path)).verifyPassword('host', 'now with one'), 'ok');
});

test('users list shows names, roles, groups, password set or not, groups and grants, never a hash', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'alice', password: 'secret-one', roles: ['creator'], groups: ['ops'] }, fast);
  await addUser(path, { name: 'backup-host', roles: ['observer'] }, fast);
  const document = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  document['groups'] = { ops: { roles: ['observer'] } };
  document['grants'] = [
    { owner: 'alice', to: 'backup-host' },
    { owner: 'alice', toGroup: 'ops' },
  ];
  writeFileSync(path, JSON.stringify(document), { mode: 0o600 });
  const listed = await cli(['list', '--users', path]);
  t.is(listed.code, 0, listed.err);
  t.is(
    listed.out,
    [
      'NAME         ROLES     GROUPS  PASSWORD',
      'alice        creator   ops     set',
      'backup-host  observer  -       none',
      '',
      'groups:',
      '  ops: observer',
      '',
      'grants (reader may read the objects of owner):',
      '  alice -> backup-host',
      '  alice -> group ops',
      '',
    ].join('\n'),
  );
  t.false(listed.out.includes('scrypt'));
  t.false(listed.out.includes('$'));
  const broken = await cli(['list', '--users', write('{"version": 3}')]);
  t.is(broken.code, 1);
  t.regex(broken.err, /version: 3 is not supported/);
});

test('users remove', async (t) => {
  const path = freshPath();
  await addUser(path, { name: 'alice', roles: ['creator'] }, fast);
  const removed = await cli(['remove', 'alice', '--users', path]);
  t.is(removed.code, 0, removed.err);
  t.is(removed.out, `removed user 'alice' from ${path}\n`);
  const again = await cli(['remove', 'alice', '--users', path]);
  t.is(again.code, 1);
  t.regex(again.err, /no user "alice"/);
});

test('usage errors', async (t) => {
  const path = freshPath();
  const usage = async (args: readonly string[], message: RegExp): Promise<void> => {
    await t.throwsAsync(cli(args), { instanceOf: UsageError, message }, args.join(' '));
  };
  await usage([], /a subcommand is needed/);
  await usage(['rename'], /unknown subcommand 'rename' \(known: add, list, remove\)/);
  await usage(['add', '--role', 'admin', '--users', path], /the user NAME is needed/);
  await usage(['add', 'a', 'b', '--role', 'admin', '--users', path], /unexpected argument 'b'/);
  await usage(['add', 'alice', '--role', 'admin', '--password-stdin'], /--users FILE is needed/);
  await usage(['add', 'alice', '--role', 'root', '--users', path, '--password-stdin'], /unknown role 'root'/);
  await usage(['add', 'alice', '--users', path, '--password-stdin'], /at least one --role/);
  await usage(
    ['add', 'alice', '--role', 'admin', '--users', path, '--password-stdin', '--no-password'],
    /exclude each other/,
  );
  await usage(['add', 'alice', '--role', 'admin', '--users', path], /not a terminal: use --password-stdin/);
  await usage(
    ['add', 'alice', '--role', 'admin', '--users', path, '--password', 'x'],
    /Unknown option '--password'/,
  );
  await usage(['list'], /--users FILE is needed/);
  await usage(['list', 'extra', '--users', path], /unexpected argument 'extra'/);
  await usage(['remove', '--users', path], /the user NAME is needed/);
});

/** A terminal: raw mode is recorded, and each prompt written to stderr is answered with the next keystrokes. */
function fakeTerminal(answers: string[]): {
  stdin: UsersIo['stdin'];
  rawModes: boolean[];
  captured: Captured;
} {
  const stream = new PassThrough();
  const rawModes: boolean[] = [];
  const stdin = Object.assign(stream, { isTTY: true, setRawMode: (raw: boolean) => rawModes.push(raw) });
  const captured = capture(stdin);
  const { stderr } = captured.io;
  const answering: UsersIo = {
    ...captured.io,
    stderr: {
      write: (text: string) => {
        stderr.write(text);
        if (text.includes('password for')) {
          const keys = answers.shift();
          if (keys !== undefined) setImmediate(() => stream.write(keys));
        }
      },
    },
  };
  return { stdin, rawModes, captured: { ...captured, io: answering } };
}

async function cliOnTerminal(args: readonly string[], answers: string[]) {
  const terminal = fakeTerminal(answers);
  const code = await createUsersCommand(() => terminal.captured.io).run(args);
  return { code, out: terminal.captured.out(), err: terminal.captured.err(), rawModes: terminal.rawModes };
}

test('users add on a terminal asks twice without echo; backspace edits; a mismatch or Ctrl-C refuses', async (t) => {
  const path = freshPath();
  const ok = await cliOnTerminal(
    ['add', 'alice', '--role', 'creator', '--users', path],
    ['s3cretX\u007f\r', 's3\u001b[Dcret\n'],
  );
  t.is(ok.code, 0, ok.err);
  t.is(ok.err, 'password for alice: \npassword for alice (again): \n');
  t.false(ok.err.includes('s3cret') || ok.out.includes('s3cret'));
  t.deepEqual(ok.rawModes, [true, false, true, false]);
  t.is(await (await loadUsers(path)).verifyPassword('alice', 's3cret'), 'ok');

  const mismatch = await cliOnTerminal(
    ['add', 'bob', '--role', 'creator', '--users', path],
    ['one\r', 'two\r'],
  );
  t.is(mismatch.code, 1);
  t.regex(mismatch.err, /the two passwords differ/);
  t.false(await userExists(path, 'bob'));

  const cancelled = await cliOnTerminal(['add', 'bob', '--role', 'creator', '--users', path], ['abc\u0003']);
  t.is(cancelled.code, 130);
  t.regex(cancelled.err, /cancelled/);
  t.deepEqual(cancelled.rawModes, [true, false], 'the terminal is restored');

  const empty = await cliOnTerminal(['add', 'bob', '--role', 'creator', '--users', path], ['\r']);
  t.is(empty.code, 1);
  t.regex(empty.err, /empty password is refused/);
});
