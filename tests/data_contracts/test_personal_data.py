"""The value detector (data_contracts/personal_data.py): what it redacts, what it must leave alone (ids,
dates, amounts, hashes), and the marker's salt. Expected markers are computed by hand with hmac."""

from __future__ import annotations

import hashlib
import hmac
import stat

import polars as pl
import pytest

from data_contracts import personal_data as pd_


@pytest.mark.parametrize(("text", "kind"), [
    ("07701234567", "phone"), ("0770 999 8888", "phone"), ("0770-999-8888", "phone"), ("+964 770 123 4567", "phone"),
    ("00964 7701234567", "phone"), ("9647701234567", "phone"), ("7701234567", "phone"), ("+44 20 7946 0958", "phone"),
    ("٠٧٧٠١٢٣٤٥٦٧", "phone"), ("ahmed.ali@example.iq", "email"), ("33.301,44.361", "gps"),
    ("33.3012 44.3611", "gps"), ("199012345678", "national_id"), ("1990 1234 5678", "national_id"),
])
def test_personal_values_are_found_with_their_kind(text, kind):
    assert pd_.find(text) == [(kind, pd_.find(text)[0][1])]
    assert pd_.redact_text(f"see {text} here").startswith(f"see <redacted {kind} #")


@pytest.mark.parametrize("text", [
    "2025-03-02T09:15:00.000+03:00", "2025-03-02", "IQG04", "IQD thousand", "1,500,000,000", "1500000000000",
    "12.5", "36.19 44.01 300 5", "9e307", "12345678-1234-5678-9abc-def012345678", "uuid:12345678-1234-4678-9abc-def0",
    "a1b2" + "0" * 60, "2025-R1", "s1", "row 12", "0.123456",
])
def test_ids_dates_amounts_and_hashes_are_left_alone(text):
    assert pd_.find(text) == [] and pd_.redact_text(text) == text


def test_the_marker_is_an_hmac_of_the_normalised_value_with_the_warehouse_salt(tmp_path):
    warehouse = tmp_path / "wh" / "mizan.duckdb"
    path = pd_.use_warehouse(warehouse)
    assert path == tmp_path / "wh" / ".mizan.redaction-salt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    salt = path.read_bytes().strip()
    expected = hmac.new(salt, b"07709998888", hashlib.sha256).hexdigest()[:8]
    for written in ("0770 999 8888", "+964 770 999 8888", "07709998888", "7709998888"):
        assert pd_.marker("phone", written) == f"<redacted phone #{expected}>"
    pd_.use_warehouse(tmp_path / "other" / "mizan.duckdb")  # another warehouse: another salt, another marker
    assert pd_.marker("phone", "07709998888") != f"<redacted phone #{expected}>"
    pd_.use_warehouse(warehouse)  # the salt file is kept, not remade
    assert pd_.marker("phone", "07709998888") == f"<redacted phone #{expected}>"


def test_a_frame_is_redacted_value_by_value_and_counted():
    frame = pl.DataFrame({"text": ["ok", "call 0790 111 2003", None, "call 0790 111 2003", "a@b.iq and 07701234567"],
                          "n": [1, 2, 3, 4, 5], "file_sha256": ["07701234567"] * 5})
    out, counts = pd_.redact_frame(frame, skip={"file_sha256"})
    assert out["text"].to_list()[:3] == ["ok", f"call {pd_.marker('phone', '07901112003')}", None]
    assert out["text"][4] == f"{pd_.marker('email', 'a@b.iq')} and {pd_.marker('phone', '07701234567')}"
    assert counts == {("text", "phone"): 3, ("text", "email"): 1}
    assert out["n"].to_list() == [1, 2, 3, 4, 5] and out["file_sha256"][0] == "07701234567"


def test_an_error_made_from_a_personal_value_never_holds_it():
    from pipelines.ingest.common import FatalSourceError

    err = FatalSourceError("data.csv: row 3 weight '0771 234 5678' is not a number")
    assert "0771" not in str(err) and "row 3" in str(err) and "<redacted phone #" in str(err)
