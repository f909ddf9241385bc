"""Concurrent load benchmark (issue 3): locust users reading strain pages and searching.

Run::

    .venv/bin/python benchmarks/bench_load.py                          # SQLite, 100,000 strains
    .venv/bin/python benchmarks/bench_load.py --postgres URL           # PostgreSQL (empty or loaded)
    .venv/bin/python benchmarks/bench_load.py --think 0 --users 200    # no think time: saturation

* Data: the deterministic 100,000-strain catalogue of ``catalogue_data.py``, imported once
  with ``cellfoundry bank import`` semantics into ``benchmarks/.cache/load_<n>.db`` (SQLite;
  each run serves a fresh copy, so the cache never sees a migration) or into the empty
  PostgreSQL database given by ``--postgres`` (loaded once, reused while it holds the strains).
* Server: ``uvicorn --factory cellfoundry.api.app:create_app`` as a separate process on a
  free loopback port, ``--workers`` processes (default 2: one per core), no access log. The
  bank is migrated once before it starts (workers starting together would race to migrate),
  and every ``1 / --hidden-fraction``-th strain is made private (default: every tenth).
* Load: ``locust --headless`` as a subprocess with this very file as the locustfile (the
  user class below is only defined when locust imports the file). Each simulated person is
  a visitor (not signed in), arrives at a random moment of a think time, waits ``--think``
  seconds (uniform, default 0.5-2) between requests and mixes strain pages, search pages
  (words, taxon-name prefixes, facet filters, paging) and JSON API reads of visible strains.
  An unmeasured locust run of ``--warmup`` seconds comes first (pool connections, caches);
  the measured run's statistics are reset once every user is spawned.
* Report: one table from locust's stats CSV: requests, throughput, p50/p95/p99 and failures,
  overall and per request kind; the CPU of the app server, the PostgreSQL backends on the
  database (sampled, so backends a pool closes meanwhile count too), locust and the whole
  machine while the load ran, per counted request, and how many PostgreSQL sessions were
  opened. Any failure is listed and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

#: Words people type into the search box (common and rare catalogue words, genes, sources).
WORDS = (
    "coli",
    "subtilis",
    "Aspergillus",
    "ldhA",
    "sediment",
    "rhizosphere",
    "yeast",
    "glutamicum",
    "ptsG",
    "compost",
    "soil",
    "putida",
    "cerevisiae",
    "hot spring",
    "Bacillus soil",
)
#: Taxon-name prefixes, as typed while the name is not finished.
TAXON_PREFIXES = (
    "Aspergillus nig",
    "Pseudomonas put",
    "Saccharomyces cer",
    "Escherichia co",
    "Streptomyces coel",
    "Bacillus sub",
    "Lactobac",
    "Corynebacterium glu",
)
GENERA = ("Pseudomonas", "Bacillus", "Escherichia", "Aspergillus", "Saccharomyces", "Clostridium")
FACET_FILTERS = (
    "genus={genus}",
    "genus={genus}&organism_type=bacterium",
    "risk_group=2&status=restricted",
    "status=available&risk_group=1",
    "organism_type=yeast&status=available",
    "deposit_type=patent",
)

if __name__ != "__main__":
    # Imported by locust as the locustfile (``locust -f benchmarks/bench_load.py``).
    from locust import HttpUser, between, constant, task

    _N_STRAINS = int(os.environ.get("BENCH_LOAD_STRAINS", "100000"))
    _THINK = tuple(float(x) for x in os.environ.get("BENCH_LOAD_THINK", "0.5,2").split(","))

    _HIDDEN_STEP = int(os.environ.get("BENCH_LOAD_HIDDEN_STEP", "0"))

    def _accession() -> str:
        """A strain a visitor may see (every n-th one is private, see ``hide_strains``)."""
        return f"BJ{visible_number(random.randint(1, _N_STRAINS), _HIDDEN_STEP):07d}"

    class CataloguePerson(HttpUser):
        """One person browsing the catalogue: strain pages, searches, a few API reads."""

        wait_time = constant(0) if max(_THINK) == 0 else between(min(_THINK), max(_THINK))

        def on_start(self) -> None:
            """Arrive at a random moment of a think time, not all at once with the spawn."""
            time.sleep(random.uniform(0, max(_THINK)))

        def _get(self, path: str, name: str) -> None:
            with self.client.get(path, name=name, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
                elif not response.content:
                    response.failure("empty body")

        @task(8)
        def strain_page(self) -> None:
            self._get(f"/strains/{_accession()}", "page: strain")

        @task(3)
        def search_words(self) -> None:
            q = random.choice(WORDS)
            self._get(f"/strains?q={urllib.parse.quote(q)}", "page: search words")

        @task(2)
        def search_taxon_prefix(self) -> None:
            q = random.choice(TAXON_PREFIXES)
            self._get(f"/strains?q={urllib.parse.quote(q)}", "page: search taxon prefix")

        @task(2)
        def search_facets(self) -> None:
            filters = random.choice(FACET_FILTERS).format(genus=random.choice(GENERA))
            if random.random() < 0.5:
                filters += f"&q={random.choice(WORDS[:10])}"
            self._get(f"/strains?{filters}", "page: search facets")

        @task(1)
        def browse(self) -> None:
            self._get(f"/strains?offset={25 * random.randint(0, 200)}", "page: browse")

        @task(2)
        def api_strain(self) -> None:
            self._get(f"/api/strains/{_accession()}", "api: strain")

        @task(2)
        def api_search(self) -> None:
            if random.random() < 0.5:
                params = f"q={urllib.parse.quote(random.choice(WORDS))}"
            else:
                params = f"taxon={urllib.parse.quote(random.choice(TAXON_PREFIXES))}"
            self._get(f"/api/strains?{params}&limit=25", "api: search")


# -- the driver ---------------------------------------------------------------------------------


def build_sqlite(n: int) -> Path:
    """Import ``n`` catalogue strains into the cached SQLite bank, once."""
    from catalogue_data import write_catalogue_csv

    from cellfoundry.bank.services import Bank, read_and_import

    path = CACHE / f"load_{n}.db"
    if path.exists():
        return path
    csv_path = write_catalogue_csv(CACHE / f"catalogue_{n}.csv", n)
    tmp = path.with_name(path.name + ".tmp")
    for stale in tmp.parent.glob(tmp.name + "*"):
        stale.unlink()
    t0 = time.perf_counter()
    bank = Bank.open(f"sqlite:///{tmp}")
    read_and_import(bank, csv_path, kind="strain", actor="bench")
    with bank.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    bank.close()
    for extra in ("-wal", "-shm"):
        Path(f"{tmp}{extra}").unlink(missing_ok=True)
    tmp.rename(path)
    print(f"  imported {n:,} strains into {path} in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def build_postgres(url: str, n: int) -> None:
    """Load ``n`` catalogue strains into the (empty) PostgreSQL database at ``url``, once."""
    # bench_bank's loader (imported by name: mypy then checks this file, not that one)
    bench_bank = importlib.import_module("bench_bank")
    bench_bank.load_postgres(url, n).close()


def hide_strains(db_url: str, fraction: float) -> int:
    """Make every n-th catalogue number private (n = 1 / fraction); return n (0: none)."""
    from sqlalchemy import create_engine

    if fraction <= 0:
        return 0
    step = max(1, round(1 / fraction))
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        # only the rows that change: a reused PostgreSQL bank gets no dead rows to vacuum
        wanted = (
            f"CASE WHEN mod(CAST(substr(accession, 3) AS INTEGER), {step}) = 0 "
            "THEN 'private' ELSE 'public' END"
        )
        conn.exec_driver_sql(
            f"UPDATE strains SET visibility = {wanted} WHERE visibility <> {wanted}"
        )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return step


def visible_number(n: int, step: int) -> int:
    """The catalogue number ``n``, or its neighbour if ``n`` is one of the private ones."""
    return n - 1 if step and n % step == 0 else n


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """Start uvicorn serving ``create_app`` on ``db_url`` and wait until it answers."""
    env = dict(os.environ, CELLFOUNDRY_DATABASE_URL=db_url)
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "cellfoundry.api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    url = f"http://127.0.0.1:{port}/api/strains?limit=1&facets=false"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"server did not answer within 120 s:\n{log.read_text()}")
        time.sleep(0.3)
    if workers > 1:
        time.sleep(2.0)  # let every worker finish its start-up (migration check, bank open)
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def warm_up(port: int, n: int, step: int) -> None:
    """A few sequential requests of every kind: templates compiled, caches warm."""
    rng = random.Random(1)
    paths = [
        *(f"/strains/BJ{visible_number(rng.randint(1, n), step):07d}" for _ in range(10)),
        *(f"/api/strains/BJ{visible_number(rng.randint(1, n), step):07d}" for _ in range(5)),
        *(f"/strains?q={urllib.parse.quote(w)}" for w in WORDS + TAXON_PREFIXES),
        *(f"/strains?{f.format(genus='Bacillus')}" for f in FACET_FILTERS),
        "/strains?offset=2500",
        "/api/strains?taxon=Aspergillus%20nig",
    ]
    for path in paths:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
            response.read()


def _proc_table() -> dict[int, tuple[int, float, str]]:
    """Every process: pid -> (parent pid, CPU seconds user + system, command line)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / ticks,
            cmdline,
        )
    return table


def tree_cpu(root: int) -> float:
    """CPU seconds of process ``root`` and its descendants."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += table[pid][1] if pid in table else 0.0
        stack.extend(children.get(pid, []))
    return total


def backend_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend (or autovacuum worker) on ``database``."""
    if not database:
        return {}
    return {
        pid: cpu
        for pid, (_, cpu, cmd) in _proc_table().items()
        if cmd.startswith("postgres: ") and f" {database} " in cmd
    }


class BackendWatch(threading.Thread):
    """Follow the CPU of PostgreSQL backends on a database, also of those that exit meanwhile.

    A pool closes surplus connections under load, and an exited backend's CPU leaves /proc;
    sampling every quarter second keeps all but its last moments.
    """

    def __init__(self, database: str | None) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.start_cpu = backend_cpu(database)
        self.last_cpu = dict(self.start_cpu)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.last_cpu.update(backend_cpu(self.database))

    def stop(self) -> float:
        """Stop sampling; return the CPU seconds the backends used since the start."""
        self.done.set()
        self.join()
        self.last_cpu.update(backend_cpu(self.database))
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.last_cpu.items())


def machine_busy() -> tuple[float, float]:
    """Return (busy, total) jiffies of all CPUs so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return float(sum(fields[:8]) - idle), float(sum(fields[:8]))


def run_locust(
    port: int,
    users: int,
    spawn_rate: int,
    duration: int,
    think: str,
    n: int,
    prefix: Path,
) -> tuple[float, float]:
    """Run locust headless (CSVs at ``prefix``); return its CPU seconds and wall time."""
    exe = Path(sys.executable).with_name("locust")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "locust"]
    ramp = users / spawn_rate
    cmd += [
        "-f",
        str(Path(__file__).resolve()),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{duration + ramp:.0f}s",
        "--reset-stats",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    env = dict(os.environ, BENCH_LOAD_STRAINS=str(n), BENCH_LOAD_THINK=think)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
    t0, r0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with Path(f"{prefix}.log").open("wb") as log:
        subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    wall, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    return r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, wall


def pg_sessions(url: str) -> int:
    """Return how many sessions PostgreSQL has opened on the database so far."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            sql = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with Path(f"{prefix}_stats.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def print_table(rows: list[dict[str, str]]) -> None:
    head = f"{'request kind':<28} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'fail':>5}"
    print(head)
    print("-" * len(head))
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"{name:<28} {int(row['Request Count']):>9,} {float(row['Requests/s']):>7.1f} "
            f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7} {float(row['Max Response Time']):>7.0f} "
            f"{int(row['Failure Count']):>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strains", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=int, default=50, help="users started per second")
    parser.add_argument("--duration", type=int, default=60, help="seconds measured after ramp-up")
    parser.add_argument(
        "--think", default="0.5,2", help="MIN,MAX seconds a user waits between requests; 0: none"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="seconds of unmeasured load before the run"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--postgres", help="PostgreSQL URL (an empty database is loaded once)")
    parser.add_argument("--sqlite", type=Path, help="a SQLite bank to serve (default: the cache)")
    parser.add_argument(
        "--skip-build", action="store_true", help="never import; the data must already be there"
    )
    parser.add_argument("--keep", type=Path, help="keep locust's CSVs and logs in this directory")
    parser.add_argument(
        "--hidden-fraction",
        type=float,
        default=0.1,
        help="share of strains made private before the run (patent deposits, unpublished "
        "work); the simulated people are visitors, so every request applies the policy",
    )
    args = parser.parse_args()
    think = "0,0" if args.think.strip() in ("0", "none") else args.think

    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp_name:
        tmp = Path(tmp_name)
        if args.postgres:
            db_url, label = args.postgres, "PostgreSQL"
            if not args.skip_build:
                build_postgres(db_url, args.strains)
        else:
            label = "SQLite"
            if args.sqlite:
                source = args.sqlite
            elif args.skip_build:
                source = CACHE / f"load_{args.strains}.db"
            else:
                source = build_sqlite(args.strains)
            if not source.exists():
                raise SystemExit(f"no SQLite bank at {source}; run without --skip-build")
            served = tmp / "bank.db" if not args.sqlite else source
            if not args.sqlite:
                shutil.copyfile(source, served)
            db_url = f"sqlite:///{served}"

        # migrate once here: workers starting together would race to migrate the same bank
        from cellfoundry.bank.services import Bank

        Bank.open(db_url).close()
        step = hide_strains(db_url, args.hidden_fraction)
        os.environ["BENCH_LOAD_HIDDEN_STEP"] = str(step)
        load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        port = free_port()
        server = start_server(db_url, port, args.workers, tmp / "server.log")
        try:
            warm_up(port, args.strains, step)
            if args.warmup > 0:
                print(
                    f"  warm-up: {args.users} users for {args.warmup} s (not measured)", flush=True
                )
                run_locust(
                    port,
                    args.users,
                    args.spawn_rate,
                    args.warmup,
                    think,
                    args.strains,
                    tmp / "warmup",
                )
            database = make_url(db_url).database if args.postgres else None
            sessions0 = pg_sessions(db_url) if args.postgres else 0
            watch = BackendWatch(database)
            watch.start()
            cpu0, busy0 = tree_cpu(server.pid), machine_busy()
            prefix = tmp / "locust"
            locust_cpu, wall = run_locust(
                port, args.users, args.spawn_rate, args.duration, think, args.strains, prefix
            )
            cpu1, busy1 = tree_cpu(server.pid), machine_busy()
            db_cpu = watch.stop()
            sessions = pg_sessions(db_url) - sessions0 - 1 if args.postgres else 0
            server_alive = server.poll() is None
        finally:
            stop_server(server)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for item in tmp.iterdir():
                if item.suffix in (".csv", ".log"):
                    shutil.copy(item, args.keep / item.name)
        if not Path(f"{prefix}_stats.csv").exists():
            raise SystemExit(f"locust wrote no statistics:\n{(tmp / 'locust.log').read_text()}")
        rows = read_stats(prefix)
        failures = read_failures(prefix)
        server_log = (tmp / "server.log").read_text(errors="replace").strip()

    think_text = "none" if think == "0,0" else f"{think.replace(',', '-')} s"
    print(
        f"\n{label}, {args.strains:,} strains, {args.users} users, think time {think_text}, "
        f"{args.duration} s measured, uvicorn workers {args.workers}; "
        f"load average before the run {load_before}\n"
    )
    print_table(rows)
    busy = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1.0) * (os.cpu_count() or 1)
    db_text = f"PostgreSQL backends {db_cpu / wall:.2f}, " if args.postgres else ""
    print(
        f"\nCPU while loaded (cores, of {os.cpu_count()}): app server {(cpu1 - cpu0) / wall:.2f}, "
        f"{db_text}locust {locust_cpu / wall:.2f}, whole machine {busy:.2f} (other jobs: the rest)"
    )
    served = sum(int(r["Request Count"]) for r in rows if r["Name"] != "Aggregated")
    if served:
        # includes the ramp-up and warm-up requests locust's reset statistics do not count
        per_request = (cpu1 - cpu0) / served * 1000
        db_per_request = f", PostgreSQL {db_cpu / served * 1000:.1f} ms" if args.postgres else ""
        print(
            f"CPU per counted request: app server {per_request:.1f} ms{db_per_request} "
            f"(upper bound: the ramp-up's requests are not counted)"
        )
    if args.postgres:
        print(f"PostgreSQL sessions opened during the run: {sessions}")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(
        f"\n| {label} | {args.users} | {think_text} | {float(total['Requests/s']):.0f} req/s "
        f"| {total['50%']} ms | **{total['95%']} ms** | {total['99%']} ms "
        f"| {int(total['Failure Count'])} of {int(total['Request Count']):,} |"
    )
    if failures:
        print("\nFailures:")
        for f in failures:
            print(f"  {f['Occurrences']:>6} × {f['Method']} {f['Name']}: {f['Error']}")
    if server_log:
        print(f"\nServer log:\n{server_log[-3000:]}")
    if failures or not server_alive or int(total["Failure Count"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
