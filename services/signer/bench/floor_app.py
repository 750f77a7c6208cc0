"""The floor of `POST /v1/sign` as a server: a bare ASGI app doing only the work no signer can avoid.

    uvicorn --app-dir services/signer/bench floor_app:app   (NCP_FLOOR_KEY_FILE, NCP_FLOOR_CERT_FILE: PEM paths)

Per request, inline on the event loop and nothing else: read the body, one hardened parse, one XSD validation,
C14N 1.0 of the document and its SHA-256, C14N of a SignedInfo, one RSA-2048 signature, and the answer written
as the canonical document with a Signature inserted (the same parts as `bench_signer.unavoidable_parts`).

Why a server and not only the in-process parts: the signer's CPU per request is measured while the benchmark's
own clients run on the same two cores, which slows every instruction (caches, the host's scheduling); the parts
measured in one quiet thread are not slowed. Run under the same uvicorn, by the same clients, in turns with the
signer, this floor is slowed exactly as the signer is.
"""

import hashlib
import os
from pathlib import Path
from typing import Any

from lxml import etree

import emrex_elmo
from ncp_signer.adapters.file_key import FileKey
from ncp_signer.domain.signing import sign_document
from ncp_signer.settings import KeyConfig
from ncp_testkit.elmo import sample_xml

_KEY = FileKey(KeyConfig(id="floor", key_path=Path(os.environ["NCP_FLOOR_KEY_FILE"]),
                         cert_path=Path(os.environ["NCP_FLOOR_CERT_FILE"])))
_SCHEMA = emrex_elmo.bundled_schema("1.7.0")
# A Signature as the signer writes one: its SignedInfo is canonicalised and its bytes are written per request.
_SIGNATURE = emrex_elmo.parse_xml(sign_document(sample_xml(1), _KEY, max_bytes=1 << 20).xml)[-1]
_SIGNED_INFO = emrex_elmo.parse_xml(etree.tostring(_SIGNATURE[0], method="c14n"))
_SIGNATURE_XML = emrex_elmo.parse_xml(etree.tostring(_SIGNATURE))
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def floor_work(body: bytes) -> bytes:
    tree = emrex_elmo.parse_xml(body)
    if not _SCHEMA.validate(tree):
        raise ValueError("not a valid ELMO 1.7.0 document")
    canonical = etree.tostring(tree, method="c14n")
    hashlib.sha256(canonical).digest()
    info = etree.tostring(_SIGNED_INFO, method="c14n")
    _KEY.sign(info)  # RSA-2048 PKCS#1 v1.5 SHA-256
    end = canonical.rindex(b"</")
    return b"".join((_DECLARATION, canonical[:end], etree.tostring(_SIGNATURE_XML, encoding="UTF-8"),
                     canonical[end:]))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] != "POST":  # the readiness probe
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ready"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    answer = floor_work(b"".join(chunks))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/xml")]})
    await send({"type": "http.response.body", "body": answer})
