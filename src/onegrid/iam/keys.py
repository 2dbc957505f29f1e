"""Signing keys: generation, PEM round trip, and their public JWK (RFC 7517)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class KeyPair:
    kid: str
    alg: str
    private: PrivateKey

    @property
    def public(self) -> PublicKey:
        return self.private.public_key()

    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.public, kid=self.kid, alg=self.alg)


def public_jwk(key: PublicKey, *, kid: str, alg: str) -> dict[str, Any]:
    algo = ECAlgorithm if isinstance(key, ec.EllipticCurvePublicKey) else RSAAlgorithm
    jwk: dict[str, Any] = json.loads(algo.to_jwk(key))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def _thumbprint(key: PublicKey) -> str:
    # RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order.
    jwk = public_jwk(key, kid="", alg="")
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def generate_key(alg: str = "ES256") -> KeyPair:
    private: PrivateKey
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}; use ES256 or RS256")
    return KeyPair(kid=_thumbprint(private.public_key())[:16], alg=alg, private=private)


def load_key(kid: str, alg: str, pem: str) -> KeyPair:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"key {kid} is neither EC nor RSA")
    return KeyPair(kid=kid, alg=alg, private=private)
