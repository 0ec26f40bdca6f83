"""Sensitive-information detectors: patterns with checksums, and cue phrases for the rest.

AWS finds PII with a trained model; Nimbus uses patterns. Where a format carries a check
(card numbers: Luhn; IBAN: mod 97; VIN: check digit; US routing numbers: ABA) a candidate must
pass it. Types with no recognisable format (PASSWORD, PIN, CVV, bank accounts, passports...) are
found only after a cue phrase in English or Vietnamese ("password:", "mật khẩu là", "CVV").
NAME is found after titles and introductions ("Mr.", "my name is", "anh", "tên tôi là") and as
Vietnamese full names starting with a common family name. Phones cover Vietnamese mobile,
landline and hotline formats, North American formats and any "+country" number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Span = tuple[int, int, str, str]  # start, end, type or regex name, matched text


@dataclass(frozen=True, slots=True)
class Detector:
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    group: int = 0  # cue-phrase patterns capture the value itself in a group


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _only_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(text: str) -> bool:
    digits = _only_digits(text)
    return 13 <= len(digits) <= 19 and digits[0] in "2345619" and luhn(digits)


def _iban(text: str) -> bool:
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin(text: str) -> bool:
    if text.isdigit() or text.isalpha():
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(text, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return text[8] == ("X" if check == 10 else str(check))


def _aba(text: str) -> bool:
    d = [int(c) for c in text]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def _ipv4(text: str) -> bool:
    return all(int(part) <= 255 for part in text.split("."))


def _intl_phone(text: str) -> bool:
    return 8 <= len(_only_digits(text)) <= 15


def _secret(text: str) -> bool:
    return (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


def _vi_address(text: str) -> bool:
    """A Vietnamese address names a street word, an administrative unit or a big city."""
    return _VI_PLACE.search(text) is not None


def _c(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _cue(cues: str, value: str, check: Callable[[str], bool] | None = None) -> Detector:
    """A value after a cue phrase: "password: x", "mật khẩu là x", "CVV 123"."""
    cue = rf"\b(?:{cues})(?:\s+(?:number|no\.?|code|số))?{_IS}"
    return Detector(_c(rf"{cue}((?-i:{value}))", _I), check, 1)


_I = re.IGNORECASE
_SEP = r"[ .-]?"
_IS = r"\s*(?:is|là|:|=|#)?\s*"  # "password is x", "mật khẩu là x", "PIN: 1234"
_UPPER = "".join(c for c in map(chr, range(0xC0, 0x1EFA)) if c.isupper() and c.isalpha())
_CAP = rf"[A-Z{_UPPER}][^\W\d_]+"  # a capitalised word, Vietnamese letters included
_VI_FAMILY = (
    "Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý|Đinh|Đoàn|Trương|Lâm"
)
_INTRO = r"(?i:\bmy name is|\bcall me|\btên (?:tôi|em|mình|anh|chị) là|\b(?:tôi|em|mình) tên là)"
_VI_TITLE = "anh|chị|ông|bà|cô|chú|bạn|em"
_STREET_EN = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl"
    r"|Square|Sq|Parkway|Pkwy|Highway|Hwy|Terrace|Close"
)
_STREET_VI = r"(?:[Đđ]ường|[Pp]hố|[Nn]gõ|[Hh]ẻm|[Kk]iệt)"
_VI_PLACE = re.compile(
    r"(?:\b(?:[Ss]ố|[Nn]hà|[Đđ]ường|[Pp]hố|[Nn]gõ|[Hh]ẻm|[Pp]hường|[Qq]uận|[Hh]uyện|[Xx]ã|[Tt]ỉnh)\b"
    r"|\bTP\b|\bTp\b|\bP\.|\bQ\.|Thành phố|Hà Nội|Hồ Chí Minh|HCM|Sài Gòn|Đà Nẵng|Hải Phòng"
    r"|Cần Thơ)"
)
_ADMIN_VI = (
    r"(?:[Pp]hường|[Qq]uận|[Hh]uyện|[Xx]ã|[Tt]hị\s+xã|[Tt]hị\s+trấn|[Tt]hành\s+phố|[Tt]ỉnh"
    r"|TP\.?|Tp\.?|P\.|Q\.)"
)

_PHONES = (
    # Vietnamese mobiles and landlines, national and +84 forms, and 1800/1900 hotlines.
    rf"(?<![\w+])0[35789]\d(?:{_SEP}\d){{7}}(?!\d)",
    rf"(?<![\w+])02\d(?:{_SEP}\d){{8}}(?!\d)",
    r"(?<![\w+])\(02\d\)\s?(?:\d[ .-]?){7}\d(?!\d)",
    rf"(?:\+84|\(\+84\)|(?<!\d)0084){_SEP}(?:\(0\){_SEP})?"
    rf"(?:[35789]\d(?:{_SEP}\d){{7}}|2\d(?:{_SEP}\d){{8}})(?!\d)",
    r"(?<![\w.])1[89]00[ .]?\d{4}(?:[ .]?\d{2})?(?![\w.])",
    # North America: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567.
    r"(?<![\w+])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w-])",
    r"(?<![\w+])[2-9]\d{2} \d{3} \d{4}(?![\w])",
)
# Types whose every detector needs a digit in the text; the rest are always tried.
_WITHOUT_DIGITS = frozenset(
    {"EMAIL", "URL", "NAME", "PASSWORD", "USERNAME", "SWIFT_CODE", "MAC_ADDRESS", "IP_ADDRESS",
     "AWS_ACCESS_KEY"}
)  # fmt: skip
_DIGIT = re.compile(r"\d")

DETECTORS: dict[str, list[Detector]] = {
    "EMAIL": [Detector(_c(r"(?<![\w.+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])"))],
    "PHONE": [
        Detector(_c(r"(?=[\d(+])(?:" + "|".join(_PHONES) + ")")),
        # Any other international number written with its country code.
        Detector(_c(r"\+(?!84)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?!\d)"), _intl_phone),
    ],
    "CREDIT_DEBIT_CARD_NUMBER": [
        Detector(_c(r"(?=\d)(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d)"), _card)
    ],
    "CREDIT_DEBIT_CARD_CVV": [_cue("CVV2?|CVC2?|CID|security code|mã bảo mật", r"\d{3,4}\b")],
    "CREDIT_DEBIT_CARD_EXPIRY": [
        Detector(
            _c(
                r"\b(?:exp(?:iry|iration|ires)?(?:\s+date)?|valid\s+(?:thru|through|until)"
                rf"|ngày hết hạn|hết hạn|HSD){_IS}((?:0?[1-9]|1[0-2])\s?/\s?(?:\d{{4}}|\d{{2}}))\b",
                _I,
            ),
            group=1,
        )
    ],
    "IP_ADDRESS": [
        Detector(_c(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"), _ipv4),
        Detector(_c(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])")),
    ],
    "MAC_ADDRESS": [Detector(_c(r"(?<![\w:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])"))],
    "URL": [Detector(_c(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]"))],
    "US_SOCIAL_SECURITY_NUMBER": [
        Detector(_c(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"))
    ],
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": [
        Detector(_c(r"(?<![\d-])9\d{2}-(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])-\d{4}(?![\d-])"))
    ],
    "AWS_ACCESS_KEY": [
        Detector(
            _c(r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")
        )
    ],
    "AWS_SECRET_KEY": [
        Detector(_c(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), _secret)
    ],
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER": [
        Detector(_c(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"), _iban)
    ],
    "SWIFT_CODE": [_cue("SWIFT|BIC", r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b")],
    "VEHICLE_IDENTIFICATION_NUMBER": [Detector(_c(r"\b[A-HJ-NPR-Z0-9]{17}\b"), _vin)],
    "LICENSE_PLATE": [
        # Vietnamese plates: 51F-123.45, 29A-12345, 30E 123.45, 59X1-234.56, 59-X1 234.56.
        Detector(_c(r"(?<![\w.])\d{2}-?[A-Z]{1,2}\d?[- ]\d{3}\.?\d{1,2}(?![\w.])")),
        _cue(
            "license plate|licence plate|plate number|biển số(?: xe)?", r"[A-Z0-9][A-Z0-9.-]{3,10}"
        ),
    ],
    "AGE": [
        Detector(_c(r"\b\d{1,3}\s?(?:tuổi|years?\s+old|yrs?\s+old|y/o)\b", _I)),
        Detector(_c(rf"\b(?:age|aged|tuổi){_IS}(\d{{1,3}})\b", _I), group=1),
    ],
    "PASSWORD": [_cue("password|passwd|passcode|pwd|mật khẩu|mat khau", r"\S+")],
    "USERNAME": [_cue("username|user name|user id|login|tên đăng nhập", r"\S+")],
    "PIN": [_cue("PIN|mã PIN", r"\d{4,8}\b")],
    "US_BANK_ACCOUNT_NUMBER": [_cue("bank account|account|acct|số tài khoản|STK", r"\d{6,17}\b")],
    "US_BANK_ROUTING_NUMBER": [_cue("routing|ABA", r"\d{9}\b", _aba)],
    "US_PASSPORT_NUMBER": [_cue("passport|hộ chiếu", r"[A-Z]?\d{7,9}\b")],
    "DRIVER_ID": [
        _cue(
            "driver'?s? licen[cs]e|driving licen[cs]e|bằng lái(?: xe)?|GPLX",
            r"[A-Z0-9-]*\d[A-Z0-9-]{3,}\b",
        )
    ],
    "UK_NATIONAL_INSURANCE_NUMBER": [
        Detector(
            _c(
                r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
            )
        )
    ],
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER": [_cue("NHS", r"\d{3} ?\d{3} ?\d{4}\b")],
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER": [
        _cue("UTR|unique taxpayer reference", r"\d{5} ?\d{5}\b")
    ],
    "CA_SOCIAL_INSURANCE_NUMBER": [
        _cue(
            "SIN|social insurance", r"\d{3}[ -]?\d{3}[ -]?\d{3}\b", lambda s: luhn(_only_digits(s))
        )
    ],
    "CA_HEALTH_NUMBER": [
        _cue("health card|health", r"\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[A-Z]{2})?\b")
    ],
    "NAME": [
        Detector(
            _c(rf"(?=[MDP])\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+({_CAP}(?:\s+{_CAP}){{0,3}})"), group=1
        ),
        Detector(_c(rf"(?=[mMcCtTeE]){_INTRO}\s+({_CAP}(?:\s+{_CAP}){{0,3}})"), group=1),
        Detector(
            _c(rf"(?=[acôbeACÔBE])\b(?:{_VI_TITLE})\s+((?:{_VI_FAMILY})(?:\s+{_CAP}){{1,3}})"),
            group=1,
        ),
        Detector(_c(rf"(?=[NTLPHVĐBD])\b(?:{_VI_FAMILY})(?:\s+{_CAP}){{1,3}}")),
    ],
    "ADDRESS": [
        Detector(
            _c(
                rf"(?=\d)\b\d{{1,6}}[A-Za-z]?\s+(?:{_CAP}\s+){{0,4}}(?:{_STREET_EN})\b\.?"
                r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
                rf"(?:,?\s+(?:Apt|Suite|Unit)\.?\s*\w+)?(?:,\s*{_CAP}(?:\s+{_CAP}){{0,2}}){{0,2}}"
                r"(?:,?\s+(?:[A-Z]{2}\s+)?\d{5}(?:-\d{4})?)?"
            )
        ),
        # Vietnamese: "123 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh", "Số 1 Đại Cồ Việt, Hà Nội".
        Detector(
            _c(
                rf"(?=[SsNn\d])(?:\b(?:[Ss]ố|[Nn]hà)\s+)?\b\d{{1,5}}[A-Za-z]?(?:/\d{{1,5}}[A-Za-z]?)*\s+"
                rf"(?:{_STREET_VI}\s+)?{_CAP}(?:\s+{_CAP}){{0,4}}"
                rf"(?:,\s*(?:{_ADMIN_VI}\s*)?(?:\d{{1,2}}|{_CAP}(?:\s+{_CAP}){{0,3}})){{1,4}}"
            ),
            _vi_address,
        ),
    ],
}


def find_pii(text: str, types: list[str]) -> list[Span]:
    """Every detection of the given entity types, in text order (overlaps included)."""
    found: list[Span] = []
    digits = _DIGIT.search(text) is not None
    for kind in types:
        if not digits and kind not in _WITHOUT_DIGITS:
            continue
        if kind == "EMAIL" and "@" not in text:
            continue
        for det in DETECTORS.get(kind, ()):
            for m in det.pattern.finditer(text):
                value = m.group(det.group)
                if value and (det.check is None or det.check(value)):
                    found.append((m.start(det.group), m.end(det.group), kind, value))
    found.sort(key=lambda s: (s[0], s[0] - s[1]))
    return found


def non_overlapping(spans: list[Span]) -> list[Span]:
    """The spans to mask: earliest first, the longer of two starting together."""
    kept: list[Span] = []
    end = -1
    for span in sorted(spans, key=lambda s: (s[0], s[0] - s[1])):
        if span[0] >= end:
            kept.append(span)
            end = span[1]
    return kept


def mask(text: str, spans: list[Span]) -> str:
    """``text`` with each span replaced by ``{TYPE}`` (or ``{regex name}``) as AWS masks."""
    parts: list[str] = []
    pos = 0
    for start, end, label, _ in spans:
        parts.append(text[pos:start])
        parts.append("{" + label + "}")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
