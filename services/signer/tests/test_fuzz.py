"""Whatever bytes arrive, signing either succeeds with a verifying signature or rejects them with a
4xx reason: never another exception (which would become a 5xx)."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import emrex_elmo
from ncp_signer.adapters.file_key import FileKey
from ncp_signer.domain.signing import DocumentRejected, sign_document
from ncp_signer.settings import KeyConfig
from ncp_testkit.elmo import sample_xml

BASE = sample_xml(2)


@pytest.fixture(scope="module")
def file_key(tmp_path_factory, rsa_key, ca):
    directory = tmp_path_factory.mktemp("fuzz-key")
    (directory / "k.pem").write_bytes(rsa_key.key_pem())
    (directory / "c.pem").write_bytes(rsa_key.cert_pem())
    return FileKey(KeyConfig(id="fuzz", key_path=directory / "k.pem", cert_path=directory / "c.pem"))


def _check(data: bytes, key: FileKey) -> None:
    rejected: DocumentRejected | None = None
    try:
        signed = sign_document(data, key, max_bytes=64 * 1024)
    except DocumentRejected as exc:
        rejected = exc
    if rejected is not None:
        assert 400 <= rejected.status < 500
        assert rejected.detail
        return
    emrex_elmo.verify(signed.xml, [key.certificate])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_documents(file_key, data):
    doc = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(doc) - 1))
        action = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = data.draw(st.sampled_from([b"<", b">", b"&", b"\x00", b"\xff", b"]]>", b"<!--", b"<?x?>", b"'",
                                           b'"', b"xmlns:a='urn:a'", b"&amp;", b"\xc3", b" ", b"\r\n"]))
        if action == "delete":
            del doc[at:at + data.draw(st.integers(1, 20))]
        elif action == "insert":
            doc[at:at] = chunk
        else:
            doc[at:at + len(chunk)] = chunk
    _check(bytes(doc), file_key)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes(file_key, data):
    _check(data, file_key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_arbitrary_text_in_a_title(file_key, text):
    from xml.sax.saxutils import escape

    doc = BASE.replace(b"Course number 0", escape(text).encode("utf-8"), 1)
    _check(doc, file_key)
