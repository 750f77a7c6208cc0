"""Key backend 2: a non-extractable private key in a PKCS#11 token (an HSM; SoftHSM2 in tests).

The private key never leaves the token: the token signs SignedInfo (RSA: CKM_SHA256_RSA_PKCS;
EC: CKM_ECDSA over a SHA-256 digest computed here, which every token offers).

Sessions are opened and logged in once and pooled, so a request never pays for C_OpenSession or
C_Login. python-pkcs11 initializes the library with C_Initialize(NULL), which promises the library
that no two threads call it at once (SoftHSM2 crashes otherwise), so every call into the library
holds one process-wide lock; the rest of the signing pipeline (parsing, XSD, C14N,
self-verification) still runs in parallel.

PKCS#11 logins belong to the whole process, so one logged-in session per token is shared by every
key on it and closed (logging out) only when the last key using it closes. When the token drops
the login or the sessions (an HSM restart, a network HSM reconnecting), the next signature logs in
and opens the pool again once, then retries.
"""

import hashlib
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11.exceptions import (
    DeviceError,
    DeviceRemoved,
    ObjectHandleInvalid,
    PKCS11Error,
    SessionClosed,
    SessionHandleInvalid,
    TokenNotPresent,
    UserAlreadyLoggedIn,
    UserNotLoggedIn,
)

from ncp_runtime import read_secret
from ncp_signer.adapters.file_key import CertifiedKey, KeyLoadError, checked_key_type, load_chain
from ncp_signer.settings import KeyConfig

log = logging.getLogger("ncp_signer.pkcs11")

_LOST = (SessionHandleInvalid, SessionClosed, UserNotLoggedIn, ObjectHandleInvalid, DeviceRemoved,
         TokenNotPresent, DeviceError)

_logins: dict[tuple[str, str], list[Any]] = {}  # (module, token label) -> [logged-in session or None, users]
_logins_lock = threading.Lock()
_call_lock = threading.RLock()  # every call into a PKCS#11 library (see the module docstring)


def _login(module: Path, token: Any, label: str, pin: str, *, again: bool = False) -> None:
    """Log in to the token once per process; `again` replaces a login the token dropped."""
    with _logins_lock, _call_lock:
        entry = _logins.get((str(module), label))
        if entry is not None and not again:
            entry[1] += 1
            return
        if entry is not None and entry[0] is not None:
            with suppress(PKCS11Error):
                entry[0].close()
        try:
            session = token.open(user_pin=pin)
        except UserAlreadyLoggedIn:  # logged in by someone else in this process: share it
            session = None
        if entry is None:
            _logins[(str(module), label)] = [session, 1]
        else:
            entry[0] = session


def _logout(module: Path, label: str) -> None:
    with _logins_lock, _call_lock:
        entry = _logins.get((str(module), label))
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _logins[(str(module), label)]
            if entry[0] is not None:
                with suppress(PKCS11Error):
                    entry[0].close()


class Pkcs11Key(CertifiedKey):
    in_process = False  # a signature waits on the token (SigningKey.in_process)

    def __init__(self, config: KeyConfig, default_module: Path) -> None:
        if not (config.token_label and config.key_label and config.pin_file):
            raise KeyLoadError(f"key {config.id}: token_label, key_label and pin_file are required for pkcs11")
        self._id = config.id
        self._module = config.pkcs11_module or default_module
        self._token_label = config.token_label
        self._key_label = config.key_label
        self._pool_size = config.pool_size
        self.chain = load_chain(config)
        self._type = checked_key_type(config, self.chain[0].public_key())
        try:
            self._pin = read_secret(config.pin_file)
        except (OSError, ValueError) as exc:
            raise KeyLoadError(f"key {config.id}: cannot read PIN file {config.pin_file}: "
                               f"{type(exc).__name__}") from None
        self._pool: queue.Queue[tuple[Any, Any]] = queue.Queue()
        self._sessions: list[Any] = []
        self._logged_in = False
        self._generation = 0
        self._reopen_lock = threading.Lock()
        try:
            with _call_lock:
                self._token = pkcs11.lib(str(self._module)).get_token(token_label=self._token_label)
            _login(self._module, self._token, self._token_label, self._pin)
            self._logged_in = True
            extractable = self._open_pool()
        except PKCS11Error as exc:  # also RuntimeError-based: a missing module, no such token or key
            self.close()
            raise KeyLoadError(f"key {config.id}: PKCS#11 token {self._token_label!r} key "
                               f"{self._key_label!r} unusable: {type(exc).__name__}") from None
        if extractable:
            self.close()
            raise KeyLoadError(f"key {config.id}: the token key is extractable; generate it with "
                               "CKA_EXTRACTABLE=false")
        self._check_matches_certificate()

    def _open_pool(self) -> bool:
        """Open `pool_size` sessions with the key found in each; True if the key is extractable."""
        pool: queue.Queue[tuple[Any, Any]] = queue.Queue()
        extractable = False
        with _call_lock:
            for _ in range(self._pool_size):
                session = self._token.open()
                self._sessions.append(session)
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=self._key_label)
                extractable = extractable or bool(key[Attribute.EXTRACTABLE])
                pool.put((session, key))
        self._pool = pool
        return extractable

    def _check_matches_certificate(self) -> None:
        probe = b"ncp-signer key/certificate check"
        value = self.sign(probe)
        public = self.chain[0].public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(value, probe, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(public, ec.EllipticCurvePublicKey):
                half = len(value) // 2
                der = encode_dss_signature(int.from_bytes(value[:half], "big"),
                                           int.from_bytes(value[half:], "big"))
                public.verify(der, probe, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            self.close()
            raise KeyLoadError(f"key {self._id}: the certificate is not for the token key "
                               f"{self._key_label!r}") from None

    @contextmanager
    def _session_key(self) -> Iterator[Any]:
        pool = self._pool  # a reopened pool replaces this one; the old session goes back to the old queue
        session_key = pool.get()
        try:
            yield session_key[1]
        finally:
            pool.put(session_key)

    def _sign_once(self, data: bytes) -> bytes:
        with self._session_key() as key, _call_lock:
            if self._type == "rsa":
                value: bytes = key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)
            else:
                value = key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
        return value

    def _reopen(self, seen_generation: int) -> None:
        with self._reopen_lock:
            if self._generation != seen_generation:
                return  # another thread already reopened after the same failure
            log.warning("PKCS#11 session lost; logging in again",
                        extra={"key_id": self._id, "token": self._token_label})
            old, self._sessions = self._sessions, []
            with _call_lock:
                for session in old:
                    with suppress(PKCS11Error):
                        session.close()
            _login(self._module, self._token, self._token_label, self._pin, again=True)
            self._open_pool()
            self._generation += 1

    def sign(self, data: bytes) -> bytes:
        generation = self._generation
        try:
            return self._sign_once(data)
        except _LOST:
            self._reopen(generation)
            return self._sign_once(data)

    def close(self) -> None:
        sessions, self._sessions = self._sessions, []
        with _call_lock:
            for session in sessions:
                with suppress(PKCS11Error):
                    session.close()
        if self._logged_in:
            self._logged_in = False
            _logout(self._module, self._token_label)
