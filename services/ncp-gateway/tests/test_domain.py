"""Pure domain rules: entry checks, return codes, receiver location, language negotiation, catalog."""

import datetime as dt
from decimal import Decimal

import pytest

from emrex_elmo import Elmo
from ncp_gateway.domain.entry import EntryError, EntryPolicy, origin_of, parse_entry
from ncp_gateway.domain.outgoing import choose, pseudonym, restrict_to_institution, summarize
from ncp_gateway.domain.receiver import maybe_outside_eu_eea
from ncp_gateway.domain.results_view import Filters, build_groups
from ncp_gateway.domain.return_codes import Outcome, return_code
from ncp_gateway.messages import CATALOG, missing_translations, negotiate
from ncp_testkit.elmo import course, institution, learner, make_elmo

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def entry(**params: str):
    base = {"sessionId": ["s"], "returnUrl": ["https://emc.example.fi/r"]}
    base.update({k: [v] for k, v in params.items()})
    return parse_entry(base, EntryPolicy())


def test_entry_flags_default_and_parse():
    plain = entry()
    assert plain.allow_to_pick_courses is True
    assert plain.allow_not_passed_courses is False
    flagged = entry(allowToPickCourses="FALSE", allowNotPassedCourses="true", hei_id=" aurora.example.fi ")
    assert flagged.allow_to_pick_courses is False
    assert flagged.allow_not_passed_courses is True
    assert flagged.hei_id == "aurora.example.fi"
    assert entry(allowToPickCourses="maybe").allow_to_pick_courses is True


def test_entry_origin_is_normalised():
    assert entry(returnUrl="https://EMC.Example.fi:443/x").receiver_origin == "https://emc.example.fi"
    assert origin_of("https://[::1]:8443/x") == "https://[::1]:8443"


def test_error_codes_are_stable():
    with pytest.raises(EntryError) as caught:
        entry(returnUrl="http://emc.example.fi/")
    assert caught.value.code == "return_url_not_https"


@pytest.mark.parametrize(("prefix", "by_origin", "expected"), [
    ("NCP", {}, "NCP_CANCEL"),
    ("EMP", {}, "EMP_CANCEL"),
    ("NCP", {"https://emc.example.fi": "EMP"}, "EMP_CANCEL"),
    ("EMP", {"https://other.example": "NCP"}, "EMP_CANCEL"),
])
def test_return_code_prefix_global_and_per_origin(prefix, by_origin, expected):
    assert return_code(Outcome.CANCEL, "https://emc.example.fi", prefix, by_origin) == expected


@pytest.mark.parametrize(("host", "country", "outside"), [
    ("emc.example.fi", None, False), ("emc.example.com", None, True), ("emc.example.com", "SE", False),
    ("emc.example.no", None, False), ("emc.example.ch", None, True), ("emc.example.co.uk", None, True),
    ("emc.example.eu", None, False),
])
def test_outside_eu_eea_notice(host, country, outside):
    assert maybe_outside_eu_eea(host, country) is outside


@pytest.mark.parametrize(("header", "lang"), [
    (None, "en"), ("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr, de;q=0.5, en;q=0.4", "de"),
    ("en-GB,de;q=0.9", "en"), ("de;q=0, en", "en"), ("sv", "en"),
])
def test_accept_language_negotiation(header, lang):
    assert negotiate(header) == lang


def test_catalog_is_complete_and_button_names_are_as_specified():
    assert missing_translations() == []
    assert CATALOG["button.send"] == {"en": "Send", "de": "Senden"}
    assert CATALOG["button.cancel"] == {"en": "Cancel", "de": "Abbrechen"}


def sample() -> Elmo:
    def los(title: str, ects: str | None = None, *parts, kind="Course", status=None, date=None):
        return course(title, *parts, kind=kind, ects=ects, status=status, lang="en", date=date)

    a_courses = [los("Degree", None, los("C1", "5", date=dt.date(2020, 1, 1)),
                     los("C2", "2.5", status="failed", date=dt.date(2021, 1, 1)), kind="Degree Programme"),
                 los("C3", "3", date=dt.date(2022, 1, 1))]
    return make_elmo([a_courses, [los("D1", "6")]],
                     [institution("a.example.fi", "A", lang="en", url="https://a.example.fi"),
                      institution("b.example.de", "B", lang="en", url="https://b.example.de")],
                     student=learner("X", "Y", bday=None), generated=NOW)


def test_choose_sets_fresh_dates_and_drops_not_passed_unless_allowed():
    later = NOW + dt.timedelta(days=1, microseconds=250_000)
    chosen = choose(sample(), ["r0.0"], include_not_passed=False, now=later)
    assert chosen.generated_date == later.replace(microsecond=0)
    assert chosen.reports[0].issue_date == later.replace(microsecond=0)
    assert [p.titles[0].value for p in chosen.reports[0].learning_opportunity_specifications[0].has_part] == ["C1"]
    assert summarize(chosen).credits == Decimal(5)
    with_failed = choose(sample(), ["r0.0"], include_not_passed=True, now=later)
    assert summarize(with_failed).credits == Decimal("7.5")
    assert summarize(with_failed).institutions == ["a.example.fi"]


def test_restrict_to_institution_by_hei_id():
    assert [r.issuer.identifiers[0].value for r in restrict_to_institution(sample(), "B.example.de").reports] == [
        "b.example.de"]
    assert restrict_to_institution(sample(), None) == sample()


def test_groups_keep_parents_of_filtered_children_and_mark_unselectable():
    groups = build_groups(sample(), lang="en", filters=Filters(date_from=dt.date(2020, 6, 1)), selected=["r0.2"],
                          include_not_passed=False)
    titles = [(row.title, row.selectable) for row in groups[0].rows]
    assert titles == [("Degree", True), ("C2", False), ("C3", True)]
    assert [g.code for g in groups] == ["a.example.fi"]  # D1 has no date
    only_b = build_groups(sample(), lang="en", filters=Filters(institution="b.example.de"), selected=[],
                          include_not_passed=False)
    assert [g.code for g in only_b] == ["b.example.de"]
    assert only_b[0].credits == Decimal(6)


def test_pseudonym_is_keyed_and_stable():
    assert pseudonym(b"k1", "iss", "sub") == pseudonym(b"k1", "iss", "sub")
    assert pseudonym(b"k1", "iss", "sub") != pseudonym(b"k2", "iss", "sub")
    assert "sub" not in pseudonym(b"k1", "iss", "sub")


def test_identity_from_claims_maps_configured_claims():
    from ncp_gateway.adapters.upstreams import identity_from_claims
    from ncp_gateway.settings import Settings

    settings = Settings(env="test", oidc_subject_claims=["uid", "sub"], oidc_national_id_claim="nin",
                        oidc_esi_claim="esi", oidc_birthdate_claim="birthdate")
    identity = identity_from_claims(settings, {"sub": "s-1", "uid": "demo-learner-1", "nin": "140301A1075",
                                               "esi": "urn:schac:x", "given_name": "Aino",
                                               "family_name": "Virtanen", "birthdate": "2001-03-14"})
    assert identity.learner_id == identity.subject == "demo-learner-1"
    assert identity.national_id == "140301A1075"
    assert identity.esi == "urn:schac:x"
    assert identity.bday == dt.date(2001, 3, 14)
    assert identity.given_names == "Aino"
    fallback = identity_from_claims(settings, {"sub": "s-1", "birthdate": "not-a-date"})
    assert fallback.learner_id == "s-1"
    assert fallback.bday is None
    assert fallback.national_id is None
