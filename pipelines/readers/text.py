"""Guards for text that decoded without error but is still wrong (mojibake), shared by the file readers.

A strict decoder catches bytes that are invalid in the declared encoding, but not bytes that are valid
in it and mean something else: Windows-1256 Arabic declared as Windows-1252 or Latin-1 decodes "cleanly"
into accented Latin letters (``البصرة`` → ``ÇáÈÕÑÉ``), and UTF-8 declared as a one-byte code page
decodes into ``Ø§Ù„...``. :func:`check_not_mojibake` stops both with the value's position.

The readers call it on every text value they return: ``pipelines.readers.statfile`` on SPSS/Stata
variables, labels and names; ``pipelines.readers.delimited`` can call it per column after decoding,
e.g. ``check_not_mojibake(frame[c], where=f"{path.name}: column {c!r}", encoding=encoding)``
(row 1 is the first data row, as in its other messages).
"""

from __future__ import annotations

import codecs
import functools
import unicodedata
from collections.abc import Iterable

from pipelines.readers.delimited import FileReadError

#: A "word" of at least this many letters, all of them accented Latin letters, marks mis-decoded Arabic.
MIN_SUSPECT_WORD = 3
#: One-byte Latin code pages through which UTF-8 text is commonly mis-read (checked besides the declared one).
LATIN_CODE_PAGES = ("cp1252", "latin-1")


#: The bytes that Windows-1256 gives Arabic-block characters (letters, diacritics, ، ؛ ؟): 60 of the 256.
ARABIC_CP1256_BYTES = bytes(b for b in range(256) if 0x0600 <= ord(bytes([b]).decode("cp1256")) <= 0x06FF)


@functools.lru_cache(maxsize=64)
def suspect_letters(encoding: str) -> frozenset[str]:
    """The letters that Windows-1256 Arabic bytes become when decoded with ``encoding``, Windows-1252 or
    Latin-1 (``Ç`` for ا, ``á`` for ل, ``Ú`` for ع, ...). French ``à â ç è é ê ë î ï ô ù û ü`` are never among
    them: Windows-1256 keeps those letters at their Windows-1252 positions."""
    out = set()
    for cp in {encoding, *LATIN_CODE_PAGES}:
        for b in ARABIC_CP1256_BYTES:
            try:
                ch = bytes([b]).decode(cp)
            except (UnicodeDecodeError, LookupError):
                continue
            # Latin letters only: decoding with an Arabic code page (cp1256 itself) gives Arabic, not mojibake
            if len(ch) == 1 and not ch.isascii() and ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
                out.add(ch)
    return frozenset(out)


def _suspect_word(value: str, encoding: str) -> str | None:
    """The first run of ``MIN_SUSPECT_WORD`` or more letters that are all :func:`suspect_letters`, if any."""
    suspect = suspect_letters(encoding)
    word: list[str] = []
    for ch in value + " ":
        if ch.isalpha():
            word.append(ch)
            continue
        if len(word) >= MIN_SUSPECT_WORD and all(c in suspect for c in word):
            return "".join(word)
        word = []
    return None


def _is_utf(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def _utf8_read_as(value: str, encoding: str) -> str | None:
    """The one-byte code page through which ``value`` looks like UTF-8 text mis-read, if any."""
    candidates = ([] if _is_utf(encoding) else [encoding]) + list(LATIN_CODE_PAGES)
    seen = set()
    for cp in candidates:
        try:
            name = codecs.lookup(cp).name
        except LookupError:
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            value.encode(name).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return name
    return None


def mojibake_reason(value: str, encoding: str) -> str | None:
    """Why ``value`` (decoded with ``encoding``) looks mis-decoded, or None when it looks like real text.

    See :func:`check_not_mojibake` for the rules. Never quotes more than four characters of the value.
    """
    if value.isascii():
        return None
    c1 = next((ch for ch in value if 0x80 <= ord(ch) <= 0x9F), None)
    if c1 is not None:
        return (f"it holds the control character U+{ord(c1):04X}, which no text uses: bytes of another "
                f"encoding read as {encoding}")
    via = _utf8_read_as(value, encoding)
    if via is not None:
        return (f"it is UTF-8 text read as {via} (its characters re-encoded as {via} are valid multi-byte "
                "UTF-8); declare the file's encoding in its mapping as encoding: utf-8")
    word = _suspect_word(value, encoding)
    if word is not None:
        hint = (
            "the text was garbled before it was saved as UTF-8: ask for a corrected file"
            if _is_utf(encoding)
            else "declare the file's encoding in its mapping, e.g. encoding: cp1256"
        )
        return (f"it has a {len(word)}-letter word made only of accented Latin letters that Arabic letters become "
                f"(starting {word[:4]!r}), "
                f"the signature of Arabic in Windows-1256 (cp1256) decoded as {encoding}; {hint}")
    return None


def check_not_mojibake(
    values: Iterable[str | None], *, where: str, encoding: str, first_row: int | None = 1
) -> None:
    """Raise when a text value that decoded without error looks like mis-decoded bytes.

    Args:
        values: the decoded text values, in order; None (a missing value) is skipped but still counts
            as a row.
        where: the message prefix naming the file and the item, e.g. ``"survey.sav: variable 'gov'"``.
        encoding: the encoding the values were decoded with (named in the message).
        first_row: the row number of the first value (1: the first data row); None for a metadata item
            (a label), whose message then names no row.

    Raises:
        FileReadError: ``"{where}, data row {n}: text decoded as {encoding} is not what the file means: ..."``
            for the first value that breaks a rule below, with the rule's reason and what to declare.

    The rules (a value is mojibake when any holds; pure-ASCII values are never suspect):

    a. **A C1 control character** (U+0080–U+009F). No text uses them; they are what Latin-1
       (ISO-8859-1) makes of the bytes 0x80–0x9F, where Windows-1256 keeps Persian/Kurdish letters
       (پ چ ژ گ ک) and Windows-1252 keeps ``€ „ …``. This is why the WHATWG Encoding Standard decodes the
       label ``latin1`` as windows-1252 (https://encoding.spec.whatwg.org/#names-and-labels).
    b. **A word of ``MIN_SUSPECT_WORD`` (3) or more letters, every one of them a letter that Windows-1256
       Arabic becomes through a Latin code page** (:func:`suspect_letters`: the 60 bytes Windows-1256 gives
       the Arabic block, decoded with ``encoding``, Windows-1252 or Latin-1). Microsoft's table
       (https://www.unicode.org/Public/MAPPINGS/VENDORS/MICSFT/WINDOWS/CP1256.TXT) puts the Arabic letters
       U+0621–U+064A and the diacritics in 0xC1–0xFA; Windows-1252, Latin-1, Latin-9, Windows-1250 and
       Windows-1254 map each of those bytes to an accented Latin letter (``البصرة`` → ``ÇáÈÕÑÉ``, ``علي`` → ``Úáí``; checked for all
       the letters U+0621–U+064A). A mis-decoded Arabic word is thus a run of such letters with no plain
       a–z among them. Real French, Spanish, German, Turkish or Kurmanji words and names carry their
       accents among plain letters (``François``, ``Müller``, ``Küçük``, ``Çağlar``, ``Işık``), and the
       French accented letters are not in the set at all (Windows-1256 keeps them where Windows-1252 has
       them), nor are Turkish ``ı ş`` or Polish ``ł`` (no Arabic byte becomes them), so even ``ışığı`` and
       ``żółć`` pass. Limits: an Arabic word of one or two letters alone
       (``في`` → ``Ýí``) is not caught (a column or label with any longer word is); a real word made only
       of such letters (a list like ``ÅÄÖ``) would trip.
    c. **UTF-8 read through a one-byte code page**: the value, encoded back with ``encoding`` (or with
       Windows-1252 / Latin-1), is valid multi-byte UTF-8 (``Ø§Ù„`` → ``ال``; ``Ã©`` → ``é``). Legitimate
       text almost never re-encodes to valid UTF-8, because each accented byte would have to be followed by
       one of the 64 continuation bytes 0x80–0xBF (the test popularised by ftfy, https://ftfy.readthedocs.io).
       This also catches UTF-8 Arabic declared as cp1256, which rule (b) cannot see (it decodes to Arabic
       letters: ``ط§ظ„``).

    Messages quote at most four characters of an offending word, never a whole value (values may be
    personal data).
    """
    row = first_row
    passed: set[str] = set()  # values repeat (place names, choices): judge each distinct value once
    for value in values:
        if value is not None and not value.isascii() and value not in passed:
            reason = mojibake_reason(value, encoding)
            if reason is not None:
                at = f"{where}, data row {row}" if row is not None else where
                raise FileReadError(f"{at}: text decoded as {encoding} is not what the file means: {reason}")
            passed.add(value)
        if row is not None:
            row += 1
