"""fontTools' table-class lookup, remembered: the same classes as fontTools' own lookup, custom ones honoured."""

from fontTools import ttLib
from fontTools.ttLib import ttFont
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from ncp_gateway.adapters import font_tables

TAGS = ["glyf", "cmap", "head", "hmtx", "post", "name", "OS/2", "cvt ", "GSUB", "ZZZZ"]


def test_the_remembered_classes_are_fonttools_own():
    for tag in TAGS:
        assert font_tables.table_class(tag) is font_tables._ORIGINAL(tag)
    assert font_tables.table_class("ZZZZ") is DefaultTable  # no module for it: the default, as fontTools says


def test_installed_into_fonttools_lookup_and_idempotent():
    font_tables.remember_table_classes()
    font_tables.remember_table_classes()
    assert ttFont.getTableClass is font_tables.table_class
    assert ttLib.getTableClass is font_tables.table_class
    assert ttFont.newTable("glyf").__class__ is font_tables._ORIGINAL("glyf")


def test_a_registered_custom_table_class_is_still_used():
    assert font_tables.table_class("CUST") is DefaultTable
    ttFont.registerCustomTableClass("CUST", "fontTools.ttLib.tables.DefaultTable", "DefaultTable")
    ttFont.registerCustomTableClass("glyf", "fontTools.ttLib.tables.DefaultTable", "DefaultTable")
    try:
        assert font_tables.table_class("glyf") is DefaultTable
    finally:
        ttFont.unregisterCustomTableClass("CUST")
        ttFont.unregisterCustomTableClass("glyf")
    assert font_tables.table_class("glyf") is font_tables._ORIGINAL("glyf")
