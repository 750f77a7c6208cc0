"""Hard imports (issue 12): a service or library that fails to import fails the tests; no test skips on an
ImportError. Tools outside the workspace (xmlsec1, kubectl, a JDK) may still be skipped by name."""

import ast
import subprocess

import pytest


def _skips_on_import_error(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "importorskip":
            lines.append(node.lineno)
        if isinstance(node, ast.Try):
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if caught & {"ImportError", "ModuleNotFoundError"} and "skip" in ast.unparse(node):
                lines.append(node.lineno)
    return lines


@pytest.fixture(scope="module")
def test_files(kit) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=kit.ROOT, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.split() if "tests/" in name or "conftest" in name]


def test_no_test_skips_when_an_import_fails(kit, test_files):
    found = {name: lines for name in test_files if (kit.ROOT / name).is_file()
             and (lines := _skips_on_import_error(ast.parse((kit.ROOT / name).read_text(), name)))}
    assert not found, f"import skipped instead of failing: {found}"


def test_the_check_sees_both_patterns():
    assert _skips_on_import_error(ast.parse("import pytest\nx = pytest.importorskip('ncp_signer')"))
    assert _skips_on_import_error(ast.parse(
        "try:\n    import ncp_signer\nexcept ImportError:\n    pytest.skip('no signer')"))
    assert not _skips_on_import_error(ast.parse("try:\n    import x\nexcept ImportError:\n    raise"))
