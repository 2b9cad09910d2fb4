"""Vendors' tokens encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256) with a key from the environment.

The key is ``SC_REGISTRY_SECRET_KEY`` (a Fernet key). Without it the service uses the file ``<key>.secret`` beside
the body's signing key, created 0600 on first start (never printed): a worker given the same ``--key`` path finds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from .errors import RegistryError

__all__ = ["Vault", "secret_key_path"]


def secret_key_path(signing_key: Path) -> Path:
    return signing_key.with_suffix(".secret")


class Vault:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise RegistryError("SC_REGISTRY_SECRET_KEY: expected a Fernet key (32 url-safe base64 bytes)") from None

    @classmethod
    def from_env(cls, signing_key: Path) -> Vault:
        if configured := os.environ.get("SC_REGISTRY_SECRET_KEY"):
            return cls(configured.encode("ascii", "replace"))
        path = secret_key_path(signing_key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            except FileExistsError:  # another process of the service made it first
                return cls(path.read_bytes().strip())
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secrets: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(secrets).encode("utf-8"))

    def open(self, sealed: bytes) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            raise RegistryError("a platform's secrets do not decrypt: SC_REGISTRY_SECRET_KEY is not the key "
                                "they were sealed with") from None
        return value if isinstance(value, dict) else {}
