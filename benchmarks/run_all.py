"""Run every benchmark in turn and print their Markdown result rows (``make bench``).

PostgreSQL figures need ``CELLFOUNDRY_BENCH_POSTGRES_URL`` (an empty database).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "bench_bank.py",
    "bench_sequence_search.py",
    "bench_offtarget.py",
    "bench_dna_design.py",
):
    print(f"## {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
