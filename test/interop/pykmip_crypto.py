"""Drives the appliance's cryptographic operations with PyKMIP's own client (Debian python3-pykmip) and prints one
JSON object of results, every byte string as hex.

Usage: pykmip_crypto.py HOST PORT CERT KEY CA VERSION INPUT   (VERSION: 1.2, 1.4, 2.0; INPUT: a JSON file)
INPUT is written by the test: the key bytes to register, the messages, IVs, and what node:crypto made from them
(ciphertexts, a GCM tag, signatures) for the server to decrypt or verify. This script computes nothing itself: it
registers, activates and asks, so that the test compares every answer with its own computation.

Encrypt, Decrypt, Sign, Signature Verify and MAC go through ProxyKmipClient (kmip.pie.client). AES-GCM goes one
layer down, through the same client's KMIPProxy with PyKMIP's Encrypt/Decrypt payloads, because the Pie API takes no
Additional Authenticated Data and drops the Authenticated Encryption Tag of the answer (PyKMIP 0.10); those two
fields exist from KMIP 1.4 on, so GCM runs at 1.4 and later, and at 1.2 only the Pie call is made and reported.
"""
import json

from kmip.core import enums
from kmip.core.attributes import CryptographicParameters
from kmip.core.messages import messages, payloads
from kmip.core.messages.contents import Operation
from kmip.pie import exceptions, objects
from pykmip_common import attempt, b, connect, failure, given, version, versions  # noqa: F401 - shared by the scripts

Mask = enums.CryptographicUsageMask
Alg = enums.CryptographicAlgorithm
out = {"version": version}


def hexed(value):
    return None if value is None else value.hex()


def encrypted(result):
    if isinstance(result, dict):
        return result
    data, iv = result
    return {"data": hexed(data), "iv": hexed(iv)}


def plain(result):
    return result if isinstance(result, dict) else {"data": hexed(result)}


CBC_PKCS5 = {"block_cipher_mode": enums.BlockCipherMode.CBC, "padding_method": enums.PaddingMethod.PKCS5}
ECB_NONE = {"block_cipher_mode": enums.BlockCipherMode.ECB, "padding_method": enums.PaddingMethod.NONE}
OAEP_SHA256 = {
    "cryptographic_algorithm": Alg.RSA,
    "padding_method": enums.PaddingMethod.OAEP,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
}
PKCS1_SHA256 = {"digital_signature_algorithm": enums.DigitalSignatureAlgorithm.SHA256_WITH_RSA_ENCRYPTION}
PKCS1_SHA256_BY_PARTS = {
    "cryptographic_algorithm": Alg.RSA,
    "padding_method": enums.PaddingMethod.PKCS1v15,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
}
PSS_SHA256 = {
    "digital_signature_algorithm": enums.DigitalSignatureAlgorithm.RSASSA_PSS,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
}


def send(client, operation, payload):
    """One batch item through PyKMIP's KMIPProxy message layer; the batch item of the answer."""
    proxy = client.proxy
    item = messages.RequestBatchItem(operation=Operation(operation), request_payload=payload)
    response = proxy._send_and_receive_message(proxy._build_request_message(None, [item]))
    return response.batch_items[0]


def outcome_failure(item):
    return {
        "failure": failure(
            item.result_status.value,
            item.result_reason.value if item.result_reason else None,
            item.result_message.value if item.result_message else None,
        )
    }


def gcm_parameters():
    return CryptographicParameters(block_cipher_mode=enums.BlockCipherMode.GCM, iv_length=96, tag_length=16)


def gcm_encrypt(client, uid, data, iv, aad):
    item = send(
        client,
        enums.Operation.ENCRYPT,
        payloads.EncryptRequestPayload(
            unique_identifier=uid,
            cryptographic_parameters=gcm_parameters(),
            data=data,
            iv_counter_nonce=iv,
            auth_additional_data=aad,
        ),
    )
    if item.result_status.value != enums.ResultStatus.SUCCESS:
        return outcome_failure(item)
    p = item.response_payload
    return {"data": hexed(p.data), "iv": hexed(p.iv_counter_nonce), "tag": hexed(p.auth_tag)}


def gcm_decrypt(client, uid, data, iv, aad, tag):
    item = send(
        client,
        enums.Operation.DECRYPT,
        payloads.DecryptRequestPayload(
            unique_identifier=uid,
            cryptographic_parameters=gcm_parameters(),
            data=data,
            iv_counter_nonce=iv,
            auth_additional_data=aad,
            auth_tag=tag,
        ),
    )
    if item.result_status.value != enums.ResultStatus.SUCCESS:
        return outcome_failure(item)
    return {"data": hexed(item.response_payload.data)}


def tampered(data):
    return bytes([data[0] ^ 0x01]) + data[1:]


client = connect()
with client:
    aes = client.register(objects.SymmetricKey(Alg.AES, 256, b("aes_key"), masks=[Mask.ENCRYPT, Mask.DECRYPT]))
    hmac = client.register(objects.SymmetricKey(Alg.HMAC_SHA256, 256, b("hmac_key"), masks=[Mask.MAC_GENERATE]))
    private = client.register(
        objects.PrivateKey(Alg.RSA, 2048, b("rsa_private_pkcs8"), enums.KeyFormatType.PKCS_8, masks=[Mask.SIGN, Mask.DECRYPT])
    )
    public = client.register(
        objects.PublicKey(Alg.RSA, 2048, b("rsa_public_spki"), enums.KeyFormatType.X_509, masks=[Mask.VERIFY, Mask.ENCRYPT])
    )
    # Registered but never activated (Pre-Active), and Active without Encrypt in its usage mask.
    pre_active = client.register(objects.SymmetricKey(Alg.AES, 256, b("aes_key"), masks=[Mask.ENCRYPT, Mask.DECRYPT]))
    decrypt_only = client.register(objects.SymmetricKey(Alg.AES, 256, b("aes_key"), masks=[Mask.DECRYPT]))
    for uid in (aes, hmac, private, public, decrypt_only):
        client.activate(uid)

    message = b("message")
    out["refusals"] = {
        "encrypt_pre_active": attempt(lambda: client.encrypt(message, uid=pre_active, cryptographic_parameters=CBC_PKCS5)),
        "encrypt_without_usage": attempt(
            lambda: client.encrypt(message, uid=decrypt_only, cryptographic_parameters=CBC_PKCS5)
        ),
        "sign_with_public_key": attempt(
            lambda: client.sign(message, uid=public, cryptographic_parameters=PKCS1_SHA256)
        ),
    }

    out["ecb"] = encrypted(attempt(lambda: client.encrypt(b("blocks"), uid=aes, cryptographic_parameters=ECB_NONE)))
    out["ecb_decrypt"] = plain(
        attempt(lambda: client.decrypt(bytes.fromhex(given["node"]["ecb"]), uid=aes, cryptographic_parameters=ECB_NONE))
    )
    out["cbc_given_iv"] = encrypted(
        attempt(lambda: client.encrypt(message, uid=aes, cryptographic_parameters=CBC_PKCS5, iv_counter_nonce=b("cbc_iv")))
    )
    out["cbc_server_iv"] = encrypted(attempt(lambda: client.encrypt(message, uid=aes, cryptographic_parameters=CBC_PKCS5)))
    out["cbc_decrypt"] = plain(
        attempt(
            lambda: client.decrypt(
                bytes.fromhex(given["node"]["cbc"]), uid=aes, cryptographic_parameters=CBC_PKCS5, iv_counter_nonce=b("cbc_iv")
            )
        )
    )

    if versions[version] >= enums.KMIPVersion.KMIP_1_4:
        aad = b("gcm_aad")
        node_gcm = given["node"]["gcm"]
        out["gcm_given_iv"] = attempt(lambda: gcm_encrypt(client, aes, message, b("gcm_iv"), aad))
        out["gcm_server_iv"] = attempt(lambda: gcm_encrypt(client, aes, message, None, aad))
        out["gcm_decrypt"] = attempt(
            lambda: gcm_decrypt(
                client, aes, bytes.fromhex(node_gcm["data"]), b("gcm_iv"), aad, bytes.fromhex(node_gcm["tag"])
            )
        )
        out["gcm_decrypt_bad_tag"] = attempt(
            lambda: gcm_decrypt(
                client, aes, bytes.fromhex(node_gcm["data"]), b("gcm_iv"), aad, tampered(bytes.fromhex(node_gcm["tag"]))
            )
        )
    else:
        # KMIP 1.2 has no Authenticated Encryption Tag: what does a GCM Encrypt through the Pie API give?
        out["gcm_pre_1_4"] = encrypted(
            attempt(
                lambda: client.encrypt(
                    message,
                    uid=aes,
                    cryptographic_parameters={"block_cipher_mode": enums.BlockCipherMode.GCM, "tag_length": 16},
                    iv_counter_nonce=b("gcm_iv"),
                )
            )
        )

    out["oaep"] = encrypted(attempt(lambda: client.encrypt(message, uid=public, cryptographic_parameters=OAEP_SHA256)))
    out["oaep_decrypt"] = plain(
        attempt(
            lambda: client.decrypt(bytes.fromhex(given["node"]["oaep"]), uid=private, cryptographic_parameters=OAEP_SHA256)
        )
    )

    def signed(parameters):
        result = attempt(lambda: client.sign(message, uid=private, cryptographic_parameters=parameters))
        return result if isinstance(result, dict) else {"data": hexed(result)}

    def verified(signature, parameters, data=message):
        result = attempt(lambda: client.signature_verify(data, signature, uid=public, cryptographic_parameters=parameters))
        return result if isinstance(result, dict) else {"validity": str(result)}

    out["sign_pkcs1"] = signed(PKCS1_SHA256)
    out["sign_pkcs1_by_parts"] = signed(PKCS1_SHA256_BY_PARTS)
    out["sign_pss"] = signed(PSS_SHA256)
    node_pkcs1 = bytes.fromhex(given["node"]["pkcs1"])
    node_pss = bytes.fromhex(given["node"]["pss"])
    out["verify"] = {
        "pkcs1": verified(node_pkcs1, PKCS1_SHA256),
        "pkcs1_tampered_signature": verified(tampered(node_pkcs1), PKCS1_SHA256),
        "pkcs1_tampered_message": verified(node_pkcs1, PKCS1_SHA256, tampered(message)),
        "pss": verified(node_pss, PSS_SHA256),
        "pss_tampered_signature": verified(tampered(node_pss), PSS_SHA256),
    }

    mac = attempt(lambda: client.mac(message, uid=hmac, algorithm=Alg.HMAC_SHA256))
    out["mac"] = mac if isinstance(mac, dict) else {"uid": mac[0], "expected_uid": hmac, "data": hexed(mac[1])}

print(json.dumps(out))
