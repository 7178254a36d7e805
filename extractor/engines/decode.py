"""Bytes -> text for files of unknown encoding: UTF-8/16/32 (with or without a BOM), cp1251,
koi8-r; binary data is refused."""
from __future__ import annotations

import codecs
from typing import Optional


class DecodeError(UnicodeDecodeError):
    """Bytes that are none of UTF-8/16/32, cp1251 or koi8-r."""

    def __init__(self, data: bytes, reason: str) -> None:
        super().__init__('auto', data, 0, len(data), reason)

    def __str__(self) -> str:
        return f'cannot decode text: {self.reason}'


_BOMS = (
    (codecs.BOM_UTF32_LE, 'utf-32'), (codecs.BOM_UTF32_BE, 'utf-32'),
    (codecs.BOM_UTF8, 'utf-8-sig'),
    (codecs.BOM_UTF16_LE, 'utf-16'), (codecs.BOM_UTF16_BE, 'utf-16'),
)
_COMMON = frozenset('оеаинтсрвлкмдпуяыь')
_LOWER = frozenset('абвгдеёжзийклмнопрстуфхцчшщъыьэюя')
_UPPER = frozenset('АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ')
_PUNCT = frozenset('«»„“”‘’–—…№\u00a0·•°§©®™€')
_SAMPLE = 1 << 16


def _russian_score(text: str) -> int:
    """Higher for text that reads as Russian: lowercase, common letters, Ab-not-aB case."""
    score, prev = 0, ''
    for ch in text:
        if ch in _LOWER:
            score += 2 if ch in _COMMON else 1
            if prev in _UPPER:
                score += 2
        elif ch in _UPPER:
            score -= 1
            if prev in _LOWER:
                score -= 3
        elif '\u2500' <= ch <= '\u25ff':  # koi8-r box drawing: a sure sign of a wrong guess
            score -= 3
        prev = ch
    return score


def _controls(text: str) -> int:
    return sum(1 for ch in text if ch < ' ' and ch not in '\t\n\r\f\v')


def _few_controls(text: str) -> bool:
    sample = text[:_SAMPLE]
    return _controls(sample) <= len(sample) // 100


def _looks_like_text(text: str) -> bool:
    """Few control characters; non-ASCII mostly Cyrillic letters and Russian punctuation."""
    if not _few_controls(text):
        return False
    sample = text[:_SAMPLE]
    high = [ch for ch in sample if ch >= '\x80']
    good = sum(1 for ch in high if ch in _LOWER or ch in _UPPER or ch in _PUNCT)
    return not high or good >= 0.6 * len(high)


def _utf16_guess(data: bytes) -> Optional[str]:
    """Endianness of BOM-less UTF-16 whose high bytes are mostly 0x00 (ASCII) or 0x04 (Cyrillic)."""
    if len(data) % 2:
        return None
    sample = data[:_SAMPLE]
    half = len(sample) // 2 or 1
    even = sum(1 for b in sample[0::2] if b in (0, 4)) / half
    odd = sum(1 for b in sample[1::2] if b in (0, 4)) / half
    if odd > 0.6 and odd > 2 * even:
        return 'utf-16-le'
    if even > 0.6 and even > 2 * odd:
        return 'utf-16-be'
    return None


def decode_bytes(data: bytes) -> str:
    """Text from bytes in UTF-8 (BOM or not), UTF-16/32 (BOM), UTF-16 (no BOM), cp1251 or koi8-r.

    Raises ``DecodeError`` (a ``UnicodeDecodeError``) for binary data or text in none of these.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as e:
                raise DecodeError(data, f'invalid {encoding} after its byte-order mark: '
                                        f'{e.reason}') from None
    if b'\x00' in data:  # before UTF-8: BOM-less UTF-16 of Cyrillic is valid UTF-8 bytes
        encoding = _utf16_guess(data)
        if encoding:
            try:
                text = data.decode(encoding)
                if _looks_like_text(text):
                    return text
            except UnicodeDecodeError:
                pass
        raise DecodeError(data, 'binary data (NUL bytes), not text')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        pass
    else:
        if _few_controls(text):
            return text
        raise DecodeError(data, 'binary data (control characters), not text')
    candidates = []
    for encoding in ('cp1251', 'koi8-r'):
        try:
            candidates.append(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    if candidates:
        text = max(candidates, key=lambda t: _russian_score(t[:_SAMPLE]))
        if _looks_like_text(text):
            return text
    raise DecodeError(data, 'not UTF-8, UTF-16, cp1251 or koi8-r text')
