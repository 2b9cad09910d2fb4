"""The input space of every field: classes of values derived from each schema keyword and format.

For every member of a create schema (``$ref``s inlined by :mod:`._tree`), :func:`derive` lists the classes
a platform must treat alike: boundary values just inside and just outside every bound (lengths in code
points), each enum member and a near miss, the values a lax parser would coerce (``"5"`` for an integer,
``"true"`` for a boolean, a number for a string), each valid form and each way to be invalid of the
member's format (the table :data:`RULES`, keyed ``format:<name>`` for a JSON Schema format and
``def:<name>`` for a shared definition of ``common.json``), and other spellings of one value a platform
must keep or compare as equal (an instant in another offset or with 1 to 9 fractional digits; NFD text,
characters outside the BMP, ``\\u`` escapes; a number in exponent notation).

Nothing here is per field: a new collection or member is covered by its keywords. A class's ``valid``
says what the schema says: ``True`` accepted and kept, ``False`` refused, ``None`` a choice the standard
leaves open (``5.0`` for an integer is an integer in JSON Schema 2020-12; a leap second). :func:`verified`
checks each derived class against the schema itself and drops a class whose verdict disagrees, so a
wrongly derived value can never fail a platform. The readable specification lists :func:`rule_table`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stdnum.cn import ric, uscc

__all__ = ["MALFORMED", "RULES", "RULE_TEXT", "BodyClass", "ClassKind", "InputClass", "derive", "exemplar", "fields", "get", "invalid_values",
           "member_classes", "place", "raw_json", "rule_of", "rule_rows", "rule_table", "verified"]

Producer = Callable[[dict[str, Any], Any], Any]  # (field schema, a valid example or None) -> value, or _SKIP
_SKIP = object()


@dataclass(frozen=True)
class ClassKind:
    """One class of a rule, as the specification lists it: what it is, whether the schema admits it."""

    rule: str
    id: str
    valid: bool | None  # None: the standard leaves it open (either answer conforms, 5xx never does)
    en: str
    zh: str
    compare: str = "exact"  # how a kept value reads back: exact, instant (same instant), number (numerically)
    post_only: bool = False  # null: a merge patch's null removes a member, so the class is sent on POST only


@dataclass(frozen=True)
class InputClass:
    """One class at one member: the value sent (and its JSON spelling, where it is another one)."""

    pointer: str
    kind: ClassKind
    value: Any
    raw: str | None = None  # JSON text sent for ``value`` (escapes, exponent): another spelling, same value

    @property
    def valid(self) -> bool | None:
        return self.kind.valid

    @property
    def label(self) -> str:
        return f"{self.pointer} {self.kind.rule}/{self.kind.id}"

    def shown(self) -> str:
        text = self.raw if self.raw is not None else json.dumps(self.value, ensure_ascii=False)
        return text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"


@dataclass
class _Rule:
    rule: str
    classes: list[tuple[ClassKind, Producer, Callable[[Any], str | None] | None]] = field(default_factory=list)

    def add(self, id: str, valid: bool | None, en: str, zh: str, produce: Producer, *, compare: str = "exact",
            raw: Callable[[Any], str | None] | None = None, post_only: bool = False) -> None:
        self.classes.append((ClassKind(self.rule, id, valid, en, zh, compare, post_only), produce, raw))


RULES: dict[str, _Rule] = {}


def _rule(name: str) -> _Rule:
    return RULES.setdefault(name, _Rule(name))


def _const(value: Any) -> Producer:
    return lambda schema, example: value


# ---------------------------------------------------------------- format: date-time (RFC 3339 with an offset)

_DT = _rule("format:date-time")
_DT.add("offset-plus", True, "another offset (+05:45): the same instant in another spelling",
        "另一时区偏移(+05:45):同一时刻的另一种写法", _const("2026-11-25T15:45:00+05:45"), compare="instant")
_DT.add("offset-max", True, "the largest offset (+14:00), another calendar day than UTC",
        "最大偏移(+14:00),与 UTC 不在同一天", _const("2026-11-26T00:30:00+14:00"), compare="instant")
_DT.add("offset-min", True, "the smallest offset (-12:00)", "最小偏移(-12:00)",
        _const("2026-11-24T22:00:00-12:00"), compare="instant")
_DT.add("zulu", True, "UTC written Z", "以 Z 表示的 UTC", _const("2026-11-25T10:00:00Z"), compare="instant")
_DT.add("lower-case", True, "lower-case t and z (RFC 3339 §5.6 allows them)", "小写 t 与 z(RFC 3339 §5.6 允许)",
        _const("2026-11-25t10:00:00z"), compare="instant")
for _digits in range(1, 10):
    _DT.add(f"fraction-{_digits}", True, f"{_digits} fractional digit{'s' if _digits > 1 else ''} of a second, kept "
            "to the millisecond (S9)", f"{_digits} 位秒小数,至少保留到毫秒(S9)",
            _const(f"2026-11-25T10:00:00.{'987654321'[:_digits]}+08:00"), compare="instant")
_DT.add("leap-day", True, "29 February of a leap year", "闰年的 2 月 29 日", _const("2028-02-29T12:00:00+08:00"),
        compare="instant")
_DT.add("leap-second", None, "a leap second (23:59:60): RFC 3339 syntax, refused by many parsers; either answer conforms",
        "闰秒(23:59:60):符合 RFC 3339 语法,多数解析器拒绝;接受或拒绝均可", _const("2016-12-31T23:59:60Z"),
        compare="instant")
for _id, _value, _en, _zh in (
        ("no-offset", "2026-11-25T10:00:00", "no offset (a local time of nowhere)", "无时区偏移"),
        ("space-separator", "2026-11-25 10:00:00+08:00", "a space instead of T", "以空格代替 T"),
        ("short-offset", "2026-11-25T10:00:00+8:00", "an offset of one hour digit", "偏移小时仅一位"),
        ("offset-no-colon", "2026-11-25T10:00:00+0800", "an offset without its colon", "偏移缺少冒号"),
        ("offset-hours-only", "2026-11-25T10:00:00+08", "an offset without minutes", "偏移缺少分钟"),
        ("offset-out-of-range", "2026-11-25T10:00:00+24:00", "an offset of 24 hours", "偏移为 24 小时"),
        ("month-13", "2026-13-01T10:00:00+08:00", "month 13", "13 月"),
        ("day-32", "2026-01-32T10:00:00+08:00", "day 32", "32 日"),
        ("february-30", "2026-02-30T10:00:00+08:00", "30 February", "2 月 30 日"),
        ("not-leap-year", "2026-02-29T10:00:00+08:00", "29 February of a common year", "平年的 2 月 29 日"),
        ("hour-24", "2026-11-25T24:00:00+08:00", "hour 24", "24 时"),
        ("basic-format", "20261125T100000Z", "ISO 8601 basic format", "ISO 8601 基本格式"),
        ("date-only", "2026-11-25", "a date without a time", "只有日期"),
        ("empty", "", "the empty string", "空字符串"),
        ("epoch-number-text", "1795600800", "seconds since 1970 as text", "以文本表示的 Unix 秒数"),
        ("fraction-empty", "2026-11-25T10:00:00.+08:00", "a decimal point without digits", "小数点后无数字"),
):
    _DT.add(_id, False, _en, _zh, _const(_value))

# ---------------------------------------------------------------- format: date

_DATE = _rule("format:date")
_DATE.add("leap-day", True, "29 February of a leap year", "闰年的 2 月 29 日", _const("2024-02-29"))
_DATE.add("early", True, "a date early in the last century", "上世纪初的日期", _const("1920-01-01"))
for _id, _value, _en, _zh in (
        ("not-leap-year", "2026-02-29", "29 February of a common year", "平年的 2 月 29 日"),
        ("month-13", "2026-13-01", "month 13", "13 月"),
        ("slashes", "2026/11/25", "slashes instead of hyphens", "以斜杠分隔"),
        ("basic-format", "20261125", "ISO 8601 basic format", "ISO 8601 基本格式"),
        ("with-time", "2026-11-25T00:00:00Z", "a date-time instead of a date", "给出日期时间而非日期"),
):
    _DATE.add(_id, False, _en, _zh, _const(_value))

# ---------------------------------------------------------------- format: gb11643 (identity numbers)


def _identity(division: str, birth: str, last: str | None = None) -> str:
    """A GB 11643 number whose check character is ``last`` (the first sequence giving it), else any."""
    for seq in range(1000):
        body = f"{division}{birth}{seq:03d}"
        check = ric.calc_check_digit(body + "0")
        if last is None or check == last:
            return body + check
    raise ValueError(f"no sequence gives check character {last!r}")


def _wrong_check(value: str, alphabet: str) -> str:
    return value[:-1] + next(c for c in alphabet if c != value[-1])


_CITIZEN = _identity("340202", "19880229")
_ID = _rule("format:gb11643")
_ID.add("citizen", True, "a citizen number (born on a leap day)", "居民身份号码(闰日出生)", _const(_CITIZEN))
_ID.add("check-x", True, "check character X", "校验码为 X", _const(_identity("110105", "19491231", "X")))
_ID.add("permit", True, "a Hong Kong/Macao/Taiwan residence permit number (810000)", "港澳台居民居住证号码(810000)",
        _const(_identity("810000", "19900101")))
_ID.add("foreign-permanent", True, "a 2023 foreign permanent-residence number (starts with 9)",
        "2023 版外国人永久居留身份证号码(以 9 开头)", _const(_identity("934020", "19850615")))
_ID.add("wrong-check", False, "a wrong check character", "校验码错误",
        _const(_wrong_check(_CITIZEN, "0123456789X")))
_ID.add("lower-case-x", False, "check character x in lower case", "校验码为小写 x",
        _const(_identity("110105", "19491231", "X")[:-1] + "x"))
_ID.add("seventeen", False, "17 characters", "17 位", _const(_CITIZEN[:17]))
_ID.add("old-fifteen", False, "the 15-digit number of 1985", "1985 年的 15 位旧号码", _const("340202880229123"))
_ID.add("bad-birth-date", False, "a birth date that does not exist (30 February), check character right",
        "出生日期不存在(2 月 30 日),校验码正确", _const(_identity("340202", "19880230")))
_ID.add("full-width", False, "full-width digits", "全角数字",
        _const(_CITIZEN.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})))
_ID.add("spaced", False, "digits in groups separated by spaces", "以空格分组",
        _const(f"{_CITIZEN[:6]} {_CITIZEN[6:14]} {_CITIZEN[14:]}"))

# ---------------------------------------------------------------- format: gb32100 (unified social credit codes)


def _credit(prefix: str) -> str:
    return prefix + uscc.calc_check_digit(prefix + "0")


_CREDIT = _credit("91340200MA2N0X1C3")
_CC = _rule("format:gb32100")
_CC.add("enterprise", True, "an enterprise registered by industry and commerce (91)", "工商登记的企业(91)",
        _const(_CREDIT))
_CC.add("letter-authority", True, "a registration authority coded by a letter (N: other)", "登记管理部门代码为字母(N)",
        _const(_credit("N2340200MA2N0X1C3")))
_CC.add("social-organisation", True, "a social organisation registered by civil affairs (51)", "民政登记的社会组织(51)",
        _const(_credit("51340200MJ0000123")))
_CC.add("wrong-check", False, "a wrong check character", "校验码错误",
        _const(_wrong_check(_CREDIT, "0123456789ABCDEFGHJKLMNPQRTUWXY")))
_CC.add("forbidden-letter", False, "a letter GB 32100 never uses (I, O, S, V, Z)", "含 GB 32100 不用的字母(I、O、S、V、Z)",
        _const(_CREDIT[:10] + "O" + _CREDIT[11:]))
_CC.add("seventeen", False, "17 characters", "17 位", _const(_CREDIT[:17]))

# ---------------------------------------------------------------- shared definitions of common.json


def _with(rule: str, rows: tuple[tuple[str, bool | None, str, str, Any], ...]) -> None:
    target = _rule(rule)
    for id_, valid, en, zh, value in rows:
        target.add(id_, valid, en, zh, _const(value))


_with("def:division-code", (
    ("county", True, "a county-level GB/T 2260 code", "县级 GB/T 2260 代码", "340202"),
    ("province-level", True, "a province-level code (Beijing)", "省级代码(北京)", "110000"),
    ("macao", True, "the code of Macao (82)", "澳门的代码(82)", "820000"),
    ("unknown-province", False, "a province code that does not exist (99)", "不存在的省级代码(99)", "990101"),
    ("five-digits", False, "five digits", "5 位", "34020"),
    ("seven-digits", False, "seven digits", "7 位", "3402021"),
    ("spaced", False, "a trailing space", "末尾多一个空格", "340202 "),
))
_with("def:statistical-code", (
    ("committee", True, "a residents' committee (12 digits)", "居委会(12 位)", "340202001001"),
    ("eleven-digits", False, "eleven digits", "11 位", "34020200100"),
    ("unknown-province", False, "a province code that does not exist (99)", "不存在的省级代码(99)", "990202001001"),
))
_with("def:mobile-phone", (
    ("mobile", True, "an 11-digit mobile number", "11 位手机号码", "13800138000"),
    ("mobile-19", True, "a number of the 19x range", "19 号段", "19912345678"),
    ("second-digit-2", False, "a second digit no carrier uses (12x)", "第二位无运营商使用(12x)", "12800138000"),
    ("ten-digits", False, "ten digits", "10 位", "1380013800"),
    ("country-code", False, "with +86", "带 +86", "+8613800138000"),
    ("hyphenated", False, "hyphenated", "带连字符", "138-0013-8000"),
))
_with("def:phone", (
    ("mobile", True, "a mobile number", "手机号码", "13800138000"),
    ("landline", True, "a landline with area code and hyphen", "带区号与连字符的固定电话", "0551-62345678"),
    ("landline-plain", True, "a landline without the hyphen, 3-digit area code, 7 digits", "无连字符、3 位区号、7 位号码",
     "0101234567"),
    ("no-trunk-zero", False, "an area code without its leading 0", "区号缺少开头的 0", "551-62345678"),
    ("short-landline", False, "a landline of six digits", "6 位固定电话号码", "0551-623456"),
))
_with("def:https-uri", (
    ("plain", True, "an https URL", "https 地址", "https://files.example/a.jpg"),
    ("idn", True, "a host and path in Chinese characters", "中文主机名与路径", "https://附件.example/照片/一.jpg"),
    ("query", True, "with a query and a fragment", "带查询与片段", "https://files.example/a?x=1&y=%E4%B8%AD#p"),
    ("http", False, "plain http", "明文 http", "http://files.example/a.jpg"),
    ("upper-case-scheme", False, "the scheme in capitals (the standard's pattern is lower case)",
     "大写协议名(标准的模式为小写)", "HTTPS://files.example/a.jpg"),
    ("no-host", False, "no host", "缺少主机", "https:///a.jpg"),
    ("space", False, "a space in the path", "路径含空格", "https://files.example/a b.jpg"),
    ("relative", False, "a relative reference", "相对引用", "/files/a.jpg"),
))
_with("def:plate-number", (
    ("ordinary", True, "an ordinary plate (7 characters)", "普通号牌(7 位)", "皖B12345"),
    ("new-energy", True, "a new-energy plate (8 characters)", "新能源号牌(8 位)", "皖BD12345"),
    ("trailer", True, "a trailer plate (挂)", "挂车号牌(挂)", "苏A1234挂"),
    ("lower-case", False, "the letter in lower case", "字母小写", "皖b12345"),
    ("letter-i", False, "the letter I (never used, mistaken for 1)", "字母 I(不使用,易与 1 混淆)", "皖BI2345"),
    ("short", False, "six characters", "6 位", "皖B1234"),
    ("no-province", False, "no province character", "缺少省份简称", "AB12345"),
    ("spaced", False, "a space after the authority letter", "发牌机关代号后有空格", "皖B 12345"),
))
_with("def:pseudonym", (
    ("shortest", True, "16 URL-safe characters", "16 个 URL 安全字符", "a1B2-c3D4_e5F6g7"),
    ("longest", True, "64 characters", "64 个字符", "Z" * 64),
    ("fifteen", False, "15 characters", "15 个字符", "a1B2-c3D4_e5F6g"),
    ("sixty-five", False, "65 characters", "65 个字符", "Z" * 65),
    ("identity-number", False, "an identity number (personal data, never a pseudonym)", "身份号码(个人信息,不得作假名)",
     _CITIZEN),
    ("plus", False, "a character outside base64url (+)", "base64url 以外的字符(+)", "a1B2+c3D4/e5F6g7"),
))
_with("def:id", (
    ("dotted", True, "dots, colons and hyphens", "含点、冒号与连字符", "rec:2026.11-a"),
    ("longest", True, "64 characters", "64 个字符", "r" * 64),
    ("leading-hyphen", False, "starting with a hyphen", "以连字符开头", "-abc"),
    ("slash", False, "a slash", "含斜杠", "a/b"),
    ("sixty-five", False, "65 characters", "65 个字符", "r" * 65),
))
_with("def:person-name", (
    ("middle-dot", True, "parts joined by the middle dot U+00B7", "以间隔号 U+00B7 连接", "阿卜杜·热合曼"),
    ("rare", True, "CJK Extension B characters (outside the BMP)", "CJK 扩展 B 汉字(BMP 之外)", "吉𠮷𪚥"),
    ("leading-space", False, "a leading space", "以空格开头", " 王伟"),
    ("line-break", False, "a line break inside", "中间含换行", "王\n伟"),
))
_with("format:email", (
    ("plain", True, "an address", "电子邮件地址", "li.wei@example.cn"),
    ("tagged", True, "with +tag and a subdomain", "带 +标记与子域", "li+notices@mail.example.cn"),
    ("no-at", False, "no @", "缺少 @", "li.wei.example.cn"),
))

# ---------------------------------------------------------------- keywords: bounds, lengths, items, enum, type

_FILL = "长𠮷"  # length fillers: one BMP and one non-BMP character, so UTF-16 counting is caught


def _fill(example: Any, length: int) -> Any:
    """A string of exactly ``length`` code points: ``example`` cut or extended with BMP and non-BMP characters."""
    text = example if isinstance(example, str) and example else "长"
    if len(text) >= length:
        return text[:length]
    extra = length - len(text)
    return text + (_FILL * (extra // 2 + 1))[:extra]


def _bound(key: str, step: int) -> Producer:
    def produce(schema: dict[str, Any], example: Any) -> Any:
        if key not in schema or isinstance(schema[key], bool):
            return _SKIP
        bound = schema[key]
        if _kind(schema) == "integer" or (isinstance(bound, int) and _kind(schema) != "number"):
            return int(bound) + step
        return bound + step * 1e-6 if step else bound

    return produce


_MIN, _MAX = _rule("minimum"), _rule("maximum")
_MIN.add("at-minimum", True, "the minimum itself", "等于最小值", _bound("minimum", 0), compare="number")
_MIN.add("below-minimum", False, "just below the minimum (1 for integers, 0.000001 for numbers)",
         "刚低于最小值(整数差 1,小数差 0.000001)", _bound("minimum", -1))
_MAX.add("at-maximum", True, "the maximum itself", "等于最大值", _bound("maximum", 0), compare="number")
_MAX.add("above-maximum", False, "just above the maximum", "刚高于最大值", _bound("maximum", 1))
_XMIN, _XMAX = _rule("exclusiveMinimum"), _rule("exclusiveMaximum")
_XMIN.add("at-exclusive-minimum", False, "the exclusive minimum itself", "等于开区间下界", _bound("exclusiveMinimum", 0))
_XMIN.add("above-exclusive-minimum", True, "just above the exclusive minimum", "刚高于开区间下界",
          _bound("exclusiveMinimum", 1), compare="number")
_XMAX.add("at-exclusive-maximum", False, "the exclusive maximum itself", "等于开区间上界", _bound("exclusiveMaximum", 0))
_XMAX.add("below-exclusive-maximum", True, "just below the exclusive maximum", "刚低于开区间上界",
          _bound("exclusiveMaximum", -1), compare="number")


def _length(key: str, step: int) -> Producer:
    def produce(schema: dict[str, Any], example: Any) -> Any:
        if key not in schema:
            return _SKIP
        length = int(schema[key]) + step
        return _SKIP if length < 0 or (key == "minLength" and step == 0 and length == 0) else _fill(example, length)

    return produce


_MINLEN, _MAXLEN = _rule("minLength"), _rule("maxLength")
_MINLEN.add("at-min-length", True, "exactly minLength code points", "恰为 minLength 个码位", _length("minLength", 0))
_MINLEN.add("below-min-length", False, "one code point fewer than minLength", "比 minLength 少一个码位",
            _length("minLength", -1))
_MAXLEN.add("at-max-length", True, "exactly maxLength code points, characters outside the BMP among them (more "
            "UTF-16 units than code points)", "恰为 maxLength 个码位,含 BMP 之外的字符(UTF-16 单元多于码位)",
            _length("maxLength", 0))
_MAXLEN.add("above-max-length", False, "one code point more than maxLength", "比 maxLength 多一个码位",
            _length("maxLength", 1))


def _items(key: str, step: int) -> Producer:
    def produce(schema: dict[str, Any], example: Any) -> Any:
        if key not in schema or "prefixItems" in schema and step == 0:
            return _SKIP
        count = int(schema[key]) + step
        if count < 0 or count > 64:
            return _SKIP
        items = example if isinstance(example, list) and example else [exemplar(schema.get("items", {}))]
        return [copy.deepcopy(items[i % len(items)]) for i in range(count)] if items else _SKIP

    return produce


_MINIT, _MAXIT, _UNIQUE = _rule("minItems"), _rule("maxItems"), _rule("uniqueItems")
_MINIT.add("at-min-items", True, "exactly minItems items", "恰为 minItems 项", _items("minItems", 0))
_MINIT.add("below-min-items", False, "one item fewer than minItems", "比 minItems 少一项", _items("minItems", -1))
_MAXIT.add("at-max-items", True, "exactly maxItems items", "恰为 maxItems 项", _items("maxItems", 0))
_MAXIT.add("above-max-items", False, "one item more than maxItems", "比 maxItems 多一项", _items("maxItems", 1))
_UNIQUE.add("repeated-item", False, "an item twice", "同一项出现两次",
            lambda schema, example: [example[0], example[0]] if schema.get("uniqueItems") and isinstance(
                example, list) and example else _SKIP)


def _sibling(pattern: str, example: Any) -> Any:
    """A value the pattern matches that differs from ``example`` in one character, changed within its kind (a digit
    to another digit, a letter to another letter of the same case), trying from the end: a change of a value that
    stays valid, which a merge patch must carry and a read must show."""
    if not isinstance(example, str) or not example:
        return _SKIP
    for index in range(len(example) - 1, -1, -1):
        char = example[index]
        for alphabet in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            if char in alphabet:
                other = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
                changed = example[:index] + other + example[index + 1:]
                try:
                    if re.fullmatch(pattern, changed):
                        return changed
                except re.error:
                    return _SKIP
    return _SKIP


def _near_miss(change: Callable[[str], str]) -> Producer:
    def produce(schema: dict[str, Any], example: Any) -> Any:
        members = [m for m in _members(schema) if isinstance(m, str)]
        for member in members:
            missed = change(member)
            if missed not in members and missed != member:
                return missed
        return _SKIP

    return produce


_ENUM = _rule("enum")
_ENUM.add("member", True, "each member of the enum (one class per member)", "枚举的每个成员(每个成员一类)",
          lambda schema, example: _SKIP)  # expanded per member in _keyword_classes
_ENUM.add("upper-case", False, "a member in capitals", "成员改为大写", _near_miss(str.upper))
_ENUM.add("padded", False, "a member with a trailing space", "成员末尾加空格", _near_miss(lambda m: m + " "))
_ENUM.add("underscored", False, "a member with _ for - (or - for _)", "成员中 - 与 _ 互换",
          _near_miss(lambda m: m.replace("-", "_") if "-" in m else m.replace("_", "-")))


def _scalar(schema: dict[str, Any]) -> bool:
    return bool(_kinds(schema)) and not _kinds(schema) & {"object", "array"}


def _number_as_text(schema: dict[str, Any], example: Any) -> Any:
    if "string" in _kinds(schema) or not _kinds(schema) & {"integer", "number"}:
        return _SKIP
    return str(example) if isinstance(example, int | float) and not isinstance(example, bool) else _SKIP


def _text_as_number(schema: dict[str, Any], example: Any) -> Any:
    if _kinds(schema) != {"string"}:
        return _SKIP
    if isinstance(example, str) and example.isascii() and example.isdigit() and len(example) < 16:
        return int(example, 10)  # digits a lax parser would take as the number they spell
    return 5


def _json_as_text(schema: dict[str, Any], example: Any) -> Any:
    return json.dumps(example, ensure_ascii=False) if not _scalar(schema) and "string" not in _kinds(schema) \
        else _SKIP


_TYPE = _rule("type")
_TYPE.add("number-as-text", False, "the number as a JSON string (\"5\" for 5)", "以 JSON 字符串表示的数(\"5\")",
          _number_as_text)
_TYPE.add("text-as-number", False, "a string given as a JSON number (digits without quotes)",
          "以 JSON 数表示的字符串(数字未加引号)", _text_as_number)
_TYPE.add("boolean", False, "true where a string or number is due", "应为字符串或数处给出 true",
          lambda schema, example: True if _scalar(schema) and "boolean" not in _kinds(schema) else _SKIP)
_TYPE.add("array", False, "a number or boolean wrapped in a one-item array (a lax parser unwraps it)",
          "被包在单项数组中的数或布尔值(宽松解析器会解包)",
          lambda schema, example: [example] if _kinds(schema) and _kinds(schema) <= {"integer", "number", "boolean"}
          else _SKIP)
_TYPE.add("object", False, "an object where an array is due", "应为数组处给出对象",
          lambda schema, example: {"0": example} if _kinds(schema) == {"array"} else _SKIP)
_TYPE.add("json-as-text", False, "an object or array as the JSON text of it", "以其 JSON 文本表示的对象或数组",
          _json_as_text)
_TYPE.add("fractional", False, "a fractional number where an integer is due", "应为整数处给出小数",
          lambda schema, example: _SKIP if _kind(schema) != "integer" else _in_range(schema, 0.5))
_TYPE.add("integral-float", None, "an integer written with .0 (an integer in JSON Schema 2020-12: accepting and "
          "refusing both conform)", "以 .0 书写的整数(JSON Schema 2020-12 视为整数:接受或拒绝均符合)",
          lambda schema, example: _SKIP if _kind(schema) != "integer" else float(_in_range(schema, 0)),
          compare="number")

_STR = _rule("string")  # spellings of one text a platform must keep as sent, code point for code point
_STR.add("nfd", True, "a decomposed accent (NFD): kept, never normalised", "分解形式的重音(NFD):原样保存,不得规范化",
         _const("Cafe\u0301 社区"))
_STR.add("nfc", True, "the composed accent (NFC)", "组合形式的重音(NFC)", _const("Caf\u00e9 社区"))
_STR.add("non-bmp", True, "characters outside the BMP (CJK Extension B, emoji)", "BMP 之外的字符(CJK 扩展 B、表情符号)",
         _const("𠮷野家𪚥👍🏽"))
_STR.add("escaped", True, "\\u escapes, a surrogate pair among them: the same text as the characters",
         "\\u 转义(含代理对):与直接书写的字符为同一文本", _const("张三𠮷"),
         raw=lambda value: '"\\u5f20\\u4e09\\ud842\\udfb7"')
_STR.add("spaces", True, "leading and trailing spaces, kept", "首尾空格,原样保存", _const("  两端有空格  "))
_STR.add("markup", True, "markup characters and quotes, kept verbatim", "标记字符与引号,原样保存",
         _const("<b>a&amp;b</b> \"引号\" \\ 反斜杠"))

_NUM = _rule("number")  # spellings of one number a platform must compare as equal
_NUM.add("exponent", True, "the number in exponent notation (1.2E-1 for 0.12)", "以指数表示的数(1.2E-1 即 0.12)",
         lambda schema, example: _in_range(schema, example if isinstance(example, int | float) and not isinstance(
             example, bool) else 0.5), compare="number", raw=lambda value: format(Decimal(repr(float(value))), "E"))
_NUM.add("integral", True, "an integral value of a number field (1, read back as 1 or 1.0)", "数字字段的整数值",
         lambda schema, example: int(_in_range(schema, 1)) if float(_in_range(schema, 1)).is_integer() else _SKIP,
         compare="number")

_BOOL = _rule("boolean")
_BOOL.add("true", True, "true", "true", _const(True))
_BOOL.add("false", True, "false", "false", _const(False))
_BOOL.add("text", False, "\"true\" as a string", "字符串 \"true\"", _const("true"))
_BOOL.add("one", False, "1 for true", "以 1 表示 true", _const(1))
_BOOL.add("zero", False, "0 for false", "以 0 表示 false", _const(0))

_CONSTANT = _rule("const")
_CONSTANT.add("lower-case", False, "the constant in lower case", "常量改为小写",
              lambda schema, example: schema["const"].lower() if isinstance(schema.get("const"), str)
              and schema["const"].lower() != schema["const"] else _SKIP)

_PATTERN = _rule("pattern")  # a pattern without a named definition: the example must match, its edits must not
_PATTERN.add("example", True, "a value the pattern matches", "与模式相符的值", lambda schema, example: example
             if isinstance(example, str) else _SKIP)
_PATTERN.add("sibling", True, "another value the pattern matches (a character changed within its kind)",
             "与模式相符的另一个值(改动一个字符,类别不变)",
             lambda schema, example: _sibling(schema.get("pattern", ""), example))
_PATTERN.add("trailing-space", False, "a matching value with a trailing space", "相符的值末尾加空格",
             lambda schema, example: example + " " if isinstance(example, str) else _SKIP)
_PATTERN.add("empty", False, "the empty string", "空字符串", _const(""))


def _in_range(schema: dict[str, Any], wanted: float) -> Any:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value = wanted
    if low is not None and value <= low:
        value = low + (1 if "exclusiveMinimum" in schema else 0) + (wanted % 1)
    if high is not None and value >= high:
        value = high - (1 if "exclusiveMaximum" in schema else 0) - (1 - wanted % 1 if wanted % 1 else 0)
    return value


# ---------------------------------------------------------------- walking a schema


def _kinds(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    if "const" in schema:
        return {_json_type(schema["const"])}
    if "enum" in schema:
        return {_json_type(m) for m in schema["enum"]}
    found: set[str] = set()
    for branch in schema.get("anyOf", ()):
        if isinstance(branch, dict):
            found |= _kinds(branch)
    return found


def _kind(schema: dict[str, Any]) -> str | None:
    kinds = _kinds(schema)
    return kinds.pop() if len(kinds) == 1 else None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _members(schema: dict[str, Any]) -> list[Any]:
    return list(schema["enum"]) if "enum" in schema else ([schema["const"]] if "const" in schema else [])


def _def_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("x-ref", "")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) and "#/$defs/" in ref else None


def rule_of(schema: dict[str, Any]) -> str | None:
    """The named format or definition whose classes a string member gets (``format:…``/``def:…``), if any."""
    if isinstance(schema.get("format"), str) and f"format:{schema['format']}" in RULES:
        return f"format:{schema['format']}"
    name = _def_name(schema)
    if name and f"def:{name}" in RULES:
        return f"def:{name}"
    branches = [b for b in schema.get("anyOf", ()) if isinstance(b, dict)]
    if len(branches) == 1:
        return rule_of(branches[0])
    return None


def fields(schema: dict[str, Any], pointer: str = "", *, skip: frozenset[str] = frozenset()
           ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every member a client writes, depth first: objects' properties, an array's first item, each prefix item."""
    for name, sub in schema.get("properties", {}).items():
        where = f"{pointer}/{name}"
        if not isinstance(sub, dict) or sub.get("readOnly") or where in skip:
            continue
        yield where, sub
        yield from _inner(sub, where, skip)


def _inner(schema: dict[str, Any], pointer: str, skip: frozenset[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "properties" in schema:
        yield from fields(schema, pointer, skip=skip)
    for index, item in enumerate(schema.get("prefixItems", ())):
        if isinstance(item, dict):
            yield f"{pointer}/{index}", item
            yield from _inner(item, f"{pointer}/{index}", skip)
    items = schema.get("items")
    if isinstance(items, dict) and "prefixItems" not in schema:
        yield f"{pointer}/0", items
        yield from _inner(items, f"{pointer}/0", skip)


def exemplar(schema: Any) -> Any:
    """A value the schema admits, built from its first valid class where it has one (no example at hand)."""
    if not isinstance(schema, dict):
        return "x"
    members = _members(schema)
    if members:
        return members[0]
    rule = rule_of(schema)
    if rule:
        return next(produce(schema, None) for kind, produce, _ in RULES[rule].classes if kind.valid)
    kind = _kind(schema) or next(iter(sorted(_kinds(schema))), "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: exemplar(props.get(name)) for name in schema.get("required", ())}
    if kind == "array":
        if "prefixItems" in schema:
            return [exemplar(item) for item in schema["prefixItems"]]
        return [exemplar(schema.get("items", {})) for _ in range(int(schema.get("minItems", 1)))]
    if kind in ("integer", "number"):
        return _in_range(schema, 1)
    if kind == "boolean":
        return True
    return _fill("长", max(1, int(schema.get("minLength", 1)))) if "pattern" not in schema else "x"


def _example(schema: dict[str, Any], sample: Any) -> Any:
    return sample if sample is not None else exemplar(schema)


def _classes_of(rule: str, pointer: str, schema: dict[str, Any], example: Any, only: set[str] | None = None
                ) -> Iterator[InputClass]:
    for kind, produce, raw in RULES[rule].classes:
        if only is not None and kind.id not in only:
            continue
        value = produce(schema, example)
        if value is _SKIP:
            continue
        yield InputClass(pointer, kind, value, raw(value) if raw else None)


def derive(schema: dict[str, Any], sample: dict[str, Any] | None = None, *,
           skip: frozenset[str] = frozenset()) -> list[InputClass]:
    """Every class of every member of ``schema`` (a resolved create schema), with ``sample`` (a valid payload)
    giving each member's example where it has one; members in ``skip`` (pointers) and below are left out."""
    found: list[InputClass] = []
    for pointer, sub in fields(schema, skip=skip):
        found += member_classes(pointer, sub, _example(sub, get(sample, pointer)))
    return found


def member_classes(pointer: str, schema: dict[str, Any], example: Any) -> list[InputClass]:
    """The classes of one member: its named format or definition, its keywords, its type."""
    found: list[InputClass] = []
    kinds = _kinds(schema)
    rule = rule_of(schema)
    if rule:
        found += _classes_of(rule, pointer, schema, example)
    members = _members(schema)
    if "enum" in schema:
        enum = RULES["enum"].classes[0][0]
        found += [InputClass(pointer, ClassKind("enum", f"member:{m}", True, enum.en, enum.zh), m) for m in members]
        found += _classes_of("enum", pointer, schema, example, {"upper-case", "padded", "underscored"})
    elif "const" in schema:
        found += _classes_of("const", pointer, schema, example)
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
                    "uniqueItems"):
        if keyword in schema:
            found += _classes_of(keyword, pointer, schema, example)
    if kinds & {"string"} and not members:
        for keyword in ("minLength", "maxLength"):
            if keyword in schema:
                found += _classes_of(keyword, pointer, schema, example)
        if "pattern" in schema and not rule:
            found += _classes_of("pattern", pointer, schema, example)
        if kinds == {"string"} and not rule and "pattern" not in schema and "format" not in schema:
            found += _classes_of("string", pointer, schema, example)
    if kinds == {"number"}:
        found += _classes_of("number", pointer, schema, example)
    if kinds == {"boolean"}:
        found += _classes_of("boolean", pointer, schema, example)
    found += _classes_of("type", pointer, schema, example)
    return found


# ---------------------------------------------------------------- placing a class in a payload, checking it


def get(document: Any, pointer: str) -> Any:
    """The value at ``pointer``, or None where the document does not have it."""
    for part in pointer.strip("/").split("/") if pointer else ():
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


def place(schema: dict[str, Any], base: dict[str, Any], pointer: str, value: Any) -> dict[str, Any] | None:
    """A copy of ``base`` with ``value`` at ``pointer``; absent parents are built from the schema's exemplars.
    None when the pointer cannot be reached (an index beyond an array's end)."""
    result = copy.deepcopy(base)
    parts = pointer.strip("/").split("/")
    holder: Any = result
    node: Any = schema
    for part in parts[:-1]:
        node = _child(node, part)
        if isinstance(holder, dict):
            if not isinstance(holder.get(part), dict | list):
                holder[part] = exemplar(node)
            holder = holder[part]
        elif isinstance(holder, list) and part.isdigit():
            index = int(part)
            if index >= len(holder):
                return None
            holder = holder[index]
        else:
            return None
    leaf = parts[-1]
    if isinstance(holder, dict):
        holder[leaf] = copy.deepcopy(value)
    elif isinstance(holder, list) and leaf.isdigit() and int(leaf) < len(holder):
        holder[int(leaf)] = copy.deepcopy(value)
    else:
        return None
    return result


def _child(schema: Any, part: str) -> Any:
    if not isinstance(schema, dict):
        return {}
    if "properties" in schema:
        return schema["properties"].get(part, {})
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and part.isdigit() and int(part) < len(prefix):
        return prefix[int(part)]
    return schema.get("items", {})


def verified(classes: list[InputClass], schema: dict[str, Any], base: dict[str, Any],
             is_valid: Callable[[Any], bool]) -> tuple[list[InputClass], list[InputClass]]:
    """The classes whose verdict the schema confirms (each placed alone in ``base``), and those it does not:
    a class that cannot be placed, a 'valid' one the schema refuses, an 'invalid' one it admits."""
    kept, dropped = [], []
    for cls in classes:
        payload = place(schema, base, cls.pointer, cls.value)
        if payload is None:
            dropped.append(cls)
        elif cls.valid is None or is_valid(payload) is cls.valid:
            kept.append(cls)
        else:
            dropped.append(cls)
    return kept, dropped


def raw_json(payload: Any, spellings: dict[str, str]) -> bytes:
    """``payload`` as JSON, the values at the pointers of ``spellings`` written as given (another spelling)."""
    marks: dict[str, str] = {}
    marked = payload
    for index, (pointer, text) in enumerate(spellings.items()):
        mark = f"\u0000sc-raw-{index}\u0000"
        placed = _set(marked, pointer, mark)
        if placed is not None:
            marked, marks[json.dumps(mark)] = placed, text
    body = json.dumps(marked, ensure_ascii=False)
    for mark, text in marks.items():
        body = body.replace(mark, text)
    return body.encode("utf-8")


def _set(document: Any, pointer: str, value: Any) -> Any:
    result = copy.deepcopy(document)
    holder: Any = result
    parts = pointer.strip("/").split("/")
    for part in parts[:-1]:
        holder = holder[int(part)] if isinstance(holder, list) else holder.get(part)
        if holder is None:
            return None
    leaf = parts[-1]
    if isinstance(holder, list):
        holder[int(leaf)] = value
    elif isinstance(holder, dict):
        holder[leaf] = value
    else:
        return None
    return result


def invalid_values(rule: str) -> list[Any]:
    """The values of a rule's invalid classes that need no schema (a format's or a definition's)."""
    return [produce({}, None) for kind, produce, _ in RULES[rule].classes if kind.valid is False]


def rule_table() -> list[tuple[str, list[ClassKind]]]:
    """Every rule with its classes, as the readable specification lists them (one source of truth)."""
    return [(name, [kind for kind, _, _ in rule.classes]) for name, rule in RULES.items()]


# ---------------------------------------------------------------- malformed bodies (every method that takes one)


@dataclass(frozen=True)
class BodyClass:
    """A body a platform must refuse whole: its bytes, the media type it is sent as, the answers that conform."""

    id: str
    body: bytes
    content_type: str | None
    statuses: tuple[int, ...]
    en: str
    zh: str


_JSON = "application/json"
MALFORMED: tuple[BodyClass, ...] = (
    BodyClass("truncated", b'{"name": "unterminated', _JSON, (400,), "JSON cut off in a string", "在字符串中被截断的 JSON"),
    BodyClass("trailing-garbage", b'{"name": "x"} trailing', _JSON, (400,), "an object followed by other text",
              "对象后跟其他文本"),
    BodyClass("two-documents", b'{"name": "x"}{"name": "y"}', _JSON, (400,), "two JSON documents", "两个 JSON 文档"),
    BodyClass("empty", b"", _JSON, (400,), "an empty body declared as JSON", "声明为 JSON 的空请求体"),
    BodyClass("invalid-utf8", b'{"name": "\xff\xfe"}', _JSON, (400,), "bytes that are not UTF-8", "非 UTF-8 字节"),
    BodyClass("single-quotes", b"{'name': 'x'}", _JSON, (400,), "single-quoted strings (not JSON)", "单引号字符串(非 JSON)"),
    BodyClass("nan", b'{"name": "x", "value": NaN}', _JSON, (400,), "NaN, which JSON does not have", "JSON 没有的 NaN"),
    BodyClass("comment", b'{"name": "x" /* note */}', _JSON, (400,), "a comment (not JSON)", "注释(非 JSON)"),
    BodyClass("lone-surrogate", b'{"name": "\\ud800"}', _JSON, (400, 422),
              "an escaped lone surrogate (no Unicode text; RFC 8259 §8.2)", "转义的孤立代理项(不是 Unicode 文本;RFC 8259 §8.2)"),
    BodyClass("array", b"[]", _JSON, (400, 422), "a JSON array instead of an object", "以 JSON 数组代替对象"),
    BodyClass("null", b"null", _JSON, (400, 422), "JSON null instead of an object", "以 JSON null 代替对象"),
    BodyClass("string", b'"text"', _JSON, (400, 422), "a JSON string instead of an object", "以 JSON 字符串代替对象"),
    BodyClass("number", b"5", _JSON, (400, 422), "a JSON number instead of an object", "以 JSON 数代替对象"),
    BodyClass("text-plain", b'{"name": "x"}', "text/plain", (400, 415), "a JSON object sent as text/plain",
              "以 text/plain 发送的 JSON 对象"),
    BodyClass("form", b"name=x", "application/x-www-form-urlencoded", (400, 415), "a form instead of JSON",
              "以表单代替 JSON"),
)


# ---------------------------------------------------------------- what the readable specification lists

# Where each rule applies, in both languages (the specification's headings).
RULE_TEXT: dict[str, tuple[str, str]] = {
    "format:date-time": ("Every `format: date-time` member (RFC 3339 with an offset)", "每个 `format: date-time` 成员(带偏移的 RFC 3339)"),
    "format:date": ("Every `format: date` member", "每个 `format: date` 成员"),
    "format:gb11643": ("Identity numbers (GB 11643, `format: gb11643`)", "身份号码(GB 11643,`format: gb11643`)"),
    "format:gb32100": ("Unified social credit codes (GB 32100, `format: gb32100`)", "统一社会信用代码(GB 32100,`format: gb32100`)"),
    "format:email": ("E-mail addresses (`format: email`)", "电子邮件地址(`format: email`)"),
    "def:division-code": ("GB/T 2260 division codes (`division-code`)", "GB/T 2260 行政区划代码(`division-code`)"),
    "def:statistical-code": ("12-digit statistical codes (`statistical-code`)", "12 位统计用区划代码(`statistical-code`)"),
    "def:mobile-phone": ("Mobile numbers (`mobile-phone`)", "手机号码(`mobile-phone`)"),
    "def:phone": ("Phone numbers (`phone`)", "电话号码(`phone`)"),
    "def:https-uri": ("https URIs (`https-uri`)", "https 地址(`https-uri`)"),
    "def:plate-number": ("Vehicle plates (GA 36, `plate-number`)", "机动车号牌(GA 36,`plate-number`)"),
    "def:pseudonym": ("Pseudonyms of persons (`pseudonym`)", "人员假名(`pseudonym`)"),
    "def:id": ("Ids that are not references (`id`)", "非引用的标识(`id`)"),
    "def:person-name": ("Person names (`person-name`)", "人名(`person-name`)"),
    "minimum": ("`minimum`", "`minimum`"), "maximum": ("`maximum`", "`maximum`"),
    "exclusiveMinimum": ("`exclusiveMinimum`", "`exclusiveMinimum`"),
    "exclusiveMaximum": ("`exclusiveMaximum`", "`exclusiveMaximum`"),
    "minLength": ("`minLength` (code points)", "`minLength`(按码位计)"),
    "maxLength": ("`maxLength` (code points)", "`maxLength`(按码位计)"),
    "minItems": ("`minItems`", "`minItems`"), "maxItems": ("`maxItems`", "`maxItems`"),
    "uniqueItems": ("`uniqueItems`", "`uniqueItems`"),
    "enum": ("`enum`", "`enum`"), "const": ("`const`", "`const`"),
    "type": ("`type`: what a lax parser would coerce", "`type`:宽松解析器会强制转换的值"),
    "string": ("Text without a format or pattern: spellings kept as sent", "无格式与模式的文本:各种写法均须原样保存"),
    "number": ("`type: number`: spellings compared as equal", "`type: number`:各种写法按数值相等比较"),
    "boolean": ("`type: boolean`", "`type: boolean`"),
    "pattern": ("Any other `pattern`", "其他 `pattern`"),
}
_DEMOS: tuple[tuple[dict[str, Any], Any], ...] = (
    ({"type": "integer", "minimum": 1, "maximum": 5}, 3),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "minimum": -90, "maximum": 90}, 0.12),
    ({"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z]+$", "enum": ["low", "high-risk"]}, "abc"),
    ({"type": "string", "minLength": 1, "maxLength": 8}, "王伟"),
    ({"type": "array", "minItems": 2, "maxItems": 2, "uniqueItems": True, "items": {"type": "string"}}, ["a", "b"]),
    ({"type": "object", "properties": {"a": {"type": "integer"}}}, {"a": 1}),
    ({"const": "Point"}, "Point"),
    ({"type": "boolean"}, True),
)


def rule_rows() -> list[dict[str, Any]]:
    """Each rule with where it applies and its classes, each with an example value (the JSON sent)."""
    rows = []
    for name, rule in RULES.items():
        en, zh = RULE_TEXT.get(name, (f"`{name}`", f"`{name}`"))
        classes = []
        for kind, produce, raw in rule.classes:
            shown = "—"
            for schema, example in _DEMOS:
                value = produce(schema, example)
                if value is not _SKIP:
                    text = raw(value) if raw else None
                    shown = text if text is not None else json.dumps(value, ensure_ascii=False)
                    break
            classes.append({"kind": kind, "example": shown if len(shown) <= 60 else f"{shown[:40]}… ({len(shown)})"})
        rows.append({"rule": name, "anchor": name.replace(":", "-"), "en": en, "zh": zh, "classes": classes})
    return rows
