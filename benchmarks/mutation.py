"""Mutation score: how many behavioural mutants of the reference platform the bundled requirements kill.

Each sampled mutant (:mod:`conformance.reference.mutants`) wraps a fresh reference platform; the requirements
of every bundled profile run in this process against it, the ones the mutant names first. A mutant is killed
when a requirement fails; the run stops at the first failure (killed at a named requirement, or elsewhere when
the named ones pass). A survivor is a gap to close, or a behaviour the standard allows (then it belongs in
``ALLOWED`` and is not generated).

``SC_BENCH_CONCURRENCY=N`` judges each mutant as a run with ``--concurrency N`` does (the platform in a process of
its own; no early stop, every requirement's checks run ahead). ``SC_BENCH_MUTANTS=N`` samples N mutants (default 60; ``all`` runs every one), seeded by ``SC_BENCH_SEED``
(default 1); ``SC_BENCH_JOBS=N`` judges N mutants at once, each in a forked process of its own with its own
platform (the figures are the same as one at a time: every mutant meets a fresh platform and the same run seed);
``SC_BENCH_PRUNE=1`` runs a mutant only against the requirements whose requests reach its
collection (faster; a kill that depends on records other requirements leave behind is then missed).
Requirements that do not pass on the unmutated platform are left out (listed as ``baseline_not_passing``).
Writes ``benchmarks/results/mutation.json`` after each mutant.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from conformance import redaction
from conformance.checks import validate_call
from conformance.embedded import embedded_reference
from conformance.profiles import Requirement, load_profile, profile_ids
from conformance.reference.mutants import (
    ALLOWED,
    OPERATORS,
    SERVER_WRITTEN,
    MutantSpec,
    Recorder,
    bundled_calls,
    generate_mutants,
    wrap_with,
)
from conformance.runner import Runner, judges_traffic
from conformance.session import RunSession
from conformance.target import Target
from conformance.verdicts import Verdict

from ._harness import RESULTS, environment

DEFAULT_SAMPLE = 60
SURVIVOR_LIST = Path("tests") / "integration" / "mutation_survivors.yaml"
RUN_SEED = 20261206  # the seed of every run against a mutant (what the checks generate), not the sampling seed


def requirements() -> list[tuple[Requirement, str]]:
    """Every requirement of every bundled profile once, with the profile that runs it (its home first)."""
    seen: dict[str, tuple[Requirement, str]] = {}
    for pid in profile_ids():
        for requirement in load_profile(pid, validate_check=validate_call).requirements:
            if requirement.id not in seen or requirement.profile == pid:
                seen[requirement.id] = (requirement, pid)
    return list(seen.values())


def _finding(result: Any) -> str:
    for check in result.checks:
        for finding in check.findings:
            if finding.verdict == Verdict.FAIL:
                return str(finding.message)[:300]
        if check.verdict == Verdict.FAIL:
            return str(check.message)[:300]
    return ""


def judge(spec: MutantSpec | None, every: Sequence[tuple[Requirement, str]], *, stop: bool = True,
          only: Iterable[str] | None = None, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Run the requirements against the platform wrapped by ``spec`` (None: the identity middleware) as a run
    does — the ones naming an oracle after the others, their own checks all made before the first is judged —
    the named ones first within each group; with ``stop``, until the first failure, or, when a named requirement
    that judges the whole traffic is still to come, until it has been judged. ``only`` narrows the requirements
    run; ``skip`` leaves out the ones that do not pass on the platform unmutated (they cannot tell a kill)."""
    named = spec.requirements if spec else ()
    wanted, left_out = None if only is None else set(only), set(skip)
    chosen = [pair for pair in every if (wanted is None or pair[0].id in wanted) and pair[0].id not in left_out]
    order = sorted(chosen, key=lambda pair: (judges_traffic(pair[0]), pair[0].id not in named,
                                             named.index(pair[0].id) if pair[0].id in named else 0))
    named_late = {r.id for r, _ in order if r.id in named and judges_traffic(r)}
    started = time.perf_counter()
    outcome: dict[str, Any] = {"killed_by": None, "at_named": False, "finding": "", "non_passing": {}, "ran": 0}
    concurrency = int(os.environ.get("SC_BENCH_CONCURRENCY", "1"))  # >1: as a run does, the platform apart
    with redaction.forgetting(), embedded_reference(wrap=wrap_with(spec), apart=concurrency > 1) as (base_url, token):
        target = Target(base_url, token=token, connections=max(8, concurrency))
        try:
            runner = Runner(RunSession(target, seed=RUN_SEED), concurrency=concurrency)
            runner.plan([requirement for requirement, _ in order])
            for requirement, pid in order:
                named_late.discard(requirement.id)
                result = runner.run_requirement(requirement, pid)
                outcome["ran"] += 1
                if result.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE):
                    continue
                outcome["non_passing"][requirement.id] = result.verdict.value
                if result.verdict == Verdict.FAIL and (outcome["killed_by"] is None or (
                        requirement.id in named and not outcome["at_named"])):
                    outcome.update(killed_by=requirement.id, at_named=requirement.id in named,
                                   finding=_finding(result), level=requirement.level)
                if stop and outcome["killed_by"] is not None and (outcome["at_named"] or not named_late):
                    break
        finally:
            target.close()
    outcome["seconds"] = round(time.perf_counter() - started, 2)
    return outcome


def baseline(every: Sequence[tuple[Requirement, str]]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The unmutated platform behind the identity middleware: the requirements that do not pass there (they
    cannot tell a kill), and the collections each requirement's requests reach."""
    recorders: list[Recorder] = []

    def record(app: Any) -> Recorder:
        recorders.append(Recorder(app, app.state.platform))
        return recorders[-1]

    not_passing: dict[str, str] = {}
    touched: dict[str, set[str]] = {}
    with redaction.forgetting(), embedded_reference(wrap=record) as (base_url, token):
        target = Target(base_url, token=token)
        try:
            runner = Runner(RunSession(target, seed=RUN_SEED))
            for requirement, pid in every:
                recorders[0].touched.clear()
                verdict = runner.run_requirement(requirement, pid).verdict
                touched[requirement.id] = set(recorders[0].touched)
                if verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE):
                    not_passing[requirement.id] = verdict.value
        finally:
            target.close()
    return not_passing, touched


def reachable(spec: MutantSpec, touched: dict[str, set[str]]) -> set[str]:
    """The requirements that can meet a mutant: those whose requests reach its collection (or the audit trail
    and the event feed, which record its writes), and the ones it names. The others send the same requests
    and get the same answers as without it (every mutant changes exchanges of its own collection only)."""
    collection = spec.params["collection"]
    derived = set(SERVER_WRITTEN) if collection not in SERVER_WRITTEN else set()
    return {rid for rid, reached in touched.items() if collection in reached or reached & derived} \
        | set(spec.requirements)


def covered_by(requirement_id: str) -> tuple[list[str], list[str]]:
    """The checks a requirement calls and the collections they exercise ("every" for calls naming none)."""
    checks: list[str] = []
    collections: list[str] = []
    for rid, check, params in bundled_calls():
        if rid != requirement_id:
            continue
        checks.append(check)
        named = [params["collection"]] if isinstance(params.get("collection"), str) else \
            list(params.get("collections") or ["every"])
        collections.extend(str(c) for c in named)
    return list(dict.fromkeys(checks)), list(dict.fromkeys(collections))


def survivor_reason(spec: MutantSpec) -> str:
    """Why a mutant is not killed where it should be, from what the named requirements' checks exercise."""
    collection = spec.params["collection"]
    if not spec.requirements:
        return (f"no requirement of the bundled profiles states this for {collection}, and none failed: "
                f"{spec.description}")
    parts = []
    for rid in spec.requirements:
        checks, where = covered_by(rid)
        if collection in where:
            parts.append(f"{rid} ({', '.join(checks)}) exercises {collection} but does not observe this")
        elif "every" in where:
            parts.append(f"{rid} ({', '.join(checks)}) names no collection; what it meets does not show this "
                         f"at {collection}")
        else:
            parts.append(f"{rid} ({', '.join(checks)}) exercises {', '.join(where)}, not {collection}")
    return "; ".join(parts)


def list_survivors(path: Path, *, recheck: bool = False) -> dict[str, str]:
    """Run every mutant against the requirements it names and write the ones not killed there, with the reason,
    to ``path`` (tests/integration/mutation_survivors.yaml). A mutant naming none runs against the requirements
    whose requests reach its collection (see :func:`reachable`). Resumable: each verdict is kept in
    benchmarks/results/mutation-survivors.jsonl until the list is written. ``recheck`` runs only the mutants
    the list holds (the others are taken as killed, as the list says): the quick refresh after checks improve.
    ``SC_BENCH_JOBS=N`` judges N at once."""
    every = requirements()
    unmutated, touched = baseline(every)
    if unmutated:
        raise SystemExit(f"the unmutated platform does not pass {unmutated}: the list would be wrong")
    RESULTS.mkdir(parents=True, exist_ok=True)
    progress = RESULTS / "mutation-survivors.jsonl"
    done: dict[str, bool] = {}
    if progress.exists():
        for line in progress.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            done[entry["id"]] = entry["killed"]
    mutants = generate_mutants()
    if recheck:
        listed = set(yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else set()
        done.update({spec.id: True for spec in mutants if spec.id not in listed and spec.id not in done})
    todo = [spec for spec in mutants if spec.id not in done]
    judged = outcomes(todo, every, skip=(), jobs=_jobs(), only=lambda spec: spec.requirements or reachable(spec, touched))
    with progress.open("a", encoding="utf-8") as out:
        for number, (spec, outcome) in enumerate(zip(todo, judged, strict=True), 1):
            done[spec.id] = outcome["killed_by"] is not None
            out.write(json.dumps({"id": spec.id, "killed": done[spec.id], "by": outcome["killed_by"]}) + "\n")
            out.flush()
            print(f"  [{number}/{len(todo)}] {'killed  ' if done[spec.id] else 'SURVIVED'} {spec.id}", flush=True)
    found = {spec.id: survivor_reason(spec) for spec in mutants if not done[spec.id]}
    header = ("# Mutants (conformance/reference/mutants.py) not killed at the requirement they name (or, naming none,\n"
              "# by a requirement reaching their collection), each with the reason: a gap to close. Behaviours the\n"
              "# standard allows are never generated (mutants.ALLOWED). Written by `python -m benchmarks.mutation\n"
              "# --survivors`; the slow test_every_mutant_is_killed_or_listed keeps it exact.\n")
    body = yaml.safe_dump(found, allow_unicode=True, sort_keys=True, width=1000)
    path.write_text(header + body, encoding="utf-8")
    progress.unlink()
    return found


def _reason(spec: MutantSpec, outcome: dict[str, Any]) -> str:
    others = {k: v for k, v in outcome["non_passing"].items()}
    tail = f"; not passing but not failing: {others}" if others else ""
    return f"no requirement failed: {survivor_reason(spec)}{tail}"


def sample(mutants: list[MutantSpec], wanted: str, seed: int) -> list[MutantSpec]:
    if wanted.strip().lower() == "all":
        return list(mutants)
    count = max(0, min(int(wanted), len(mutants)))
    return random.Random(seed).sample(mutants, count)


_SHARED: dict[str, Any] = {}  # what forked judges read (set before the pool forks; nothing is pickled but indices)


def _judge_nth(number: int) -> dict[str, Any]:
    spec = _SHARED["chosen"][number]
    return judge(spec, _SHARED["every"], skip=_SHARED["skip"], only=_SHARED["only"](spec))


def outcomes(chosen: list[MutantSpec], every: Sequence[tuple[Requirement, str]], *, skip: Iterable[str],
             only: Callable[[MutantSpec], Iterable[str] | None], jobs: int) -> Iterator[dict[str, Any]]:
    """The outcome of every chosen mutant (run against ``only(spec)``, None: every requirement), in the given
    order; ``jobs`` > 1 judges that many at once in forked processes (each builds its own platform and session,
    so an outcome does not depend on its neighbours)."""
    _SHARED.update(chosen=chosen, every=every, skip=set(skip), only=only)
    if jobs <= 1:
        yield from (_judge_nth(number) for number in range(len(chosen)))
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_judge_nth, range(len(chosen)))


def _jobs() -> int:
    return max(1, int(os.environ.get("SC_BENCH_JOBS", "1")))


def main() -> dict[str, Any]:
    mutants = generate_mutants()
    seed = int(os.environ.get("SC_BENCH_SEED", "1"))
    chosen = sample(mutants, os.environ.get("SC_BENCH_MUTANTS", str(DEFAULT_SAMPLE)), seed)
    every = requirements()
    prune = os.environ.get("SC_BENCH_PRUNE", "") == "1"
    jobs = _jobs()
    operators: dict[str, dict[str, int]] = {
        name: {"generated": 0, "sampled": 0, "killed": 0, "killed_at_named": 0, "survived": 0} for name in OPERATORS}
    for spec in mutants:
        operators[spec.operator]["generated"] += 1
    killed: list[dict[str, Any]] = []
    survivors: list[dict[str, Any]] = []
    started = time.perf_counter()
    print(f"== mutation: {len(chosen)} of {len(mutants)} mutants ({len(OPERATORS)} operators), seed {seed}"
          + (f", {jobs} at once" if jobs > 1 else ""))
    # What does not pass unmutated cannot tell a kill: it is left out, and listed.
    unmutated, touched = baseline(every)
    if unmutated:
        print(f"  not passing on the unmutated platform, left out: {unmutated}")
    document: dict[str, Any] = {}
    judged = outcomes(chosen, every, skip=unmutated, jobs=jobs,
                      only=lambda spec: reachable(spec, touched) if prune else None)
    for number, (spec, outcome) in enumerate(zip(chosen, judged, strict=True), 1):
        counts = operators[spec.operator]
        counts["sampled"] += 1
        entry = {"id": spec.id, "operator": spec.operator, "place": spec.place, "description": spec.description,
                 "requirements": list(spec.requirements), "seconds": outcome["seconds"], "ran": outcome["ran"]}
        if outcome["killed_by"]:
            counts["killed"] += 1
            counts["killed_at_named"] += bool(outcome["at_named"])
            killed.append({**entry, "killed_by": outcome["killed_by"], "at_named": outcome["at_named"],
                           "level": outcome.get("level"), "finding": outcome["finding"]})
            where = "named" if outcome["at_named"] else ("elsewhere" if spec.requirements else "unnamed")
            print(f"  [{number}/{len(chosen)}] killed   {spec.id}  by {outcome['killed_by']} ({where}, "
                  f"{outcome['seconds']:.1f} s)", flush=True)
        else:
            counts["survived"] += 1
            survivors.append({**entry, "reason": _reason(spec, outcome), "non_passing": outcome["non_passing"]})
            print(f"  [{number}/{len(chosen)}] SURVIVED {spec.id}  ({outcome['seconds']:.1f} s)", flush=True)
        document = _document(mutants, chosen, number, seed, started, unmutated, operators, killed, survivors)
        _write(document)  # after each mutant: a long run (SC_BENCH_MUTANTS=all) leaves figures if stopped
    if not chosen:
        document = _document(mutants, chosen, 0, seed, started, unmutated, operators, killed, survivors)
        _write(document)
    _print(document, operators, survivors)
    return document


def _write(document: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _document(mutants: list[MutantSpec], chosen: list[MutantSpec], done: int, seed: int, started: float,
              unmutated: dict[str, str], operators: dict[str, dict[str, int]], killed: list[dict[str, Any]],
              survivors: list[dict[str, Any]]) -> dict[str, Any]:
    wall = time.perf_counter() - started
    score = len(killed) / done if done else 0.0
    named = [k for k in killed if k["requirements"]]
    return {
        "benchmark": "mutation",
        "environment": environment(),
        "command": f"SC_BENCH_MUTANTS={os.environ.get('SC_BENCH_MUTANTS', DEFAULT_SAMPLE)} SC_BENCH_SEED={seed} "
                   + (f"SC_BENCH_JOBS={os.environ['SC_BENCH_JOBS']} " if os.environ.get("SC_BENCH_JOBS") else "")
                   + "python -m benchmarks mutation",
        "seed": seed,
        "mutants": len(mutants),
        "operators_count": len(OPERATORS),
        "sampled": len(chosen),
        "done": done,
        "killed": len(killed),
        "killed_at_named": sum(1 for k in killed if k["at_named"]),
        "killed_elsewhere": sum(1 for k in named if not k["at_named"]),
        "killed_unnamed": len(killed) - len(named),
        "score": round(score, 4),
        "baseline_not_passing": unmutated,
        "order": "named requirements first, then every other one in profile order, up to the first failure"
                 + ("; SC_BENCH_PRUNE=1: only those whose requests reach the mutant's collection on the unmutated "
                    "platform (faster, but a kill that needs records other requirements leave is missed)"
                    if os.environ.get("SC_BENCH_PRUNE", "") == "1" else ""),
        "wall_s": round(wall, 1),
        "operators": {name: {**counts, "family": OPERATORS[name].family} for name, counts in operators.items()},
        "survivors": survivors,
        "kills": killed,
        "allowed": [{"behaviour": what, "allowed_by": why} for what, why in ALLOWED],
    }


def _print(document: dict[str, Any], operators: dict[str, dict[str, int]], survivors: list[dict[str, Any]]) -> None:
    print(f"  score {document['score']:.1%}: {document['killed']} of {document['done']} killed "
          f"({document['killed_at_named']} at the named requirement, {document['killed_elsewhere']} elsewhere, "
          f"{document['killed_unnamed']} naming none); {document['mutants']} mutants generated; "
          f"{document['wall_s']:.0f} s")
    print(f"  {'operator':<26} {'made':>5} {'run':>4} {'killed':>6} {'named':>5} {'surv':>4}")
    for name, counts in operators.items():
        print(f"  {name:<26} {counts['generated']:>5} {counts['sampled']:>4} {counts['killed']:>6} "
              f"{counts['killed_at_named']:>5} {counts['survived']:>4}")
    if survivors:
        print("  survivors:")
        for survivor in survivors:
            print(f"    {survivor['id']}: {survivor['description']} — {survivor['reason']}")
    print(f"  → {RESULTS / 'mutation.json'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--survivors"]:
        list_survivors(SURVIVOR_LIST, recheck=sys.argv[2:] == ["--recheck"])
    else:
        main()
