"""Benchmark: completed EMREX flows at 20 concurrent students through the HTTP API with the real services,
and the entry endpoint against a bare uvicorn "hello" app in the same run.

    .venv/bin/python services/ncp-gateway/bench/bench_flow.py [--seconds 20] [--students 20]

The client (httpx, 20 students, in this process) shares the two cores with the five services and is the
bottleneck of throughput, so the ratios are server CPU (from /proc/<pid>/stat), not requests per second:
  - entry: the gateway's CPU per POST /emrex against the hello app's CPU per request;
  - flow: the gateway's CPU per completed flow against the work a flow cannot avoid (the floor), measured
    here in the same run: one RSA-2048 signature with C14N and digest, one XSD validation, gzip and base64,
    15 SQLite statements on sqlite3 (two of them the audit chain's head), the audit record's SHA-256, three
    Jinja2 renders, one ID token check, one PDF with an embedded DejaVu subset, and 12 HTTP exchanges (one
    of them the PDF signing call) at the hello app's CPU per request. The parts are measured in a process
    running beside the flows (paced, --floor-beside), because the services and clients on the same two cores
    slow every instruction of the gateway, and a floor measured once the stack is stopped (the quiet floor,
    still printed) is not slowed.
Exits non-zero when any request fails.
"""

import argparse
import asyncio
import base64
import contextlib
import copy
import hashlib
import io
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jinja2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fpdf import FPDF
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from lxml import etree

import emrex_elmo
from emrex_elmo import Elmo, transport
from ncp_gateway.domain.outgoing import with_transcript
from ncp_testkit.benchmark import Ratio, cpu_seconds, median_cpu_ms, publish
from ncp_testkit.stack import PYTHON, free_port, run_beside, running_stack, start_process, student_flow

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Seven requests of the student's browser, and the gateway's calls: token exchange, SIS query, PDF signing (since
# the signed transcript), document signing, and the receiver's registry entry.
HTTP_EXCHANGES_PER_FLOW = 12

RETURN_URL = "http://127.0.0.1:9/emrex/return"
# The floor measured beside the flows rests this many times as long as each round took (a light load of its own).
FLOOR_REST = 3.0


async def hammer(url: str, data: dict[str, str], concurrency: int, seconds: float, expect: int) -> dict[str, float]:
    """Requests per second of `concurrency` clients posting `data` to `url` for `seconds`."""
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done, failures
            while time.perf_counter() < deadline:
                response = await client.post(url, data=data)
                client.cookies.clear()  # each entry a new browser (one browser may hold only a few transfers)
                if response.status_code == expect:
                    done += 1
                else:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"requests": done, "failures": failures, "seconds": round(elapsed, 2), "per_second": done / elapsed}


async def flows(gateway: str, students: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    reasons: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def student(number: int) -> None:
        nonlocal failures
        # Drop idle connections before uvicorn's 5 s keep-alive timeout can close one under a new request.
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as browser, \
                httpx.AsyncClient(timeout=60, limits=limits) as provider:
            while time.perf_counter() < deadline:
                browser.cookies.clear()
                began = time.perf_counter()
                try:
                    # Three results, as a typical student picks a few courses.
                    _, fields = await student_flow(browser, provider, gateway, RETURN_URL, pick_first=3,
                                                   session_id=f"bench-{number}")
                except (AssertionError, httpx.HTTPError) as exc:
                    failures += 1
                    reasons[f"{type(exc).__name__}: {str(exc)[:200]}"] += 1
                    continue
                if fields.get("returnCode") == "NCP_OK":
                    latencies.append(time.perf_counter() - began)
                else:
                    failures += 1
                    reasons[f"{fields.get('returnCode')}: {fields.get('returnMessage')}"] += 1

    start = time.perf_counter()
    await asyncio.gather(*(student(i) for i in range(students)))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [0.0]
    return {
        "flows": len(latencies), "failures": failures, "seconds": round(elapsed, 2),
        "per_second": len(latencies) / elapsed,
        "latency_p50_s": round(statistics.median(ordered), 3),
        "latency_p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "failure_reasons": dict(reasons.most_common(5)),
    }


def cut_font(font_file: Path) -> bytes:
    """DejaVu Sans cut to Latin, Greek and Cyrillic (the floor's font: the least a subset font costs)."""
    from fontTools import subset

    options = subset.Options(glyph_names=True, layout_features=[])
    options.drop_tables += ["GDEF", "GPOS", "GSUB", "kern", "FFTM"]
    font = subset.load_font(str(font_file), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[*range(0x20, 0x250), *range(0x370, 0x530), *range(0x2000, 0x2070)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html><html lang="{{ lang }}"><head>
<meta charset="utf-8"><title>{{ title }}</title><link rel="stylesheet" href="/static/app.css"></head><body>
<header><h1>{{ title }}</h1><p>{{ intro }}</p></header><main><form method="post" action="/select">
<input type="hidden" name="csrf" value="{{ csrf }}">{% for institution in institutions %}<section>
<h2>{{ institution.name }}</h2><table><thead><tr><th>Code</th><th>Title</th><th>Grade</th><th>ECTS</th></tr></thead>
<tbody>{% for row in institution.rows %}<tr><td><input type="checkbox" name="los" value="{{ row.key }}"
{% if row.chosen %}checked{% endif %}> {{ row.code }}</td><td>{{ row.title }}</td><td>{{ row.grade }}</td>
<td>{{ row.credits }}</td></tr>{% endfor %}</tbody></table></section>{% endfor %}
<button name="action" value="preview">Preview</button></form></main></body></html>""")


@contextlib.contextmanager
def unavoidable_parts(results: Elmo) -> Iterator[dict[str, tuple[Callable[[], object], int]]]:
    """What one flow cannot avoid, as (callable, runs) by name (the HTTP part is added from the run). The document
    signed, validated and compressed is the one a flow sends: `results` with the transcript PDF attached (the
    floor's own PDF, unsigned, so smaller than a flow's)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    schema = emrex_elmo.bundled_schema("1.7.0")

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        db.execute("create table session (id text primary key, data text, updated real)")
        db.execute("create table chain (id integer primary key, head_seq integer, head_hash text)")
        db.execute("insert into chain values (1, 0, ?)", ("0" * 64,))
        blob = json.dumps({"transfer": base64.b64encode(emrex_elmo.to_xml(results)[:4000]).decode()})
        counter = [0]

        def statements() -> None:
            # 15 statements, 5 of them writes (as a flow: create, login, selection, sent), the last two the audit
            # chain's head: read it, move it (since the hash-chained audit).
            counter[0] += 1
            sid = f"s{counter[0]}"
            db.execute("insert into session values (?, ?, ?)", (sid, blob, time.time()))
            for _ in range(3):
                db.execute("select data from session where id = ?", (sid,)).fetchone()
                db.execute("select data from session where id = ?", (sid,)).fetchone()
                db.execute("select data from session where id = ?", (sid,)).fetchone()
                db.execute("update session set data = ?, updated = ? where id = ?", (blob, time.time(), sid))
            seq, head = db.execute("select head_seq, head_hash from chain where id = 1").fetchone()
            db.execute("update chain set head_seq = ?, head_hash = ? where id = 1", (seq + 1, head))

        record = {"seq": 1, "created_at": "2026-11-30T09:00:00.000000Z", "protocol": "emrex1",
                  "receiver_origin": "https://emp.example", "return_code": "NCP_OK", "institutions": "a b",
                  "learning_opportunities": 3, "credits": "15", "elmo_sha256": "0" * 64, "login_pseudonym": "0" * 64}

        def audit_link() -> None:
            # The audit record's hash: SHA-256 over the previous hash and the record as canonical JSON.
            canonical = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
            hashlib.sha256(b"0" * 64 + b"\n" + canonical).hexdigest()

        context = {"lang": "en", "title": "Choose results", "intro": "Pick what to send.", "csrf": "x" * 43,
                   "institutions": [{"name": f"University {i}", "rows": [
                       {"key": f"r{i}.{j}", "code": f"C{j:03d}", "title": f"Course {j}", "grade": "A",
                        "credits": "5", "chosen": j < 3} for j in range(12)]} for i in range(3)]}
        private = RSAKey.generate_key(2048)
        token = jwt.encode({"alg": "RS256"}, {"iss": "http://op", "aud": "gw", "sub": "learner", "nonce": "n",
                                              "exp": int(time.time()) + 600, "iat": int(time.time())}, private)
        public = KeySet.import_key_set({"keys": [private.as_dict(private=False)]})

        def check_token() -> None:
            decoded = jwt.decode(token, public, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": "http://op"}).validate(decoded.claims)

        # The cheapest embedded subset: the gateway's Latin/Greek/Cyrillic cut of the font, a few lines of text.
        font_file = Path(tmp) / "cut.ttf"
        font_file.write_bytes(cut_font(FONT))
        template = FPDF(format="A4")
        template.add_font("DejaVu", "", str(font_file))
        font_bytes = font_file.read_bytes()

        def pdf() -> bytes:
            from fontTools.ttLib import TTFont
            from fpdf.fonts import TTFFont

            document_pdf = copy.deepcopy(template)
            for font in document_pdf.fonts.values():
                if isinstance(font, TTFFont):
                    font.ttfont = TTFont(io.BytesIO(font_bytes), recalcTimestamp=False, lazy=True)
            document_pdf.add_page()
            document_pdf.set_font("DejaVu", "", 10)
            for line in ("EMREX transcript", "Learner: Aino Demo", "C001 Course 1 A 5", "Total ECTS 15"):
                document_pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            return bytes(document_pdf.output())

        document = emrex_elmo.to_xml(with_transcript(results, pdf()), version="1.7.0")
        root = etree.fromstring(document)

        def sign() -> None:
            root = etree.fromstring(document)
            digest = hashlib.sha256(etree.tostring(root, method="c14n")).digest()
            key.sign(b"<SignedInfo>" + base64.b64encode(digest) + b"x" * 600, padding.PKCS1v15(), hashes.SHA256())

        yield {
            "RSA sign + C14N + digest": (sign, 30),
            "XSD validation": (lambda: schema.validate(root), 30),
            "gzip + base64": (lambda: transport.encode(document), 30),
            "15 SQLite statements": (statements, 30),
            "audit record hash (SHA-256)": (audit_link, 30),
            "3 template renders": (lambda: [TEMPLATE.render(context) for _ in range(3)], 30),
            "ID token check": (check_token, 30),
            "PDF with embedded subset font": (pdf, 10),
        }
        db.close()


def unavoidable_work_ms(results: Elmo) -> dict[str, float]:
    """CPU ms of each unavoidable part, measured in this process while nothing else runs (the quiet floor)."""
    with unavoidable_parts(results) as parts:
        return {name: median_cpu_ms(fn, runs=runs) for name, (fn, runs) in parts.items()}


def floor_beside(seconds: float) -> None:
    """--floor-beside: the unavoidable parts measured in a process running beside the flows, under the flows'
    conditions: the five services and the clients share the two cores, and the parts run as a flow runs them,
    each once and then the next. The quiet floor times each part in a hot loop of 10 to 30 calls after the stack
    has stopped; no flow runs anything that way, and its caches and branch predictors stay primed for the one
    part. Each round here runs every part once, in a flow's order, then rests (three times as long as the round
    took) so that it adds little load. Prints the medians over all rounds as JSON."""
    from ncp_testkit.elmo import sample_elmo

    samples: dict[str, list[float]] = {}
    deadline = time.perf_counter() + seconds
    with unavoidable_parts(sample_elmo(3)) as parts:
        for fn, _ in parts.values():  # first calls build caches (templates, fonts): not per flow
            fn()
        while time.perf_counter() < deadline:
            round_started = time.perf_counter()
            for name, (fn, _) in parts.items():
                started = time.process_time()
                fn()
                samples.setdefault(name, []).append(time.process_time() - started)
            time.sleep(FLOOR_REST * (time.perf_counter() - round_started))
    print(json.dumps({name: statistics.median(values) * 1000 for name, values in samples.items()}))


NOTE = "client-bound: server CPU, not throughput"


def entry_ratio(entry_cpu: float, hello_cpu: float) -> Ratio:
    return Ratio("gateway", "entry endpoint: server CPU per request", entry_cpu * 1000, "bare uvicorn app",
                 hello_cpu * 1000, target=5.0, note=NOTE)


def publish_entry(entry: dict[str, float], floor: dict[str, float], entry_cpu: float, hello_cpu: float) -> None:
    """--entry-only: the entry phase's figures and ratio, for quick iteration on the per-request cost."""
    print(json.dumps({"entry": entry, "hello_floor": floor, "server_cpu_ms_per_request": {
        "entry": round(entry_cpu * 1000, 3), "hello": round(hello_cpu * 1000, 3)}}, indent=2))
    publish([entry_ratio(entry_cpu, hello_cpu)])
    if entry["failures"] or floor["failures"]:
        raise SystemExit(f"{entry['failures'] + floor['failures']} requests failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="run in this directory and keep the service logs")
    parser.add_argument("--entry-only", action="store_true", help="the entry and hello phases only (no flows)")
    parser.add_argument("--floor-beside", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_beside:
        floor_beside(args.floor_beside)
        return
    entry_body = {"sessionId": "bench-entry-session", "returnUrl": RETURN_URL}
    with tempfile.TemporaryDirectory(prefix="ncp-gateway-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        hello_url = f"http://127.0.0.1:{port}/"
        with running_stack(directory, gateway_env={"NCP_GATEWAY_LOG_LEVEL": "WARNING"}) as stack, \
                start_process("hello", [PYTHON, "-m", "uvicorn", "ncp_testkit.hello_app:app", "--host", "127.0.0.1",
                                        "--port", str(port), "--log-level", "warning", "--no-access-log"],
                              {}, hello_url, directory / "logs" / "hello.log") as hello:
            gateway_pid = stack.processes["gateway"].pid
            # Warm up both (first requests compile templates, open pools).
            asyncio.run(hammer(hello_url, entry_body, 4, 1.0, 200))
            asyncio.run(hammer(f"{stack.gateway}/emrex", entry_body, 4, 1.0, 303))
            before = cpu_seconds(hello.pid)
            floor = asyncio.run(hammer(hello_url, entry_body, args.students, args.seconds / 4, 200))
            hello_cpu = (cpu_seconds(hello.pid) - before) / max(floor["requests"], 1)
            before = cpu_seconds(gateway_pid)
            entry = asyncio.run(hammer(f"{stack.gateway}/emrex", entry_body, args.students, args.seconds / 4, 303))
            entry_cpu = (cpu_seconds(gateway_pid) - before) / max(entry["requests"], 1)
            if args.entry_only:
                publish_entry(entry, floor, entry_cpu, hello_cpu)
                return
            # One flow first: the PDF font, templates and pools warm up outside the measurement.
            asyncio.run(flows(stack.gateway, 1, 0.1))
            with run_beside([PYTHON, __file__, "--floor-beside", str(args.seconds)]) as floor_output:
                before_all = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
                flow = asyncio.run(flows(stack.gateway, args.students, args.seconds))
                used = {name: cpu_seconds(p.pid) - before_all[name] for name, p in stack.processes.items()}
                floor_beside_parts: dict[str, float] = json.loads(floor_output(120))
    from ncp_testkit.elmo import sample_elmo

    http_part = f"{HTTP_EXCHANGES_PER_FLOW} HTTP exchanges at the hello app's CPU"
    quiet_parts = unavoidable_work_ms(sample_elmo(3))
    for parts in (quiet_parts, floor_beside_parts):
        parts[http_part] = HTTP_EXCHANGES_PER_FLOW * hello_cpu * 1000
    floor_ms, quiet_ms = sum(floor_beside_parts.values()), sum(quiet_parts.values())
    flows_done = max(flow["flows"], 1)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "students": args.students,
        "flows": {k: round(v, 3) if isinstance(v, float) else v for k, v in flow.items()},
        "entry": {k: round(v, 1) if isinstance(v, float) else v for k, v in entry.items()},
        "hello_floor": {k: round(v, 1) if isinstance(v, float) else v for k, v in floor.items()},
        "entry_to_hello_throughput": round(entry["per_second"] / floor["per_second"], 3),
        "server_cpu_ms_per_request": {"entry": round(entry_cpu * 1000, 3), "hello": round(hello_cpu * 1000, 3)},
        "cpu_ms_per_flow": {name: round(1000 * seconds / flows_done, 1) for name, seconds in used.items()},
        "floor_ms_per_flow_beside_the_flows": {name: round(ms, 2) for name, ms in floor_beside_parts.items()},
        "floor_ms_per_flow_quiet": {name: round(ms, 2) for name, ms in quiet_parts.items()},
    }
    print(json.dumps(result, indent=2))
    gateway_ms = 1000 * used["gateway"] / flows_done
    publish([
        entry_ratio(entry_cpu, hello_cpu),
        Ratio("gateway", "one full flow: gateway CPU per flow", gateway_ms,
              "unavoidable work of a flow, measured beside the flows", floor_ms, target=2.0,
              note=f"{flow['flows']} flows, {NOTE}"),
        Ratio("gateway", "one full flow, against the quiet floor", gateway_ms,
              "unavoidable work of a flow, measured after the run", quiet_ms,
              note="the earlier floor: the flows' load slows the gateway, not it"),
        Ratio("dev OIDC provider", "CPU per flow (development only)", 1000 * used["oidc"] / flows_done,
              "unavoidable work of a flow, measured beside the flows", floor_ms, note="for scale; no target"),
    ])
    failures = flow["failures"] + entry["failures"] + floor["failures"]
    if failures or not flow["flows"]:
        raise SystemExit(f"{failures} requests or flows failed: {flow['failure_reasons']}")


if __name__ == "__main__":
    main()
