"""District (ADM2) reference data and the one resolver every district name goes through.

Data (see ``data_contracts/reference/README.md`` for sources and decisions):

- ``reference/districts.csv``: 101 rows, one per COD-AB 2019 district (``IQG01Q01``…``IQG18Q05``),
  written from the public COD-AB 2019 district attribute table. Columns (all ``String``):
  ``district_pcode``, ``name_en`` and ``name_ar`` (ADM2_EN / ADM2_AR as spelled in COD-AB 2019),
  ``governorate_pcode`` (mizan governorate, ``IQG01``…``IQG19``), ``cod_ab_governorate_pcode``
  (the COD-AB 2019 ADM1 parent, ``IQG01``…``IQG18``), ``note`` (null when there is nothing to say).
  **Halabja rule:** COD-AB 2019 district ``IQG06Q05`` "Halabcha" lies inside Al-Sulaymaniyah
  (``IQG06``); mizan carries Halabja as governorate ``IQG19``, so that district has
  ``governorate_pcode = IQG19`` and ``cod_ab_governorate_pcode = IQG06``. It is the only row where
  the two differ.
- ``reference/district_aliases.csv``: real spellings that normalisation cannot derive (columns
  ``alias, district_pcode, script, alias_type, source``), including districts of the current
  administration that are not COD-AB 2019 units but lie inside one (``alias_type =
  absorbed_district``, e.g. Soran inside COD-AB Rawanduz).
- ``reference/district_splits.csv``: names of districts that are not COD-AB 2019 units and whose area
  is split between several COD-AB districts (Abu Ghraib): they never resolve, they raise
  :class:`SplitDistrictError` naming the COD-AB districts concerned.

Matching reuses the governorate normaliser (:func:`data_contracts.governorates.normalize_name` and
its match key): case, accents, Arabic hamza forms, ta marbuta, alef maqsura, tashkeel, articles
(al-, ال), punctuation (so Kobo codes like ``al.falluja`` match), spaces and doubled letters are
folded away. The index holds ``name_en``, ``name_ar`` and the aliases.

Public API
----------
- :func:`districts` -> ``pl.DataFrame`` (101 rows, the columns above).
- :func:`district_aliases`, :func:`district_splits` -> the two small tables.
- :func:`resolve_district` ``(name, governorate_pcode=None) -> str``: the district p-code.
- :class:`DistrictResolver`: the same resolution over tables you pass (the module-level function
  uses the shipped tables); building it fails loudly on ambiguous data.
- Errors, all ``ValueError`` subclasses of :class:`DistrictError`:
  :class:`UnknownDistrictError` (no district has that spelling; message has the name as given, the
  governorate context and up to 3 closest spellings), its subclasses :class:`SplitDistrictError`
  (a known non-COD-AB district split between several) and :class:`AmbiguousDistrictError` (no
  governorate given and the spelling exists in several governorates), and
  :class:`DistrictGovernorateMismatchError` (the name is a district of another governorate: a data
  error to quarantine).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.governorates import _match_key, governorates
from data_contracts.personal_data import RedactingError

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

_DISTRICT_PCODE = re.compile(r"IQG(0[1-9]|1[0-9])Q\d{2}")  # a valid district p-code
_PCODE_SHAPE = re.compile(r"IQG\d{2}Q\d{2}")  # input that is meant as a p-code
_NAME_COLUMNS = ("name_en", "name_ar")


# --------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------


@functools.cache
def _read(name: str) -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / name, infer_schema=False)


def districts() -> pl.DataFrame:
    """The 101 COD-AB 2019 districts, one row per ``district_pcode``, sorted by it; all ``String``.

    Columns: district_pcode, name_en, name_ar (COD-AB 2019 spellings), governorate_pcode (mizan,
    ``IQG19`` for Halabcha), cod_ab_governorate_pcode (COD-AB 2019 parent, ``IQG06`` for Halabcha),
    note (null for most rows).
    """
    return _read("districts.csv").clone()


def district_aliases() -> pl.DataFrame:
    """Extra spellings: alias, district_pcode, script (latin|ar), alias_type, source."""
    return _read("district_aliases.csv").clone()


def district_splits() -> pl.DataFrame:
    """Non-COD-AB district names that cannot resolve: name, governorate_pcode,
    cod_ab_district_pcodes (space-separated), source, note."""
    return _read("district_splits.csv").clone()


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _context(governorate_pcode: str | None, names: dict[str, str]) -> str:
    if governorate_pcode is None:
        return "no governorate given"
    return f"in governorate {governorate_pcode} ({names.get(governorate_pcode, '?')})"


class DistrictError(RedactingError, ValueError):
    """Base class of every district resolution error."""


class UnknownDistrictError(DistrictError):
    """A name that resolves to no district.

    ``value`` is the input as given, ``governorate_pcode`` the governorate context (or ``None``),
    ``suggestions`` up to 3 ``"spelling (p-code)"`` strings, closest first, those of the given
    governorate first; possibly empty. The message reads
    ``unknown district 'X' (<context>); closest known: A (p-code), B (p-code)``.
    """

    def __init__(self, value: object, governorate_pcode: str | None, suggestions: list[str],
                 context: str = "", message: str | None = None):  # fmt: skip
        self.value = value
        self.governorate_pcode = governorate_pcode
        self.suggestions = suggestions
        if message is None:
            hint = f"; closest known: {', '.join(suggestions)}" if suggestions else ""
            message = f"unknown district {value!r} ({context or governorate_pcode or 'no governorate given'}){hint}"
        super().__init__(message)


class SplitDistrictError(UnknownDistrictError):
    """A district of the current administration that is not a COD-AB 2019 unit and whose area lies
    in several COD-AB 2019 districts (``district_splits.csv``): no single p-code is right.

    ``governorate_pcode`` is the split district's governorate, ``cod_ab_district_pcodes`` the COD-AB
    districts holding its area; resolve such a row from its coordinates or its subdistrict.
    """

    def __init__(self, value: object, governorate_pcode: str, cod_ab_district_pcodes: list[str], note: str,
                 message: str):  # fmt: skip
        self.cod_ab_district_pcodes = cod_ab_district_pcodes
        self.note = note
        super().__init__(value, governorate_pcode, [], message=message)


class AmbiguousDistrictError(UnknownDistrictError):
    """No governorate was given and the spelling names districts of several governorates.

    ``candidates`` lists their district p-codes; pass ``governorate_pcode`` to choose.
    """

    def __init__(self, value: object, candidates: list[str], message: str):
        self.candidates = candidates
        super().__init__(value, None, [], message=message)


class DistrictGovernorateMismatchError(DistrictError):
    """The name (or p-code) is a district, but of another governorate than the one given.

    A data error to quarantine, not a spelling problem. ``value`` is the input,
    ``governorate_pcode`` the governorate given, ``district_pcodes`` the districts the name resolves
    to and ``found_governorate_pcodes`` their (mizan) governorates.
    """

    def __init__(self, value: object, governorate_pcode: str, district_pcodes: list[str],
                 found_governorate_pcodes: list[str], message: str):  # fmt: skip
        self.value = value
        self.governorate_pcode = governorate_pcode
        self.district_pcodes = district_pcodes
        self.found_governorate_pcodes = found_governorate_pcodes
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Resolver
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _District:
    pcode: str
    name_en: str
    governorate_pcode: str
    cod_ab_governorate_pcode: str

    def in_governorate(self, governorate_pcode: str) -> bool:
        # Halabcha (IQG06Q05) belongs to mizan's IQG19 and to COD-AB's IQG06: sources on the
        # COD-AB hierarchy (REACH MCNA, IOM DTM) deliver it under Sulaymaniyah, which is correct.
        return governorate_pcode in (self.governorate_pcode, self.cod_ab_governorate_pcode)


class DistrictResolver:
    """Name -> district p-code over the given tables (shaped like :func:`districts`,
    :func:`district_aliases` and :func:`district_splits`; ``governorate_table`` like
    :func:`data_contracts.governorates.governorates`).

    Building validates the data and raises ``ValueError`` if: a district p-code is malformed or
    repeated; a district's governorate is not in ``governorate_table``; an alias or split names an
    unknown p-code or governorate; a spelling normalises to an empty key; **two districts of one
    governorate share a normalised spelling** (checked by the mizan governorate and by the COD-AB
    parent); a split name is also a district spelling of its governorate. The same spelling in two
    *different* governorates is allowed: it then needs ``governorate_pcode`` to resolve.
    """

    def __init__(
        self,
        district_table: pl.DataFrame,
        alias_table: pl.DataFrame,
        split_table: pl.DataFrame,
        governorate_table: pl.DataFrame,
    ):
        self._gov_names = dict(governorate_table.select("governorate_pcode", "name_en").iter_rows())
        self._districts: dict[str, _District] = {}
        for row in district_table.iter_rows(named=True):
            pcode = row["district_pcode"]
            if not pcode or not _DISTRICT_PCODE.fullmatch(pcode):
                raise ValueError(f"malformed district p-code {pcode!r}")
            if pcode in self._districts:
                raise ValueError(f"district p-code {pcode} appears twice")
            for col in ("governorate_pcode", "cod_ab_governorate_pcode"):
                if row[col] not in self._gov_names:
                    raise ValueError(f"district {pcode}: {col} {row[col]!r} is not a known governorate")
            self._districts[pcode] = _District(
                pcode, row["name_en"], row["governorate_pcode"], row["cod_ab_governorate_pcode"]
            )

        # key -> {district p-code: first spelling seen}
        self._index: dict[str, dict[str, str]] = {}
        rows = district_table.iter_rows(named=True)
        spellings = [(row[c], row["district_pcode"]) for row in rows for c in _NAME_COLUMNS]
        spellings += list(alias_table.select("alias", "district_pcode").iter_rows())
        for spelling, pcode in spellings:
            if not spelling:
                continue
            if pcode not in self._districts:
                raise ValueError(f"alias {spelling!r} points to unknown district p-code {pcode!r}")
            key = self._key(spelling)
            self._index.setdefault(key, {}).setdefault(pcode, spelling)
        for key, hits in self._index.items():
            self._check_unique_within_governorate(key, hits)

        # key -> (governorate p-code, COD-AB districts, note)
        self._splits: dict[str, tuple[str, list[str], str]] = {}
        for row in split_table.iter_rows(named=True):
            gov, codes = row["governorate_pcode"], row["cod_ab_district_pcodes"].split()
            if gov not in self._gov_names or not codes or any(c not in self._districts for c in codes):
                raise ValueError(f"district split {row['name']!r}: unknown governorate or district p-code")
            key = self._key(row["name"])
            if any(self._districts[p].in_governorate(gov) for p in self._index.get(key, {})):
                raise ValueError(f"district split {row['name']!r} is also a district spelling in {gov}")
            self._splits[key] = (gov, codes, row["note"] or "")

    @staticmethod
    def _key(spelling: str) -> str:
        key = _match_key(spelling)
        if not key:
            raise ValueError(f"spelling {spelling!r} normalises to an empty key")
        return key

    def _check_unique_within_governorate(self, key: str, hits: dict[str, str]) -> None:
        # "Within a governorate" is what resolve() uses: the mizan governorate or the COD-AB parent.
        found = [self._districts[p] for p in hits]
        govs = {d.governorate_pcode for d in found} | {d.cod_ab_governorate_pcode for d in found}
        for gov in sorted(govs):
            inside = [p for p in hits if self._districts[p].in_governorate(gov)]
            if len(inside) > 1:
                listed = " and ".join(f"{hits[p]!r} ({p})" for p in inside)
                raise ValueError(f"ambiguous district spelling in governorate {gov}: {listed} normalise to {key!r}")

    # -- helpers ------------------------------------------------------------------------------

    def _label(self, pcode: str) -> str:
        return f"{pcode} {self._districts[pcode].name_en}"

    def _gov_label(self, gov: str) -> str:
        return f"{gov} ({self._gov_names.get(gov, '?')})"

    def _suggest(self, key: str, governorate_pcode: str | None) -> list[str]:
        """Up to 3 closest spellings, one per district: the given governorate's districts first."""
        out: dict[str, str] = {}

        def add(keys: list[str], keep) -> None:
            for match in difflib.get_close_matches(key, keys, n=20, cutoff=0.5):
                for pcode, spelling in self._index[match].items():
                    if keep(pcode):
                        out.setdefault(pcode, f"{spelling} ({pcode})")

        if governorate_pcode is not None:

            def inside(pcode: str) -> bool:
                return self._districts[pcode].in_governorate(governorate_pcode)

            add([k for k, hits in self._index.items() if any(inside(p) for p in hits)], inside)
        add(list(self._index), lambda p: True)
        return list(out.values())[:3]

    def _check_governorate(self, governorate_pcode: str | None) -> str | None:
        if governorate_pcode is None or not governorate_pcode.strip():
            return None
        code = governorate_pcode.strip().upper()
        if code not in self._gov_names:
            raise ValueError(
                f"governorate_pcode must be a mizan governorate p-code (IQG01…IQG19), got {governorate_pcode!r}; "
                "resolve a governorate name with resolve_governorate() first"
            )
        return code

    def _mismatch(self, value: str, gov: str, pcodes: list[str]) -> DistrictGovernorateMismatchError:
        found = sorted({self._districts[p].governorate_pcode for p in pcodes})
        where = "; ".join(
            f"{self._label(p)} in governorate {self._gov_label(self._districts[p].governorate_pcode)}" for p in pcodes
        )
        return DistrictGovernorateMismatchError(
            value, gov, pcodes, found,
            f"district {value!r} is not in the given governorate {self._gov_label(gov)}: it is {where}",
        )  # fmt: skip

    # -- resolution ---------------------------------------------------------------------------

    def resolve(self, name: str, governorate_pcode: str | None = None) -> str:
        """See :func:`resolve_district`."""
        gov = self._check_governorate(governorate_pcode)
        if name is None:
            raise UnknownDistrictError(name, gov, [], f"blank, {_context(gov, self._gov_names)}")
        if not isinstance(name, str):
            raise TypeError(f"resolve_district expects str, got {type(name).__name__}")
        stripped = name.strip()
        context = _context(gov, self._gov_names)

        if _PCODE_SHAPE.fullmatch(stripped.upper()):
            pcode = stripped.upper()
            if pcode not in self._districts:
                raise UnknownDistrictError(name, gov, [], f"no such COD-AB 2019 district p-code, {context}")
            if gov is not None and not self._districts[pcode].in_governorate(gov):
                raise self._mismatch(name, gov, [pcode])
            return pcode

        key = _match_key(stripped)
        if not key:
            raise UnknownDistrictError(name, gov, [], f"blank, {context}")
        hits = sorted(self._index.get(key, {}))
        if gov is not None:
            inside = [p for p in hits if self._districts[p].in_governorate(gov)]
            if inside:
                return inside[0]  # unique: checked when the index was built
            if hits:
                raise self._mismatch(name, gov, hits)
        elif len(hits) == 1:
            return hits[0]
        elif hits:
            listed = "; ".join(
                f"{self._label(p)} in {self._gov_label(self._districts[p].governorate_pcode)}" for p in hits
            )
            raise AmbiguousDistrictError(
                name, hits, f"district {name!r} (no governorate given) names districts of several governorates: "
                f"{listed}; pass governorate_pcode",
            )  # fmt: skip

        split = self._splits.get(key)
        if split is not None:
            split_gov, codes, note = split
            if gov is None or gov == split_gov:
                raise SplitDistrictError(
                    name, split_gov, codes, note,
                    f"district {name!r} (governorate {self._gov_label(split_gov)}) is not a COD-AB 2019 district and "
                    f"spans several: {', '.join(self._label(c) for c in codes)}. {note}",
                )  # fmt: skip
        raise UnknownDistrictError(name, gov, self._suggest(key, gov), context)


@functools.cache
def _resolver() -> DistrictResolver:
    return DistrictResolver(
        _read("districts.csv"), _read("district_aliases.csv"), _read("district_splits.csv"), governorates()
    )


@functools.lru_cache(maxsize=16384)
def resolve_district(name: str, governorate_pcode: str | None = None) -> str:
    """Return the COD-AB 2019 district p-code (``IQG01Q01``…) for a district name.

    ``name`` may be English or Arabic (COD-AB 2019 spellings and what the normaliser folds onto
    them: with or without al-/ال, hamza forms, ة/ه, spaces, dots), a Kobo choice code
    (``al.falluja``, ``sumail``, ``halabcha``), an alias from ``district_aliases.csv`` or a district
    p-code (any case; it must exist). ``governorate_pcode`` is an optional governorate context, a
    mizan p-code ``IQG01``…``IQG19`` (``None`` or blank: no context; anything else raises
    ``ValueError``). With a context, the name is looked up within that governorate first; Halabcha
    (``IQG06Q05``) counts as inside both ``IQG19`` (mizan) and ``IQG06`` (its COD-AB 2019 parent).
    Results are cached, so calling it once per row is cheap.

    Raises:
        UnknownDistrictError: blank/``None`` input, an unknown p-code, or a name no district has
            (message: the name as given, the governorate context, up to 3 closest spellings).
        SplitDistrictError: (an ``UnknownDistrictError``) a non-COD-AB district whose area lies in
            several COD-AB districts (Abu Ghraib).
        AmbiguousDistrictError: (an ``UnknownDistrictError``) no context and the spelling names
            districts of several governorates (none do in the shipped tables).
        DistrictGovernorateMismatchError: the name or p-code is a district of another governorate
            than ``governorate_pcode``; the message names both governorates.
        TypeError: ``name`` is neither ``str`` nor ``None``.
    """
    return _resolver().resolve(name, governorate_pcode)
