"""After a whole flow through the real processes, every product service's /metrics shows it, by route template
and without personal data; a trace id sent by the caller reaches the logs of the services it passed."""


import httpx
import pytest

from ncp_testkit.observe import parse_samples, sample

pytestmark = pytest.mark.e2e

SERVICES = ("gateway", "signer", "registry", "sis", "demo")


def scrape_all(stack) -> dict[str, tuple[str, dict]]:
    out = {}
    for name in SERVICES:
        response = httpx.get(stack.url(name, "/metrics"), timeout=10)
        assert response.status_code == 200, (name, response.text)
        out[name] = (response.text, parse_samples(response.text))
    return out


def test_every_service_counts_a_whole_flow(student):
    before = scrape_all(student.stack)
    assert student.send_everything()["code"] == "NCP_OK"
    after = scrape_all(student.stack)

    def moved(service: str, name: str, **labels: str) -> float:
        return sample(after[service][1], name, **labels) - sample(before[service][1], name, **labels)

    assert moved("gateway", "ncp_http_requests_total", route="/emrex", method="POST") >= 1
    assert moved("gateway", "ncp_http_requests_total", route="/send", method="POST") >= 1
    assert moved("signer", "ncp_signer_signatures_total", kind="elmo") == 1
    assert moved("sis", "ncp_sis_requests_total", outcome="ok") >= 1
    assert moved("registry", "ncp_http_requests_total", route="/v1/verify") >= 1
    assert moved("demo", "ncp_http_requests_total", method="POST") >= 1
    assert sample(after["registry"][1], "ncp_registry_ready") == 1
    for name, (text, _) in after.items():
        for value in ("demo-learner-1", "Virtanen", "emc-session"):
            assert value not in text, (name, value)


def test_metrics_are_refused_through_a_proxy_and_a_callers_trace_id_reaches_the_logs(stack):
    proxied = httpx.get(stack.url("gateway", "/metrics"), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
    assert proxied.status_code == 404
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    # Without a session the gateway answers (and logs) an error page: that log line carries the caller's trace.
    response = httpx.get(stack.url("gateway", "/select"), timeout=10,
                         headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
    assert response.status_code >= 400
    log = stack.processes["gateway"].log.read_text(errors="replace")
    assert f'"trace_id": "{trace_id}"' in log
