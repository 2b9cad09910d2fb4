"""Evaluation schemes (``evaluation/*.yaml``, ``schemas/suite/evaluation.json``) and the evaluation of a report's results.

A scheme weighs first- and second-level indicators as published evaluation standards do; each second-level
indicator has one method: ``requirements`` (machine-checked verdicts), ``attestations`` (institutional
requirements a person attested, always counted apart) or ``indicator`` (a value the platform publishes).
Only a pass earns: fail, waived, inconclusive, manual and not-run earn nothing, and a not-run requirement
weighs as a SHALL, so a partial run never scores above the whole one. Pure computation over report data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import UsageError
from .loading import data_file, schema_problems
from .resources import data_dir

__all__ = [
    "ATTESTED_CHECKS",
    "DEFAULT_SCHEME",
    "default_scheme",
    "evaluate",
    "evaluate_report",
    "is_attested",
    "load_scheme",
    "published_indicators",
    "scheme_ids",
    "scheme_of",
]

DEFAULT_SCHEME = "national"
ATTESTED_CHECKS = ("institutions.",)  # a requirement all of whose checks are these is attested by a person
METHOD_BASIS = {"requirements": "machine", "attestations": "attested", "indicator": "published"}
_KIND = "evaluation scheme"


# ----------------------------------------------------------------------------------------------- loading


def _folders(folders: Sequence[str | Path]) -> list[Path]:
    """Local standards' ``evaluation/`` folders first (in the order given), then the national one."""
    return [Path(f) for f in folders] + [data_dir("evaluation")]


def scheme_ids(folders: Sequence[str | Path] = ()) -> list[str]:
    """Every scheme id the folders hold, first folder first."""
    seen: dict[str, None] = {}
    for folder in _folders(folders):
        if folder.is_dir():
            for file in sorted(folder.glob("*.yaml")):
                seen.setdefault(file.stem, None)
    return list(seen)


def _find(scheme_id: str, folders: Sequence[str | Path]) -> Path:
    for folder in _folders(folders):
        candidate = folder / f"{scheme_id}.yaml"
        if candidate.is_file():
            return candidate
    from .errors import did_you_mean

    raise UsageError(f"no evaluation scheme {scheme_id!r} in {', '.join(str(f) for f in _folders(folders))}"
                     + did_you_mean(scheme_id, scheme_ids(folders)))


def _read(file: Path) -> dict[str, Any]:
    raw, lines = data_file(file, _KIND)
    if not isinstance(raw, dict):
        raise UsageError(f"{file}: an evaluation scheme is a mapping with id, version, indicators (or weights)")
    problems = schema_problems(raw, "evaluation.json", str(file), lines)
    if problems:
        raise UsageError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return raw


def load_scheme(name: str | Path | None = None, *, folders: Sequence[str | Path] = ()) -> dict[str, Any]:
    """The resolved scheme named ``name`` (an id searched in ``folders`` then the national folder, or a file).

    ``None`` is the default: the first scheme of the first local folder holding one, else ``national``. A file
    holding only ``weights`` overrides the default scheme's weights (a buyer's published weights).
    """
    file = _default_file(folders) if name is None else Path(name)
    if not (file.suffix in (".yaml", ".yml", ".json") or len(file.parts) > 1):
        file = _find(str(name), folders)
    return _resolve(file, folders, chain=())


def _default_file(folders: Sequence[str | Path], *, besides: Path | None = None) -> Path:
    """The first scheme file of the first local folder holding one (``besides`` left out), else the national one."""
    for folder in _folders(folders)[:-1]:
        files = [f for f in sorted(Path(folder).glob("*.yaml")) if besides is None or f.resolve() != besides.resolve()]
        if files:
            return files[0]
    return _find(DEFAULT_SCHEME, ())


def default_scheme(profile_path: Path | None = None) -> dict[str, Any]:
    """The scheme a profile's report is evaluated on: that of the local standard holding the profile file, when it
    brings one (its ``evaluation/`` folder); else the national scheme. A national profile is evaluated on the national
    scheme whatever standards a run is given: a buyer re-scores bids with ``report compare --weights``."""
    from .standards import standard_of

    holder = standard_of(profile_path) if profile_path is not None else None
    folder = holder.evaluation_dir if holder is not None else None
    return _cached_default((folder,) if folder is not None else ())


def scheme_of(report: Mapping[str, Any]) -> dict[str, Any]:
    """The scheme a report was evaluated on, found again by id among the local standards' schemes and the national
    one (a merge re-evaluates on it); the default scheme when the report has none or it is no longer installed."""
    from .resources import local_dirs

    recorded = (report.get("evaluation") or {}).get("scheme") or {}
    folders = tuple(local_dirs("evaluation"))
    if isinstance(recorded.get("id"), str) and recorded["id"] in scheme_ids(folders):
        return load_scheme(recorded["id"], folders=folders)
    return _cached_default(())


@functools.cache
def _cached_default(folders: tuple[Path, ...]) -> dict[str, Any]:
    return load_scheme(None, folders=folders)


def _resolve(file: Path, folders: Sequence[str | Path], chain: tuple[str, ...]) -> dict[str, Any]:
    raw = _read(file)
    if "indicators" not in raw and "extends" not in raw:
        if "weights" not in raw:
            raise UsageError(f"{file}: an evaluation scheme needs indicators, extends or weights")
        if str(file) in chain:
            raise UsageError(f"{file}: weights: weights-only files lean on each other in a cycle")
        base_file = _default_file(folders, besides=file)  # weights only: the buyer's weights over the default scheme
        base = _resolve(base_file, folders, (*chain, str(file)))
        raw = {"extends": base["id"], **raw}
        raw.setdefault("id", f"{base['id']}-weighted")
        raw.setdefault("version", hashlib.sha256(json.dumps(raw["weights"], sort_keys=True).encode()).hexdigest()[:12])
    for key in ("id", "version"):
        if key not in raw:
            raise UsageError(f"{file}: {key}: missing required field {key!r}")
    if raw["id"] in chain:
        raise UsageError(f"{file}: extends: the schemes extend each other in a cycle ({' → '.join((*chain, raw['id']))})")
    if "extends" in raw:
        parent_file = _find(raw["extends"], folders)
        if parent_file.resolve() == file.resolve():
            raise UsageError(f"{file}: extends: a scheme cannot extend itself")
        scheme = _merge(_resolve(parent_file, folders, (*chain, raw["id"])), raw, file)
    else:
        scheme = {key: raw[key] for key in ("level_weights", "grades", "indicators") if key in raw}
        scheme.setdefault("level_weights", {"SHALL": 3, "SHOULD": 2, "MAY": 1})
        if "grades" not in scheme:
            raise UsageError(f"{file}: grades: missing required field 'grades' (a scheme without extends needs them)")
        scheme["sources"] = []
        _apply_weights(scheme, raw.get("weights", {}), file)
    scheme.update(id=raw["id"], version=str(raw["version"]), title=raw.get("title", scheme.get("title")),
                  sources=list(raw.get("sources", [])) + [s for s in scheme.get("sources", []) if s not in raw.get("sources", [])])
    if not scheme.get("title"):
        raise UsageError(f"{file}: title: missing required field 'title'")
    scheme["extends"] = raw.get("extends")
    _check_complete(scheme, file)
    scheme["digest"] = _digest(scheme)
    return scheme


def _merge(parent: dict[str, Any], raw: dict[str, Any], file: Path) -> dict[str, Any]:
    scheme = json.loads(json.dumps({k: parent[k] for k in ("level_weights", "grades", "indicators", "sources", "title")}))
    for key in ("level_weights", "grades"):
        if key in raw:
            scheme[key] = raw[key]
    firsts = {f["id"]: f for f in scheme["indicators"]}
    for first in raw.get("indicators", []):
        if first["id"] not in firsts:
            firsts[first["id"]] = json.loads(json.dumps(first))
            scheme["indicators"].append(firsts[first["id"]])
            continue
        target = firsts[first["id"]]
        for key in ("title", "weight"):
            if key in first:
                target[key] = first[key]
        seconds = {s["id"]: s for s in target["indicators"]}
        for second in first.get("indicators", []):
            if second["id"] in seconds:  # a second-level indicator is replaced whole
                target["indicators"][target["indicators"].index(seconds[second["id"]])] = second
            else:
                target["indicators"].append(second)
    _apply_weights(scheme, raw.get("weights", {}), file)
    return scheme


def _apply_weights(scheme: dict[str, Any], weights: Mapping[str, float], file: Path) -> None:
    by_id = {f["id"]: f for f in scheme.get("indicators", [])}
    by_id.update({s["id"]: s for f in scheme.get("indicators", []) for s in f.get("indicators", [])})
    for indicator_id, weight in weights.items():
        if indicator_id not in by_id:
            from .errors import did_you_mean

            raise UsageError(f"{file}: weights.{indicator_id}: no indicator {indicator_id!r} in the scheme"
                             + did_you_mean(indicator_id, by_id))
        by_id[indicator_id]["weight"] = weight


def _check_complete(scheme: dict[str, Any], file: Path) -> None:
    seen: set[str] = set()
    for i, first in enumerate(scheme["indicators"]):
        for key in ("title", "weight", "indicators"):
            if key not in first:
                raise UsageError(f"{file}: indicators[{i}].{key}: missing required field {key!r} "
                                 f"(a first-level indicator {first['id']!r} the scheme does not inherit)")
        for ident in [first["id"], *(s["id"] for s in first["indicators"])]:
            if ident in seen:
                raise UsageError(f"{file}: indicators: the id {ident!r} is used twice; indicator ids are unique")
            seen.add(ident)
        for second in first["indicators"]:
            if second["method"] == "indicator" and second["zero_at"] >= second["full_at"]:
                raise UsageError(f"{file}: {second['id']}.zero_at: must be below full_at")
    grades = scheme["grades"]
    if [g["min"] for g in grades] != sorted((g["min"] for g in grades), reverse=True) or grades[-1]["min"] != 0:
        raise UsageError(f"{file}: grades: bands go best first, each min below the one before, the last min 0")


def _digest(scheme: Mapping[str, Any]) -> str:
    body = {k: scheme[k] for k in ("id", "version", "level_weights", "grades", "indicators")}
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -------------------------------------------------------------------------------------------- evaluating


def is_attested(requirement: Mapping[str, Any]) -> bool:
    """Whether a person's attestation decides the requirement (every check is an attestation check)."""
    checks = requirement.get("checks") or []
    return bool(checks) and all(str(c.get("name", "")).startswith(ATTESTED_CHECKS) for c in checks)


def _matches(selection: Mapping[str, Any], rid: str, level: str | None, subsystem: str | None) -> bool:
    ids = selection.get("ids")
    if ids and not any(rid.startswith(p[:-1]) if p.endswith("*") else rid == p for p in ids):
        return False
    if "subsystem" in selection and subsystem != selection["subsystem"]:
        return False
    return not ("levels" in selection and level not in selection["levels"])


def published_indicators(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Indicator records the platform served in the report's exchanges (GET on the indicators collection),
    those the run created itself left out: what the platform publishes, not what the suite wrote."""
    from .catalogue import catalogue

    path = catalogue().collections["indicators"].path
    base = urlsplit(str(report.get("target", {}).get("base_url") or "")).path.rstrip("/")
    created = {str(c).rsplit("/", 1)[-1] for c in report.get("created_records") or []}
    exchanges = [e for r in report.get("requirements", []) for c in r.get("checks", []) for e in c.get("evidence", [])]
    created |= {i for e in exchanges for i in _created_id(e, base + path)}
    found: dict[str, dict[str, Any]] = {}
    for exchange in exchanges:
        for record in _indicator_records(exchange, base + path):
            if record["id"] not in created and record["id"] not in found:
                found[record["id"]] = record
    return list(found.values())


def _created_id(exchange: Mapping[str, Any], collection: str) -> list[str]:
    """The id of a record the run created with this exchange (a 2xx POST on the collection), if any."""
    request, response = exchange.get("request") or {}, exchange.get("response") or {}
    if request.get("method") != "POST" or not 200 <= int(response.get("status") or 0) < 300:
        return []
    if urlsplit(str(request.get("url", ""))).path != collection:
        return []
    location = str((response.get("headers") or {}).get("location", ""))
    ids = [location.rstrip("/").rsplit("/", 1)[-1]] if location else []
    try:
        body = json.loads(response.get("body") or "null")
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        ids.append(body["id"])
    return ids


def _indicator_records(exchange: Mapping[str, Any], collection: str) -> list[dict[str, Any]]:
    request, response = exchange.get("request") or {}, exchange.get("response") or {}
    url = urlsplit(str(request.get("url", "")))
    if request.get("method") != "GET" or response.get("status") != 200 or response.get("truncated"):
        return []
    if url.path != collection and not (url.path.startswith(collection + "/") and url.path.count("/") == collection.count("/") + 1):
        return []
    try:
        body = json.loads(response.get("body") or "null")
    except (ValueError, RecursionError):
        return []
    items: list[Any] = body["items"] if isinstance(body, dict) and isinstance(body.get("items"), list) else [body]
    records = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        value, period = item.get("value"), item.get("period")
        if (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1
                and isinstance(item.get("kind"), str) and isinstance(period, dict) and isinstance(period.get("end"), str)):
            records.append({"id": item["id"], "kind": item["kind"], "value": value,
                            "community_id": str(item.get("community_id", "")), "period_end": period["end"]})
    return records


def evaluate_report(report: Mapping[str, Any], scheme: Mapping[str, Any]) -> dict[str, Any]:
    """The ``evaluation`` member of one report."""
    return evaluate(report.get("requirements", []), report.get("selection", {}).get("not_run", []),
                    published_indicators(report), scheme)


def evaluate(requirements: Iterable[Mapping[str, Any]], not_run: Iterable[str],
             indicators: Sequence[Mapping[str, Any]], scheme: Mapping[str, Any]) -> dict[str, Any]:
    """Score every indicator of ``scheme`` from requirement entries (as report.json holds them), the ids of
    requirements not run, and published indicator records; then the total, coverage and grade."""
    entries = list(requirements)
    missing = list(not_run)
    firsts_weight = sum(f["weight"] for f in scheme["indicators"])
    firsts, assessed_share, points = [], 0.0, 0.0
    basis = {"machine": 0.0, "attested": 0.0, "published": 0.0}
    for first in scheme["indicators"]:
        seconds_weight = sum(s["weight"] for s in first["indicators"])
        seconds = []
        for second in first["indicators"]:
            share = first["weight"] / firsts_weight * second["weight"] / seconds_weight
            score, inputs = _score(second, entries, missing, indicators, scheme["level_weights"])
            seconds.append({"id": second["id"], "title": second["title"], "weight": second["weight"],
                            "share": round(share, 6), "method": second["method"],
                            "basis": METHOD_BASIS[second["method"]], "assessed": score is not None,
                            "score": None if score is None else round(score, 1), "inputs": inputs})
            if score is not None:
                assessed_share += share
                points += share * score
                basis[METHOD_BASIS[second["method"]]] += share * score
        done = [s for s in seconds if s["assessed"]]
        first_score = (sum(s["weight"] * s["score"] for s in done) / sum(s["weight"] for s in done)) if done else None
        firsts.append({"id": first["id"], "title": first["title"], "weight": first["weight"],
                       "share": round(first["weight"] / firsts_weight, 6), "assessed": bool(done),
                       "score": None if first_score is None else round(first_score, 1), "indicators": seconds})
    total = round(points / assessed_share, 1) if assessed_share else 0.0
    grade = next(g for g in scheme["grades"] if total >= g["min"])
    return {
        "scheme": {k: scheme[k] for k in ("id", "version", "digest", "title", "sources")},
        "level_weights": dict(scheme["level_weights"]),
        "total": total,
        "grade": {"id": grade["id"], "title": grade["title"], "min": grade["min"]},
        "grades": [dict(g) for g in scheme["grades"]],
        "coverage": round(100 * assessed_share, 1),
        "basis": {k: round(v / assessed_share, 1) if assessed_share else 0.0 for k, v in basis.items()},
        "uncounted": _uncounted(entries, missing),
        "indicators": firsts,
    }


def _uncounted(entries: list[Mapping[str, Any]], missing: list[str]) -> dict[str, list[str]]:
    """Requirements that earn nothing without having failed: never counted as passes (DESIGN §4)."""
    return {"inconclusive": [e["id"] for e in entries if e.get("verdict") == "inconclusive"],
            "manual": [e["id"] for e in entries if e.get("verdict") == "manual"],
            "not_run": list(missing)}


def _score(second: Mapping[str, Any], entries: list[Mapping[str, Any]], missing: list[str],
           indicators: Sequence[Mapping[str, Any]], level_weights: Mapping[str, float]) -> tuple[float | None, dict[str, Any]]:
    method = second["method"]
    if method == "indicator":
        return _indicator_score(second, indicators)
    selection = second["select"]
    attested = method == "attestations"
    chosen = [e for e in entries if _matches(selection, e["id"], e.get("level"), e.get("subsystem"))
              and is_attested(e) == attested]
    skipped = [e["id"] for e in entries if _matches(selection, e["id"], e.get("level"), e.get("subsystem"))
               and is_attested(e) != attested]
    # a not-run requirement is known by its id alone: the indicators whose ids select it count it
    absent = [rid for rid in missing if "ids" in selection and _matches({"ids": selection["ids"]}, rid, None, None)]
    rows, possible, earned = [], 0.0, 0.0
    for entry in chosen:
        if entry.get("verdict") == "not-applicable":
            rows.append({"id": entry["id"], "level": entry.get("level"), "verdict": "not-applicable", "weight": 0})
            continue
        weight = 1 if attested else level_weights.get(entry.get("level", "SHALL"), level_weights["SHALL"])
        gained = weight if entry.get("verdict") == "pass" else 0
        possible, earned = possible + weight, earned + gained
        rows.append({"id": entry["id"], "level": entry.get("level"), "verdict": entry.get("verdict"), "weight": weight,
                     "earned": gained})
    for rid in absent:  # not run: weighs as a SHALL, earns nothing
        possible += level_weights["SHALL"]
        rows.append({"id": rid, "level": None, "verdict": "not-run", "weight": level_weights["SHALL"], "earned": 0})
    inputs: dict[str, Any] = {"requirements": rows, "earned": earned, "possible": possible}
    if skipped:
        inputs["left_out"] = {"reason": "machine-checked, counted by a requirements indicator" if attested
                              else "attested by a person, counted by an attestations indicator", "ids": skipped}
    return (100 * earned / possible if possible else None), inputs


def _indicator_score(second: Mapping[str, Any], indicators: Sequence[Mapping[str, Any]]) -> tuple[float | None, dict[str, Any]]:
    of_kind = [i for i in indicators if i.get("kind") == second["kind"]]
    if not of_kind:
        return None, {"kind": second["kind"], "values": [],
                      "note": "the platform published no value of this kind (the run's own records do not count)"}
    latest = max(i["period_end"] for i in of_kind)
    values = [i for i in of_kind if i["period_end"] == latest]
    mean = sum(i["value"] for i in values) / len(values)
    zero, full = second["zero_at"], second["full_at"]
    score = 100 * min(1.0, max(0.0, (mean - zero) / (full - zero)))
    return score, {"kind": second["kind"], "period_end": latest, "mean": round(mean, 4),
                   "values": [{k: i[k] for k in ("id", "community_id", "value")} for i in values[:20]],
                   "count": len(values)}
