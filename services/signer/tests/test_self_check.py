"""The signature self-check (issue 13): made on the SignedInfo just canonicalised and the digest just computed,
it still refuses to answer a signature that the certificate does not verify, and passes what verifies."""

from pathlib import Path

import pytest
from cryptography import x509

import emrex_elmo
from emrex_cli.devpki import IssuedKey
from ncp_signer.adapters.file_key import FileKey
from ncp_signer.domain.signing import SelfCheckFailed, sign_document
from ncp_signer.settings import KeyConfig
from ncp_testkit import signing_key, write_key_files
from ncp_testkit.elmo import sample_xml


class CertificateOfAnotherKey:
    """A key whose configured certificate is not its own (a swapped HSM object, a wrong file)."""

    in_process = True

    def __init__(self, key: FileKey, certificate: x509.Certificate) -> None:
        self._key = key
        self.key_id = key.key_id
        self.key_type = key.key_type
        self.certificate = certificate
        self.chain = [certificate]

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def close(self) -> None:
        return None


@pytest.fixture
def file_key(tmp_path: Path, rsa_key: IssuedKey) -> FileKey:
    key_path, cert_path = write_key_files(tmp_path, "signing", rsa_key)
    return FileKey(KeyConfig(id="test", key_path=key_path, cert_path=cert_path))


def test_a_signature_the_certificate_does_not_verify_is_never_answered(file_key, ca):
    other = signing_key(ca, "another-signer").certificate
    with pytest.raises(SelfCheckFailed, match="does not verify"):
        sign_document(sample_xml(3), CertificateOfAnotherKey(file_key, other), max_bytes=1 << 20)


@pytest.mark.parametrize("courses", [0, 3, 100])
def test_what_passes_the_self_check_verifies_in_full(file_key, rsa_key, courses):
    signed = sign_document(sample_xml(courses), file_key, max_bytes=1 << 20)
    emrex_elmo.verify(signed.xml, [rsa_key.certificate])
