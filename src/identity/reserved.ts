/**
 * Principal names the server keeps for its own objects (src/kmip-ops/access.ts PUBLIC_OWNER, the Certify CA's
 * kmipd:certify-ca): no certificate name, mapped principal, username or users-file entry may take one.
 */
export const RESERVED_PRINCIPAL_PREFIX = 'kmipd:';

export function isReservedPrincipal(name: string): boolean {
  return name.startsWith(RESERVED_PRINCIPAL_PREFIX);
}
