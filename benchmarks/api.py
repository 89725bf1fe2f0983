"""Benchmark: the HTTP API under load, served by uvicorn with N worker processes, on SQLite.

Targets (issue):
  (1) GET /v1/decision, one question per request: >= 2,000 requests/s with p99 <= 20 ms;
  (2) POST /v1/decisions, batches: >= 50,000 decisions/s;
  (3) the one-click unsubscribe (RFC 8058: POST /u/{token} with `List-Unsubscribe=One-Click`)
      while (1) runs: p99 <= 20 ms.

Set-up: a SQLite file in a temp directory, initialised with the services (controller,
purposes) and about --contacts contact points with ten realistic events each (the generator
of benchmarks/append.py: registrations, consents and confirmations, purchases, notices,
unsubscribes, bounces, objections ...), an API key, and signed unsubscribe links. Then N
processes of `uvicorn --factory consentry.entrypoints.http:asgi` start on 127.0.0.1, each on a
free port of its own, with CONSENTRY_DATABASE_URL and CONSENTRY_SECRET_KEY set, and are
stopped at the end. The load deals its connections evenly over the ports. (`uvicorn --workers N`
shares one socket, and a worker that wakes takes every connection waiting: a benchmark's few
keep-alive connections then often all land on one worker, and the figures measure one process.
--shared-socket runs it that way all the same; the CPU each process used is printed per phase.)

Load: with `wrk` installed (Debian package `wrk`) it drives (1) and the decision load of (3),
one wrk (one thread) per port, their percentiles merged; otherwise, and always for (2) and for
the unsubscribe requests of (3), a small asyncio HTTP/1.1 client with keep-alive connections and
bounded concurrency (a connection sends its next request when the answer to the last one is in).
Every request goes to 127.0.0.1 only; each phase runs for --duration seconds. Questions rotate
over all contact points (e-mail, phone, postal) and four purposes, named by address or number
as a shop would.

Batches are measured twice: 1,000 questions about 1,000 different contact points, and 1,000
questions about 250 contact points (four purposes each, as a page of a customer list asks);
with --compact also with `"detail": "compact"` answers.

The load generator runs on the same machine as the server and takes CPU from it; the figures
say how many cores there are, the load average before and after, and for batches how much of
a core the Python client used. Run from the repository root with the virtualenv active:

    python benchmarks/api.py                  # 2 workers, 10,000 contact points, 10 s a phase
    python benchmarks/api.py --workers 4 --duration 20
    python benchmarks/api.py --no-wrk         # the Python client only
    python benchmarks/api.py --phases 3       # only the unsubscribes under load
    python benchmarks/api.py --shared-socket  # one `uvicorn --workers 2` on one port

It prints the figures and a PASS/FAIL line per target measured, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from append import PURPOSES, generate

from consentry.bootstrap import bootstrap
from consentry.services import apikeys, public, purposes, setup
from consentry.services.ledger import append_records
from consentry.settings import Settings

HOST = "127.0.0.1"
SECRET = "benchmark-secret-key-0123456789abcdef"
TARGET_RPS, TARGET_P99_MS, TARGET_DPS = 2_000, 20.0, 50_000
CHANNEL = {"email": "email", "phone": "sms", "postal": "post"}
PURPOSE_KEYS = [p[0] for p in PURPOSES]


# -- preparing the database --------------------------------------------------------------------


@dataclass
class Prepared:
    """What the load needs: contact references with their channel, a key, unsubscribe paths."""

    refs: list[tuple[str, str]]
    token: str
    unsubscribe_paths: list[str]


def _kind(ref: str) -> str:
    return "postal" if ref.startswith("postal:") else "phone" if ref.startswith("+") else "email"


def prepare(url: str, contacts: int, links: int) -> Prepared:
    """Initialise the database and fill it through the services."""
    app = bootstrap(Settings(database_url=url, secret_key=SECRET))
    setup.init(app, name="Koffiebranderij De Boon BV", sector="commercial")
    for key, nl, en, cats, third_party in PURPOSES:
        purposes.define(app, key, nl, en, "commercial", cats, third_party)
    records = generate(contacts * 10)
    t0 = time.perf_counter()
    report = append_records(app, enumerate(records, 1))
    print(f"  ledger: {report.appended:,} events, {report.registered:,} contact points ", end="")
    print(f"({time.perf_counter() - t0:.1f} s)")
    refs = list(dict.fromkeys(r["contact"] for r in records if "contact" in r))
    _, token = apikeys.create(app, "benchmark", ["read"])
    rnd = random.Random(7)
    paths = []
    for ref in rnd.sample(refs, min(links, len(refs))):
        url_ = public.links_for(app, ref, rnd.choice(PURPOSE_KEYS))["unsubscribe"]
        paths.append("/u/" + url_.rsplit("/u/", 1)[1])
    app.store.engine.dispose()
    return Prepared([(ref, CHANNEL[_kind(ref)]) for ref in refs], token, paths)


# -- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """The running server: the ports it listens on and its worker processes."""

    ports: list[int]
    workers: list[int]  # pids

    def cpu(self) -> list[float]:
        """CPU seconds each worker has used so far (Linux /proc)."""
        out = []
        for pid in self.workers:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                out.append(0.0)
                continue
            out.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
        return out


@contextmanager
def server(url: str, workers: int, shared: bool = False) -> Iterator[Server]:
    """`workers` uvicorn processes on loopback, each on its own free port; stopped on leaving.

    With `shared`, one `uvicorn --workers N` on one port instead. There the workers share
    one listening socket and whichever wakes first accepts every connection waiting, so the
    few keep-alive connections of a benchmark can all land on one worker (seen: all four
    batch connections on one of two). One port per process lets the load spread them evenly,
    as many independent clients would.
    """
    env = {**os.environ, "CONSENTRY_DATABASE_URL": url, "CONSENTRY_SECRET_KEY": SECRET}
    base = [sys.executable, "-m", "uvicorn", "--factory", "consentry.entrypoints.http:asgi", "--host", HOST]
    base += ["--no-access-log", "--log-level", "warning"]
    ports = [_free_port()] if shared else [_free_port() for _ in range(workers)]
    each = workers if shared else 1
    procs = [subprocess.Popen([*base, "--port", str(p), "--workers", str(each)], env=env) for p in ports]
    try:
        deadline = time.monotonic() + 60
        while not all(_healthy(p) for p in ports):
            if any(proc.poll() is not None for proc in procs) or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.2)
        pids = [proc.pid for proc in procs]
        if shared:  # the workers are the supervisor's children
            children = Path(f"/proc/{procs[0].pid}/task/{procs[0].pid}/children").read_text().split()
            pids = [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        yield Server(ports, pids)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            s.sendall(f"GET /v1/health HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# -- the asyncio client ------------------------------------------------------------------------


@dataclass
class Result:
    """What one load phase measured."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentiles(self) -> tuple[float, float]:
        if self.p50_ms is not None and self.p99_ms is not None:
            return self.p50_ms, self.p99_ms
        s = sorted(self.latencies_ms) or [0.0]
        return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.99))]


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, encoded once."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return status, b"".join(p[:-2] for p in parts)


async def _worker(port: int, raws: Sequence[bytes], start: int, deadline: float, out: Result) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    clock = time.perf_counter
    i = start
    try:
        while clock() < deadline:
            raw = raws[i % len(raws)]
            i += 1
            t0 = clock()
            writer.write(raw)
            status, _ = await _read_response(reader)
            out.latencies_ms.append((clock() - t0) * 1000)
            out.requests += 1
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if status >= 400:
                out.errors += 1
    finally:
        writer.close()


async def _load(ports: list[int], raws: Sequence[bytes], concurrency: int, seconds: float) -> Result:
    out = Result()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    step = max(1, len(raws) // concurrency)
    await asyncio.gather(
        *(_worker(ports[n % len(ports)], raws, n * step, deadline, out) for n in range(concurrency))
    )
    out.seconds = time.perf_counter() - t0
    return out


async def _send_each(port: int, raws: Sequence[bytes]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for raw in raws:
            writer.write(raw)
            status, _ = await _read_response(reader)
            if status != 200:
                raise RuntimeError(f"warm-up request answered {status}")
    finally:
        writer.close()


def warm(srv: Server, prep: Prepared) -> None:
    """Ask every server process about every contact point once, in batches of 1,000."""
    refs = prep.refs
    headers = {"Authorization": f"Bearer {prep.token}", "Content-Type": "application/json"}
    raws = []
    for i in range(0, len(refs), 1_000):
        qs = [{"contact": ref, "channel": ch, "purpose": PURPOSE_KEYS[0]} for ref, ch in refs[i : i + 1_000]]
        raws.append(request("POST", "/v1/decisions", headers, json.dumps({"questions": qs}).encode()))

    async def each_port() -> None:
        await asyncio.gather(*(_send_each(port, raws) for port in srv.ports))

    if len(srv.ports) == len(srv.workers):
        asyncio.run(each_port())


def python_load(ports: list[int], raws: Sequence[bytes], concurrency: int, seconds: float) -> Result:
    """Send `raws` round-robin over `concurrency` keep-alive connections, dealt over the ports."""
    return asyncio.run(_load(ports, raws, concurrency, seconds))


# -- wrk ---------------------------------------------------------------------------------------

_WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
local method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
if body then wrk.headers["Content-Type"] = "application/x-www-form-urlencoded" end
function setup(thread) thread:set("offset", math.random(#paths)) end
request = function()
  counter = counter + 1
  return wrk.format(method, paths[(counter + offset) % #paths + 1], nil, body)
end
done = function(summary, latency, requests)
  local pct = {}
  for p = 1, 99 do pct[#pct + 1] = string.format("[%g, %d]", p, latency:percentile(p)) end
  for _, p in ipairs({99.1, 99.2, 99.3, 99.4, 99.5, 99.6, 99.7, 99.8, 99.9}) do
    pct[#pct + 1] = string.format("[%g, %d]", p, latency:percentile(p))
  end
  pct[#pct + 1] = string.format("[100, %d]", latency.max)  -- percentile(100) answers 0
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %f, "status_errors": %d, ' ..
    '"socket_errors": %d, "percentiles_us": [%s]}\\n', summary.requests, summary.duration / 1e6,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(pct, ", ")))
end
"""


def wrk_load(
    ports: list[int], method: str, paths: list[str], auth: str, body: str, concurrency: int, seconds: float
) -> Result:
    """Drive one request kind with wrk: one wrk (one thread) per port, the connections dealt over them."""
    with tempfile.TemporaryDirectory(prefix="consentry-wrk-") as tmp:
        script, listing = Path(tmp) / "load.lua", Path(tmp) / "paths.txt"
        script.write_text(_WRK_SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "BENCH_PATHS": str(listing), "BENCH_METHOD": method}
        env.update(BENCH_AUTH=auth, BENCH_BODY=body)
        runs = []
        for n, port in enumerate(ports):
            conns = concurrency // len(ports) + (n < concurrency % len(ports))
            cmd = [
                "wrk",
                "-t1",
                f"-c{conns}",
                f"-d{seconds:.0f}s",
                "-s",
                str(script),
                f"http://{HOST}:{port}",
            ]
            runs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        outputs = [run.communicate() for run in runs]
    found = []
    for stdout, stderr in outputs:
        line = next((x for x in stdout.splitlines() if x.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed: {stdout}\n{stderr}")
        found.append(json.loads(line.removeprefix("WRKJSON ")))
    p50, p99 = (_merged_percentile(found, q) / 1000 for q in (50, 99))
    return Result(
        requests=sum(w["requests"] for w in found),
        errors=sum(w["status_errors"] + w["socket_errors"] for w in found),
        seconds=max(w["seconds"] for w in found),
        p50_ms=p50,
        p99_ms=p99,
    )


def _merged_percentile(runs: list[dict[str, Any]], q: float) -> float:
    """The q-th percentile of several wrk runs' latencies together, from their percentile tables."""
    total = sum(w["requests"] for w in runs) or 1
    for x in sorted({lat for w in runs for _, lat in w["percentiles_us"]}):
        below = sum(
            w["requests"] * max((p for p, lat in w["percentiles_us"] if lat <= x), default=0) for w in runs
        )
        if below >= q * total:
            return float(x)
    return float(max(lat for w in runs for _, lat in w["percentiles_us"]))


# -- the phases --------------------------------------------------------------------------------


def decision_paths(refs: list[tuple[str, str]], n: int, seed: int = 1) -> list[str]:
    """GET /v1/decision paths for `n` questions over the contact points, shuffled."""
    from urllib.parse import urlencode

    rnd = random.Random(seed)
    picked = [refs[i % len(refs)] for i in range(n)]
    rnd.shuffle(picked)
    return [
        "/v1/decision?" + urlencode({"contact": ref, "channel": ch, "purpose": PURPOSE_KEYS[i % 4]})
        for i, (ref, ch) in enumerate(picked)
    ]


def batches(
    refs: list[tuple[str, str]], size: int, per_contact: int, count: int, seed: int = 2, detail: str = "full"
) -> list[bytes]:
    """JSON bodies of `count` batches of `size` questions, `per_contact` purposes per contact."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        chosen = rnd.sample(refs, size // per_contact)
        qs = [
            {"contact": ref, "channel": ch, "purpose": PURPOSE_KEYS[k]}
            for ref, ch in chosen
            for k in range(per_contact)
        ]
        body = {"at": "2026-06-01T12:00:00+02:00", "detail": detail, "questions": qs}
        out.append(json.dumps(body).encode())
    return out


def show(label: str, r: Result) -> tuple[float, float]:
    p50, p99 = r.percentiles()
    codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(r.statuses.items())) or "-"
    print(f"  {label:<44} {r.rps:>9,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ", end="")
    print(f"({r.requests:,} requests, {r.errors:,} errors; status {codes})")
    return p50, p99


@dataclass
class Run:
    """One benchmark run: the server, what the load needs, and the options."""

    srv: Server
    prep: Prepared
    args: argparse.Namespace
    use_wrk: bool
    paths: list[str]
    raws: list[bytes]

    @property
    def auth(self) -> str:
        return f"Bearer {self.prep.token}"

    def singles(self) -> Result:
        """Single decisions for --duration seconds, with wrk when there is one."""
        a, ports = self.args, self.srv.ports
        if self.use_wrk:
            return wrk_load(ports, "GET", self.paths, self.auth, "", a.concurrency, a.duration)
        return python_load(ports, self.raws, a.concurrency, a.duration)

    @contextmanager
    def busy(self, done: Callable[[], float], unit: str) -> Iterator[None]:
        """Print the CPU each server process used while the block ran, and `done()` per CPU second.

        On a shared machine the server gets what the other processes leave it; work per
        CPU second of the server is the steadier figure.
        """
        t0, before = time.perf_counter(), self.srv.cpu()
        yield
        seconds = time.perf_counter() - t0
        used = [b - a for a, b in zip(before, self.srv.cpu(), strict=True)]
        each = ", ".join(f"{u:.1f}" for u in used)
        rate = done() / sum(used) if sum(used) else 0.0
        print(
            f"  {'':<44} server CPU by process: {each} s in {seconds:.1f} s; {rate:,.0f} {unit} a CPU second"
        )


def phase_single(run: Run) -> str:
    """(1): single decisions."""
    print(f"\n(1) GET /v1/decision, {run.args.concurrency} connections")
    single = Result()
    with run.busy(lambda: single.requests, "requests"):
        single = run.singles()
        _, p99 = show("single decisions", single)
    ok = single.rps >= TARGET_RPS and p99 <= TARGET_P99_MS and not single.errors
    target = f"(target >= {TARGET_RPS:,} req/s, p99 <= {TARGET_P99_MS:.0f} ms)"
    figures = f"{single.rps:,.0f} req/s, p99 {p99:.1f} ms, {single.errors} errors"
    return f"{'PASS' if ok else 'FAIL'}: (1) {figures} {target} with {run.args.workers} workers"


def phase_batches(run: Run) -> list[str]:
    """(2): batches of --batch questions, full documents (and compact ones with --compact)."""
    a, ports = run.args, run.srv.ports
    conns = a.batch_concurrency or 2 * a.workers
    print(f"\n(2) POST /v1/decisions, {a.batch:,} questions a batch, {conns} connections")
    headers = {"Authorization": run.auth, "Content-Type": "application/json"}
    lines = []
    for detail in ("full", "compact") if a.compact else ("full",):
        for label, per_contact in (("different contact points", 1), ("4 purposes per contact point", 4)):
            bodies = batches(run.prep.refs, a.batch, per_contact, 40, detail=detail)
            reqs = [request("POST", "/v1/decisions", headers, b) for b in bodies]
            python_load(ports, reqs[:4], conns, 1.0)
            r = Result()
            with run.busy(lambda: r.requests * a.batch, "decisions"):  # noqa: B023 - called at once
                cpu = time.process_time()
                r = python_load(ports, reqs, conns, a.duration)
                cpu = time.process_time() - cpu
                label = f"{label}, {detail}"
                show(f"batches, {label}", r)
                dps = r.rps * a.batch
                print(
                    f"  {'':<44} {dps:>9,.0f} decisions/s (the client used {cpu / r.seconds:.0%} of a core)"
                )
            ok = dps >= TARGET_DPS
            lines.append(
                f"{'PASS' if ok else 'FAIL'}: (2) {dps:,.0f} decisions/s, {label} (target >= {TARGET_DPS:,})"
            )
    return lines


def phase_unsubscribe(run: Run) -> str:
    """(3): one-click unsubscribes while single decisions run."""
    a, ports = run.args, run.srv.ports
    conns = a.unsubscribe_connections
    print(f"\n(3) POST /u/{{token}} (one-click unsubscribe), {conns} connection(s), while (1) runs")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    unsub = [request("POST", p, form, b"List-Unsubscribe=One-Click") for p in run.prep.unsubscribe_paths]
    if python_load(ports, unsub[:1], 1, 0.01).statuses.keys() & {404, 405}:
        print("  SKIPPED: POST /u/{token} is not served yet (the public pages are not installed)")
        return "SKIP: (3) one-click unsubscribe not measured"

    async def both() -> tuple[Result, Result]:
        return await asyncio.gather(
            asyncio.to_thread(run.singles), _load(ports, unsub[1:], conns, a.duration)
        )

    unsubscribes = Result()
    with run.busy(lambda: unsubscribes.requests, "unsubscribes"):
        background, unsubscribes = asyncio.run(both())
        show("single decisions (background load)", background)
        _, p99 = show("one-click unsubscribes", unsubscribes)
    ok = p99 <= TARGET_P99_MS and not unsubscribes.errors
    target = f"(target <= {TARGET_P99_MS:.0f} ms)"
    return f"{'PASS' if ok else 'FAIL'}: (3) one-click unsubscribe p99 {p99:.1f} ms under load {target}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument(
        "--shared-socket",
        action="store_true",
        help="one `uvicorn --workers N` on one port (default: N single-worker processes, one port each)",
    )
    ap.add_argument("--contacts", type=int, default=10_000, help="contact points in the database")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    ap.add_argument("--warmup", type=float, default=8.0, help="seconds of warm-up load before measuring")
    ap.add_argument("--concurrency", type=int, default=8, help="connections for single decisions")
    ap.add_argument("--batch", type=int, default=1_000, help="questions per batch")
    ap.add_argument(
        "--batch-concurrency", type=int, default=0, help="connections for batches (default 2x workers)"
    )
    ap.add_argument("--compact", action="store_true", help="also measure batches with compact answers")
    ap.add_argument("--no-wrk", action="store_true", help="use the Python client even if wrk is installed")
    ap.add_argument("--phases", default="123", help="the phases to run, e.g. 3 or 12 (default: all)")
    ap.add_argument(
        "--unsubscribe-connections", type=int, default=2, help="connections for (3)'s unsubscribes"
    )
    args = ap.parse_args(argv)
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk

    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}, Python {sys.version.split()[0]}, ", end="")
    print(f"{os.cpu_count()} CPU cores (server and load generator share them), load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="consentry-api-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"Preparing {args.contacts:,} contact points on SQLite ...")
        prep = prepare(url, args.contacts, links=5_000)
        paths = decision_paths(prep.refs, 20_000)
        raws = [request("GET", p, {"Authorization": f"Bearer {prep.token}"}) for p in paths]
        generator = "wrk (1 thread per port)" if use_wrk else "asyncio client"
        shape = (
            f"`uvicorn --workers {args.workers}` on one port"
            if args.shared_socket
            else (f"{args.workers} uvicorn process(es), one port each, connections dealt evenly")
        )
        print(f"Server: {shape}; load: {generator}; {args.duration:.0f} s per phase")
        lines: list[str] = []
        with server(url, args.workers, args.shared_socket) as srv:
            # Warm up, so the phases measure the steady state a long-running server is in: every
            # process is asked about every contact point once, in batches (its state cache fills,
            # however slow the machine is), then single questions run for --warmup seconds.
            warm(srv, prep)
            python_load(srv.ports, raws, args.concurrency, args.warmup)
            run = Run(srv, prep, args, use_wrk, paths, raws)
            if "1" in args.phases:
                lines.append(phase_single(run))
            if "2" in args.phases:
                lines.extend(phase_batches(run))
            if "3" in args.phases:
                lines.append(phase_unsubscribe(run))
    print()
    print("\n".join(lines))
    print(f"(load average at the end: {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
