"""The prepared (unsigned) document, parsed once: the preview, the signed check and the audit summary all read
the same bytes, and parsing an ELMO with its PDF attachment costs milliseconds each time.

The models are shared between those readers, which only read them. The bytes are the key, so other bytes are
parsed anew; a sent document is forgotten, and only the most recent few are kept.
"""

from emrex_elmo import Elmo, from_xml

from .recent import Recent

KEPT = 64


class ParsedDocuments:
    def __init__(self, kept: int = KEPT) -> None:
        self._parsed: Recent[bytes, Elmo] = Recent(kept)

    def parse(self, document: bytes) -> Elmo:
        """`from_xml(document)` (raising as it does), from memory when these bytes were parsed recently."""
        found = self._parsed.get(document)
        if found is None:
            found = from_xml(document)
            self._parsed.put(document, found)
        return found

    def forget(self, document: bytes) -> None:
        self._parsed.pop(document)

    def __len__(self) -> int:
        return len(self._parsed)
