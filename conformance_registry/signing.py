"""The body's Ed25519 key and signatures over RFC 8785 canonical JSON (certificates and the registry document)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import RegistryError

__all__ = ["ALGORITHM", "CANONICALIZATION", "key_id", "load_or_create_key", "load_public_key", "public_key_path",
           "sign_document", "signature_problem"]

ALGORITHM, CANONICALIZATION = "Ed25519", "RFC 8785"


def public_key_path(private: Path) -> Path:
    """Where the public half is written: beside the private key, ``.pub`` in place of its suffix."""
    return private.with_suffix(".pub")


def _write_private(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The body's private key at ``path``; a new one (0600, public key beside it) when the file does not exist."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), 0o600)
    else:
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise RegistryError(f"{path}: not an unencrypted PEM private key") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise RegistryError(f"{path}: expected an Ed25519 private key, found {type(loaded).__name__}")
        key = loaded
    public = public_key_path(path)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if not public.exists() or public.read_bytes() != pem:
        public.write_bytes(pem)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        loaded = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise RegistryError(f"{path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError):
        raise RegistryError(f"{path}: not a PEM public key") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise RegistryError(f"{path}: expected an Ed25519 public key, found {type(loaded).__name__}")
    return loaded


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return "sha256:" + hashlib.sha256(_raw(public)).hexdigest()


def _canonical(document: dict[str, Any]) -> bytes:
    return rfc8785.dumps({k: v for k, v in document.items() if k != "signature"})


def sign_document(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document with a ``signature`` member over the RFC 8785 JSON of everything else."""
    signature = {"algorithm": ALGORITHM, "canonicalization": CANONICALIZATION, "key_id": key_id(key.public_key()),
                 "value": base64.b64encode(key.sign(_canonical(document))).decode("ascii")}
    return {**{k: v for k, v in document.items() if k != "signature"}, "signature": signature}


def signature_problem(document: Any, public: Ed25519PublicKey) -> str | None:
    """None when ``document`` carries a signature that holds under ``public``; else what is wrong, in a few words."""
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        return "it carries no signature"
    signature = document["signature"]
    if signature.get("algorithm") != ALGORITHM or signature.get("canonicalization") != CANONICALIZATION:
        return "its signature is not Ed25519 over RFC 8785 JSON"
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
        public.verify(value, _canonical(document))
    except (ValueError, InvalidSignature):
        return "its signature does not hold under the given public key"
    except (rfc8785.CanonicalizationError, RecursionError):
        return "it holds a value RFC 8785 cannot write"
    return None
