"""Regenerate the synthetic plate-reader files of tests/assay/data (see README.md).

Run from the repository root: ``.venv/bin/python tests/assay/data/make_data.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np
import openpyxl

HERE = Path(__file__).resolve().parent
BLANK_OD = 0.045
# well -> (sample, replicate, A, mu_max 1/h, lag h); None = blank (medium)
WELLS: dict[str, tuple[str, int, float, float, float] | None] = {
    "A1": ("wt", 1, 4.0, 0.80, 3.0),
    "A2": ("wt", 2, 4.0, 0.80, 3.0),
    "A3": ("wt", 3, 4.0, 0.80, 3.0),
    "A4": ("mutX", 1, 3.5, 0.50, 5.0),
    "A5": ("mutX", 2, 3.5, 0.50, 5.0),
    "A6": ("mutX", 3, 3.5, 0.85, 5.0),  # the replicate outlier
    "B1": ("slow", 1, 3.0, 0.30, 6.0),
    "B2": ("slow", 2, 3.0, 0.30, 6.0),
    "B3": ("slow", 3, 0.0, 0.30, 6.0),  # never grows
    "B4": None,
    "B5": None,
    "B6": None,
}
SATURATED = ("A2", 30)  # (well, time index) written as OVRFLW


def gompertz(t: np.ndarray, a: float, mu: float, lag: float) -> np.ndarray:
    if a == 0:
        return np.zeros_like(t)
    return a * np.exp(-np.exp(mu * math.e / a * (lag - t) + 1.0))


def table() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(20261128)
    t = np.arange(0, 24.01, 0.5)
    temp = np.round(30.0 + rng.normal(0, 0.05, t.size), 1)
    data: dict[str, np.ndarray] = {}
    for well, spec in WELLS.items():
        if spec is None:
            od = BLANK_OD + rng.normal(0, 0.001, t.size)
        else:
            _, _, a, mu, lag = spec
            od = BLANK_OD + 0.01 * np.exp(gompertz(t, a, mu, lag) + rng.normal(0, 0.02, t.size))
        data[well] = np.round(od, 4)
    return t, temp, data


def hms(hours: float) -> str:
    s = round(hours * 3600)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def main() -> None:
    t, temp, data = table()
    header_meta: list[list[str]] = [
        ["Software Version", "3.11.19"],
        ["Experiment File Path:", r"C:\Users\foundry\growth_2026-11-27.xpt"],
        ["Plate Number", "Plate 1"],
        ["Date", "11/27/2026"],
        ["Time", "10:15:02 AM"],
        ["Reader Type:", "Synergy H1"],
        [],
        ["Procedure Details"],
        ["Set Temperature", "Setpoint 30°C"],
        ["Start Kinetic", "Runtime 24:00:00 (HH:MM:SS), Interval 0:30:00, 49 Reads"],
        ["", "Read", "Absorbance Endpoint"],
        ["", "", "Wavelengths:  1", "600"],
        [],
        ["OD:600"],
        [],
    ]
    wells = list(WELLS)
    rows: list[list[object]] = [["Time", "T° OD:600", *wells]]
    for i, ti in enumerate(t):
        vals: list[object] = [float(data[w][i]) for w in wells]
        if i == SATURATED[1]:
            vals[wells.index(SATURATED[0])] = "OVRFLW"
        rows.append([hms(ti), float(temp[i]), *vals])
    with (HERE / "gen5_kinetic.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows(header_meta)
        w.writerows(rows)
        w.writerows([[], ["Results"], ["Well", "Max V [OD600]"]])
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Plate 1 - Sheet1"
    for meta in header_meta:
        ws.append(meta)
    ws.append(rows[0])
    for r in rows[1:]:
        seconds = round(
            sum(int(x) * f for x, f in zip(str(r[0]).split(":"), (3600, 60, 1), strict=False))
        )
        ws.append([dt.timedelta(seconds=seconds), *r[1:]])
        ws.cell(ws.max_row, 1).number_format = "[h]:mm:ss"
    ws.append([])
    ws.append(["Results"])
    book.save(HERE / "gen5_kinetic.xlsx")
    with (HERE / "plate_map.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["well", "strain", "replicate", "role"])
        for well, spec in WELLS.items():
            if spec is None:
                w.writerow([well, "medium", "", "blank"])
            else:
                w.writerow([well, spec[0], spec[1], "sample"])


if __name__ == "__main__":
    main()
