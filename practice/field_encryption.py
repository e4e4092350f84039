"""Secrets kept in the database, encrypted with a key from the environment.

``FIELD_ENCRYPTION_KEY`` (settings) is any long random string; the Fernet key (AES-128-CBC
with an HMAC-SHA256, in versioned tokens) is derived from it with HKDF, so the setting need
not be Fernet's own base64 form. A row's column then holds a token that is useless without
the environment's key: a database dump or backup does not give the secret away.

Changing FIELD_ENCRYPTION_KEY makes the stored tokens unreadable (``decrypt_text`` raises
FieldDecryptError): the secrets have to be entered again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Names what the derived key is for, so the same setting could key something else apart.
_INFO = b"practica field encryption v1"


class FieldDecryptError(Exception):
    """A stored token that this environment's key cannot open (the key changed, or the
    column was altered)."""


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_text(value: str) -> str:
    """A token for ``value`` (a different one each time: Fernet adds a random IV)."""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise FieldDecryptError("The stored secret cannot be read with this FIELD_ENCRYPTION_KEY.") from exc
