"""fontTools finds the class of a font table by importing its module (`__import__`, under the import lock) each
time it is asked: about 70 times per subset font, so per transcript, about a tenth of the PDF's CPU. The answer
for a tag never changes unless a custom table class is registered for it, so it is remembered here.

Installed once per process into fontTools' own lookup (the subsetter and `TTFont` both call it through their
module); a tag with a registered custom class is still looked up each time.
"""

import functools
from typing import Any

from fontTools import ttLib
from fontTools.ttLib import ttFont

_ORIGINAL = ttFont.getTableClass


@functools.cache
def _builtin_table_class(tag: str | bytes) -> Any:
    return _ORIGINAL(tag)


def table_class(tag: str | bytes) -> Any:
    """`fontTools.ttLib.getTableClass(tag)`, remembered for the tables fontTools itself implements."""
    if tag in ttFont._customTableRegistry:
        return _ORIGINAL(tag)
    return _builtin_table_class(tag)


def remember_table_classes() -> None:
    """Makes fontTools use `table_class` (idempotent)."""
    ttFont.getTableClass = table_class  # TTFont's reads and writes
    ttLib.getTableClass = table_class  # the subsetter's `ttLib.getTableClass`
