"""Ed25519 key files: generating them, and loading public keys and signers safely.

Key files are PEM: PKCS#8 for the private key (mode 0600), SubjectPublicKeyInfo for the
public key. Signers come from securesystemslib's ``Signer.from_priv_key_uri``; our
``file:PATH`` URI is mapped onto its ``file2:`` scheme after the file's permissions and
type are checked. GnuPG keys (``gnupg:FINGERPRINT``) go through verifier/attestation/gpg.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.signer import CryptoSigner, Signer, SSlibKey

from verifier.attestation import gpg
from verifier.attestation.ed25519 import weak_key_reason
from verifier.errors import InputError, where
from verifier.files import open_regular

MAX_KEY_BYTES = 64 << 10
PRIVATE_MODE = 0o600


def _read_key_file(path: Path, *, private: bool) -> bytes:
    with open_regular(path, "key", missing="key file not found") as f:
        info = os.fstat(f.fileno())
        if private and info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise InputError(where(path, f"private key permissions {mode:04o} are too open (chmod 600)"))
        try:
            data = f.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise InputError(where(path, f"cannot read key file: {exc.strerror}")) from None
    if len(data) > MAX_KEY_BYTES:
        raise InputError(where(path, f"key file larger than {MAX_KEY_BYTES} bytes"))
    return data


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _sslib_key(public: Ed25519PublicKey) -> SSlibKey:
    return SSlibKey.from_crypto(public, scheme="ed25519")


def load_public_key(path: Path) -> SSlibKey:
    """A trusted Ed25519 public key from a PEM file (or a GnuPG key exported as JSON);
    refuses other types and weak points."""
    data = _read_key_file(path, private=False)
    if data.lstrip().startswith(b"{"):
        return gpg.load_public_key(data, path)  # type: ignore[return-value]
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(where(path, "not a PEM public key")) from None
    if not isinstance(public, Ed25519PublicKey):
        raise InputError(where(path, f"unsupported key type {type(public).__name__} (only Ed25519)"))
    reason = weak_key_reason(_raw(public))
    if reason:
        raise InputError(where(path, reason))
    return _sslib_key(public)


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path, private=True)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(where(path, "encrypted private keys are not supported")) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(where(path, "not a PEM private key")) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InputError(where(path, f"unsupported key type {type(private).__name__} (only Ed25519)"))
    return private


def signer_from_uri(uri: str) -> Signer:
    """A securesystemslib Signer for ``file:PATH`` (an Ed25519 PKCS#8 PEM file)."""
    scheme, sep, rest = uri.partition(":")
    if not sep or not rest:
        raise InputError(where(uri, "signing key URI must look like file:PATH"))
    if scheme in ("file", "file2"):
        return _file_signer(Path(rest))
    if scheme == "gnupg":
        return gpg.gpg_signer(rest, uri)
    raise InputError(where(uri, f"unsupported signing key scheme {scheme!r} (file:PATH or gnupg:FINGERPRINT)"))


def _file_signer(path: Path) -> Signer:
    private = _load_private_key(path)
    public = private.public_key()
    reason = weak_key_reason(_raw(public))
    if reason:
        raise InputError(where(path, reason))
    try:
        return Signer.from_priv_key_uri(f"file2:{path}", _sslib_key(public))
    except (OSError, ValueError) as exc:
        raise InputError(where(path, f"cannot load signing key: {exc}")) from None


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair (private key 0600, created exclusively); return its keyid."""
    signer = CryptoSigner.generate_ed25519()
    public_pem = signer.public_key._crypto_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise InputError(where(path, "already exists; refusing to overwrite a key"))
    _write_new(private_path, signer.private_bytes, PRIVATE_MODE)
    _write_new(public_path, public_pem, 0o644)
    return signer.public_key.keyid


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except OSError as exc:
        raise InputError(where(path, f"cannot create key file: {exc.strerror}")) from None
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
