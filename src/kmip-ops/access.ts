import { isReservedPrincipal, RESERVED_PRINCIPAL_PREFIX } from '../identity/reserved.js';
import { errors } from './errors.js';

/**
 * Who may do what (DESIGN.md "Identity, access, audit"). Objects belong to the principal that created or registered
 * them. Roles widen that:
 * - admin: everything, on every object;
 * - creator: create objects, and read and manage its own;
 * - observer: read (key material included) its own objects and those of owners that granted it access;
 * - auditor: metadata only (Locate, Get Attributes, Get Attribute List) of every object, never key material.
 * An object the caller may not see at all is Item Not Found, exactly like one that does not exist.
 */
export type Role = 'admin' | 'creator' | 'observer' | 'auditor';
export const allRoles: readonly Role[] = ['admin', 'creator', 'observer', 'auditor'];

/** What an operation does, for the role check (each handler declares one). */
export type Access = 'info' | 'create' | 'read-metadata' | 'read-material' | 'manage';

export interface Principal {
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
  /** Owners whose objects this principal was granted read access to. */
  readonly grantedOwners: readonly string[];
}

export function principal(
  name: string,
  roles: Iterable<Role>,
  grantedOwners: readonly string[] = [],
): Principal {
  return { name, roles: new Set(roles), grantedOwners };
}

const has = (p: Principal, role: Role): boolean => p.roles.has(role);

/** Refuses an operation the principal's roles never allow, before it touches anything. */
export function checkOperationAllowed(p: Principal, access: Access, operation: string): void {
  if (access === 'info' || has(p, 'admin')) return;
  const allowed =
    access === 'create' || access === 'manage'
      ? has(p, 'creator')
      : access === 'read-material'
        ? has(p, 'creator') || has(p, 'observer')
        : has(p, 'creator') || has(p, 'observer') || has(p, 'auditor');
  if (!allowed) {
    const roles = p.roles.size === 0 ? 'no role' : `role ${[...p.roles].join(', ')}`;
    throw errors.permissionDenied(`${p.name} (${roles}) may not ${describe[access]} (${operation})`);
  }
}

const describe: Record<Access, string> = {
  info: 'query the server',
  create: 'create or register objects',
  'read-metadata': 'read object metadata',
  'read-material': 'read key material',
  manage: 'change objects',
};

/**
 * The owner of public objects: what the server publishes for every client to read (the issuing CA certificate of
 * Certify, certify-authority.ts), which no client can own: src/identity refuses any principal named "kmipd:...".
 * Such objects are read as anyone's; none can be changed by a client that is not an administrator.
 */
export const PUBLIC_OWNER = `${RESERVED_PRINCIPAL_PREFIX}public`;

/**
 * Objects the server keeps for itself (the Certify CA key, owner kmipd:certify-ca): no client sees or touches them,
 * an administrator or auditor included; only the server's own code reads them, from the store directly.
 */
export function isServerOwned(owner: string): boolean {
  return isReservedPrincipal(owner) && owner !== PUBLIC_OWNER;
}

/**
 * The owners whose objects the principal may see for this kind of access; undefined means every owner. Locate
 * passes this to the store, so it never returns what the caller may not see.
 */
export function visibleOwners(p: Principal, access: Access): readonly string[] | undefined {
  if (has(p, 'admin')) return undefined;
  if (access === 'read-metadata' && has(p, 'auditor')) return undefined;
  const owners = new Set<string>();
  // Public objects (the Certify CA certificate) may be read by anyone who may read; changed by administrators only.
  if ((access === 'read-metadata' || access === 'read-material') && p.roles.size > 0)
    owners.add(PUBLIC_OWNER);
  if (has(p, 'creator')) owners.add(p.name);
  if ((access === 'read-metadata' || access === 'read-material') && has(p, 'observer')) {
    owners.add(p.name);
    for (const owner of p.grantedOwners) owners.add(owner);
  }
  return [...owners];
}

/**
 * Whether the principal may act on an object of `owner`: 'ok', 'hidden' (answer Item Not Found: it may not even
 * know the object exists) or 'denied' (it may see the object, not do this to it: an auditor's Get).
 */
export function objectAccess(p: Principal, owner: string, access: Access): 'ok' | 'hidden' | 'denied' {
  if (isServerOwned(owner)) return 'hidden';
  const canSee = (a: Access): boolean => {
    const owners = visibleOwners(p, a);
    return owners === undefined || owners.includes(owner);
  };
  if (canSee(access)) return 'ok';
  return canSee('read-metadata') ? 'denied' : 'hidden';
}
