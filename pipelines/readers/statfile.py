"""Read SPSS (``.sav``, ``.zsav``) and Stata (``.dta``) files strictly into all-text polars frames and a codebook.

Survey firms deliver waves as SPSS or Stata files, often with Arabic text in Windows-1256. This reader
gives them the shape of a CSV export read by :func:`pipelines.readers.delimited.read_delimited` (one
text column per variable, blank → NULL, codes rather than labels) plus an :class:`XLSForm` built from
the file's own metadata, so the same typing and recoding code handles them.

Decoding is strict and located: the file is read once through pyreadstat (ReadStat) with every string
decoded as ISO-8859-1, which maps each byte to one character and so never fails and loses nothing, and
each string's bytes are then decoded here with the wanted encoding. A failure names the variable and
data row (or the label) and the bytes, which pyreadstat's own "Unable to convert string" cannot.
Text that decodes but is Arabic read through a Latin code page is stopped by
:func:`pipelines.readers.text.check_not_mojibake`.

Sources: the SPSS system-file layout as documented by GNU PSPP ("System File Format",
https://www.gnu.org/software/pspp/pspp-dev/html_node/System-File-Format.html); Stata's ``dta`` format
(https://www.stata.com/help.cgi?dta) and its display formats ([D] format, [D] Datetime); pyreadstat
(https://ofajardo.github.io/pyreadstat_documentation/).
"""

from __future__ import annotations

import codecs
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyreadstat

from pipelines.readers.delimited import FileReadError, encoding_hint, sha256_of
from pipelines.readers.text import check_not_mojibake
from pipelines.readers.xlsform import Question, XLSForm

SPSS_SUFFIXES = (".sav", ".zsav")
STATA_SUFFIXES = (".dta",)
#: What ReadStat is asked to decode strings with: one character per byte, so the bytes come back intact.
_BYTES_AS = "ISO-8859-1"

# SPSS formats (PSPP "Input and Output Formats"); values are seconds since 1582-10-14 00:00:00.
_SPSS_DATE = {"DATE", "ADATE", "EDATE", "JDATE", "SDATE", "QYR", "MOYR", "WKYR"}
_SPSS_DATETIME = {"DATETIME", "YMDHMS"}
_SPSS_TIME = {"TIME", "DTIME", "MTIME"}
_SPSS_INTEGER_CODED = {"WKDAY", "MONTH"}  # 1-7 and 1-12
_SPSS_FORMAT = re.compile(r"([A-Z]+)(\d*)(?:\.(\d+))?")
_SPSS_EPOCH = date(1582, 10, 14).toordinal()
_STATA_EPOCH = date(1960, 1, 1).toordinal()
_MS_PER_DAY = 86_400_000

#: SPSS machine-integer-info "character code" → Python codec (Windows code page numbers, as ReadStat's
#: table; https://learn.microsoft.com/windows/win32/intl/code-page-identifiers). Other numbers are tried as
#: ``cpNNN``. 3 ("8-bit ASCII", no code page) declares nothing.
_SPSS_CODE_PAGES = {
    1: "cp037", 2: "ascii", 20127: "ascii", 65001: "utf-8", 708: "iso8859-6", 932: "shift_jis", 936: "gbk",
    949: "cp949", 950: "big5", 10000: "mac_roman", 10004: "mac_arabic", 10006: "mac_greek", 10007: "mac_cyrillic",
    10029: "mac_latin2", 10079: "mac_iceland", 10081: "mac_turkish", 20866: "koi8_r", 21866: "koi8_u",
    20932: "euc_jp", 51932: "euc_jp", 51949: "euc_kr", 54936: "gb18030", 28603: "iso8859-13", 28605: "iso8859-15",
    **{28590 + n: f"iso8859-{n}" for n in range(1, 10)},
}


@dataclass(frozen=True)
class StatFile:
    """An SPSS or Stata file read as text.

    ``frame`` has one ``pl.String`` column per variable, in file order; row i (0-based) is data row
    ``i + 1``. ``codebook`` is an :class:`XLSForm` whose ``path`` is the data file, with one
    :class:`Question` per variable (same order) and the value-label sets as ``choices``.
    ``encoding`` is the Python codec the text was decoded with (``utf-8``, ``cp1256``, ``ascii``...).
    ``file_label`` is the file's own label (SPSS file label, Stata data label), None when blank.
    """

    path: Path
    sha256: str
    size_bytes: int
    encoding: str
    frame: pl.DataFrame
    codebook: XLSForm
    file_label: str | None


def read_statfile(path: Path, *, encoding: str | None = None, label_language: str = "en") -> StatFile:
    """Read an SPSS (``.sav``/``.zsav``) or Stata (``.dta``) file strictly as text, with its codebook.

    Args:
        path: the file; its extension picks the format (case-insensitive).
        encoding: the text encoding declared in the source's mapping (``cp1256``, ``utf-8``...); it overrides
            the file's own. None: the encoding the file declares: an SPSS file's character-encoding record,
            else its machine-information code page; UTF-8 for Stata 14+ (dta 118/119). A file that declares
            none (Stata 13 and older, SPSS code 3 "8-bit ASCII") is read as ASCII, so any other byte fails
            and asks for a declaration instead of being guessed.
        label_language: ``"en"`` or ``"ar"``: the slot (``label_en``/``label_ar``, first/second element of
            a choice) the file's labels go in; the other stays None.

    Values (``frame``), with ``read_delimited``'s conventions: every value is text; blank or
    whitespace-only strings and system-missing numbers (SPSS sysmis, Stata ``.``) are NULL; codes, not
    value labels. Numbers are canonical text: whole values ``"1"``, ``"-3"`` (never ``"1.0"``), others
    the shortest text that reads back to the same double (``repr``: ``"0.1"``, ``"1.5e-05"``; for a
    Stata ``float`` variable the shortest that reads back to the same 32-bit float, so 0.1 stays
    ``"0.1"``). SPSS ``N`` (restricted numeric, "leading zeros") values are zero-padded to the format's
    width, as SPSS shows and exports them (``N5``: ``"00123"``). Dates ``YYYY-MM-DD``; datetimes
    ``YYYY-MM-DDTHH:MM:SS`` plus ``.fff`` when the milliseconds are not zero (times are rounded to the
    millisecond: SPSS stores seconds since 1582 in a double, ~2 µs resolution today, Stata whole
    milliseconds); times ``HH:MM:SS`` (SPSS ``TIME``/``DTIME``/``MTIME`` are durations: hours may
    exceed 23, a negative one starts with ``-``). Stata ``%tw``/``%tm``/``%tq``/``%th`` become the first
    day of the week/month/quarter/half-year (Stata's ``dofw()``... rules); ``%ty`` and business
    calendars ``%tb`` stay the stored number. User-defined missing values arrive as their codes (an
    SPSS 99 "don't know" as ``"99"``; a Stata extended missing value as ``".a"``…``".z"``) and are
    listed in the question's ``missing_codes``.

    Codebook (``codebook.questions[name]``), typed from the metadata only, never from the values:

    - text: SPSS ``A``/``AHEX`` formats, Stata ``str#``/``strL``.
    - date / datetime / time: SPSS ``DATE ADATE EDATE JDATE SDATE QYR MOYR WKYR`` / ``DATETIME YMDHMS`` /
      ``TIME DTIME MTIME``; Stata ``%td`` (and the old ``%d``), ``%tw %tm %tq %th`` / ``%tc``.
    - integer: SPSS numeric formats with no decimals (``F8.0``, ``N5``, ``COMMA10``; also ``WKDAY``,
      ``MONTH``); Stata ``byte``/``int``/``long`` storage, a ``float``/``double`` with a fixed format
      without decimals (``%9.0f``), ``%ty``, ``%tb``.
    - decimal: other numbers: SPSS formats with decimals (``F8.2``) or ``E``; Stata ``float``/``double``
      with ``%g``/``%e`` (a ``%9.0g`` says nothing about decimals: it is Stata's default display for
      any float, showing as many digits as the value needs) or ``%w.df`` with d > 0.
    - select_one: a text, integer or decimal variable with a value-label set that labels at least one
      code not in ``missing_codes``; ``list_name`` is the set's name (Stata's label name; SPSS has none,
      ReadStat's ``labels0``, ``labels1``... in file order, else the variable's name). A variable whose
      labels cover only missing codes (an income with 99 "refused") keeps its type and still gets
      ``list_name``, so the labels stay readable in ``choices``.

    ``choices[list_name][code] = (label, None)`` (or ``(None, label)`` for ``"ar"``), codes written as the
    frame writes the variable's values (``"1"``, ``".a"``). ``label_en``/``label_ar`` hold the variable
    label. ``missing_codes``: SPSS user-missing values in the order the file declares them, a missing
    range (``97 THRU 99``, ``LO THRU -1``) standing for every value in it that the file holds in its data
    or value labels, ascending (a range has no finite list of codes), so a value of this file is
    SPSS-missing exactly when its text is listed; Stata: the extended missing values (``.a``–``.z``) found
    in the data or labelled, in order. Stata treats all of ``.a``–``.z`` as missing, and so should a
    mapping.

    Raises:
        FileReadError: an extension other than .sav/.zsav/.dta; a missing, corrupt or truncated file (named,
            with ReadStat's reason); an unknown ``encoding``; bytes that are not valid in the encoding,
            naming the variable and data row (row 1 = first data row) or the metadata item (variable name,
            variable label, value label, file label), the first offending bytes (up to four), the byte
            offset in the file (found by searching the file for the value's bytes, else, in a .sav, for the
            8-byte unit SPSS stores them in, which bytecode compression keeps whole; "first found at" when
            the bytes occur more than once; not available for the data of a ``.zsav``, which are
            zlib-compressed) and what to declare; text that decodes but is mojibake (see ``check_not_mojibake``); a date
            outside years 1–9999; a Stata ``%tC`` (leap-second) datetime, which would be off by up to
            27 s if read as ``%tc``; a Stata strL (long string) that is not UTF-8 (pyreadstat decodes strLs
            as UTF-8 whatever the encoding), located from its GSO record. Messages never quote whole
            values (they may be personal data).
        ValueError: ``label_language`` other than ``"en"``/``"ar"``.
    """
    if label_language not in ("en", "ar"):
        raise ValueError(f"label_language must be 'en' or 'ar', not {label_language!r}")
    suffix = path.suffix.lower()
    if suffix not in SPSS_SUFFIXES + STATA_SUFFIXES:
        raise FileReadError(
            f"{path.name}: not an SPSS or Stata file (extension {path.suffix or 'none'!r}; "
            f"expected {', '.join(SPSS_SUFFIXES + STATA_SUFFIXES)})"
        )
    if not path.is_file():
        raise FileReadError(f"{path.name}: file not found ({path})")
    spss = suffix in SPSS_SUFFIXES
    what = "an SPSS" if spss else "a Stata"
    declared, undeclared_note = _spss_declared_encoding(path) if spss else _stata_declared_encoding(path)
    if encoding is not None:
        codec, source = _codec(path, encoding), "the encoding declared for this file"
    elif declared is not None:
        codec, source = _codec(path, declared, declared_by_file=True), "the encoding the file declares"
    else:
        codec, source = "ascii", f"{undeclared_note}, declares no encoding and none was given, so only ASCII is read"
    data, meta = _read_bytes_as_latin1(path, spss=spss, what=what, codec=codec)
    text = _Decoder(path, codec, source, spss=spss)

    raw_names: list[str] = list(meta.column_names)
    names = [text.decode(n, f"the name of variable {i + 1}") for i, n in enumerate(raw_names)]
    for i, n in enumerate(names):
        check_not_mojibake([n], where=f"{path.name}: the name of variable {i + 1}", encoding=codec, first_row=None)
    labels = dict(zip(raw_names, meta.column_labels or [None] * len(raw_names)))
    file_label = _blank_to_none(text.decode(meta.file_label or "", "the file label"))
    check_not_mojibake([file_label], where=f"{path.name}: the file label", encoding=codec, first_row=None)

    storage = meta.readstat_variable_types
    storage_width = getattr(meta, "variable_storage_width", {}) or {}
    formats = meta.original_variable_types
    columns: dict[str, pl.Series] = {}
    form = XLSForm(path=path)
    for raw, name in zip(raw_names, names):
        var_label = _blank_to_none(text.decode(labels.get(raw) or "", f"the variable label of {name!r}"))
        check_not_mojibake([var_label], where=f"{path.name}: the variable label of {name!r}", encoding=codec,
                           first_row=None)
        is_string = storage.get(raw) == "string"
        # Stata strL (storage width 0): ReadStat passes its bytes through and pyreadstat decodes them as
        # UTF-8 itself, so these values are already text, not ISO-8859-1 stand-ins for bytes.
        is_strl = (not spss) and is_string and storage_width.get(raw) == 0
        fmt = formats.get(raw) or ""
        if spss:
            base, convert = _spss_type(fmt, is_string)
        else:
            base, convert = _stata_type(fmt, storage.get(raw, ""))
        if base == "unsupported":
            if any(v is not None for v in data[raw]):
                raise FileReadError(
                    f"{path.name}: variable {name!r} has the Stata format {fmt} (datetimes counting leap seconds), "
                    "which this reader does not convert (read as %tc it would be off by up to 27 s); "
                    "ask for the variable in %tc"
                )
            base, convert = "datetime", _stata_ms
        values = data[raw]
        if is_string:
            cells = values if is_strl else text.decode_column(values, name)
        else:
            cells = _convert_column(path, name, values, convert)
        if is_string:  # numbers and dates are ASCII by construction
            check_not_mojibake(cells, where=f"{path.name}: variable {name!r}", encoding=codec)
        columns[name] = pl.Series(name, cells, dtype=pl.String)

        def code_text(key: Any, *, _convert=convert, _string=is_string, _name=name) -> str:
            if isinstance(key, str):
                # a string variable's code, or a Stata extended missing value's letter
                return text.decode(key, f"a value-label code of {_name!r}") if _string else f".{key}"
            return _convert(key)

        missing = _missing_codes(meta, raw, values, code_text, spss=spss, is_string=is_string)
        set_name = (meta.variable_to_label or {}).get(raw)
        value_labels = (meta.value_labels or {}).get(set_name) if set_name is not None else None
        if not value_labels and raw in (meta.variable_value_labels or {}):
            set_name, value_labels = raw, meta.variable_value_labels[raw]
        list_name = None
        if value_labels:
            list_name = text.decode(set_name, f"the value-label set name of {name!r}")
            if list_name not in form.choices:
                form.choices[list_name] = _choices(path, text, list_name, value_labels, code_text, codec,
                                                   label_language)
            labelled = form.choices[list_name]
            if base in ("integer", "decimal", "text") and any(code not in missing for code in labelled):
                base = "select_one"
        form.questions[name] = Question(
            name=name,
            type=base,
            list_name=list_name,
            label_en=var_label if label_language == "en" else None,
            label_ar=var_label if label_language == "ar" else None,
            relevant=None,
            missing_codes=missing,
        )

    frame = pl.DataFrame(list(columns.values())) if columns else pl.DataFrame()
    # Blank and whitespace-only strings are "no answer": NULL, as read_delimited does.
    frame = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )
    return StatFile(
        path=path,
        sha256=sha256_of(path),
        size_bytes=path.stat().st_size,
        encoding=codec,
        frame=frame,
        codebook=form,
        file_label=file_label,
    )


# --- encodings -------------------------------------------------------------------------------------------


def _codec(path: Path, name: str, *, declared_by_file: bool = False) -> str:
    """The Python codec's canonical name for an encoding name (``windows-1256`` → ``cp1256``)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        if declared_by_file:
            raise FileReadError(
                f"{path.name}: the file declares the encoding {name!r}, which Python does not know; "
                "declare the file's encoding in its mapping, e.g. encoding: cp1256"
            ) from None
        raise FileReadError(f"{path.name}: unknown encoding {name!r}") from None


def _corrupt(path: Path, what: str, why: str) -> FileReadError:
    return FileReadError(f"{path.name}: cannot be read as {what} file: {why}")


def _spss_declared_encoding(path: Path) -> tuple[str | None, str]:
    """The encoding an SPSS file declares: its character-encoding record (type 7, subtype 20), which PSPP's
    documentation says to prefer, else the code page of its machine-integer-info record (subtype 3).

    Walks the dictionary records up to the termination record (999) without decoding any text, so it
    works on files whose labels are in an undeclared encoding (pyreadstat's metadata read does not).
    """
    what = "an SPSS"
    with path.open("rb") as fh:
        head = fh.read(176)
        if len(head) < 176 or head[:4] not in (b"$FL2", b"$FL3"):
            raise _corrupt(path, what, "no SPSS system-file header ($FL2/$FL3)")
        for endian in ("<", ">"):
            if struct.unpack(endian + "i", head[64:68])[0] in (2, 3):
                break
        else:
            raise _corrupt(path, what, "unknown byte order in the header")

        def ints(n: int) -> tuple[int, ...]:
            chunk = fh.read(4 * n)
            if len(chunk) < 4 * n:
                raise _corrupt(path, what, "the dictionary ends before its termination record")
            return struct.unpack(f"{endian}{n}i", chunk)

        def skip(n: int) -> None:
            if n < 0:
                raise _corrupt(path, what, "a negative record length in the dictionary")
            fh.seek(n, 1)

        encoding_record: str | None = None
        code_page: int | None = None
        size = path.stat().st_size
        while True:
            (rec_type,) = ints(1)
            if rec_type == 2:  # variable: type, has_label, n_missing, print, write, name[8]
                _, has_label, n_missing, _, _ = ints(5)
                skip(8)
                if has_label:
                    (n,) = ints(1)
                    skip((n + 3) // 4 * 4)
                skip(abs(n_missing) * 8)
            elif rec_type == 3:  # value labels, followed by their type-4 variable list
                (count,) = ints(1)
                for _ in range(count):
                    entry = fh.read(9)
                    if len(entry) < 9:
                        raise _corrupt(path, what, "the dictionary ends inside a value-label record")
                    skip((entry[8] + 8) // 8 * 8 - 1)
                (rec4, n) = ints(2)
                if rec4 != 4:
                    raise _corrupt(path, what, "a value-label record without its variable list")
                skip(4 * n)
            elif rec_type == 6:  # documents: n lines of 80 bytes
                (n,) = ints(1)
                skip(80 * n)
            elif rec_type == 7:
                subtype, item_size, count = ints(3)
                n = item_size * count
                if n < 0 or n > size:
                    raise _corrupt(path, what, f"an extension record (subtype {subtype}) longer than the file")
                if subtype in (3, 20):
                    payload = fh.read(n)
                    if subtype == 3 and len(payload) == 32:
                        code_page = struct.unpack(endian + "8i", payload)[7]
                    elif subtype == 20:
                        encoding_record = payload.decode("ascii", "replace").strip("\x00 ")
                else:
                    skip(n)
            elif rec_type == 999:
                break
            else:
                raise _corrupt(path, what, f"unknown dictionary record type {rec_type}")
    if encoding_record:
        return encoding_record, ""
    if code_page is None or code_page == 3:
        return None, "an SPSS file with no character-encoding record and no code page"
    return _SPSS_CODE_PAGES.get(code_page, f"cp{code_page}"), ""


def _stata_release(path: Path) -> tuple[int, str]:
    """The dta format number (104–119) and byte order (``<``/``>``) from the file's first bytes."""
    with path.open("rb") as fh:
        head = fh.read(200)
    if head.startswith(b"<stata_dta>"):
        m = re.search(rb"<release>(\d+)</release>", head)
        order = re.search(rb"<byteorder>(MSF|LSF)</byteorder>", head)
        if m and order:
            return int(m.group(1)), ">" if order.group(1) == b"MSF" else "<"
    elif len(head) >= 2 and 102 <= head[0] <= 115:
        return head[0], ">" if head[1] == 1 else "<"
    raise _corrupt(path, "a Stata", "no Stata dta header")


def _stata_declared_encoding(path: Path) -> tuple[str | None, str]:
    """UTF-8 for dta 118/119 (Stata 14+); nothing for older formats, whose bytes are in whatever code page
    the machine that saved them used (Stata's ``help unicode_translate``)."""
    release, _ = _stata_release(path)
    if release >= 118:
        return "utf-8", ""
    return None, f"a Stata dta {release} file, from before Stata 14 made files UTF-8"


def _read_bytes_as_latin1(path: Path, *, spss: bool, what: str, codec: str) -> tuple[dict[str, list], Any]:
    """pyreadstat's read with codes (no value labels applied), user-missing values kept, dates as numbers
    and every string decoded as ISO-8859-1; its errors become FileReadError naming the file."""
    reader = pyreadstat.read_sav if spss else pyreadstat.read_dta
    try:
        return reader(
            str(path), encoding=_BYTES_AS, apply_value_formats=False, user_missing=True,
            disable_datetime_conversion=True, output_format="dict",
        )
    except UnicodeDecodeError as exc:
        # Only strL values reach Python undecoded by ReadStat (pyreadstat then decodes them as UTF-8).
        raise _strl_error(path, exc, codec) from None
    except Exception as exc:  # pyreadstat raises ReadstatError, PyreadstatError, OSError, ...
        raise _corrupt(path, what, f"{exc}".strip() or type(exc).__name__) from None


def _strl_error(path: Path, exc: UnicodeDecodeError, codec: str) -> FileReadError:
    """Locate a strL that is not UTF-8 from its GSO record: ``GSO``, variable (4 bytes), observation (4 bytes
    in dta 117, 8 in 118/119), type (1), length (4), then the bytes."""
    data = path.read_bytes()
    raw = bytes(exc.object)
    bad = raw[exc.start:exc.start + 4]
    where = "a long string (Stata strL)"
    at = data.find(raw)
    if at >= 0:
        release, order = _stata_release(path)
        header = 20 if release >= 118 else 16
        if at >= header and data[at - header:at - header + 3] == b"GSO":
            var = struct.unpack(order + "I", data[at - header + 3:at - header + 7])[0]
            obs_fmt = order + ("Q" if release >= 118 else "I")
            obs = struct.unpack(obs_fmt, data[at - header + 7:at - header + (15 if release >= 118 else 11)])[0]
            name = f"number {var}"
            try:
                _, meta = pyreadstat.read_dta(str(path), metadataonly=True, encoding=_BYTES_AS)
                name = repr(meta.column_names[var - 1].encode("latin-1").decode(codec, "replace"))
            except Exception:  # the name is a courtesy; the location stands without it
                pass
            where = f"variable {name}, data row {obs} (a long string, Stata strL)"
        where += f", at byte offset {at + exc.start} of the file"
    return FileReadError(
        f"{path.name}: {where}: bytes {bad!r} are not valid UTF-8. pyreadstat reads strL values as UTF-8 "
        f"whatever encoding is declared ({codec} here), so this file cannot be read as delivered: ask for it "
        "saved by Stata 14 or later after `unicode translate`, or with str# variables instead of strL"
    )


class _Decoder:
    """Decodes ISO-8859-1 stand-ins back to their bytes and then with the wanted codec, strictly."""

    def __init__(self, path: Path, codec: str, source: str, *, spss: bool):
        self.path, self.codec, self.source, self.spss = path, codec, source, spss
        self._file: bytes | None = None
        ascii_chars = "".join(map(chr, range(128)))
        try:
            self.ascii_same = ascii_chars.encode("latin-1").decode(codec) == ascii_chars
        except UnicodeDecodeError:
            self.ascii_same = False

    def _decode(self, s: str) -> str:
        if self.ascii_same and s.isascii():
            return s
        try:
            raw = s.encode("latin-1")
        except UnicodeEncodeError:  # not a stand-in: text pyreadstat decoded as UTF-8 itself (as for strL)
            return s
        return raw.decode(self.codec)

    def decode(self, s: str, where: str) -> str:
        """One metadata string (a name or label); ``where`` names it in the error."""
        try:
            return self._decode(s)
        except UnicodeDecodeError as exc:
            raise self._error(where, s.encode("latin-1"), exc, also="") from None

    def decode_column(self, values: list[str | None], name: str) -> list[str | None]:
        """A string variable's values; an error names the first failing data row and how many fail."""
        out: list[str | None] = []
        done: dict[str, str] = {}  # survey text repeats (place names, "other" answers): decode each once
        for i, s in enumerate(values):
            if s is None:
                out.append(None)
                continue
            if s in done:
                out.append(done[s])
                continue
            try:
                out.append(done.setdefault(s, self._decode(s)))
            except UnicodeDecodeError as exc:
                n_bad = sum(1 for v in values[i:] if v is not None and not self._decodes(v))
                also = f" ({n_bad} rows of this variable fail)" if n_bad > 1 else ""
                raise self._error(f"variable {name!r}, data row {i + 1}", s.encode("latin-1"), exc, also) from None
        return out

    def _decodes(self, s: str) -> bool:
        try:
            self._decode(s)
            return True
        except UnicodeDecodeError:
            return False

    def _error(self, where: str, raw: bytes, exc: UnicodeDecodeError, also: str) -> FileReadError:
        bad = raw[exc.start:exc.start + 4]
        return FileReadError(
            f"{self.path.name}: {where}: bytes {bad!r} are not valid {self.codec} ({self.source}){also}"
            f"{self._offset(raw, exc.start)}; {_encoding_hint(raw)}"
        )

    def _offset(self, raw: bytes, start: int) -> str:
        """Where the bytes are in the file: the whole string searched as stored, else (SPSS) the 8-byte unit
        holding the bad byte (SPSS stores strings in 8-byte units, kept whole by bytecode compression)."""
        if self._file is None:
            self._file = self.path.read_bytes()
        data = self._file
        probes = [(raw, start)]
        if self.spss:
            unit = start // 8 * 8
            probes.append((raw[unit:unit + 8].ljust(8, b" "), start - unit))
        for probe, shift in probes:
            at = data.find(probe)
            if at >= 0:
                if data.find(probe, at + 1) < 0:
                    return f", at byte offset {at + shift} of the file"
                return f", first found at byte offset {at + shift} of the file"
        return ", byte offset in the file not found (compressed data)"


def _encoding_hint(raw: bytes) -> str:
    """What to declare, judged from the bytes (never quoting them decoded)."""
    try:
        raw.decode("utf-8")
        return "these bytes are valid UTF-8: declare the file's encoding in its mapping as encoding: utf-8"
    except UnicodeDecodeError:
        pass
    return "these bytes are not UTF-8: " + encoding_hint(raw)


def _blank_to_none(s: str | None) -> str | None:
    return s if s and s.strip() else None


# --- numbers, dates, types -------------------------------------------------------------------------------


def _number(v: float | int) -> str:
    """Whole numbers without a decimal point, others as ``repr`` (shortest round-tripping text)."""
    if isinstance(v, int):
        return str(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _float32(v: float) -> str:
    """A Stata ``float`` value: the shortest text that reads back to the same 32-bit float."""
    return str(int(v)) if v.is_integer() else str(np.float32(v))


def _clock(ms: int) -> str:
    sign = "-" if ms < 0 else ""
    seconds, frac = divmod(abs(ms), 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"
    return out + "." + f"{frac:03d}".rstrip("0") if frac else out


def _day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _spss_date(v: float) -> str:
    return _day(_SPSS_EPOCH + round(v * 1000) // _MS_PER_DAY)


def _spss_datetime(v: float) -> str:
    days, ms = divmod(round(v * 1000), _MS_PER_DAY)
    return f"{_day(_SPSS_EPOCH + days)}T{_clock(ms)}"


def _spss_time(v: float) -> str:
    return _clock(round(v * 1000))


def _stata_days(v: float) -> str:
    return _day(_STATA_EPOCH + math.floor(v))


def _stata_ms(v: float) -> str:
    days, ms = divmod(round(v), _MS_PER_DAY)
    return f"{_day(_STATA_EPOCH + days)}T{_clock(ms)}"


def _stata_period(per_year: int) -> Callable[[float], str]:
    """First day of a Stata week (52 a year, week 52 running to 31 December), month, quarter or half-year."""

    def convert(v: float) -> str:
        years, k = divmod(math.floor(v), per_year)
        year = 1960 + years
        if per_year == 52:
            return _day(date(year, 1, 1).toordinal() + 7 * k)
        return date(year, k * (12 // per_year) + 1, 1).isoformat()

    return convert


def _spss_type(fmt: str, is_string: bool) -> tuple[str, Callable[[Any], str]]:
    """XLSForm type and value-to-text conversion from an SPSS print format (``F8.2``, ``A10``, ``DATE11``)."""
    if is_string:
        return "text", str
    m = _SPSS_FORMAT.fullmatch(fmt.upper())
    if m is None:
        return "decimal", _number
    name, width, decimals = m.group(1), m.group(2), int(m.group(3) or 0)
    if name in _SPSS_DATE:
        return "date", _spss_date
    if name in _SPSS_DATETIME:
        return "datetime", _spss_datetime
    if name in _SPSS_TIME:
        return "time", _spss_time
    if name in _SPSS_INTEGER_CODED:
        return "integer", _number
    if name == "N" and decimals == 0 and width:
        w = int(width)
        return "integer", lambda v: _number(v).zfill(w) if v >= 0 and float(v).is_integer() else _number(v)
    if name == "E" or decimals > 0:
        return "decimal", _number
    return "integer", _number


def _stata_type(fmt: str, storage: str) -> tuple[str, Callable[[Any], str]]:
    """XLSForm type and value-to-text conversion from a Stata display format and storage type."""
    if storage == "string":
        return "text", str
    time_format = re.match(r"%-?t([a-zA-Z])", fmt)
    letter = time_format.group(1) if time_format else ("d" if re.match(r"%-?d", fmt) else None)
    if letter == "d":
        return "date", _stata_days
    if letter == "c":
        return "datetime", _stata_ms
    if letter == "C":
        return "unsupported", _stata_ms
    if letter in ("w", "m", "q", "h"):
        return "date", _stata_period({"w": 52, "m": 12, "q": 4, "h": 2}[letter])
    number = _float32 if storage == "float" else _number
    if letter in ("y", "b") or storage in ("int8", "int16", "int32"):
        return "integer", number
    fixed = re.fullmatch(r"%-?0?\d*\.(\d+)fc?", fmt)
    if fixed and int(fixed.group(1)) == 0:
        return "integer", number
    return "decimal", number


def _convert_column(path: Path, name: str, values: list, convert: Callable[[Any], str]) -> list[str | None]:
    """A numeric variable's values as text (``convert`` per value; NaN and None are NULL)."""
    fast = _whole_numbers_fast(values) if convert in (_number, _float32) else None
    if fast is None:
        out: list[str | None] = [None] * len(values)
        todo: Any = range(len(values))
    else:  # whole numbers done; convert the rest one by one
        out, todo = fast
    for i in todo:
        v = values[i]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, str):  # a Stata extended missing value, delivered by pyreadstat as its letter
            out[i] = f".{v}"
            continue
        try:
            out[i] = convert(v)
        except (ValueError, OverflowError):
            raise FileReadError(
                f"{path.name}: variable {name!r}, data row {i + 1}: the stored number cannot be shown in "
                "the variable's date/time format (outside the years 1-9999)"
            ) from None
    return out


def _whole_numbers_fast(values: list) -> tuple[list[str | None], list[int]] | None:
    """Whole numbers below 2**53 written by polars (``"12"``, other cells None) and the positions of the
    other numbers; None when the column holds anything but numbers (a Stata extended missing letter), so
    the caller converts it value by value."""
    try:
        s = pl.Series("v", values, dtype=pl.Float64, strict=True).fill_nan(None)
    except (TypeError, ValueError, OverflowError):
        return None
    whole = ((s == s.floor()) & (s.abs() < 2.0**53)).fill_null(False)
    text = pl.select(pl.when(whole).then(s.cast(pl.Int64, strict=False).cast(pl.String))).to_series()
    return text.to_list(), (s.is_not_null() & ~whole).arg_true().to_list()


# --- codebook --------------------------------------------------------------------------------------------


def _missing_codes(meta: Any, raw: str, values: list, code_text: Callable[[Any], str], *, spss: bool,
                   is_string: bool) -> tuple[str, ...]:
    """User-defined missing codes of one variable, as text (see ``read_statfile``)."""
    out: list[str] = []
    if spss:
        set_name = (meta.variable_to_label or {}).get(raw)
        labelled = list((meta.value_labels or {}).get(set_name, {})) if set_name is not None else []
        for entry in (meta.missing_ranges or {}).get(raw, []):
            lo, hi = entry["lo"], entry["hi"]
            if lo == hi or is_string:
                out.append(code_text(lo))
                continue
            inside = {v for v in list(values) + labelled
                      if isinstance(v, (int, float)) and not math.isnan(v) and lo <= v <= hi}
            out.extend(code_text(v) for v in sorted(inside))
    else:
        letters = set((meta.missing_user_values or {}).get(raw, []))
        set_name = (meta.variable_to_label or {}).get(raw)
        letters |= {k for k in (meta.value_labels or {}).get(set_name, {}) if isinstance(k, str)} if set_name else set()
        out = [f".{c}" for c in sorted(letters)]
    return tuple(dict.fromkeys(out))


def _choices(path: Path, text: _Decoder, list_name: str, value_labels: dict, code_text: Callable[[Any], str],
             codec: str, label_language: str) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    for key, label in value_labels.items():
        code = code_text(key)
        where = f"the value label of code {code} in label set {list_name!r}"
        label = _blank_to_none(text.decode(label or "", where))
        check_not_mojibake([label], where=f"{path.name}: {where}", encoding=codec, first_row=None)
        out[code] = (label, None) if label_language == "en" else (None, label)
    return out
