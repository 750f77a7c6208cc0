"""emrex_elmo.vocabulary: the one tree walk, title choice, statuses, institution codes and the filters on
what may leave (passed results; the institution a client asked for)."""

import ast
import subprocess
from pathlib import Path

from emrex_elmo import Identifier, LocalizedToken, vocabulary
from ncp_testkit import course, golden_elmo, institution, make_elmo

REPO = Path(__file__).resolve().parents[3]


def test_walks_are_depth_first_in_document_order():
    elmo = golden_elmo()
    items = elmo.reports[0].learning_opportunity_specifications
    assert [vocabulary.pick_title(los.titles, "nb") for los in vocabulary.walk(items)] == [
        "Bachelor i fysikk", "Kvantemekanikk", "Termodynamikk", "Elektromagnetisme"]
    assert [depth for _, depth in vocabulary.walk_with_depth(items)] == [0, 1, 1, 1]
    assert [key for key, _, _ in vocabulary.walk_keyed("r0", items)] == ["r0.0", "r0.0.0", "r0.0.1", "r0.0.2"]
    assert [key for key, _, _ in elmo.iter_los()] == ["r0.0", "r0.0.0", "r0.0.1", "r0.0.2", "r1.0"]
    assert [los.identifier("local") for los in vocabulary.leaves(items)] == ["Kvante", "Termod", "Elektr"]


def test_title_by_language_subtag_then_fallback_then_first():
    titles = [LocalizedToken(value="Fysikk", lang="nb"), LocalizedToken(value="Physics", lang="en-GB"),
              LocalizedToken(value="Physik", lang="de")]
    assert vocabulary.pick_title(titles, "de-AT") == "Physik"
    assert vocabulary.pick_title(titles, "fi") == "Physics"
    assert vocabulary.pick_title(titles[:1], "fi") == "Fysikk"
    assert vocabulary.pick_title([], "fi") == ""


def test_statuses_and_types_come_from_the_model():
    assert vocabulary.STATUSES == ("passed", "failed", "in-progress")
    assert vocabulary.LOS_TYPES == ("Degree Programme", "Module", "Course", "Class")
    unmarked = course("Kurs", status=None)
    assert vocabulary.status(unmarked.specifies) == "passed"  # the XSD: absent means passed
    degree = golden_elmo().reports[0].learning_opportunity_specifications[0]
    assert vocabulary.status(degree.specifies) == "in-progress"
    assert vocabulary.has_passed_part(degree)
    assert not vocabulary.has_passed_part(course("Failed", status="failed"))


def test_passed_only_keeps_a_not_passed_ancestor_of_passed_results():
    kept = vocabulary.passed_only(golden_elmo())
    items = kept.reports[0].learning_opportunity_specifications
    titles = [vocabulary.pick_title(los.titles) for los in vocabulary.walk(items)]
    assert "Termodynamikk" not in titles
    assert titles[0] == "Bachelor i fysikk"


def test_institution_code_and_hei_id_filter():
    erasmus_only = institution("x.example")
    erasmus_only = erasmus_only.model_copy(update={"identifiers": [Identifier(type="erasmus", value="N OSLO01")]})
    elmo = make_elmo([[course("A")], [course("B")]], institutions=[institution("uio.no"), erasmus_only])
    assert [vocabulary.institution_code(r) for r in elmo.reports] == ["uio.no", "N OSLO01"]
    assert [vocabulary.institution_code(r) for r in vocabulary.of_institution(elmo, "UIO.NO").reports] == ["uio.no"]
    assert vocabulary.of_institution(elmo, None) is elmo


def _recursive_has_part_walks(path: Path) -> list[str]:
    """Functions that call themselves on `.has_part`: a hand-written tree walk."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == node.name
                    and any(isinstance(a, ast.Attribute) and a.attr == "has_part" for arg in call.args
                            for a in ast.walk(arg))):
                found.append(f"{path.relative_to(REPO)}:{node.name}")
                break
    return found


# Walks that need more than a walk: the CLI draws tree branches (it needs each node's last sibling) and counts
# credits top-down; selection and the gateway's selection rows prune subtrees on the way back up.
KNOWN = {
    "packages/emrex-cli/src/emrex_cli/commands_elmo.py:_counted_ects",
    "packages/emrex-cli/src/emrex_cli/commands_elmo.py:_los_lines",
    "packages/emrex-elmo/src/emrex_elmo/selection.py:_keep",
    "services/ncp-gateway/src/ncp_gateway/domain/results_view.py:visit",
}


def test_the_tree_walk_is_written_once():
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    walks = {w for name in listed.stdout.split() if not name.endswith("emrex_elmo/vocabulary.py")
             and (REPO / name).is_file() for w in _recursive_has_part_walks(REPO / name)}
    assert walks <= KNOWN, sorted(walks - KNOWN)
