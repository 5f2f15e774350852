/** requestPrincipal's modes, unit by unit, with a counting users directory. */
import test from 'ava';
import { ttlv } from '../../src/ttlv/types.js';
import { Fields } from '../../src/kmip/fields.js';
import { enumValue, tag } from '../../src/kmip/vocabulary.js';
import {
  defaultIdentityOptions,
  IdentityRefusal,
  requestPrincipal,
  type IdentityOptions,
  type UsersDirectory,
} from '../../src/identity/identity.js';

function credential(username: string, password?: string): { type: number; value: Fields } {
  const value = ttlv.structure(tag('CredentialValue'), [
    ttlv.textString(tag('Username'), username),
    ...(password === undefined ? [] : [ttlv.textString(tag('Password'), password)]),
  ]);
  return {
    type: enumValue('CredentialType', 'UsernameAndPassword'),
    value: new Fields(value, '1.4', 'CredentialValue'),
  };
}

function directory(): UsersDirectory & { checks: number } {
  const dir = {
    checks: 0,
    rolesOf: (name: string) => (name === 'alice' ? (['observer'] as const) : []),
    grantsTo: (name: string) => (name === 'alice' ? ['bob'] : []),
    verifyPassword(name: string, password: string) {
      dir.checks += 1;
      return Promise.resolve(name !== 'alice' ? 'unknown-user' : password === 'pw' ? 'ok' : 'bad-password');
    },
  } satisfies UsersDirectory & { checks: number };
  return dir;
}

const options = (over: Partial<IdentityOptions>): IdentityOptions => ({ ...defaultIdentityOptions, ...over });

test('a verified Credential is remembered for the connection: one verification for many requests', async (t) => {
  const users = directory();
  const memo = { verified: undefined as string | undefined };
  const opts = options({ passwordAuth: 'required', users });
  for (let i = 0; i < 5; i++) {
    const p = await requestPrincipal({ name: 'cert-cn' }, [credential('alice', 'pw')], opts, memo);
    t.is(p.name, 'alice');
    t.deepEqual([...p.roles], ['observer']);
    t.deepEqual(p.grantedOwners, ['bob']);
  }
  t.is(users.checks, 1);
  // A different password on the same connection is verified again, and refused.
  const error = await t.throwsAsync(
    requestPrincipal({ name: 'cert-cn' }, [credential('alice', 'nope')], opts, memo),
    {
      instanceOf: IdentityRefusal,
    },
  );
  t.is(error.refusal, 'bad-password');
  t.is(users.checks, 2);
});

test('modes: optional password ignores an absent Credential; default roles apply to unlisted principals', async (t) => {
  const users = directory();
  const p = await requestPrincipal({ name: 'svc' }, [], options({ passwordAuth: 'optional', users }));
  t.is(p.name, 'svc');
  t.deepEqual([...p.roles], ['creator']);
  t.is(users.checks, 0);
  const refused = await t.throwsAsync(
    requestPrincipal(
      { name: 'svc' },
      [credential('mallory', 'x')],
      options({ passwordAuth: 'optional', users }),
    ),
    { instanceOf: IdentityRefusal },
  );
  t.is(refused.refusal, 'unknown-user');
});

test('session-and-username compares names before any password work', async (t) => {
  const users = directory();
  const refused = await t.throwsAsync(
    requestPrincipal(
      { name: 'alice' },
      [credential('bob', 'pw')],
      options({ clientCertMode: 'session-and-username', passwordAuth: 'required', users }),
    ),
    { instanceOf: IdentityRefusal },
  );
  t.is(refused.refusal, 'name-mismatch');
  t.is(users.checks, 0);
});
