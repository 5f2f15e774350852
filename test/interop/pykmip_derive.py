"""Drives the appliance's Derive Key with PyKMIP's own client (Debian python3-pykmip) and prints one JSON object of
results, every byte string as hex.

Usage: pykmip_derive.py HOST PORT CERT KEY CA VERSION INPUT   (VERSION: 1.2, 1.4, 2.0; INPUT: a JSON file)
INPUT is written by the test: the key and password bytes to register, the Derivation Data, salt and IV. This script
computes nothing itself: it registers, activates, derives through ProxyKmipClient.derive_key, and fetches each
derived key back with ProxyKmipClient.get, so that the test compares the bytes with its own node:crypto computation.

derive_key (PyKMIP 0.10) takes the Derivation Parameters as a dict (cryptographic_parameters as a dict like
encrypt's, initialization_vector, derivation_data, salt, iteration_count) and the new object's attributes as
keyword arguments (cryptographic_algorithm, cryptographic_length); at KMIP 2.0 PyKMIP turns that Template-Attribute
into an Attributes structure itself. Every case below is expressible through that API. What PyKMIP cannot do here:
read the Links the derivation writes (its Get Attributes raises NotImplementedError on a Link attribute), so they
are not asked for.
"""
import json

from kmip.core import enums
from kmip.pie import exceptions, objects
from pykmip_common import attempt, b, connect, failure, given, version, versions  # noqa: F401 - shared by the scripts

Mask = enums.CryptographicUsageMask
Alg = enums.CryptographicAlgorithm
Method = enums.DerivationMethod
SYMMETRIC_KEY = enums.ObjectType.SYMMETRIC_KEY
out = {"version": version}


def derived(client, base, method, parameters, algorithm, length):
    """Derive Key of a Symmetric Key, then Get of what it made: its identifier, value, algorithm and length."""

    def run():
        uid = client.derive_key(
            SYMMETRIC_KEY,
            [base],
            method,
            parameters,
            cryptographic_algorithm=algorithm,
            cryptographic_length=length,
        )
        fetched = client.get(uid)
        return {
            "uid": uid,
            "base": base,
            "object_type": str(fetched.object_type),
            "algorithm": str(fetched.cryptographic_algorithm),
            "length": fetched.cryptographic_length,
            "value": fetched.value.hex(),
        }

    return attempt(run)


SHA_256 = {"hashing_algorithm": enums.HashingAlgorithm.SHA_256}
CBC_NONE = {
    "cryptographic_algorithm": Alg.AES,
    "block_cipher_mode": enums.BlockCipherMode.CBC,
    "padding_method": enums.PaddingMethod.NONE,
}

client = connect()
with client:
    usage = [Mask.ENCRYPT, Mask.DECRYPT, Mask.DERIVE_KEY]
    hash_base = client.register(objects.SymmetricKey(Alg.AES, 128, b("hash_key"), masks=usage))
    hmac_base = client.register(objects.SymmetricKey(Alg.AES, 256, b("hmac_key"), masks=usage))
    cbc_base = client.register(objects.SymmetricKey(Alg.AES, 128, b("cbc_key"), masks=usage))
    password = client.register(
        objects.SecretData(b("password"), enums.SecretDataType.PASSWORD, masks=[Mask.DERIVE_KEY])
    )
    # Active, but its usage mask lacks Derive Key.
    no_derive = client.register(objects.SymmetricKey(Alg.AES, 128, b("hash_key"), masks=[Mask.ENCRYPT, Mask.DECRYPT]))
    for uid in (hash_base, hmac_base, cbc_base, password, no_derive):
        client.activate(uid)

    out["hash"] = derived(client, hash_base, Method.HASH, {"cryptographic_parameters": SHA_256}, Alg.AES, 128)
    out["hmac"] = derived(
        client,
        hmac_base,
        Method.HMAC,
        {"cryptographic_parameters": SHA_256, "derivation_data": b("hmac_data")},
        Alg.AES,
        256,
    )
    pbkdf2 = {"salt": b("salt"), "iteration_count": given["iterations"]}
    out["pbkdf2_default"] = {
        "aes128": derived(client, password, Method.PBKDF2, pbkdf2, Alg.AES, 128),
        "aes256": derived(client, password, Method.PBKDF2, pbkdf2, Alg.AES, 256),
    }
    pbkdf2_sha256 = dict(pbkdf2, cryptographic_parameters=SHA_256)
    out["pbkdf2_sha256"] = {
        "aes128": derived(client, password, Method.PBKDF2, pbkdf2_sha256, Alg.AES, 128),
        "aes256": derived(client, password, Method.PBKDF2, pbkdf2_sha256, Alg.AES, 256),
    }
    out["encrypt"] = derived(
        client,
        cbc_base,
        Method.ENCRYPT,
        {
            "cryptographic_parameters": CBC_NONE,
            "initialization_vector": b("cbc_iv"),
            "derivation_data": b("cbc_data"),
        },
        Alg.AES,
        128,
    )
    out["refusal_without_derive_usage"] = derived(
        client, no_derive, Method.HASH, {"cryptographic_parameters": SHA_256}, Alg.AES, 128
    )

print(json.dumps(out))
