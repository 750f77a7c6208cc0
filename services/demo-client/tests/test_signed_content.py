"""The demo client shows what the signature covers and nothing else (issue 11 §1, §2)."""

import os
import threading
import time

from lxml import html

from emrex_elmo import transport


async def start_session(http) -> str:
    response = await http.post("/start")
    assert response.status_code == 200
    return http.cookies["ncp_demo_session"]


def _rows(text: str) -> list[list[str]]:
    return [[cell.text_content().strip() for cell in row] for row in html.fromstring(text).find_class("los")]


async def test_comments_in_signed_values_change_nothing_on_the_page(client, signed_xml):
    assert b"<resultLabel>4</resultLabel>" in signed_xml
    commented = (
        signed_xml.replace(b"<givenNames>Aino", b"<givenNames>A<!---->ino")
        .replace(b"<familyName>Virtanen", b"<familyName>Virta<!-- -->nen")
        .replace(b"<resultLabel>4</resultLabel>", b"<resultLabel><!---->4</resultLabel>")
        .replace(b"<value>7.5</value>", b"<value>7<!---->.5</value>")
    )
    session_id = await start_session(client)
    response = await client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_OK", "elmo": transport.encode(commented),
    })
    assert response.status_code == 200, response.text
    page = html.fromstring(response.text)
    assert page.get_element_by_id("signature").get("data-valid") == "true"  # comments are not digested
    assert page.get_element_by_id("learner-name").text_content().strip() == "Aino Virtanen"
    assert page.get_element_by_id("total-credits").text_content() == "15.5"
    rows = _rows(response.text)
    assert ["Databases", "Course", "CS102", "4", "7.5", "passed", "2024-06-01"] in rows, rows


async def test_a_ds_object_in_the_signature_never_reaches_the_page(offline_client, signed_xml):
    smuggled = signed_xml.replace(
        b"</ds:Signature>", b"<ds:Object><givenNames>Mallory</givenNames></ds:Object></ds:Signature>"
    )
    session_id = await start_session(offline_client)
    response = await offline_client.post("/return", data={
        "sessionId": session_id, "returnCode": "NCP_OK", "elmo": transport.encode(smuggled),
    })
    assert response.status_code == 400
    assert "elmo_unreadable" in response.text
    assert "Mallory" not in response.text


async def test_a_utf16_answer_naming_a_fifo_is_refused_without_opening_it(offline_client, tmp_path):
    fifo = tmp_path / "x.dtd"
    os.mkfifo(fifo)
    opened, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)
                continue
            opened.set()
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        doc = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE elmo SYSTEM "{fifo}"><elmo/>'.encode("utf-16")
        session_id = await start_session(offline_client)
        response = await offline_client.post("/return", data={
            "sessionId": session_id, "returnCode": "NCP_OK", "elmo": transport.encode(doc),
        })
        assert response.status_code == 400
        assert "UTF-8" in response.text
    finally:
        stop.set()
        watcher.join(5)
    assert not opened.is_set()
