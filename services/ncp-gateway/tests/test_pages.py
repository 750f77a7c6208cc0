"""Pages: English and German from Accept-Language or the switcher, accessible names, time left shown."""

import lxml.html


async def test_german_from_accept_language(browser):
    browser.http.headers["accept-language"] = "de-DE,de;q=0.9,en;q=0.5"
    await browser.login("demo-learner-1")
    page = await browser.selection()
    assert page.headers["content-language"] == "de"
    doc = lxml.html.fromstring(page.text)
    assert doc.get("lang") == "de"
    buttons = [b.text_content().strip() for b in doc.xpath("//button")]
    assert "Abbrechen" in buttons
    assert "Weiter zur Vorschau" in buttons
    await browser.submit(keys=["r2.0"])
    preview = lxml.html.fromstring((await browser.http.get("/preview")).text)
    assert {"Senden", "Abbrechen"} <= {b.text_content().strip() for b in preview.xpath("//button")}
    assert "Verbleibende Zeit" in (await browser.http.get("/preview")).text


async def test_language_switcher_sets_a_cookie_and_wins_over_the_header(browser):
    browser.http.headers["accept-language"] = "de"
    await browser.login("demo-learner-1")
    switched = await browser.http.get("/select?lang=en")
    assert switched.headers["content-language"] == "en"
    assert "ncp_lang=en" in switched.headers["set-cookie"]
    again = await browser.selection()
    assert again.headers["content-language"] == "en"
    doc = lxml.html.fromstring(again.text)
    links = {a.get("hreflang"): a.get("href") for a in doc.xpath("//nav//a")}
    tid = next(c.name for c in browser.http.cookies.jar if "ncp_t_" in c.name).split("ncp_t_")[1]
    assert links == {"en": f"/select?lang=en&t={tid}", "de": f"/select?lang=de&t={tid}"}


async def test_english_buttons_labels_and_time_left(browser):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    page = await browser.http.get("/preview")
    doc = lxml.html.fromstring(page.text)
    assert {"Send", "Cancel"} <= {b.text_content().strip() for b in doc.xpath("//button")}
    consent = doc.xpath("//input[@id='consent']")[0]
    assert doc.xpath("//label[@for='consent']")[0].text_content().strip().endswith("emc.example.fi.")
    assert consent.get("required") is not None
    timer = doc.xpath("//span[@id='time-left']")[0]
    assert 1100 < int(timer.get("data-seconds")) <= 1200
    assert "Time left to finish: 19 min" in timer.text_content() or "20 min" in timer.text_content()


async def test_every_checkbox_has_an_accessible_name(browser):
    await browser.login("demo-learner-1")
    doc = lxml.html.fromstring((await browser.selection()).text)
    boxes = doc.xpath("//input[@type='checkbox']")
    assert boxes
    for box in boxes:
        assert box.get("aria-label") or doc.xpath(f"//label[@for='{box.get('id')}']")
    for field in doc.xpath("//select|//input[@type='date']"):
        assert doc.xpath(f"//label[@for='{field.get('id')}']")
    assert doc.xpath("//a[@class='skip' and @href='#main']")


async def test_error_page_in_german(offline_browser):
    offline_browser.http.headers["accept-language"] = "de"
    page = await offline_browser.http.post("/emrex", data={"sessionId": "x"})
    assert page.status_code == 400
    assert "Diese Anfrage kann nicht bearbeitet werden" in page.text
