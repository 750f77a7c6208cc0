"""One student's import through the containerised node, as a browser would do it, over HTTP only.

demo client /start -> gateway /emrex -> login at the development OIDC provider -> selection -> preview ->
consent -> the hand-off form posted back to the demo client, whose result page must say NCP_OK with a valid
signature. Exit status 0 when it does; the failing step otherwise.

    python scripts/container_flow.py --demo http://localhost:8020

Browsers resolve *.localhost to loopback (RFC 6761); this client does the same, keeping the Host header.
"""

import argparse
import sys
from urllib.parse import urljoin

import httpx
import lxml.html

from ncp_testkit.stack import hidden_fields


class LocalhostTransport(httpx.HTTPTransport):
    """Sends requests for *.localhost to 127.0.0.1 with the original Host header, as browsers do."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".localhost"):
            request = httpx.Request(request.method, request.url.copy_with(host="127.0.0.1"),
                                    headers=request.headers, stream=request.stream)
        return super().handle_request(request)


def expect(response: httpx.Response, status: int, step: str) -> httpx.Response:
    if response.status_code != status:
        raise AssertionError(f"{step}: HTTP {response.status_code}, expected {status}: {response.text[:400]}")
    return response


def import_results(demo: str, learner: str) -> dict[str, str]:
    with httpx.Client(transport=LocalhostTransport(), timeout=30, follow_redirects=False) as browser:
        expect(browser.get(demo + "/"), 200, "demo client home")
        start = expect(browser.post(demo + "/start"), 200, "demo client start")
        gateway_entry, handoff = hidden_fields(start.text, "//form[@id='emrex-handoff']")
        entry = expect(browser.post(gateway_entry, data=handoff), 303, "gateway entry")
        gateway = gateway_entry.rsplit("/emrex", 1)[0]
        login = expect(browser.get(urljoin(gateway_entry, entry.headers["location"])), 302, "gateway login")
        provider = expect(browser.post(login.headers["location"], data={"sub": learner}), 302, "OIDC provider login")
        expect(browser.get(provider.headers["location"]), 303, "gateway login callback")
        selection = expect(browser.get(gateway + "/select"), 200, "selection page")
        _, fields = hidden_fields(selection.text, "//form[@id='selection']")
        expect(browser.post(gateway + "/select", data={
            "csrf": fields["csrf"][0], "shown": fields.get("shown", []), "los": fields.get("shown", []),
            "action": "preview"}), 303, "selection")
        preview = expect(browser.get(gateway + "/preview"), 200, "preview")
        _, consent = hidden_fields(preview.text, "//form[@action='/send']")
        sent = expect(browser.post(gateway + "/send", data={"csrf": consent["csrf"][0], "consent": "yes"}), 200,
                      "consent")
        return_url, answer = hidden_fields(sent.text, "//form[@id='emrex']")
        result = expect(browser.post(return_url, data=answer), 200, "demo client return")
        page = lxml.html.fromstring(result.text)
        signature = page.xpath("//*[@id='signature']")
        return {"code": "".join(page.xpath("//*[@id='return-code']//text()")).strip(),
                "signature": signature[0].get("data-valid") if signature else "",
                "courses": "".join(page.xpath("//*[@id='total-courses']//text()")).strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", required=True, help="the demo client's URL as the browser sees it")
    parser.add_argument("--learner", default="demo-learner-1")
    args = parser.parse_args()
    outcome = import_results(args.demo.rstrip("/"), args.learner)
    sys.stdout.write(f"flow: {outcome}\n")
    return 0 if outcome["code"] == "NCP_OK" and outcome["signature"] == "true" else 1


if __name__ == "__main__":
    sys.exit(main())
