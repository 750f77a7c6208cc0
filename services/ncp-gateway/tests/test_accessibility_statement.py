"""`/accessibility`: the statement in the EU model's parts, English and German, the configured contact and
enforcement body; a link to it in the footer of every gateway page, the hand-off included."""

import lxml.html
import pytest
from pydantic import ValidationError

from ncp_gateway.settings import Settings

PARTS = {
    "en": ["Compliance status", "Non-accessible content", "Preparation of this statement",
           "Feedback and contact information", "Enforcement procedure"],
    "de": ["Stand der Vereinbarkeit mit den Anforderungen", "Nicht barrierefreie Inhalte",
           "Erstellung dieser Erklärung", "Feedback und Kontaktangaben", "Durchsetzungsverfahren"],
}


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_the_statement_has_the_model_parts_in_each_language(offline_browser, lang):
    page = await offline_browser.http.get("/accessibility", headers={"accept-language": lang})
    assert page.status_code == 200
    assert page.headers["content-language"] == lang
    doc = lxml.html.fromstring(page.text)
    assert doc.get("lang") == lang
    assert [h.text_content().strip() for h in doc.xpath("//main//h2")] == PARTS[lang]
    text = doc.xpath("//main")[0].text_content()
    assert "2016/2102" in text
    assert "2026-11-30" in text  # the preparation date
    assert "WCAG" in text
    assert doc.xpath("//*[@id='accessibility-contact']")  # without a configured contact: where to turn instead


async def test_the_contact_and_enforcement_body_are_configured(make_browser):
    async with make_browser(accessibility_contact_email="a11y@node.example.eu",
                            accessibility_contact_url="https://node.example.eu/feedback",
                            accessibility_enforcement_url="https://enforcement.example.eu/",
                            accessibility_organisation="The Example Ministry") as browser:
        doc = lxml.html.fromstring((await browser.http.get("/accessibility")).text)
    links = {a.get("href") for a in doc.xpath("//main//a")}
    assert {"mailto:a11y@node.example.eu", "https://node.example.eu/feedback",
            "https://enforcement.example.eu/"} <= links
    assert "The Example Ministry" in doc.xpath("//main")[0].text_content()


@pytest.mark.parametrize("name", ["accessibility_contact_url", "accessibility_enforcement_url"])
def test_only_web_addresses_are_linked(gateway_settings, name):
    with pytest.raises(ValidationError, match=name.upper()):
        Settings(**{**gateway_settings.model_dump(), name: "javascript:alert(1)"})


def footer_link(html: str) -> list[str]:
    return lxml.html.fromstring(html).xpath("//footer//a[@href='/accessibility']/text()")


async def test_every_page_links_the_statement(browser, kit):
    pages = [await browser.http.get("/select")]  # the error page, no transfer
    await browser.login("demo-learner-1")
    pages.append(await browser.selection())
    pages.append(await browser.http.get("/login"))  # a step that is over: the error page within the transfer
    await browser.submit(keys=["r2.0"])
    pages.append(await browser.http.get("/preview"))
    pages.append(await browser.http.get("/accessibility"))
    pages.append(kit.handoff_of(await browser.send()).response)
    for page in pages:
        assert footer_link(page.text) == ["Accessibility statement"], page.url
