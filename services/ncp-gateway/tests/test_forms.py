"""§6: the HTML endpoints answer malformed forms (missing fields, wrong types, lone surrogates, oversized) with
the HTML error page, never JSON; a transfer survives a form it could not read and can still be cancelled."""

import pytest

BOUNDARY = "XyZ"


def multipart(*parts: tuple[str, bytes, str | None]) -> tuple[bytes, dict[str, str]]:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


MALFORMED = {
    "file instead of text": multipart(("csrf", b"x", "a.txt"), ("sessionId", b"s", None)),
    "broken multipart": (b"--nope", {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}),
    "no boundary": (b"a=b", {"content-type": "multipart/form-data"}),
    "oversized": (b"a=" + b"x" * 1_100_000, {"content-type": "application/x-www-form-urlencoded"}),
    "too many fields": (b"&".join(b"f%d=1" % i for i in range(10_050)),
                        {"content-type": "application/x-www-form-urlencoded"}),
}


def assert_html_error(response, status: int | tuple[int, ...] = (400, 413)) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text[:300]
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    assert 'id="emrex"' not in response.text  # nothing is handed off on a form nobody can vouch for


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("path", ["/emrex", "/select", "/send", "/cancel"])
async def test_malformed_forms_get_the_html_error_page_and_the_transfer_goes_on(browser, path, case):
    await browser.login("demo-learner-1")
    if path == "/send":
        await browser.submit(keys=["r2.0"])
    body, headers = MALFORMED[case]
    response = await browser.http.post(path, content=body, headers=headers)
    assert_html_error(response, 413 if case == "oversized" else 400)
    if path != "/emrex":
        # The page keeps this transfer's Cancel, and the transfer is still there.
        assert 'action="/cancel"' in response.text
        follow = await browser.http.get("/preview" if path == "/send" else "/select")
        assert follow.status_code == 200


async def test_an_oversized_body_without_a_length_is_refused_while_read(browser):
    await browser.login("demo-learner-1")

    async def chunks():
        for _ in range(40):
            yield b"x" * 65_536

    response = await browser.http.post("/select", content=chunks(),
                                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert_html_error(response, 413)


@pytest.mark.parametrize("path", ["/emrex", "/select", "/send", "/cancel"])
@pytest.mark.parametrize("body", [
    b"", b"sessionId=%ED%A0%80&returnUrl=https%3A%2F%2Femc.example.fi%2Fr", b"csrf=%ED%A0%80",
    b"csrf=\xed\xa0\x80", b"t=%ED%A0%80&csrf=x", b"\xff\xfe=\x00", b'{"csrf": 1}',
])
async def test_missing_fields_wrong_types_and_surrogates_get_html_never_json_or_500(browser, path, body):
    await browser.login("demo-learner-1")
    content_type = "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    response = await browser.http.post(path, content=body, headers={"content-type": content_type})
    assert response.status_code in (400, 403, 409), response.text[:300]  # 409: /send before the preview
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("query", ["sessionId=%ED%A0%80&returnUrl=https://emc.example.fi/r",
                                   "sessionId=s&returnUrl=https://emc.example.fi/%ED%A0%80",
                                   "sessionId=s&returnUrl=https://emc%ED%A0%80.example.fi/r"])
async def test_entry_by_get_with_broken_utf8_is_an_html_page(offline_browser, query):
    response = await offline_browser.http.get(f"/emrex?{query}")
    assert_html_error(response, 400)


@pytest.mark.parametrize("values", [
    {"institution": "\ud800"}, {"date_from": "\udfff-01-01"}, {"type": "x\x00y"}, {"level": "7" * 10_000},
])
async def test_selection_filters_with_odd_text_never_crash(browser, kit, values):
    await browser.login("demo-learner-1")
    page = await browser.selection()
    csrf = kit.form_fields(page.text, "//form[@id='selection']")["csrf"][0]
    # httpx encodes a lone surrogate with surrogatepass-like escaping only if asked: send it percent-encoded.
    body = "&".join([f"csrf={csrf}", "action=filter"] + [
        f"{k}=" + "".join(f"%{b:02X}" for b in v.encode("utf-8", "surrogatepass")) for k, v in values.items()])
    response = await browser.http.post("/select", content=body.encode(),
                                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code in (303, 400), response.text[:300]
    if response.status_code == 303:
        assert (await browser.http.get(response.headers["location"])).status_code == 200


async def test_a_valid_transfer_with_a_broken_send_is_not_sent_but_can_still_be_cancelled(browser, kit):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    body, headers = MALFORMED["file instead of text"]
    page = await browser.http.post("/send", content=body, headers=headers)
    assert_html_error(page, 400)
    csrf = kit.form_fields(page.text, "//form[@action='/cancel']")["csrf"][0]
    handoff = kit.handoff_of(await browser.http.post("/cancel", data={"csrf": csrf}))
    assert handoff.fields["returnCode"] == "NCP_CANCEL"
