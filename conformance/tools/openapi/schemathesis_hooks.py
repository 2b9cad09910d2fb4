"""Schemathesis hooks published with the interface standard (``sc-conformance openapi --schemathesis-config``).

JSON Schema names the formats of the Chinese identifiers (``gb11643``, ``gb32100``) but cannot say
how their check character is computed; a generic generator that knows only the pattern beside the
format makes numbers a platform rightly refuses (422). These strategies make valid ones. Standalone:
this file needs Schemathesis, Hypothesis and python-stdnum only, not the conformance suite.
"""

import datetime

import schemathesis
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

_DIVISIONS = ("110105", "110108", "110101")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def _identity_number(draw):
    birth = draw(st.dates(min_value=datetime.date(1930, 1, 1),
                          max_value=datetime.date(2020, 12, 31)))
    body = f"{draw(st.sampled_from(_DIVISIONS))}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@st.composite
def _credit_code(draw):
    organisation = "".join(draw(st.lists(st.sampled_from(_USCC_ALPHABET), min_size=9, max_size=9)))
    body = f"91{draw(st.sampled_from(_DIVISIONS))}{organisation}"
    return body + uscc.calc_check_digit(body)


schemathesis.openapi.format("gb11643", _identity_number())
schemathesis.openapi.format("gb32100", _credit_code())
