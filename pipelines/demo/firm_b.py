"""The demo's second survey firm: a SYNTHETIC SPSS delivery (``.sav``) on 4-point scales, with planted faults.

"Firm B" surveyed households in six southern governorates in July 2025 about electricity and water, the
way many Iraqi survey firms deliver: an SPSS file whose variable and value labels are in Arabic, numeric
codes with value labels, a user-missing "don't know" code (9 for ratings, 99 for hours), its own design
(strata = governorate x urban/rural, enumeration areas of 10 households, final weights), an enumerator
code and the firm's quality-control decision per interview (``qc_status``). Its water and electricity
ratings have **four** points (very good, good, bad, very bad), declared onto the question bank's top and
bottom box in ``data_contracts/sources/mizan_demo_firm_b.yaml``; trust in local government uses the
question bank's own 4-point scale.

Planted faults (rows are 1-based data rows of the file), each showing one rule of the ingestion:

* ``consent = 2`` (no): excluded ("no consent");
* ``qc_status = "not approved"``: excluded (review status);
* one interview delivered twice (a late batch repeated it at the end of the file): the copy is excluded
  ("exact duplicate");
* two different households keyed with the same ``hh_id``: both quarantined (which one is right cannot be
  told);
* one enumerator's two interviews in one enumeration area with the same answers but one: both loaded,
  the pair flagged in ``audit.review_flags`` (soft duplicate).

Same seed and arguments give byte-identical files: ReadStat stamps the SPSS header with the time of
writing (creation date and time, 17 bytes at offset 92), which is overwritten with a fixed stamp.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyreadstat

from pipelines.demo import generate as g

SOURCE_ID = "mizan_demo_firm_b"
WAVE = 2025
WAVE_ID = str(WAVE)
DIR = Path("surveys") / SOURCE_ID
PATH = DIR / f"firm_b_wave_{WAVE}.sav"
FILE_LABEL = "SYNTHETIC demo data - firm B electricity and water survey 2025"  # SPSS keeps 64 bytes
#: Governorates firm B covered (a visibly partial survey: 6 of 19).
GOVERNORATE_CODES = ("basrah", "thi_qar", "maysan", "muthanna", "qadisiyah", "wassit")
CLUSTER_SIZE = 10
MIN_HOUSEHOLDS = 2 * 2 * CLUSTER_SIZE * len(GOVERNORATE_CODES)  # two strata x two EAs of 10 per governorate
FIELDWORK = (dt.date(2025, 7, 6), dt.date(2025, 7, 31))
NOT_APPROVED_ROWS = 5  # interviews the firm's quality control did not approve
#: SPSS header: creation date ("dd Mmm yy", 9 bytes) and time ("hh:mm:ss", 8 bytes) at offset 92
#: (after $FL2, product name, layout code, case size, compression, weight index, case count, bias).
_SPSS_STAMP_OFFSET = 92
_SPSS_STAMP = b"31 Jul 2518:00:00"

RATING_4 = {1: "جيدة جدا", 2: "جيدة", 3: "سيئة", 4: "سيئة جدا", 9: "لا أعرف"}
TRUST_4 = {1: "كثيرا جدا", 2: "إلى حد ما", 3: "ليس كثيرا", 4: "لا أثق على الإطلاق", 9: "لا أعرف"}
YES_NO = {1: "نعم", 2: "لا"}
YES_NO_DK = {1: "نعم", 2: "لا", 9: "لا أعرف"}

#: Variables in file order: name -> (Arabic variable label, SPSS format, value labels or None).
VARIABLES: dict[str, tuple[str, str, dict[int, str] | None]] = {
    "hh_id": ("رقم الأسرة", "A10", None),
    "int_date": ("تاريخ المقابلة", "DATE11", None),
    "enum_id": ("رمز الباحث الميداني", "F3.0", None),
    "qc_status": ("قرار التدقيق", "A12", None),
    "gov": ("المحافظة", "F2.0", None),  # value labels: the governorates' Arabic names (built below)
    "stratum": ("الطبقة (المحافظة × حضر/ريف)", "F3.0", None),
    "ea": ("رمز منطقة العد", "F6.0", None),
    "urban": ("حضر أم ريف", "F1.0", {1: "حضر", 2: "ريف"}),
    "consent": ("هل توافق على المشاركة؟", "F1.0", YES_NO),
    "resp_name": ("اسم المستجيب", "A40", None),
    "resp_phone": ("رقم هاتف المستجيب", "A20", None),
    "hoh_sex": ("جنس رب الأسرة", "F1.0", {1: "ذكر", 2: "أنثى"}),
    "hh_size": ("عدد أفراد الأسرة", "F2.0", None),
    "resp_age": ("عمر المستجيب", "F2.0", None),
    "q_water_rating": ("كيف تقيّم خدمة مياه الإسالة؟", "F1.0", RATING_4),
    "q_piped": ("هل المسكن مربوط بشبكة مياه الإسالة؟", "F1.0", YES_NO),
    "q_water_hours": ("كم ساعة تتوفر مياه الإسالة في اليوم؟", "F2.0", {99: "لا أعرف"}),
    "q_elec_rating": ("كيف تقيّم خدمة الكهرباء الوطنية؟", "F1.0", RATING_4),
    "q_elec_hours": ("كم ساعة تتوفر كهرباء الشبكة الوطنية في اليوم؟", "F2.0", None),
    "q_generator": ("هل تشترك الأسرة بمولدة أهلية؟", "F1.0", YES_NO),
    "q_gen_amps": ("كم أمبير تشترك الأسرة بالمولدة؟", "F2.0", None),
    "q_gen_cost": ("كلفة اشتراك المولدة الشهرية (دينار)", "F6.0", None),
    "q_trust_lg": ("إلى أي مدى تثق بالحكومة المحلية في محافظتك؟", "F1.0", TRUST_4),
    "q_complaint": ("هل قدمت الأسرة شكوى عن الكهرباء أو الماء خلال 12 شهرا؟", "F1.0", YES_NO),
    "q_complaint_action": ("هل تم اتخاذ إجراء بشأن الشكوى؟", "F1.0", YES_NO_DK),
    "wt_final": ("الوزن النهائي", "F10.4", None),
}
#: Answer variables (everything after consent but the personal ones): empty when consent is no.
ANSWERS = ("hoh_sex", "hh_size", "resp_age", "q_water_rating", "q_piped", "q_water_hours", "q_elec_rating",
           "q_elec_hours", "q_generator", "q_gen_amps", "q_gen_cost", "q_trust_lg", "q_complaint",
           "q_complaint_action")
MISSING = {"q_water_rating": [9], "q_elec_rating": [9], "q_trust_lg": [9], "q_complaint_action": [9],
           "q_water_hours": [99]}


def households_for(households_per_wave: int) -> int:
    """Firm B's sample: 30 % of a national wave, at least two EAs of 10 in each of its 12 strata."""
    return max(MIN_HOUSEHOLDS, households_per_wave * 3 // 10)


def _govs() -> list[tuple[int, g.Governorate]]:
    by_code = {gv.code: (i, gv) for i, gv in enumerate(g.GOVERNORATES)}
    return [by_code[c] for c in GOVERNORATE_CODES]


def _rating4(eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """4-point rating, codes 1..4 (very good, good, bad, very bad); P(code <= 2) = expit(eta)."""
    latent = eta + rng.logistic(size=eta.shape[0])
    return np.select([latent > 1.5, latent > 0.0, latent > -1.5], [1, 2, 3], 4).astype(np.int64)


def _fieldwork_days() -> list[dt.date]:
    days = [FIELDWORK[0] + dt.timedelta(d) for d in range((FIELDWORK[1] - FIELDWORK[0]).days + 1)]
    return [d for d in days if d.weekday() != 4]  # no fieldwork on Fridays


def true_parameters(params: Any, local: Any) -> dict[str, dict[str, float]]:
    """Firm B's generating-model targets by governorate (top box of its 4-point ratings, trust)."""
    out: dict[str, dict[str, float]] = {"water_top_box": {}, "electricity_top_box": {}, "trusted": {}}
    for gi, gv in _govs():
        water, elec, trusted = _targets(params, local, gi)
        out["water_top_box"][gv.code] = round(water, 4)
        out["electricity_top_box"][gv.code] = round(elec, 4)
        out["trusted"][gv.code] = round(trusted, 4)
    return out


def _targets(params: Any, local: Any, gi: int) -> tuple[float, float, float]:
    # A 4-point scale has no middle answer: some who would say "adequate" on 5 points say "good", so the
    # top box is larger than the national survey's good-or-excellent share for the same governorate.
    # July is the peak of summer demand: electricity is rated lower than in the national March fieldwork.
    water = float(g._expit(g._logit(params.water_good[gi, 1]) + 0.6))
    elec = float(g._expit(g._logit(params.electricity_good[gi, 1]) + 0.6 - 0.5))
    trusted = float(g._expit(g._logit(local.trusted[gi, 1]) - 0.2))
    return water, elec, trusted


def generate(households_per_wave: int, params: Any, local: Any, seed: int,
             rng: np.random.Generator) -> tuple[bytes, int, dict[str, Any]]:
    """Firm B's ``.sav`` bytes, its number of data rows and its manifest entry (design, faults)."""
    govs = _govs()
    n_target = households_for(households_per_wave)
    n_gov = g._largest_remainder(n_target, np.ones(len(govs)))

    # ---- design: strata = governorate x urban/rural, EAs of 10 households ---------------------------
    s_gov, s_rural, s_pop, c_stratum = [], [], [], []
    for k, (gi, gv) in enumerate(govs):
        n_urban = int(np.clip(round(n_gov[k] * gv.urban_share), 2 * CLUSTER_SIZE, n_gov[k] - 2 * CLUSTER_SIZE))
        for rural, n_h, share in ((0, n_urban, gv.urban_share), (1, int(n_gov[k]) - n_urban, 1 - gv.urban_share)):
            si = len(s_gov)
            s_gov.append(k)
            s_rural.append(rural)
            s_pop.append(round(gv.population * share / gv.household_size))
            c_stratum += [si] * max(2, n_h // CLUSTER_SIZE)
    c_stratum_a = np.array(c_stratum)
    n_clusters = c_stratum_a.shape[0]
    n = n_clusters * CLUSTER_SIZE
    hc = np.repeat(np.arange(n_clusters), CLUSTER_SIZE)
    stratum = c_stratum_a[hc]
    k_gov = np.array(s_gov)[stratum]  # index into govs
    gi_all = np.array([gi for gi, _ in govs])[k_gov]  # index into GOVERNORATES
    rural = np.array(s_rural)[stratum]
    # EA codes: 25 + governorate (1..6) + running number within the governorate, e.g. 250107; the running
    # number gets more digits when a governorate has 100 EAs or more, so that codes stay unique across strata
    ea_code = np.zeros(n_clusters, dtype=np.int64)
    per_gov = [np.flatnonzero(np.array(s_gov)[c_stratum_a] == k) for k in range(len(govs))]
    step = 100 if max(m.shape[0] for m in per_gov) < 100 else 10 ** len(str(max(m.shape[0] for m in per_gov)))
    for k, mine in enumerate(per_gov):
        ea_code[mine] = 25 * step * 100 + (k + 1) * step + np.arange(1, mine.shape[0] + 1)
    stratum_code = (k_gov + 1) * 10 + rural + 1  # 11 = first governorate urban, 12 = rural, ...

    # enumerators: a team of 4-6 per governorate; one enumerator per EA
    team = rng.integers(4, 7, len(govs))
    c_gov = np.array(s_gov)[c_stratum_a]
    c_enum = (c_gov + 1) * 100 + (rng.random(n_clusters) * team[c_gov]).astype(np.int64) + 1
    days = _fieldwork_days()
    c_day = rng.integers(0, len(days), n_clusters)

    # ---- answers ----------------------------------------------------------------------------------
    consent = rng.random(n) >= 0.01
    c_re = rng.normal(0, 0.35, n_clusters)[hc]
    hh_re = rng.normal(0, 0.4, n)
    female = rng.random(n) < 0.08
    targets = np.array([_targets(params, local, gi) for gi, _ in govs])  # (6, 3)
    urban_c = (1 - rural) - np.array([gv.urban_share for _, gv in govs])[k_gov]

    def eta(col: int, urban_eff: float) -> np.ndarray:
        return g._logit(targets[k_gov, col]) + urban_eff * urban_c + c_re + hh_re

    def with_dk(code: np.ndarray, rate: float, dk: int = 9) -> np.ndarray:
        return np.where(rng.random(n) < rate, dk, code)

    water = with_dk(_rating4(eta(0, 0.3), rng), 0.03)
    elec = with_dk(_rating4(eta(1, 0.2), rng), 0.02)
    trust = with_dk(_rating4(eta(2, 0.0) + rng.normal(0, 0.4, n), rng), 0.05)
    piped = rng.random(n) < np.where(rural == 1, 0.6, 0.93)
    water_hours = rng.binomial(24, np.clip((7 + 5 * (1 - rural) + rng.normal(0, 1.5, n_clusters)[hc]) / 24, 0.05, 0.95))
    water_hours = np.where(rng.random(n) < 0.02, 99, water_hours)
    elec_hours = rng.binomial(24, np.clip(0.42 + 0.1 * (1 - rural) + rng.normal(0, 0.06, n_clusters)[hc], 0.1, 0.9))
    generator = rng.random(n) < 0.86
    amps = rng.choice(np.array([5, 10, 15, 20]), size=n, p=[0.25, 0.4, 0.2, 0.15])
    price = rng.integers(9, 16, n_clusters)[hc] * 1000  # IQD per ampere a month, by neighbourhood
    gen_cost = amps * price
    complained = rng.random(n) < 0.22
    acted = rng.random(n) < g._expit(g._logit(np.array([local.action_yes[gi, 1] for gi, _ in govs])[k_gov]) - 0.3)
    action = np.where(rng.random(n) < 0.04, 9, np.where(acted, 1, 2))
    hh_size = np.clip(rng.poisson(np.array([gv.household_size for _, gv in govs])[k_gov] - 1) + 1, 1, 20)
    resp_age = np.clip(np.round(rng.normal(42, 13, n)), 18, 85).astype(np.int64)
    j = np.tile(np.arange(CLUSTER_SIZE), n_clusters)
    minutes = rng.uniform(9 * 60, 10 * 60, n_clusters)[hc] + j * rng.uniform(30, 45, n_clusters)[hc]

    # weight: stratum households / consenting households of the stratum, times an EA non-response factor
    adj = 1.0 / rng.uniform(0.85, 1.0, n_clusters)[hc]
    denom = np.bincount(stratum, weights=adj * consent, minlength=len(s_gov))
    weight = np.round(np.array(s_pop, dtype=np.float64)[stratum] * adj / denom[stratum], 4)

    qc = np.where(rng.random(n) < 0.02, "on hold", "approved").astype(object)

    def answered(values: np.ndarray, mask: np.ndarray | None = None) -> list[float | None]:
        keep = consent if mask is None else consent & mask
        return [float(v) if k else None for v, k in zip(values, keep)]

    df = pl.DataFrame(
        {
            "__day": [days[d] for d in c_day[hc]],
            "__minute": minutes,
            "int_date": [days[d] for d in c_day[hc]],
            "enum_id": c_enum[hc].astype(np.float64),
            "qc_status": qc.tolist(),
            "gov": (k_gov + 1).astype(np.float64),
            "stratum": stratum_code.astype(np.float64),
            "ea": ea_code[hc].astype(np.float64),
            "urban": (rural + 1).astype(np.float64),
            "consent": np.where(consent, 1.0, 2.0),
            "hoh_sex": answered(np.where(female, 2, 1)),
            "hh_size": answered(hh_size),
            "resp_age": answered(resp_age),
            "q_water_rating": answered(water),
            "q_piped": answered(np.where(piped, 1, 2)),
            "q_water_hours": answered(water_hours, piped),
            "q_elec_rating": answered(elec),
            "q_elec_hours": answered(elec_hours),
            "q_generator": answered(np.where(generator, 1, 2)),
            "q_gen_amps": answered(amps, generator),
            "q_gen_cost": answered(gen_cost, generator),
            "q_trust_lg": answered(trust),
            "q_complaint": answered(np.where(complained, 1, 2)),
            "q_complaint_action": answered(action, complained),
            "wt_final": weight,
        },
        schema_overrides={"int_date": pl.Date, "__day": pl.Date},
    ).sort("__day", "__minute", "enum_id")
    df = df.with_columns(
        hh_id=pl.format("B25-{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(5)),
        resp_name=pl.when(pl.col("consent") == 1).then(
            pl.format("SYNTHETIC NAME B{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(5))),
        resp_phone=pl.when(pl.col("consent") == 1).then(
            pl.format("+964 7xx xxx {}", (pl.int_range(1, n + 1) % 10_000).cast(pl.String).str.zfill(4))),
    ).drop("__day", "__minute")

    df, faults = _plant_faults(df, rng)
    df = df.select(list(VARIABLES))
    info = {
        "source_id": SOURCE_ID,
        "wave": WAVE_ID,
        "file": PATH.as_posix(),
        "governorates": list(GOVERNORATE_CODES),
        "households": n,
        "rows": df.height,
        "clusters": n_clusters,
        "strata": len(s_gov),
        "enumerators": int(df["enum_id"].n_unique()),
        "fieldwork_start": df["int_date"].min().isoformat(),
        "fieldwork_end": df["int_date"].max().isoformat(),
        "consent_no": int((df["consent"] == 2).sum()),
        "on_hold": int((df["qc_status"] == "on hold").sum()),
    }
    return _sav_bytes(df), df.height, {"info": info, "faults": faults}


def _plant_faults(df: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Plant the documented faults on clean rows (consenting, approved); returns the frame and the faults."""
    rows = df.with_row_index("__i")
    clean = rows.filter((pl.col("consent") == 1) & (pl.col("qc_status") == "approved"))
    used: set[int] = set()

    def pick(frame: pl.DataFrame, k: int = 1) -> list[int]:
        free = [int(i) for i in frame["__i"].to_list() if int(i) not in used]
        chosen = sorted(int(i) for i in rng.choice(np.array(free), size=k, replace=False))
        used.update(chosen)
        return chosen

    # soft duplicate: two interviews of one enumerator in one EA; the second copies the first's answers
    # but for the hours of grid electricity (its own hh_id, date, name and phone stay)
    by_ea = clean.group_by("ea", maintain_order=True).agg(pl.col("__i")).filter(pl.col("__i").list.len() >= 2)
    ea_pick = by_ea.row(int(rng.integers(0, by_ea.height)), named=True)
    first, second = sorted(int(i) for i in rng.choice(np.array(ea_pick["__i"]), size=2, replace=False))
    used.update((first, second))
    src = df.row(first, named=True)
    other_hours = src["q_elec_hours"] + 3 if src["q_elec_hours"] <= 20 else src["q_elec_hours"] - 3
    df = df.with_columns(
        [pl.when(pl.int_range(pl.len()) == second).then(pl.lit(src[c])).otherwise(pl.col(c)).alias(c)
         for c in ANSWERS if c != "q_elec_hours"]
        + [pl.when(pl.int_range(pl.len()) == second).then(pl.lit(float(other_hours)))
           .otherwise(pl.col("q_elec_hours")).alias("q_elec_hours")]
    )
    # the firm's quality control did not approve these interviews
    not_approved = pick(clean, NOT_APPROVED_ROWS)
    df = df.with_columns(pl.when(pl.int_range(pl.len()).is_in(not_approved)).then(pl.lit("not approved"))
                         .otherwise(pl.col("qc_status")).alias("qc_status"))
    # two different households keyed with one hh_id (a typing slip): the later takes the earlier's id
    keep_id, retyped = pick(clean, 2)
    shared_id = df["hh_id"][keep_id]
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == retyped).then(pl.lit(shared_id))
                         .otherwise(pl.col("hh_id")).alias("hh_id"))
    # one interview delivered again at the end of the file (a late batch repeated it)
    (duplicated,) = pick(clean, 1)
    df = pl.concat([df, df.slice(duplicated, 1)])

    consent_no = (df.with_row_index("__r", offset=1).filter(pl.col("consent") == 2)["__r"].to_list())
    file = PATH.as_posix()
    faults = [
        {"file": file, "column": "consent", "value": "2", "row_numbers": [int(r) for r in consent_no],
         "outcome": "excluded",
         "description": "household refused consent (2 = no): every question after consent is empty; exclude the row"},
        {"file": file, "column": "qc_status", "value": "not approved", "row_numbers": [r + 1 for r in not_approved],
         "outcome": "excluded",
         "description": "the firm's quality control did not approve the interview: exclude it (review status)"},
        {"file": file, "column": "hh_id", "value": str(df["hh_id"][duplicated]), "row_numbers": [df.height],
         "duplicate_of": duplicated + 1, "outcome": "excluded",
         "description": f"the interview of row {duplicated + 1} delivered a second time, identical: load it once, "
                        "exclude the copy (exact duplicate)"},
        {"file": file, "column": "hh_id", "value": shared_id, "row_numbers": [keep_id + 1, retyped + 1],
         "outcome": "quarantined",
         "description": "two different households with the same hh_id: which answers belong to the id cannot be "
                        "told; quarantine both"},
        {"file": file, "column": "enum_id", "value": str(int(src["enum_id"])), "row_numbers": [first + 1, second + 1],
         "outcome": "flagged",
         "description": f"two interviews of enumerator {int(src['enum_id'])} in EA {int(src['ea'])} with the same "
                        "answers except the hours of grid electricity: both loaded, the pair flagged for review "
                        "(soft duplicate)"},
    ]
    return df, faults


def _sav_bytes(df: pl.DataFrame) -> bytes:
    """The frame as an SPSS system file with Arabic labels, user-missing codes and a fixed header stamp."""
    gov_labels = {k + 1: gv.label_ar for k, (_, gv) in enumerate(_govs())}
    value_labels = {name: labels for name, (_, _, labels) in VARIABLES.items() if labels}
    value_labels["gov"] = gov_labels
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "firm_b.sav"
        pyreadstat.write_sav(
            df,
            str(path),
            file_label=FILE_LABEL,
            column_labels={name: label for name, (label, _, _) in VARIABLES.items()},
            note=["SYNTHETIC DEMO DATA - not real respondents.", "Written by mizan (pipelines/demo/firm_b.py)."],
            variable_value_labels=value_labels,
            missing_ranges=MISSING,
            variable_format={name: fmt for name, (_, fmt, _) in VARIABLES.items()},
            variable_measure={name: ("nominal" if labels or name in ("gov", "hh_id", "qc_status") else "scale")
                              for name, (_, _, labels) in VARIABLES.items()},
        )
        data = bytearray(path.read_bytes())
    # ReadStat writes the time of writing into the header: pin it so the same seed gives the same bytes
    assert data[:4] == b"$FL2"
    data[_SPSS_STAMP_OFFSET:_SPSS_STAMP_OFFSET + len(_SPSS_STAMP)] = _SPSS_STAMP
    return bytes(data)
