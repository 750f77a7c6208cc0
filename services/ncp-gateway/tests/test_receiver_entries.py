"""The consent page's receiver name: the registry's entry, remembered for a while per return URL, against the
real registry-cache (in process over ASGI)."""

import anyio
import httpx
import pytest

from ncp_contracts.registry import RegistryClient
from ncp_gateway.adapters.upstreams import ReceiverEntries

REGISTERED = "https://emc.example.fi/emrex"
UNKNOWN = "https://nobody.example.org/return"


class Counting(httpx.AsyncBaseTransport):
    """The real registry, with the lookups counted; `failing` answers them 503 instead."""

    def __init__(self, real: httpx.AsyncBaseTransport) -> None:
        self.real, self.lookups, self.failing = real, 0, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/emps/lookup":
            self.lookups += 1
            if self.failing:
                return httpx.Response(503, json={"title": "Service Unavailable", "status": 503})
        return await self.real.handle_async_request(request)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def loaded(transport: httpx.AsyncBaseTransport) -> None:
    """Until the registry-cache has read EMREG (it answers 503 until then)."""
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
        for _ in range(500):
            if (await http.get("/readyz")).status_code == 200:
                return
            await anyio.sleep(0.02)
    raise AssertionError("the registry-cache did not load EMREG within 10 s")


@pytest.fixture
async def registry(upstreams: dict[str, httpx.AsyncBaseTransport]) -> Counting:
    await loaded(upstreams["registry"])
    return Counting(upstreams["registry"])


def entries(transport: Counting, clock: Clock, **options: float) -> ReceiverEntries:
    http = httpx.AsyncClient(transport=transport, base_url="http://registry")
    return ReceiverEntries(RegistryClient(http), clock=clock, **options)  # type: ignore[arg-type]


async def test_an_entry_is_asked_once_per_ttl(registry: Counting) -> None:
    clock = Clock()
    receivers = entries(registry, clock, ttl=60)
    first = await receivers.entry(REGISTERED)
    assert first is not None
    assert first.acronym == "AURORA-EMC"
    clock.now += 59
    assert await receivers.entry(REGISTERED) == first
    assert registry.lookups == 1
    clock.now += 1  # the entry is a minute old: asked again
    assert await receivers.entry(REGISTERED) == first
    assert registry.lookups == 2


async def test_no_entry_is_an_answer_kept_like_an_entry(registry: Counting) -> None:
    clock = Clock()
    receivers = entries(registry, clock, ttl=60)
    assert await receivers.entry(UNKNOWN) is None
    assert await receivers.entry(UNKNOWN) is None
    assert registry.lookups == 1


async def test_a_failed_lookup_is_not_kept_and_the_last_entry_still_names_the_receiver(registry: Counting) -> None:
    clock = Clock()
    receivers = entries(registry, clock, ttl=60)
    registry.failing = True
    assert await receivers.entry(REGISTERED) is None  # never known: no name
    assert await receivers.entry(REGISTERED) is None
    assert registry.lookups == 2  # the failure was not remembered
    registry.failing = False
    known = await receivers.entry(REGISTERED)
    assert known is not None
    registry.failing = True
    clock.now += 61
    assert await receivers.entry(REGISTERED) == known  # the registry down: the last entry it gave
    assert registry.lookups == 4
    registry.failing = False
    assert await receivers.entry(REGISTERED) == known  # and asked again at once, since that failed
    assert registry.lookups == 5


async def test_ttl_zero_asks_every_time(registry: Counting) -> None:
    receivers = entries(registry, Clock(), ttl=0)
    for _ in range(3):
        assert await receivers.entry(REGISTERED) is not None
    assert registry.lookups == 3


async def test_at_most_kept_urls_the_least_recently_asked_dropped(registry: Counting) -> None:
    clock = Clock()
    receivers = entries(registry, clock, ttl=60, kept=2)
    other = "https://emc.example.fi/emrex/other"
    await receivers.entry(REGISTERED)
    await receivers.entry(UNKNOWN)
    await receivers.entry(REGISTERED)  # now the most recent
    await receivers.entry(other)  # drops UNKNOWN
    assert registry.lookups == 3
    await receivers.entry(REGISTERED)
    assert registry.lookups == 3
    await receivers.entry(UNKNOWN)
    assert registry.lookups == 4


async def test_consent_pages_of_one_receiver_ask_the_registry_once(make_browser, upstreams) -> None:
    """Two flows sent by the same client within the minute: both consent pages name it, one lookup."""
    await loaded(upstreams["registry"])
    registry = Counting(upstreams["registry"])
    async with make_browser(transports={"registry": registry}) as b:
        for _ in range(2):
            b.http.cookies.clear()
            await b.login("demo-learner-1")
            await b.submit(keys=["r2.0"])
            preview = await b.http.get("/preview")
            assert preview.status_code == 200
            assert "operated for Aurora University" in preview.text
    assert registry.lookups == 1
