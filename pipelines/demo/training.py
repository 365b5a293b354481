"""SYNTHETIC training records for the demo: the programme's nine cohorts of officials.

Six cohorts of 20 in fiscal federalism and decentralization (FF-1..FF-6) and three of 20 in resilience
building for the Kurdistan Region and the areas retaken from ISIS (RS-1..RS-3), one CSV per track in
``training/mizan_demo_training/`` as a training unit keeps them: one row per participant and cohort, the
person's name, phone and e-mail (invented), five attendance columns (percent of each session attended)
and pre/post test scores out of 100. Planted faults the run must report:

- a participant of FF-2 registered again in FF-5 (same participant code, same track) -> quarantined;
- an attendance of 110 % in FF-4 -> quarantined;
- a post-test without a pre-test in RS-2 -> loaded, flagged for review, no knowledge gain.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

SOURCE_DIR = Path("training") / "mizan_demo_training"
TRACKS = {
    "fiscal_federalism": ("Fiscal federalism and decentralization", "FF",
                          ["2025-02-09", "2025-05-11", "2025-09-14", "2026-01-18", "2026-04-12", "2026-09-06"]),
    "resilience": ("Resilience building", "RS", ["2025-03-16", "2025-10-05", "2026-03-08"]),
}
COHORT_SIZE = 20
SESSIONS = 5
HEADER = ["Participant code", "Full name", "Phone", "E-mail", "Track", "Cohort", "Cohort start",
          "Governorate / institution", "Level of government", "Sex", "Role",
          *[f"Session {i} (%)" for i in range(1, SESSIONS + 1)], "Pre-test (/100)", "Post-test (/100)"]
# fiscal federalism: every governorate and federal ministries; resilience: the Kurdistan Region and the
# governorates retaken from ISIS, and KRG ministries
FF_PLACES = ["Baghdad", "Basrah", "Ninewa", "Anbar", "Najaf", "Karbala", "Babil", "Wasit", "Dhi Qar", "Maysan",
             "Muthanna", "Qadisiyah", "Diyala", "Kirkuk", "Salah al-Din", "Erbil", "Duhok", "Sulaymaniyah",
             "Federal Ministry of Finance", "Federal Ministry of Planning"]
RS_PLACES = ["Erbil", "Duhok", "Sulaymaniyah", "Halabja", "Ninewa", "Anbar", "Salah al-Din", "Kirkuk", "Diyala",
             "KRG Ministry of Planning"]
ROLES = ["Director general", "Budget officer", "Planning officer", "Council member", "Engineer", "Auditor"]


def _level(place: str) -> str:
    if place.startswith("Federal"):
        return "Federal"
    if place.startswith("KRG"):
        return "Kurdistan Region"
    return "Governorate"


def _rows(track: str, rng: np.random.Generator, start_code: int) -> list[dict]:
    label, prefix, starts = TRACKS[track]
    places = FF_PLACES if track == "fiscal_federalism" else RS_PLACES
    rows, code = [], start_code
    for c, start in enumerate(starts, start=1):
        for _ in range(COHORT_SIZE):
            code += 1
            place = places[int(rng.integers(len(places)))]
            attendance = rng.choice([100] * 14 + [75, 50, 0], size=SESSIONS)
            pre = int(np.clip(round(rng.normal(52, 12)), 5, 95))
            post = int(np.clip(round(pre + rng.normal(17, 8)), 0, 100))
            rows.append({
                "Participant code": f"P-{code:04d}", "Full name": f"SYNTHETIC NAME {code:06d}",
                "Phone": f"+964 7xx xxx {code:04d}", "E-mail": f"participant{code:04d}@example.invalid",
                "Track": label, "Cohort": f"{prefix}-{c}", "Cohort start": start,
                "Governorate / institution": place, "Level of government": _level(place),
                "Sex": "Female" if rng.random() < 0.3 else "Male", "Role": ROLES[int(rng.integers(len(ROLES)))],
                **{f"Session {i + 1} (%)": str(int(a)) for i, a in enumerate(attendance)},
                "Pre-test (/100)": str(pre), "Post-test (/100)": str(post),
            })
    return rows


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def generate(rng: np.random.Generator) -> tuple[dict[str, tuple[bytes, int]], dict]:
    """The two CSV files (``{relative path: (bytes, data rows)}``) and ``{"info", "faults"}``: per file the
    cohorts and rows; each planted fault with file, 1-based data row, column, value and expected outcome."""
    ff = _rows("fiscal_federalism", rng, 0)
    rs = _rows("resilience", rng, 500)
    ff_path = (SOURCE_DIR / "cohorts_fiscal_federalism.csv").as_posix()
    rs_path = (SOURCE_DIR / "cohorts_resilience.csv").as_posix()
    # fault 1: the 3rd participant of FF-2 registered again in FF-5 (row 5 of that cohort)
    first, again = ff[COHORT_SIZE + 2], ff[4 * COHORT_SIZE + 4]
    again["Participant code"] = first["Participant code"]
    # fault 2: an attendance above 100 % in FF-4
    over = ff[3 * COHORT_SIZE + 7]
    over["Session 3 (%)"] = "110"
    # fault 3: a post-test without a pre-test in RS-2
    no_pre = rs[COHORT_SIZE + 11]
    no_pre["Pre-test (/100)"] = ""
    faults = [
        {"file": ff_path, "row_number": 4 * COHORT_SIZE + 5, "column": "Participant code", "value": again["Participant code"],
         "outcome": "quarantined", "description": f"the same person as row {COHORT_SIZE + 3} (cohort FF-2) "
         "registered again in FF-5: one person counts once per track"},
        {"file": ff_path, "row_number": 3 * COHORT_SIZE + 8, "column": "Session 3 (%)", "value": "110",
         "outcome": "quarantined", "description": "attendance above 100 % of the session"},
        {"file": rs_path, "row_number": COHORT_SIZE + 12, "column": "Pre-test (/100)", "value": "",
         "outcome": "loaded and flagged for review", "description": "a post-test without a pre-test: trained, "
         "but no knowledge gain"},
    ]
    payloads = {ff_path: (_csv(ff), len(ff)), rs_path: (_csv(rs), len(rs))}
    info = {"source_id": "mizan_demo_training", "cohort_size": COHORT_SIZE, "sessions": SESSIONS,
            "cohorts": {t: [f"{TRACKS[t][1]}-{i + 1}" for i in range(len(TRACKS[t][2]))] for t in TRACKS},
            "files": [ff_path, rs_path]}
    return payloads, {"info": info, "faults": faults}


def readme_lines(info: dict) -> list[str]:
    """The README section describing the training files."""
    return [
        "TRAINING COHORTS (SYNTHETIC)",
        "----------------------------",
        f"{SOURCE_DIR.as_posix()}/ (one CSV per track): the programme's courses, one row per participant",
        "and cohort, as a training unit keeps them: six cohorts of 20 officials in fiscal federalism",
        "and decentralization (FF-1..FF-6, 2025-2026) and three cohorts of 20 in resilience building for the",
        "Kurdistan Region and the retaken areas (RS-1..RS-3). Columns: participant code (the programme's own,",
        "the same in every cohort a person attends), name, phone and e-mail (invented; never loaded), track,",
        "cohort, cohort start, governorate or institution, level of government, sex, role, attendance per",
        f"session (percent of each of {info['sessions']} sessions) and pre/post test scores out of 100.",
        "A participant completes the course with a mean attendance of at least 80 % (the mapping's threshold).",
        "",
    ]
