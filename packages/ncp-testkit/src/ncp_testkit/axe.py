"""axe-core (the npm package, pinned by tests/e2e/axe/package-lock.json) run on a Playwright page.

`install_axe()` puts the locked package under var/cache once (`npm ci`, no browser download); `Axe.check(page)`
runs it on the page as it is now and returns the WCAG 2.1 A/AA violations. The script is evaluated through the
DevTools protocol, which a page's Content-Security-Policy does not restrict, so pages are checked as served.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stack import REPO

AXE_SOURCE = REPO / "tests" / "e2e" / "axe"
AXE_CACHE = REPO / "var" / "cache" / "e2e-axe"
# WCAG 2.0 and 2.1, levels A and AA: the target of the EU Web Accessibility Directive (EN 301 549).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const brief = (list) => list.map(v => ({id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 300),
                              summary: n.failureSummary || ""}))}));
  return {violations: brief(result.violations), incomplete: brief(result.incomplete)};
}"""


def install_axe(cache: Path = AXE_CACHE) -> Path | None:
    """The path of axe.min.js installed from the lock file, or None when npm (or its registry) is missing."""
    if shutil.which("npm") is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    changed = False
    for name in ("package.json", "package-lock.json"):
        source = (AXE_SOURCE / name).read_bytes()
        target = cache / name
        if not target.exists() or target.read_bytes() != source:
            target.write_bytes(source)
            changed = True
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if changed or not script.is_file():
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=cache,
                                capture_output=True, timeout=300, check=False)
        if result.returncode != 0 or not script.is_file():
            return None
    return script


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    nodes: list[dict[str, str]]

    def __str__(self) -> str:
        where = "; ".join(f"{n['target']} ({n['html']})" for n in self.nodes[:5])
        return f"[{self.page}] {self.rule} ({self.impact}): {self.help} at {where}"


@dataclass
class Axe:
    """Checks pages and keeps every finding, so one test can walk a whole flow and report all pages at once."""

    script: Path
    tags: tuple[str, ...] = WCAG_TAGS
    found: list[Violation] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    review: list[Violation] = field(default_factory=list)
    _source: str = ""

    def check(self, page: Any, name: str) -> list[Violation]:
        """Runs axe on `page` (a Playwright page) now; `name` says which page this is in the report."""
        if not self._source:
            self._source = self.script.read_text(encoding="utf-8")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self._source)
        raw = page.evaluate(_RUN, list(self.tags))
        violations = [Violation(name, v["id"], v["impact"] or "", v["help"], v["nodes"]) for v in raw["violations"]]
        self.checked.append(name)
        self.found.extend(violations)
        # What axe could not decide (e.g. contrast over a gradient): not failures, kept for a human to review.
        self.review.extend(Violation(name, v["id"], v["impact"] or "", v["help"], v["nodes"])
                           for v in raw["incomplete"])
        return violations

    def report(self) -> str:
        return "\n".join(str(v) for v in self.found) or "no violations"

    def as_json(self) -> str:
        return json.dumps([v.__dict__ for v in self.found], indent=2, ensure_ascii=False)
