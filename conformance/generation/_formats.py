"""Strategies per ``format`` and per shared definition (``x-ref``): the values a real registry holds.

Registered once, looked up by name. Identity numbers and credit codes get their check character
from python-stdnum; names mix common characters, CJK extension characters outside the BMP and the
middle dot; times carry offsets from -12:00 to +14:00; geometry stays inside one community.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from stdnum.cn import ric, uscc

__all__ = ["FORMATS", "REFS", "format_strategy", "ref_strategy"]

Strategy = st.SearchStrategy[Any]
FORMATS: dict[str, Callable[[], Strategy]] = {}
REFS: dict[str, Callable[[dict[str, Any]], Strategy]] = {}

_PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
              "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")
# Real county-level GB/T 2260 codes (stdnum's table knows them), for citizen numbers.
_COUNTIES = ("110105", "120101", "210102", "230102", "310104", "320102", "330106", "340202", "350203",
             "370102", "420106", "440305", "500103", "510107", "610113", "650102")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦"
          "黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽")
# Characters outside the BMP that appear in real names (CJK Ext. B–G: 𠮷 𪚥 𡒄 𨭉 𫟹 𬌗 𮧵 𰻞 …).
_RARE = "𠮷𪚥𡒄𨭉𫟹𬌗𬱖𠀀𠊎𡈼𢫦𣲗𤭢𥔲𦰡𧾷𨙸𩽾𪛉𫠠𬺰𮯠𰀀𰻞"
_MIDDLE_DOT = "·"
_UYGHUR_PARTS = ("阿卜杜", "热合曼", "买买提", "艾力", "古丽", "努尔", "阿依", "吐尔逊", "帕提古丽", "约翰", "玛丽")
_TEXT_ALPHABET = st.one_of(
    st.sampled_from(_SURNAMES + _GIVEN + "路号街道社区小区栋单元室幢楼层东西南北中省市区县镇乡村"),
    st.sampled_from(_RARE),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -,.()#"),
)
_WORDS = st.sampled_from(("安徽省", "芜湖市", "镜湖区", "弋江路", "88号", "𠮷野", "𪚥", "东方龙城", "3栋2单元",
                          "Room 501", "·", "社区服务中心", "𡒄𨭉𫟹", "北京路", "No.12", "幢", "楼", "层"))
# One community in Wuhu, Anhui: points are drawn inside it, boundaries drawn around it.
_AREA = (118.370, 31.320, 118.380, 31.330)


def registers(table: dict[str, Any], name: str) -> Callable[[Any], Any]:
    def register(factory: Any) -> Any:
        table[name] = factory
        return factory

    return register


def format_strategy(name: str) -> Strategy | None:
    factory = FORMATS.get(name)
    return factory() if factory else None


def ref_strategy(ref: str, schema: dict[str, Any]) -> Strategy | None:
    factory = REFS.get(ref)
    return factory(schema) if factory else None


def _birth_dates() -> Strategy:
    return st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31))


def _with_check(body: str, calc: Callable[[str], str], filler: str = "0") -> str:
    return body + calc(body + filler)


@registers(FORMATS, "gb11643")
def identity_numbers() -> Strategy:
    """Citizen numbers, Hong Kong/Macao/Taiwan residence permits and 2023 foreign permanent-residence numbers."""
    division = st.one_of(
        st.sampled_from(_COUNTIES),
        st.sampled_from(("810000", "820000", "830000")),
        st.builds(lambda p, rest: "9" + p + rest, st.sampled_from(_PROVINCES), st.from_regex(r"\A[0-9]{3}\Z")),
    )
    return st.builds(
        lambda div, birth, seq: _with_check(f"{div}{birth:%Y%m%d}{seq:03d}", ric.calc_check_digit),
        division, _birth_dates(), st.integers(0, 999),
    ).filter(_is_identity)


def _is_identity(value: str) -> bool:
    from ..formats import is_identity_number

    try:
        return is_identity_number(value)
    except KeyError:  # stdnum's division table lacks an entry (a bug of formats.py, reported); skip the draw
        return False


@registers(FORMATS, "gb32100")
def credit_codes() -> Strategy:
    """GB 32100 codes: registration authority digit or letter (N, Y, ...), organisation code, check character."""
    authority = st.sampled_from("123456789ANY")
    kind = st.sampled_from("1239")
    division = st.builds(lambda p, rest: p + rest, st.sampled_from(_PROVINCES), st.from_regex(r"\A[0-9]{4}\Z"))
    organisation = chars(_USCC_ALPHABET, 9, 9)
    return st.builds(lambda a, k, d, o: _with_check(a + k + d + o, uscc.calc_check_digit),
                     authority, kind, division, organisation)


@registers(FORMATS, "date-time")
def date_times() -> Strategy:
    """RFC 3339 with offsets from -12:00 to +14:00 in quarter hours, Z, fractions of 1 to 9 digits, and now and
    then the lower-case t and z RFC 3339 allows (the input classes' spellings, drawn at random here)."""
    offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timedelta(minutes=15 * q))
    moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30))
    return st.builds(_rfc3339, moments, offsets, st.booleans(), st.sampled_from((0, 1, 2, 3, 4, 6, 7, 9)),
                     st.sampled_from((False, False, False, True)))


def _rfc3339(moment: datetime, offset: timedelta, zulu: bool, digits: int, lower: bool = False) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:  # past six digits the fraction goes on below the microsecond
        text += "." + f"{moment.microsecond:06d}{moment.microsecond % 997:03d}"[:digits]
    if zulu and not offset:
        text += "Z"
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        text = f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text.replace("T", "t").replace("Z", "z") if lower else text


@registers(FORMATS, "date")
def dates() -> Strategy:
    return _birth_dates().map(date.isoformat)


@registers(FORMATS, "email")
def emails() -> Strategy:
    local = st.from_regex(r"\A[a-z][a-z0-9._-]{0,15}[a-z0-9]\Z").filter(lambda s: ".." not in s)
    return st.builds(lambda user, d, t: f"{user}@{d}.{t}", local, st.from_regex(r"\A[a-z][a-z0-9-]{0,10}[a-z0-9]\Z"),
                     st.sampled_from(("example", "cn", "com.cn", "gov.cn")))


@registers(FORMATS, "uri-reference")
def uri_references() -> Strategy:
    return st.from_regex(r"\A(https://[a-z]{1,10}\.example)?/[a-z0-9/_-]{0,20}\Z")


@registers(FORMATS, "json-pointer")
def json_pointers() -> Strategy:
    return st.lists(st.from_regex(r"\A[a-z0-9_]{1,8}\Z"), max_size=4).map(lambda parts: "".join("/" + p for p in parts))


def chars(alphabet: str | Strategy, min_size: int, max_size: int) -> Strategy:
    """Strings over a scattered alphabet (sampled per character: st.text scans its intervals per draw)."""
    letters = st.sampled_from(alphabet) if isinstance(alphabet, str) else alphabet
    return st.lists(letters, min_size=min_size, max_size=max_size).map("".join)


def text(min_size: int = 0, max_size: int = 2000) -> Strategy:
    """Strings counted in code points: short ones, ones just past 64, and ones at the limit."""
    parts = [chars(_TEXT_ALPHABET, min_size, min(max_size, 12))] if min_size <= min(max_size, 12) else []
    lo, hi = max(min_size, min(max_size, 60)), min(max_size, 130)
    if lo <= hi:  # long strings from whole words: a few draws instead of a hundred
        parts.append(st.lists(_WORDS, min_size=lo // 4, max_size=hi // 4).map(lambda w, hi=hi: "".join(w)[:hi]))
    parts.append(chars(_TEXT_ALPHABET, max_size, max_size) if max_size <= 200 else st.just("长" * max_size))
    return st.one_of(parts).map(str.strip).filter(lambda s: min_size <= len(s) <= max_size)


@registers(REFS, "common.json#/$defs/person-name")
def person_names(schema: dict[str, Any]) -> Strategy:
    limit = int(schema.get("maxLength", 100))
    han = st.builds(lambda s, g: s + g, st.sampled_from(_SURNAMES), chars(_GIVEN + _RARE, 1, 3))
    dotted = st.lists(st.sampled_from(_UYGHUR_PARTS + tuple(_RARE)), min_size=2, max_size=4).map(_MIDDLE_DOT.join)
    longest = chars(_GIVEN + _RARE + _MIDDLE_DOT, limit - 1, limit - 1).map(lambda s: "王" + s)
    return st.one_of(han, dotted, longest).filter(lambda s: 1 <= len(s) <= limit)


@registers(REFS, "common.json#/$defs/name")
def names(schema: dict[str, Any]) -> Strategy:
    return text(int(schema.get("minLength", 1)), int(schema.get("maxLength", 200)))


@registers(REFS, "common.json#/$defs/point")
def points(schema: dict[str, Any]) -> Strategy:
    return st.builds(lambda p: {"type": "Point", "coordinates": p}, positions())


def positions() -> Strategy:
    west, south, east, north = _AREA
    return st.tuples(st.floats(west, east), st.floats(south, north)).map(
        lambda p: [round(p[0], 6), round(p[1], 6)])


@registers(REFS, "common.json#/$defs/polygon")
def boundaries(schema: dict[str, Any]) -> Strategy:
    """A closed ring around the community's area (the points above fall inside it)."""
    margin = st.floats(0.0005, 0.01).map(lambda m: round(m, 6))
    return st.builds(_ring, margin, margin, st.integers(0, 3))


def _ring(dx: float, dy: float, turn: int) -> dict[str, Any]:
    west, south, east, north = _AREA
    corners = [[round(west - dx, 6), round(south - dy, 6)], [round(east + dx, 6), round(south - dy, 6)],
               [round(east + dx, 6), round(north + dy, 6)], [round(west - dx, 6), round(north + dy, 6)]]
    corners = corners[turn:] + corners[:turn]
    return {"type": "Polygon", "coordinates": [corners + [corners[0]]]}

