"""The configured keys: the active one (private key opened) and the published certificates."""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ncp_signer.adapters.file_key import FileKey, KeyLoadError, load_chain
from ncp_signer.adapters.pkcs11_key import Pkcs11Key
from ncp_signer.domain.keys import SigningKey
from ncp_signer.settings import KeyConfig, Settings

log = logging.getLogger("ncp_signer.keys")


@dataclass(frozen=True)
class PublishedCertificate:
    key_id: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    active: bool
    publish_until: dt.datetime | None

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(Encoding.PEM).decode("ascii")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.certificate.public_bytes(Encoding.DER)).hexdigest()

    def published_at(self, now: dt.datetime) -> bool:
        if self.active:
            return True
        until = self.publish_until or self.certificate.not_valid_after_utc
        if until.tzinfo is None:
            until = until.replace(tzinfo=dt.UTC)
        return now < until


def open_key(config: KeyConfig, settings: Settings) -> SigningKey:
    if config.backend == "pkcs11":
        return Pkcs11Key(config, settings.pkcs11_module)
    return FileKey(config)


class Keyring:
    """Opened once in the lifespan. A failure leaves `error` set: the service runs but is not ready."""

    def __init__(self, settings: Settings) -> None:
        self.active: SigningKey | None = None
        self.error: str | None = None
        self.active_id: str | None = None
        self.certificates: list[PublishedCertificate] = []
        try:
            configs = settings.key_configs()
            self.active_id = settings.active_id(configs)
        except (ValueError, OSError) as exc:
            self.error = f"key configuration: {exc}"
            log.error("signing keys not usable", extra={"reason": self.error})
            return
        for config in configs:
            is_active = config.id == self.active_id
            try:
                if is_active:
                    key = open_key(config, settings)
                    self.active = key
                    chain = key.chain
                else:
                    chain = load_chain(config)
            except KeyLoadError as exc:
                if is_active:
                    self.error = str(exc)
                log.error("signing key not usable", extra={"key_id": config.id, "reason": str(exc)})
                continue
            self.certificates.append(PublishedCertificate(
                config.id, chain[0], chain, is_active, config.publish_until))
        if self.active is not None:
            log.info("signing key loaded", extra={
                "key_id": self.active.key_id, "backend": next(c.backend for c in configs if c.id == self.active_id),
                "key_type": self.active.key_type,
                "not_after": self.active.certificate.not_valid_after_utc.isoformat(),
            })

    def published(self, now: dt.datetime | None = None) -> list[PublishedCertificate]:
        moment = now or dt.datetime.now(dt.UTC)
        return [c for c in self.certificates if c.published_at(moment)]

    def active_problem(self, now: dt.datetime | None = None) -> str | None:
        """Why the active key cannot sign now, or None."""
        if self.active is None:
            return self.error or "no active signing key"
        moment = now or dt.datetime.now(dt.UTC)
        cert = self.active.certificate
        if moment < cert.not_valid_before_utc:
            return f"the active certificate is not valid before {cert.not_valid_before_utc.isoformat()}"
        if moment >= cert.not_valid_after_utc:
            return f"the active certificate expired at {cert.not_valid_after_utc.isoformat()}"
        return None

    def days_left(self, now: dt.datetime | None = None) -> float | None:
        if self.active is None:
            return None
        moment = now or dt.datetime.now(dt.UTC)
        return (self.active.certificate.not_valid_after_utc - moment).total_seconds() / 86400

    def close(self) -> None:
        if self.active is not None:
            self.active.close()
            self.active = None
