"""DynamoDB numbers: 38 significant digits, magnitude 1E-130 .. 9.99..E+125, exact arithmetic."""

from __future__ import annotations

import re
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded, Underflow

from nimbus.aws.errors import AwsError, validation

# Exponent limits are generous: range checks are ours so the messages match AWS.
_CTX = Context(prec=38, Emax=999, Emin=-999, traps=[InvalidOperation, Inexact, Rounded])
_WIDE = Context(prec=200, Emax=99999, Emin=-99999, traps=[InvalidOperation])
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _cannot_convert() -> AwsError:
    return validation("A value provided cannot be converted into a number")


def _check_range(d: Decimal) -> None:
    if not d:
        return
    digits = len(d.as_tuple().digits)
    if digits > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    exp = d.adjusted()
    if exp > 125:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if exp < -130:
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )


def parse(text: str) -> Decimal:
    """The exact value of an N string, range-checked, trailing zeros dropped."""
    if not isinstance(text, str) or not _NUMBER_RE.fullmatch(text):
        raise _cannot_convert()
    d = _WIDE.create_decimal(text).normalize(_WIDE)
    _check_range(d)
    return d


def render(d: Decimal) -> str:
    # AWS answers numbers in plain notation with trailing zeros removed ("1.50" -> "1.5").
    if not d:
        return "0"
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def normalize(text: str) -> str:
    return render(parse(text))


def arithmetic(a: Decimal, b: Decimal, subtract: bool) -> Decimal:
    try:
        result = _CTX.subtract(a, b) if subtract else _CTX.add(a, b)
    except (Inexact, Rounded):
        raise validation(
            "Attempting to store more than 38 significant digits in a Number"
        ) from None
    except (Overflow, Underflow, InvalidOperation):
        raise _cannot_convert() from None
    result = result.normalize(_WIDE)
    _check_range(result)
    return result


def encode_sortable(d: Decimal) -> bytes:
    """Order-preserving bytes for a number, so SQLite's memcmp ordering is numeric ordering.

    zero -> 0x80; positive -> 0xC0, biased exponent (2 bytes), digits as ASCII;
    negative -> 0x40, inverted exponent, 9-complemented digits, 0xFF terminator (so that a
    shorter digit string, i.e. a larger negative number, sorts after its extensions).
    """
    if not d:
        return b"\x80"
    sign, digits, _ = d.as_tuple()
    exp = d.adjusted() + 1000
    if not sign:
        return b"\xc0" + exp.to_bytes(2, "big") + bytes(48 + x for x in digits)
    return b"\x40" + (2000 - exp).to_bytes(2, "big") + bytes(57 - x for x in digits) + b"\xff"
