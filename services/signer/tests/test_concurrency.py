"""Signing runs in worker threads: health answers while a signature is being computed."""

import threading

import anyio

import emrex_elmo
from ncp_testkit.elmo import sample_xml


class BlockingKey:
    """Wraps the real active key; each signature waits until the test releases it: a device that hangs, so its
    signatures run in worker threads (never on the event loop)."""

    in_process = False

    def __init__(self, inner) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def sign(self, data: bytes) -> bytes:
        self.started.set()
        assert self.release.wait(timeout=20)
        return self.inner.sign(data)


async def test_health_answers_during_a_slow_signature(app, client, rsa_key):
    keyring = client.lifespan_state["signer"].keyring
    slow = BlockingKey(keyring.active)
    keyring.active = slow
    result: dict[str, bytes] = {}

    async def sign() -> None:
        response = await client.post("/v1/sign", content=sample_xml(3), headers={"Content-Type": "application/xml"})
        assert response.status_code == 200, response.text
        result["signed"] = response.content

    async with anyio.create_task_group() as tg:
        tg.start_soon(sign)
        await anyio.to_thread.run_sync(slow.started.wait, 10)
        with anyio.fail_after(5):
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
        assert health.status_code == 200
        assert ready.status_code == 200
        assert "signed" not in result  # the signature is still waiting
        slow.release.set()
    keyring.active = slow.inner
    emrex_elmo.verify(result["signed"], [rsa_key.certificate])


async def test_many_concurrent_signatures_on_a_fresh_app(settings, run_app, rsa_key):
    """The first requests of a fresh app land on every worker thread at once (where libxml2's XSD
    compilation used to race with parsing): all must succeed."""
    results: list[int] = []
    async with run_app(settings.model_copy(update={"sign_concurrency": 8})) as client:

        async def one(i: int) -> None:
            response = await client.post("/v1/sign", content=sample_xml(1 + i % 40),
                                         headers={"Content-Type": "application/xml"})
            results.append(response.status_code)
            if response.status_code == 200:
                emrex_elmo.verify(response.content, [rsa_key.certificate])

        async with anyio.create_task_group() as tg:
            for i in range(48):
                tg.start_soon(one, i)
    assert results == [200] * 48


class RecordingKey:
    """Wraps the real active key (a key file) and notes the thread each signature runs on."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.threads: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def sign(self, data: bytes) -> bytes:
        self.threads.append(threading.current_thread().name)
        return self.inner.sign(data)


async def test_small_documents_are_signed_on_the_event_loop_and_large_ones_in_worker_threads(settings, run_app,
                                                                                             rsa_key):
    small, large = sample_xml(3), sample_xml(200)
    limit = len(small) + 1
    assert len(large) > limit
    async with run_app(settings.model_copy(update={"sign_inline_max_bytes": limit})) as client:
        keyring = client.lifespan_state["signer"].keyring
        recording = RecordingKey(keyring.active)
        keyring.active = recording
        for document in (small, large):
            response = await client.post("/v1/sign", content=document, headers={"Content-Type": "application/xml"})
            assert response.status_code == 200, response.text
            emrex_elmo.verify(response.content, [rsa_key.certificate])
        keyring.active = recording.inner
    assert recording.threads[0] == threading.current_thread().name  # the loop's thread (the test's, in process)
    assert recording.threads[1].startswith("ncp-signer")  # a worker thread
