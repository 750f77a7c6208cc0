import re

import httpx
from lxml import html

from emrex_elmo import transport
from ncp_testkit import asgi_client

GATEWAY = "http://127.0.0.1:8000/emrex"


async def start_session(http: httpx.AsyncClient) -> str:
    response = await http.post("/start")
    assert response.status_code == 200
    form = html.fromstring(response.text).get_element_by_id("emrex-handoff")
    assert form.get("action") == GATEWAY
    fields = {i.get("name"): i.get("value") for i in form.iter("input")}
    assert fields["returnUrl"] == "http://127.0.0.1:8020/return"
    assert re.fullmatch(r"[0-9a-f-]{36}", fields["sessionId"])
    assert http.cookies["ncp_demo_session"] == fields["sessionId"]
    return fields["sessionId"]


async def test_index_offers_the_import_button(offline_client):
    response = await offline_client.get("/")
    assert response.status_code == 200
    assert "Import my results from the national node" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_start_sets_a_lax_httponly_cookie_on_http(offline_client):
    response = await offline_client.post("/start")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


async def test_start_uses_samesite_none_secure_on_https(settings):
    from ncp_demo_client.app import create_app

    app = create_app(settings.model_copy(update={"public_url": "https://client.example"}))
    async with asgi_client(app, "https://client.example") as http:
        response = await http.post("/start")
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=none" in cookie
    assert "secure" in cookie
    assert 'value="https://client.example/return"' in response.text


async def test_cancel_answer_is_shown_and_session_consumed(offline_client):
    session_id = await start_session(offline_client)
    data = {"sessionId": session_id, "returnCode": "NCP_CANCEL", "returnMessage": "", "elmo": ""}
    response = await offline_client.post("/return", data=data)
    assert response.status_code == 200
    page = html.fromstring(response.text)
    assert page.get_element_by_id("return-code").text_content() == "NCP_CANCEL"
    assert "You cancelled the import" in response.text
    # A replay of the same answer is refused: the session was used up.
    again = await offline_client.post("/return", data=data)
    assert again.status_code == 400
    assert "session_mismatch" in again.text


async def test_error_message_is_escaped(offline_client):
    session_id = await start_session(offline_client)
    response = await offline_client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_ERROR", "returnMessage": "<script>alert(1)</script>",
        "elmo": "",
    })
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "could not complete the import" in response.text


async def test_answer_for_another_session_is_refused(offline_client):
    await start_session(offline_client)
    response = await offline_client.post("/return", data={"sessionId": "someone-else", "returnCode": "NCP_OK",
                                                           "elmo": ""})
    assert response.status_code == 400
    assert html.fromstring(response.text).get_element_by_id("problem").get("data-code") == "session_mismatch"


async def test_answer_without_a_cookie_is_refused(offline_client):
    response = await offline_client.post("/return", data={"sessionId": "x", "returnCode": "NCP_OK"})
    assert response.status_code == 400
    assert "no session cookie" in response.text


async def test_garbage_elmo_is_reported_not_crashed(offline_client):
    session_id = await start_session(offline_client)
    response = await offline_client.post("/return", data={"sessionId": session_id, "returnCode": "NCP_OK",
                                                           "elmo": "not base64 !!"})
    assert response.status_code == 400
    assert "elmo_unreadable" in response.text


async def test_verified_transcript_is_shown(client, signed_xml):
    session_id = await start_session(client)
    response = await client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_OK", "returnMessage": "", "elmo": transport.encode(signed_xml),
    })
    assert response.status_code == 200, response.text
    page = html.fromstring(response.text)
    assert page.get_element_by_id("signature").get("data-valid") == "true"
    assert page.get_element_by_id("learner-name").text_content().strip() == "Aino Virtanen"
    # Leaves: Algorithms, Databases, Compilers (failed), Design Thinking; credits of passed leaves only.
    assert page.get_element_by_id("total-courses").text_content() == "4"
    assert page.get_element_by_id("total-credits").text_content() == "15.5"
    assert page.get_element_by_id("total-institutions").text_content() == "2"
    headings = [h.text_content() for h in page.iter("h2")]
    assert "University of Helsinki" in headings
    assert "Aalto University" in headings
    rows = [r.text_content() for r in page.find_class("los")]
    assert any("Databases" in r and "7.5" in r for r in rows)
    assert "EMREX transcript" in response.text
    (download,) = page.find_class("download")
    assert download.get("href").startswith("data:application/pdf;base64,")
    assert download.get("download") == "emrex-transcript.pdf"


async def test_tampered_transcript_is_flagged(client, signed_xml):
    session_id = await start_session(client)
    tampered = signed_xml.replace(b"Databases", b"Databasez")
    response = await client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_OK", "elmo": transport.encode(tampered),
    })
    assert response.status_code == 200
    assert html.fromstring(response.text).get_element_by_id("signature").get("data-valid") == "false"
    assert "Signature NOT valid" in response.text


async def test_unreachable_registry_says_not_checked(offline_client, signed_xml):
    session_id = await start_session(offline_client)
    response = await offline_client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_OK", "elmo": transport.encode(signed_xml),
    })
    assert response.status_code == 200
    assert html.fromstring(response.text).get_element_by_id("signature").get("data-valid") == "unknown"
    assert "Aino" in response.text


async def test_readyz_reports_unreachable_registry(offline_client):
    response = await offline_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["registry_cache"] == "unreachable"
