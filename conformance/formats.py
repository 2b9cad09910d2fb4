"""Format checkers for Chinese identifiers, wrapping python-stdnum where it is too strict.

stdnum knows GB 11643 (``stdnum.cn.ric``) and GB 32100 (``stdnum.cn.uscc``) but rejects
Hong Kong/Macao/Taiwan residence permits (810000/820000/830000), the 2023 foreign
permanent-residence number (18 digits starting with 9) and credit codes registered by
authorities whose code is a letter (N, Y, ...). Those share the check-character algorithms,
so we reuse stdnum's ``calc_check_digit`` for them instead of re-implementing it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

__all__ = ["is_credit_code", "is_identity_number", "make_identity_number"]

_PERMIT_PREFIXES = ("810000", "820000", "830000")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def is_identity_number(value: object) -> bool:
    """True for a valid GB 11643 number, residence permit or foreign permanent-residence number."""
    if not isinstance(value, str) or len(value) != 18:
        return False
    if not value[:17].isdigit() or not value[:17].isascii():
        return False
    if value[-1] != ric.calc_check_digit(value):
        return False
    try:
        ric.get_birth_date(value)
    except ValidationError:
        return False
    if value.startswith(_PERMIT_PREFIXES) or value.startswith("9"):
        return True
    try:
        ric.validate(value)
    except (ValidationError, KeyError):  # stdnum raises KeyError for some division codes it half-knows
        return False
    return True


def is_credit_code(value: object) -> bool:
    """True for a valid GB 32100 unified social credit code, letter-coded authorities included."""
    if not isinstance(value, str) or len(value) != 18:
        return False
    if value[0].isdigit():
        try:
            uscc.validate(value)
        except ValidationError:
            return False
        return True
    return (
        all(c in _USCC_ALPHABET for c in value)
        and value[2:8].isdigit()
        and uscc.calc_check_digit(value) == value[-1]
    )


def make_identity_number(rng: random.Random, *, division: str = "110105") -> str:
    """A valid GB 11643 number with a random birth date and sequence (check character by stdnum)."""
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
    body = f"{division}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")
