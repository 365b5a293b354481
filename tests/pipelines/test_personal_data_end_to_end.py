"""Personal data seeded in every kind of column goes through the real `mizan run` and is found nowhere
afterwards: not in any table of the published warehouse (every schema, every text column), not in the
step logs, the journal or the printed output. Its redaction markers are there instead."""

from __future__ import annotations

import re
import stat
import textwrap
from pathlib import Path

import duckdb

from data_contracts import personal_data
from pipelines.cli import main
from pipelines.publish import Layout, current_snapshot

MAPPING = """
source_id: seeded
domain: survey
title: a survey with personal data in unexpected columns
format: csv
files: [{path: data.csv, wave_id: "2025"}]
respondent_id: id
governorate: {column: gov}
stratum: {column: stratum}
psu: {per_respondent: true}
weight: {column: w}
weight_note: test
design_note: test
questions:
  water_service_rating: {column: rating}
  water_piped_hours_per_day: {column: hours}
"""

#: Seeded values as written in the file, and the other spellings a search must also not find.
SEEDED = {
    "rating": "07701234567",                       # a phone number in a rating (quarantined)
    "gov": "0770 999 8888",                        # a phone number in the governorate (quarantined)
    "hours": "33.301,44.361",                      # a GPS pair in a number column (quarantined)
    "remarks": "call 0790 111 2003 after 5pm",      # a phone inside free text (loaded, redacted)
    "contact_info": "write to ahmed.ali@example.iq",  # an e-mail inside free text
    "where": "seen at 36.1912 44.0089",            # a GPS pair inside free text
    "note": "card 1987 6543 2109",                 # a national id inside free text
    "stratum": "+964 750 123 4567",                # a phone number as a design value (loaded, redacted)
    "id": "199012345678",                          # a national id as the respondent id
}
NEEDLES = [
    "07701234567", "7701234567", "0770 999 8888", "07709998888", "33.301,44.361", "0790 111 2003",
    "07901112003", "ahmed.ali@example.iq", "36.1912 44.0089", "1987 6543 2109", "198765432109",
    "+964 750 123 4567", "750 123 4567", "7501234567", "199012345678",
]


def write_landing(root: Path) -> Path:
    folder = root / "surveys" / "seeded"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    header = ["id", "gov", "stratum", "w", "rating", "hours", "remarks", "contact_info", "where", "note"]
    rows = []
    for i in range(60):
        row = {"id": f"r{i}", "gov": "Baghdad" if i % 2 else "Basra", "stratum": f"s{i % 3}", "w": "1.5",
               "rating": "good" if i % 3 else "poor", "hours": str(i % 24), "remarks": f"ok {i}",
               "contact_info": "none", "where": "home", "note": "-"}
        rows.append(row)
    rows[1]["rating"] = SEEDED["rating"]
    rows[2]["gov"] = SEEDED["gov"]
    rows[3]["hours"] = SEEDED["hours"]
    rows[4]["remarks"] = SEEDED["remarks"]
    rows[5]["contact_info"] = SEEDED["contact_info"]
    rows[6]["where"] = SEEDED["where"]
    rows[7]["note"] = SEEDED["note"]
    rows[8]["stratum"] = SEEDED["stratum"]
    rows[9]["id"] = SEEDED["id"]
    text = ",".join(header) + "\n" + "\n".join(",".join(f'"{r[c]}"' for c in header) for r in rows) + "\n"
    (folder / "data.csv").write_text(text, encoding="utf-8")
    return root


def text_cells(snapshot: Path) -> list[tuple[str, str, str]]:
    """Every non-NULL text value of every table and view of every schema: (table, column, value)."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_catalog = current_database() ORDER BY ALL").fetchall()
        out = []
        for schema, table, column in cols:
            q = f'"{schema}"."{table}"'
            for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM {q} WHERE "{column}" IS NOT NULL').fetchall():
                out.append((f"{schema}.{table}", column, v))
        return out
    finally:
        con.close()


def assert_nowhere(texts: dict[str, str]) -> None:
    found = [(where, n) for where, text in texts.items() for n in NEEDLES if n in text]
    assert found == []


def test_seeded_personal_data_is_found_nowhere_after_a_run(tmp_path, capsys):
    warehouse = tmp_path / "wh" / "mizan.duckdb"
    code = main(["run", "--data-dir", str(write_landing(tmp_path / "in")), "--warehouse", str(warehouse)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    snapshot = current_snapshot(warehouse)
    cells = text_cells(snapshot)
    assert len({t for t, _c, _v in cells}) > 20  # the search did read the warehouse: raw, audit, staging, marts
    layout = Layout.of(warehouse)
    logs = {str(p): p.read_text(encoding="utf-8") for p in layout.logs_dir.rglob("*") if p.is_file()}
    assert logs
    assert_nowhere({
        **{f"{t}.{c}": v for t, c, v in cells}, **logs, "journal": layout.journal.read_text(encoding="utf-8"),
        "stdout": printed.out, "stderr": printed.err,
    })

    # the markers are there, the same marker for the same number however it was written
    by_column = {}
    for t, c, v in cells:
        by_column.setdefault(f"{t}.{c}", []).append(v)
    personal_data.use_warehouse(warehouse)
    phone = personal_data.marker("phone", "07701234567")
    assert phone == personal_data.marker("phone", "+964 770 123 4567")
    assert phone in by_column["audit.quarantine.value"]
    assert personal_data.marker("phone", "0770 999 8888") in by_column["audit.quarantine.value"]
    assert personal_data.marker("gps", "33.301,44.361") in by_column["audit.quarantine.value"]
    submissions = set(by_column["raw.survey_submissions.value_text"])
    assert f"call {personal_data.marker('phone', '0790 111 2003')} after 5pm" in submissions
    assert f"write to {personal_data.marker('email', 'ahmed.ali@example.iq')}" in submissions
    assert f"seen at {personal_data.marker('gps', '36.1912 44.0089')}" in submissions
    assert f"card {personal_data.marker('national_id', '1987 6543 2109')}" in submissions
    assert personal_data.marker("phone", "+964 750 123 4567") in by_column["raw.survey_respondents.stratum"]
    assert personal_data.marker("national_id", "199012345678") in by_column["raw.survey_respondents.respondent_id"]
    # the run summary says how many values were redacted (the seeded row's submissions among them)
    assert re.search(r"seeded: \d+ phone value\(s\) in .*raw\.survey_submissions\.value_text", printed.out)
    assert "seeded: 1 email value(s) in raw.survey_submissions.value_text" in printed.out
    assert "seeded/data.csv: 3 row(s)" in printed.out  # quarantined rows by file

    # the salt: one secret file next to the warehouse, readable by its owner only, in no table or log
    salt_file = personal_data.salt_path(warehouse)
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    salt = salt_file.read_text(encoding="ascii").strip()
    assert len(salt) == 64
    assert not any(salt in str(v) for _t, _c, v in cells) and not any(salt in t for t in logs.values())


def test_a_failed_run_names_the_row_without_the_personal_value(tmp_path, capsys):
    """A phone number in the weight column stops the run: the error names file and row, never the number."""
    root = write_landing(tmp_path / "in")
    data = root / "surveys" / "seeded" / "data.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    cells = lines[11].split(",")
    cells[3] = '"0771 234 5678"'
    lines[11] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    warehouse = tmp_path / "wh" / "mizan.duckdb"
    code = main(["run", "--data-dir", str(root), "--warehouse", str(warehouse)])
    printed = capsys.readouterr()
    assert code == 1
    assert "data.csv" in printed.err and "row 11" in printed.err and "<redacted phone #" in printed.err
    layout = Layout.of(warehouse)
    texts = {"stdout": printed.out, "stderr": printed.err, "journal": layout.journal.read_text(encoding="utf-8"),
             **{str(p): p.read_text(encoding="utf-8") for p in layout.logs_dir.rglob("*") if p.is_file()}}
    assert "<redacted phone #" in texts["journal"]
    for needle in ("0771 234 5678", "07712345678", "7712345678"):
        assert [w for w, t in texts.items() if needle in t] == []
