"""The stable finding codes as data (``checks/codes.yaml``): what each means and how to fix it, in zh and en.

Layer 0, so the reports (layer 6) can show a finding's title and fix without importing the checks (layer 4);
``conformance.checks`` re-exports both names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["Code", "finding_codes"]

_CODES = Path(__file__).with_name("checks") / "codes.yaml"


@dataclass(frozen=True)
class Code:
    """A stable finding code: what a finding with it means and how to fix it, in English and Chinese.

    ``doc_zh`` is the Chinese description of the check itself (its English is the check's docstring).
    """

    code: str
    title: str
    fix: str
    check: str | None = None  # None: a conclusion of the suite itself (transport, deadline, capability)
    title_zh: str = ""
    fix_zh: str = ""
    doc_zh: str = ""


@functools.cache
def finding_codes() -> dict[str, Code]:
    """Every finding code by code, read once from ``codes.yaml``."""
    raw = yaml.safe_load(_CODES.read_text(encoding="utf-8"))

    def texts(row: dict[str, str]) -> dict[str, str]:
        return {key: row.get(key, "").strip() for key in ("title_zh", "fix_zh", "doc_zh")}

    codes = {code: Code(code, row["title"], row["fix"], **texts(row)) for code, row in raw["suite"].items()}
    for name, row in raw["checks"].items():
        if row["code"] in codes:
            raise ValueError(f"finding code {row['code']} is given twice in codes.yaml")
        codes[row["code"]] = Code(row["code"], row["title"], row["fix"], name, **texts(row))
    return codes
