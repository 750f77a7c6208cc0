"""The demo SIS: four institutions in four countries, their catalogues, and 24 learners with results.

Deterministic (a fixed random seed, fixed dates) and idempotent: seeding a database that already holds
the demo data changes nothing; `reset=True` replaces it. The fixed logins are documented in the README.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_sis_adapter.adapters.sql.tables import (
    attainment_table,
    grading_scheme_table,
    institution_table,
    learner_table,
    opportunity_table,
)

D = Decimal


@dataclass(frozen=True)
class Node:
    code: str
    type: str
    titles: dict[str, str]
    credits: Decimal | None = None  # leaves only
    scheme: str | None = None
    language: str | None = None
    children: tuple["Node", ...] = ()
    eqf: str | None = None
    isced: str | None = None


@dataclass(frozen=True)
class TermSpec:
    titles: dict[str, str]
    start: date
    end: date


@dataclass(frozen=True)
class Scheme:
    local_id: str
    descriptions: dict[str, str]
    passing: tuple[str, ...]
    failing: tuple[str, ...]


@dataclass(frozen=True)
class DemoInstitution:
    key: str
    name: str
    schemes: tuple[Scheme, ...]
    terms: tuple[TermSpec, ...]
    degree: Node
    electives: tuple[Node, ...]
    esi_prefix: str


def C(code: str, titles: dict[str, str], credits: str, scheme: str, language: str,
      eqf: str = "6", isced: str | None = None) -> Node:
    return Node(code, "Course", titles, D(credits), scheme, language, eqf=eqf, isced=isced)


def M(code: str, titles: dict[str, str], *children: Node) -> Node:
    return Node(code, "Module", titles, children=children)


FI_05 = Scheme(
    "FI-0-5",
    {"en": "0-5: 5 excellent, 4 very good, 3 good, 2 satisfactory, 1 sufficient, 0 fail",
     "fi": "0-5: 5 erinomainen, 4 kiitettävä, 3 hyvä, 2 tyydyttävä, 1 välttävä, 0 hylätty"},
    ("1", "2", "3", "4", "5"), ("0",),
)
PASS_FAIL = Scheme(
    "PASS-FAIL",
    {"en": "Pass / Fail", "fi": "Hyväksytty / Hylätty", "sv": "Godkänd / Underkänd"},
    ("Pass",), ("Fail",),
)
ECTS_AF = Scheme(
    "ECTS-A-F",
    {"en": "ECTS grading scale: A excellent, B very good, C good, D satisfactory, E sufficient, F fail",
     "sv": "ECTS-betygsskala: A utmärkt, B mycket bra, C bra, D tillfredsställande, E tillräckligt, F underkänd"},
    ("A", "B", "C", "D", "E"), ("F",),
)
DE_15 = Scheme(
    "DE-1.0-5.0",
    {"en": "1.0-5.0: 1.0 best, 4.0 lowest pass, 5.0 fail",
     "de": "1,0-5,0: 1,0 sehr gut, 4,0 ausreichend, 5,0 nicht bestanden"},
    ("1.0", "1.3", "1.7", "2.0", "2.3", "2.7", "3.0", "3.3", "3.7", "4.0"), ("5.0",),
)
GR_010 = Scheme(
    "GR-0-10",
    {"en": "0-10: 10 best, 5 lowest pass", "el": "0-10: άριστα 8,5-10, λίαν καλώς 6,5-8,4, καλώς 5-6,4"},
    ("5", "5.5", "6", "6.5", "7", "7.5", "8", "8.5", "9", "10"), ("2", "3", "4"),
)

AURORA = DemoInstitution(
    key="aurora", name="Aurora University", schemes=(FI_05, PASS_FAIL),
    terms=(
        TermSpec({"fi": "Syksy 2022", "en": "Autumn 2022"}, date(2022, 8, 1), date(2022, 12, 31)),
        TermSpec({"fi": "Kevät 2023", "en": "Spring 2023"}, date(2023, 1, 1), date(2023, 7, 31)),
        TermSpec({"fi": "Syksy 2023", "en": "Autumn 2023"}, date(2023, 8, 1), date(2023, 12, 31)),
        TermSpec({"fi": "Kevät 2024", "en": "Spring 2024"}, date(2024, 1, 1), date(2024, 7, 31)),
        TermSpec({"fi": "Syksy 2024", "en": "Autumn 2024"}, date(2024, 8, 1), date(2024, 12, 31)),
    ),
    degree=Node(
        "KTK-TKT", "Degree Programme",
        {"fi": "Luonnontieteiden kandidaatti, tietojenkäsittelytiede",
         "en": "Bachelor of Science, Computer Science"},
        eqf="6", isced="0613",
        children=(
            M("TKT-P", {"fi": "Tietojenkäsittelytieteen perusopinnot", "en": "Basic studies in computer science"},
              C("TKT10002", {"fi": "Ohjelmoinnin perusteet", "en": "Introduction to Programming"},
                "5", "FI-0-5", "fi"),
              C("TKT10003", {"fi": "Ohjelmoinnin jatkokurssi", "en": "Advanced Course in Programming"},
                "5", "FI-0-5", "fi"),
              C("TKT10004", {"fi": "Tietokantojen perusteet", "en": "Introduction to Databases"},
                "5", "FI-0-5", "fi"),
              C("TKT10005", {"fi": "Tietokoneen toiminta", "en": "Computer Organization"},
                "5", "FI-0-5", "fi")),
            M("TKT-A", {"fi": "Tietojenkäsittelytieteen aineopinnot", "en": "Intermediate studies in computer science"},
              M("TKT-A1", {"fi": "Algoritmit ja teoria", "en": "Algorithms and theory"},
                C("TKT20001", {"fi": "Tietorakenteet ja algoritmit", "en": "Data Structures and Algorithms"},
                  "10", "FI-0-5", "fi"),
                C("TKT20005", {"fi": "Laskennan mallit", "en": "Models of Computation"},
                  "5", "FI-0-5", "en")),
              M("TKT-A2", {"fi": "Ohjelmistotuotanto", "en": "Software engineering"},
                C("TKT20006", {"fi": "Ohjelmistotuotanto", "en": "Software Engineering"},
                  "5", "FI-0-5", "fi"),
                C("TKT20007", {"fi": "Ohjelmistotuotantoprojekti", "en": "Software Engineering Project"},
                  "10", "PASS-FAIL", "en"))),
            M("KV", {"fi": "Kieli- ja viestintäopinnot", "en": "Language and communication studies"},
              C("KK-ENG", {"fi": "Akateeminen englanti", "en": "Academic English"}, "2.5", "PASS-FAIL", "en"),
              C("KK-RUO", {"fi": "Ruotsin kieli, kirjallinen ja suullinen taito",
                           "en": "Swedish, written and oral skills"}, "3.5", "FI-0-5", "sv"),
              C("KK-VIE", {"fi": "Suomen kielen kirjallinen viestintä", "en": "Written communication in Finnish"},
                "1.5", "FI-0-5", "fi")),
        ),
    ),
    electives=(
        C("MAT11001", {"fi": "Lineaarialgebra ja matriisilaskenta I", "en": "Linear Algebra and Matrices I"},
          "5", "FI-0-5", "fi", isced="0541"),
        C("MAT12003", {"fi": "Todennäköisyyslaskenta I", "en": "Probability I"}, "5", "FI-0-5", "fi",
          isced="0542"),
        C("TKT-EXCH", {"fi": "Suomen kieli ja kulttuuri vaihto-opiskelijoille",
                       "en": "Finnish Language and Culture for Exchange Students"}, "4", "PASS-FAIL", "en"),
    ),
    esi_prefix="urn:schac:personalUniqueCode:int:esi:aurora.example.fi:",
)

NORDLYS = DemoInstitution(
    key="nordlys", name="Nordlys Institute of Technology", schemes=(ECTS_AF, PASS_FAIL),
    terms=(
        TermSpec({"sv": "Höstterminen 2023", "en": "Autumn semester 2023"}, date(2023, 8, 28), date(2024, 1, 14)),
        TermSpec({"sv": "Vårterminen 2024", "en": "Spring semester 2024"}, date(2024, 1, 15), date(2024, 6, 2)),
        TermSpec({"sv": "Höstterminen 2024", "en": "Autumn semester 2024"}, date(2024, 8, 26), date(2025, 1, 19)),
    ),
    degree=Node(
        "TEEEM", "Degree Programme",
        {"sv": "Masterprogram, hållbar energiteknik", "en": "Master's Programme, Sustainable Energy Engineering"},
        eqf="7", isced="0713",
        children=(
            M("TEEEM-O", {"sv": "Obligatoriska kurser", "en": "Compulsory courses"},
              M("TEEEM-O1", {"sv": "Energisystem", "en": "Energy systems"},
                C("EJ2301", {"sv": "Termodynamik för energisystem", "en": "Thermodynamics for Energy Systems"},
                  "7.5", "ECTS-A-F", "en", "7"),
                C("EJ2302", {"sv": "Förnybara energikällor", "en": "Renewable Energy Sources"},
                  "7.5", "ECTS-A-F", "en", "7")),
              C("EJ2400", {"sv": "Vetenskaplig metodik", "en": "Research Methodology"}, "3", "PASS-FAIL",
                "en", "7")),
            M("TEEEM-V", {"sv": "Valfria kurser", "en": "Elective courses"},
              C("EJ2510", {"sv": "Smarta elnät", "en": "Smart Grids"}, "6", "ECTS-A-F", "en", "7"),
              C("EJ2520", {"sv": "Energiekonomi", "en": "Energy Economics"}, "4.5", "ECTS-A-F", "sv", "7")),
        ),
    ),
    electives=(
        C("DD2421", {"sv": "Maskininlärning", "en": "Machine Learning"}, "7.5", "ECTS-A-F", "en", isced="0613"),
        C("ID2203", {"sv": "Distribuerade system", "en": "Distributed Systems, Advanced Course"}, "7.5",
          "ECTS-A-F", "en", "7"),
        C("LS1530", {"sv": "Svenska för utbytesstudenter", "en": "Swedish for Exchange Students"}, "3",
          "PASS-FAIL", "sv"),
        C("ME2016", {"sv": "Projektledning", "en": "Project Management"}, "4.5", "ECTS-A-F", "sv"),
    ),
    esi_prefix="urn:schac:personalUniqueCode:int:esi:nordlys.example.se:",
)

RHEINAU = DemoInstitution(
    key="rheinau", name="Rheinau University of Applied Sciences", schemes=(DE_15, PASS_FAIL),
    terms=(
        TermSpec({"de": "Wintersemester 2023/24", "en": "Winter semester 2023/24"},
                 date(2023, 10, 1), date(2024, 3, 31)),
        TermSpec({"de": "Sommersemester 2024", "en": "Summer semester 2024"}, date(2024, 4, 1), date(2024, 9, 30)),
        TermSpec({"de": "Wintersemester 2024/25", "en": "Winter semester 2024/25"},
                 date(2024, 10, 1), date(2025, 3, 31)),
    ),
    degree=Node(
        "B-WINF", "Degree Programme",
        {"de": "Bachelor of Science Wirtschaftsinformatik", "en": "Bachelor of Science in Business Informatics"},
        eqf="6", isced="0688",
        children=(
            M("WINF-G", {"de": "Grundlagen", "en": "Foundations"},
              M("WINF-G1", {"de": "Mathematik und Statistik", "en": "Mathematics and statistics"},
                C("MA101", {"de": "Mathematik für Informatiker", "en": "Mathematics for Computer Scientists"},
                  "7.5", "DE-1.0-5.0", "de"),
                C("ST102", {"de": "Statistik", "en": "Statistics"}, "5", "DE-1.0-5.0", "de")),
              C("BW103", {"de": "Betriebswirtschaftslehre", "en": "Business Administration"}, "5",
                "DE-1.0-5.0", "de")),
            M("WINF-V", {"de": "Vertiefung", "en": "Specialisation"},
              C("IN201", {"de": "Datenbanksysteme", "en": "Database Systems"}, "5", "DE-1.0-5.0", "de"),
              C("IN202", {"de": "Verteilte Systeme", "en": "Distributed Systems"}, "5", "DE-1.0-5.0", "en")),
        ),
    ),
    electives=(
        C("IN305", {"de": "Maschinelles Lernen", "en": "Machine Learning"}, "6", "DE-1.0-5.0", "en"),
        C("SP110", {"de": "Deutsch als Fremdsprache A2", "en": "German as a Foreign Language A2"}, "4",
          "PASS-FAIL", "de"),
        C("IN310", {"de": "IT-Sicherheit", "en": "IT Security"}, "5", "DE-1.0-5.0", "de"),
    ),
    esi_prefix="urn:schac:personalUniqueCode:int:esi:rheinau.example.de:",
)

AIGAIO = DemoInstitution(
    key="aigaio", name="Aegean Demo University", schemes=(GR_010, PASS_FAIL),
    terms=(
        TermSpec({"el": "Χειμερινό εξάμηνο 2023-24", "en": "Winter semester 2023-24"},
                 date(2023, 10, 2), date(2024, 2, 16)),
        TermSpec({"el": "Εαρινό εξάμηνο 2024", "en": "Spring semester 2024"}, date(2024, 2, 19), date(2024, 7, 5)),
    ),
    degree=Node(
        "PTY-PLH", "Degree Programme",
        {"el": "Πτυχίο Πληροφορικής", "en": "Bachelor in Informatics"}, eqf="6", isced="0613",
        children=(
            M("PLH-Y", {"el": "Υποχρεωτικά μαθήματα", "en": "Compulsory courses"},
              M("PLH-Y1", {"el": "Θεμελιώσεις", "en": "Foundations"},
                C("PLH101", {"el": "Δομές Δεδομένων", "en": "Data Structures"}, "6", "GR-0-10", "el"),
                C("PLH102", {"el": "Θεωρία Πιθανοτήτων", "en": "Probability Theory"}, "5.5", "GR-0-10", "el")),
              C("PLH201", {"el": "Βάσεις Δεδομένων", "en": "Databases"}, "6", "GR-0-10", "el")),
            M("PLH-E", {"el": "Μαθήματα επιλογής", "en": "Elective courses"},
              C("PLH310", {"el": "Τεχνητή Νοημοσύνη", "en": "Artificial Intelligence"}, "5", "GR-0-10", "en")),
        ),
    ),
    electives=(
        C("GRC100", {"el": "Ελληνική Γλώσσα και Πολιτισμός", "en": "Greek Language and Culture"}, "3",
          "PASS-FAIL", "el"),
        C("PLH350", {"el": "Ανάκτηση Πληροφορίας", "en": "Information Retrieval"}, "5", "GR-0-10", "en"),
    ),
    esi_prefix="urn:schac:personalUniqueCode:int:esi:aegean.example.gr:",
)

INSTITUTIONS = (AURORA, NORDLYS, RHEINAU, AIGAIO)


@dataclass(frozen=True)
class DemoLearner:
    learner_id: str
    given_names: str
    family_name: str
    bday: date
    citizenship: str
    gender: int
    home: str | None  # degree student here (institution key)
    exchanges: tuple[str, ...] = ()
    # Fixed outcomes by course code for the documented logins: (status, grade or None)
    fixed: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def hetu(bday: date, number: int) -> str:
    """A Finnish-style personal identity code with a valid check character (demo values only)."""
    century = "-" if bday.year < 2000 else "A"
    digits = f"{bday:%d%m%y}{number:03d}"
    return f"{bday:%d%m%y}{century}{number:03d}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]


DEMO_LEARNER_1 = DemoLearner(
    "demo-learner-1", "Aino Maria", "Virtanen", date(2001, 3, 14), "FI", 2, home="aurora",
    exchanges=("nordlys", "rheinau"),
    fixed={
        "TKT10002": ("passed", "5"), "TKT10003": ("passed", "4"), "TKT10004": ("passed", "3"),
        "TKT10005": ("passed", "4"), "TKT20001": ("passed", "3"), "TKT20005": ("failed", "0"),
        "TKT20006": ("passed", "5"), "TKT20007": ("in-progress", None), "KK-ENG": ("passed", "Pass"),
        "KK-RUO": ("passed", "2"), "KK-VIE": ("passed", "4"), "MAT11001": ("passed", "3"),
        "DD2421": ("passed", "B"), "ID2203": ("failed", "F"), "LS1530": ("passed", "Pass"),
        "IN305": ("passed", "1.7"), "SP110": ("passed", "Pass"),
    },
)
DEMO_LEARNER_EMPTY = DemoLearner(
    "demo-learner-empty", "Eero", "Tyhjä", date(2004, 9, 1), "FI", 1, home=None,
)

_NAMES = (
    ("Mikko Juhani", "Korhonen", "FI", 1), ("Liisa", "Mäkinen", "FI", 2), ("Ville", "Nieminen", "FI", 1),
    ("Ella Sofia", "Heikkinen", "FI", 2), ("Oskar", "Lindqvist", "SE", 1), ("Astrid", "Björklund", "SE", 2),
    ("Erik Johan", "Sjöberg", "SE", 1), ("Lukas", "Schäfer", "DE", 1), ("Johanna", "Weiß", "DE", 2),
    ("Γιώργος", "Παπαδόπουλος", "GR", 1), ("Ελένη", "Κωνσταντίνου", "GR", 2), ("Νίκος", "Αλεξίου", "GR", 1),
    ("Анна", "Иванова", "BG", 2), ("Дмитро", "Шевченко", "UA", 1), ("Мария", "Петрова", "BG", 2),
    ("Zoë", "Dubois", "FR", 2), ("Mateusz", "Wiśniewski", "PL", 1), ("Saoirse", "Ó Briain", "IE", 2),
    ("Pedro", "Gonçalves", "PT", 1), ("Kaisa", "Väisänen", "FI", 2), ("Θεοδώρα", "Μαυρίδου", "GR", 2),
    ("Олег", "Коваленко", "UA", 1),
)
_HOMES = {"FI": "aurora", "SE": "nordlys", "DE": "rheinau", "GR": "aigaio"}


def demo_learners() -> list[DemoLearner]:
    rng = random.Random(20241125)  # noqa: S311 (demo data, reproducible on purpose)
    learners = [DEMO_LEARNER_1, DEMO_LEARNER_EMPTY]
    keys = [i.key for i in INSTITUTIONS]
    for n, (given, family, country, gender) in enumerate(_NAMES, start=2):
        home = _HOMES.get(country)
        others = [k for k in keys if k != home]
        exchanges = tuple(sorted(rng.sample(others, rng.choice((0, 1, 1, 2)) if home else rng.choice((1, 2)))))
        bday = date(1996, 1, 1) + timedelta(days=rng.randrange(0, 365 * 8))
        learners.append(DemoLearner(f"demo-learner-{n}", given, family, bday, country, gender, home, exchanges))
    return learners


def _leaves(node: Node) -> list[Node]:
    return [node] if not node.children else [leaf for c in node.children for leaf in _leaves(c)]


@dataclass
class _Row:
    code: str
    parent: int | None
    status: str
    start: date | None
    completed: date | None
    term: TermSpec | None
    scheme: str | None
    grade: str | None
    credits: Decimal | None
    language: str | None


class _Plan:
    """The attainment rows of one learner at one institution, in document order."""

    def __init__(self, inst: DemoInstitution, learner: DemoLearner, rng: random.Random) -> None:
        self.inst = inst
        self.learner = learner
        self.rng = rng
        self.rows: list[_Row] = []
        self.schemes = {s.local_id: s for s in inst.schemes}

    def outcome(self, course: Node) -> tuple[str, str | None]:
        if course.code in self.learner.fixed:
            return self.learner.fixed[course.code]
        scheme = self.schemes[course.scheme or ""]
        roll = self.rng.random()
        if roll < 0.08:
            return "failed", self.rng.choice(scheme.failing)
        if roll < 0.2:
            return "in-progress", None
        return "passed", self.rng.choice(scheme.passing)

    def course(self, course: Node, parent: int | None, term_index: int) -> str:
        status, grade = self.outcome(course)
        term = self.inst.terms[min(term_index, len(self.inst.terms) - 1)]
        completed = None if status == "in-progress" else term.end - timedelta(days=7 + self.rng.randrange(40))
        self.rows.append(_Row(course.code, parent, status, term.start + timedelta(days=14), completed, term,
                              course.scheme, grade, course.credits, course.language))
        return status

    def tree(self, node: Node, parent: int | None, term_index: list[int]) -> tuple[str, date | None]:
        if not node.children:
            status = self.course(node, parent, term_index[0])
            term_index[0] += 1 if self.rng.random() < 0.5 else 0
            return status, self.rows[-1].completed
        index = len(self.rows)
        first_term = self.inst.terms[min(term_index[0], len(self.inst.terms) - 1)]
        self.rows.append(_Row(node.code, parent, "in-progress", first_term.start, None, None, None, None, None,
                              _main_language(node)))
        outcomes = [self.tree(c, index, term_index) for c in node.children]
        if all(s == "passed" for s, _ in outcomes):
            self.rows[index].status = "passed"
            self.rows[index].completed = max(d for _, d in outcomes if d is not None)
        return self.rows[index].status, self.rows[index].completed


def _main_language(node: Node) -> str | None:
    languages = [leaf.language for leaf in _leaves(node) if leaf.language]
    return max(sorted(set(languages)), key=languages.count) if languages else None


def _plans(learner: DemoLearner, rng: random.Random) -> list[tuple[DemoInstitution, list[_Row]]]:
    out = []
    for inst in INSTITUTIONS:
        if inst.key == learner.home:
            plan = _Plan(inst, learner, rng)
            plan.tree(inst.degree, None, [0])
            for elective in inst.electives:
                if elective.code in learner.fixed or (not learner.fixed and rng.random() < 0.4):
                    plan.course(elective, None, rng.randrange(len(inst.terms)))
            out.append((inst, plan.rows))
        elif inst.key in learner.exchanges:
            plan = _Plan(inst, learner, rng)
            chosen = [e for e in inst.electives if e.code in learner.fixed] if learner.fixed else (
                rng.sample(list(inst.electives), k=min(len(inst.electives), rng.choice((2, 3)))))
            term = rng.randrange(len(inst.terms))
            for elective in chosen:
                plan.course(elective, None, term)
            out.append((inst, plan.rows))
    return out


async def is_seeded(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).select_from(institution_table)
            .where(institution_table.c.key.in_([i.key for i in INSTITUTIONS]))
        )
        return bool(found.scalar_one())


async def clear(engine: AsyncEngine, keys: list[str]) -> None:
    t_l, t_a, t_o = learner_table, attainment_table, opportunity_table
    t_g, t_i = grading_scheme_table, institution_table
    async with engine.begin() as conn:
        learners = sa.select(t_l.c.id).where(t_l.c.institution_key.in_(keys))
        # Children before parents: attainments point at each other through parent_id.
        await conn.execute(t_a.update().where(t_a.c.learner_pk.in_(learners)).values(parent_id=None))
        await conn.execute(t_a.delete().where(t_a.c.learner_pk.in_(learners)))
        await conn.execute(t_l.delete().where(t_l.c.institution_key.in_(keys)))
        await conn.execute(t_o.delete().where(t_o.c.institution_key.in_(keys)))
        await conn.execute(t_g.delete().where(t_g.c.institution_key.in_(keys)))
        await conn.execute(t_i.delete().where(t_i.c.key.in_(keys)))


@dataclass
class SeedSummary:
    seeded: bool
    institutions: int = 0
    learners: int = 0
    attainments: int = 0


async def seed(engine: AsyncEngine, *, reset: bool = False) -> SeedSummary:
    """Fill the SQL SIS with the demo data; a no-op when it is already there (unless `reset`)."""
    if await is_seeded(engine):
        if not reset:
            return SeedSummary(seeded=False)
        await clear(engine, [i.key for i in INSTITUTIONS])
    rng = random.Random(4711)  # noqa: S311 (demo data, reproducible on purpose)
    learners = demo_learners()
    summary = SeedSummary(seeded=True, institutions=len(INSTITUTIONS))
    t_l, t_a, t_o = learner_table, attainment_table, opportunity_table
    async with engine.begin() as conn:
        opportunity_ids: dict[tuple[str, str], int] = {}
        for inst in INSTITUTIONS:
            await conn.execute(institution_table.insert().values(key=inst.key, name=inst.name))
            for scheme in inst.schemes:
                await conn.execute(grading_scheme_table.insert().values(
                    institution_key=inst.key, local_id=scheme.local_id, descriptions=scheme.descriptions))
            nodes: list[Node] = []

            def walk(node: Node, out: list[Node]) -> None:
                out.append(node)
                for child in node.children:
                    walk(child, out)

            walk(inst.degree, nodes)
            nodes.extend(inst.electives)
            for node in nodes:
                result = await conn.execute(t_o.insert().values(
                    institution_key=inst.key, code=node.code, type=node.type, titles=node.titles,
                    isced_code=node.isced, eqf_level=node.eqf or inst.degree.eqf,
                ).returning(t_o.c.id))
                opportunity_ids[(inst.key, node.code)] = result.scalar_one()
        for number, learner in enumerate(learners, start=1):
            national_id = hetu(learner.bday, 100 + number * 7)
            home = next((i for i in INSTITUTIONS if i.key == learner.home), AURORA)
            esi = f"{home.esi_prefix}{10000 + number}"
            plans = _plans(learner, rng)
            if not plans:  # demo-learner-empty: enrolled at Aurora, nothing attained yet
                plans = [(AURORA, [])]
            for inst, rows in plans:
                result = await conn.execute(t_l.insert().values(
                    institution_key=inst.key, learner_id=learner.learner_id, national_id=national_id, esi=esi,
                    given_names=learner.given_names, family_name=learner.family_name, bday=learner.bday,
                    citizenship=learner.citizenship, gender=learner.gender,
                ).returning(t_l.c.id))
                learner_pk = result.scalar_one()
                ids: list[int] = []
                for position, row in enumerate(rows):
                    term = row.term
                    result = await conn.execute(t_a.insert().values(
                        learner_pk=learner_pk, opportunity_id=opportunity_ids[(inst.key, row.code)],
                        parent_id=ids[row.parent] if row.parent is not None else None, position=position,
                        loi_code=f"{row.code}-{number:04d}-{position:03d}", status=row.status, start=row.start,
                        completed=row.completed, term_titles=term.titles if term else None,
                        term_start=term.start if term else None, term_end=term.end if term else None,
                        grading_scheme=row.scheme, result_label=row.grade, credits=row.credits,
                        language=row.language,
                    ).returning(t_a.c.id))
                    ids.append(result.scalar_one())
                summary.attainments += len(rows)
            summary.learners += 1
    return summary
