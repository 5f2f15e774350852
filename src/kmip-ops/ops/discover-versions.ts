import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { kmipVersions } from '../../kmip/registry.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';

const T = tags('ProtocolVersion', 'ProtocolVersionMajor', 'ProtocolVersionMinor');

/** Supported versions, most preferred first (KMIP 1.4 §4.26). */
const supported = [...kmipVersions].reverse().map((v) => {
  const [major, minor] = v.split('.').map(Number);
  return { major: major ?? 0, minor: minor ?? 0 };
});

/**
 * Discover Versions (KMIP 1.4 §4.26): the versions both sides support, in the server's order of preference; every
 * supported version when the client lists none (an empty payload is allowed).
 */
export const discoverVersions = handler({
  operation: 'DiscoverVersions',
  since: '1.1',
  access: 'info',
  decodeRequest(payload) {
    return (payload?.structs('ProtocolVersion') ?? []).map((pv) => ({
      major: pv.integer('ProtocolVersionMajor') ?? -1,
      minor: pv.integer('ProtocolVersionMinor') ?? -1,
    }));
  },
  execute(offered: { major: number; minor: number }[]) {
    if (offered.length === 0) return Promise.resolve(supported);
    return Promise.resolve(
      supported.filter((s) => offered.some((o) => o.major === s.major && o.minor === s.minor)),
    );
  },
  encodeResponse(versions): TtlvItem[] {
    return versions.map((v) =>
      ttlv.structure(T.ProtocolVersion, [
        ttlv.integer(T.ProtocolVersionMajor, v.major),
        ttlv.integer(T.ProtocolVersionMinor, v.minor),
      ]),
    );
  },
});
