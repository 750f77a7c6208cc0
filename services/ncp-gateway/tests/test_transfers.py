"""Several transfers in one browser all complete; live transfers are capped; expired ones and old audit rows
are purged."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx

from ncp_gateway.adapters.store import SessionStore, make_engine
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.app import purge_once


def tid_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["t"][0]


async def provider_login(authorization_url: str, sub: str = "demo-learner-1") -> str:
    async with httpx.AsyncClient(timeout=10) as op:
        answer = await op.post(authorization_url, data={"sub": sub})
    return answer.headers["location"]


async def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_two_transfers_in_two_tabs_both_complete(browser, kit):
    http = browser.http
    # Tab 1 (client A) enters and logs in; then tab 2 (client B) enters in the same browser.
    first = await http.post("/emrex", data={"sessionId": "tab-1", "returnUrl": "https://emc.example.fi/a"})
    second = await http.post("/emrex", data={"sessionId": "tab-2", "returnUrl": "https://other.example.de/b"})
    t1, t2 = tid_of(first.headers["location"]), tid_of(second.headers["location"])
    assert t1 != t2
    login1 = await http.get(first.headers["location"])
    login2 = await http.get(second.headers["location"])
    # The provider answers arrive in the other order; each finds its own transfer by its state.
    callback2 = await browser.callback(await provider_login(login2.headers["location"]))
    callback1 = await browser.callback(await provider_login(login1.headers["location"]))
    assert callback1.headers["location"] == f"/select?t={t1}"
    assert callback2.headers["location"] == f"/select?t={t2}"
    # Without saying which, the browser is asked rather than given one of them.
    ambiguous = await http.get("/select")
    assert ambiguous.status_code == 409
    assert "Several transfers are open" in ambiguous.text
    # Tab 2 sends, tab 1 cancels: both clients hear back, each with its own sessionId and returnUrl.
    page2 = await http.get(f"/select?t={t2}")
    csrf2 = kit.form_fields(page2.text, "//form[@id='selection']")["csrf"][0]
    assert (await http.post("/select", data={"t": t2, "csrf": csrf2, "shown": "r2.0", "los": "r2.0",
                                             "action": "preview"})).headers["location"] == f"/preview?t={t2}"
    preview2 = await http.get(f"/preview?t={t2}")
    sent = kit.handoff_of(await http.post("/send", data={
        "t": t2, "csrf": kit.form_fields(preview2.text, "//form[@action='/send']")["csrf"][0], "consent": "yes"}))
    assert (sent.fields["sessionId"], sent.fields["returnCode"], sent.action) == (
        "tab-2", "NCP_OK", "https://other.example.de/b")
    page1 = await http.get(f"/select?t={t1}")
    assert page1.status_code == 200
    cancelled = kit.handoff_of(await http.post("/cancel", data={
        "t": t1, "csrf": kit.form_fields(page1.text, "//form[@id='selection']")["csrf"][0]}))
    assert (cancelled.fields["sessionId"], cancelled.fields["returnCode"], cancelled.action) == (
        "tab-1", "NCP_CANCEL", "https://emc.example.fi/a")


async def test_a_second_entry_does_not_replace_the_first_one(offline_browser, kit):
    http = offline_browser.http
    first = await http.post("/emrex", data={"sessionId": "one", "returnUrl": "https://emc.example.fi/a"})
    await http.post("/emrex", data={"sessionId": "two", "returnUrl": "https://emc.example.fi/b"})
    # The first transfer is still there: its login starts, and its Cancel reaches the first client.
    assert (await http.get(first.headers["location"])).status_code == 302
    wrong_step = await http.get(f"/select?t={tid_of(first.headers['location'])}")
    assert wrong_step.status_code == 409
    csrf = kit.form_fields(wrong_step.text, "//form[@action='/cancel']")
    handoff = kit.handoff_of(await http.post("/cancel", data={"t": csrf["t"][0], "csrf": csrf["csrf"][0]}))
    assert (handoff.fields["sessionId"], handoff.action) == ("one", "https://emc.example.fi/a")


async def test_a_transfer_id_without_its_cookie_opens_nothing(browser, kit):
    await browser.login("demo-learner-1")
    tid = next(c.name for c in browser.http.cookies.jar if "ncp_t_" in c.name).split("ncp_t_")[1]
    async with httpx.AsyncClient(transport=browser.http._transport, base_url=kit.GATEWAY_URL) as stranger:
        assert (await stranger.get(f"/select?t={tid}")).status_code == 400
        stranger.cookies.set(f"__Host-ncp_t_{'A' * 16}", "forged.value")
        assert (await stranger.get(f"/select?t={tid}")).status_code == 400
    for bad in ("x", "A" * 17, "../../etc", "%00" * 16):
        assert (await browser.http.get(f"/select?t={bad}")).status_code == 400


async def test_transfers_per_browser_are_capped_with_a_page_not_a_silent_drop(make_browser):
    async with make_browser(max_transfers_per_browser=2) as b:
        for n in range(2):
            assert (await b.enter(sessionId=f"s{n}")).status_code == 303
        refused = await b.enter(sessionId="s3")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert "2 transfers are already open" in refused.text
        assert "set-cookie" not in refused.headers or "ncp_t_" not in refused.headers["set-cookie"]


async def test_live_transfers_are_capped_with_a_503_page(make_browser, kit):
    async with make_browser(max_live_transfers=3) as b:
        for n in range(3):
            async with httpx.AsyncClient(transport=b.http._transport, base_url=kit.GATEWAY_URL) as other:
                assert (await other.post("/emrex", data={"sessionId": f"s{n}",
                                                         "returnUrl": kit.RETURN_URL})).status_code == 303
        busy = await b.enter()
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "60"
        assert busy.headers["content-type"].startswith("text/html")
        assert "busy" in busy.text


async def test_expired_transfers_and_old_audit_rows_are_purged(gateway_settings, kit):
    engine = make_engine(gateway_settings.sqlalchemy_url)
    try:
        from ncp_gateway.adapters.store import migrate
        from ncp_gateway.domain.transfer import Transfer

        await migrate(engine)
        store = SessionStore(engine)
        now = dt.datetime.now(dt.UTC)

        def transfer(expires: dt.datetime) -> Transfer:
            return Transfer(tid="A" * 16, session_id="s", return_url=kit.RETURN_URL, receiver_origin=kit.RETURN_ORIGIN,
                            receiver_host="emc.example.fi", created_at=expires, expires_at=expires, csrf="c")

        await store.put("live", transfer(now + dt.timedelta(minutes=5)))
        await store.put("late", transfer(now - dt.timedelta(minutes=30)))  # expired, still in its grace hour
        await store.put("gone", transfer(now - dt.timedelta(hours=2)))
        for age in (400, 1):  # in the order they were written: the audit is a chain, purged from its start
            await store.add_audit(AuditRow(created_at=now - dt.timedelta(days=age), receiver_origin="x",
                                           return_code="NCP_OK"))
        assert await store.count_live(now) == 1
        await purge_once(store, gateway_settings.model_copy(update={"audit_retention_days": 365}))
        assert set(await store.get_many(["live", "late", "gone"])) == {"live", "late"}
        assert [r.created_at.date() for r in await store.audit_records()] == [(now - dt.timedelta(days=1)).date()]
    finally:
        await engine.dispose()


async def test_the_background_task_purges_while_the_app_runs(make_browser, gateway_settings, clock):
    from sqlalchemy import text

    async with make_browser(purge_interval_seconds=0.05, audit_retention_days=1) as b:
        await b.enter()
        engine = make_engine(gateway_settings.sqlalchemy_url)
        store = SessionStore(engine)
        await store.add_audit(AuditRow(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
                                       receiver_origin="x", return_code="NCP_OK"))
        clock.advance(dt.timedelta(hours=2))  # past the 20-minute lifetime and the hour of grace

        async def rows() -> int:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM gateway_session"))).scalar_one())

        import anyio

        for _ in range(200):
            if not await store.audit_records() and await rows() == 0:
                break
            await anyio.sleep(0.05)
        assert await store.audit_records() == []
        assert await rows() == 0
        await engine.dispose()
