"""``standard build``: the readable bilingual specification, generated from the standard's data.

As the FHIR IG Publisher renders an implementation guide from its profiles, this renders a static
site from ``schemas/``, ``profiles/``, ``fixtures/``, the endpoint catalogue and the lifecycles:
the conventions, each entity with its field table and valid examples, each endpoint, each
lifecycle as an SVG diagram, each requirement at a stable URL (``zh/req/CORE-PAGE-002.html`` and
``en/req/…``) with the checks that prove it, the allowed variants, the settlements (S1–S13, S15, S16), what
the standard leaves out (S14) and the vendor guide. Pages are autoescaped Jinja2, self-contained
(inline CSS, no script from elsewhere) and link each other relatively, so the site works from
``file://``. The prose the data cannot hold is in ``content.yaml`` beside this module.

Profiles cite the site as ``Standard §<page>/<anchor>`` (``Standard §conventions/paging``,
``Standard §settles/S8``, ``Standard §entities/resident``); :func:`source_target` resolves those.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import markupsafe
import yaml

from ...catalogue import Catalogue, catalogue
from ...checks import load_builtin_checks
from ...credentials import ROLES
from ...evaluation import load_scheme
from ...fixtures import fixture_names, load_fixture
from ...generation._classes import MALFORMED, rule_rows
from ...loading import write_file
from ...profiles import Profile, Requirement, load_profile, profile_ids
from ...resources import schemas_dir
from ...schemas import BASE_URI
from ...standards import Standard, searched
from ..examples import operation_examples
from ..lint import requirement_inputs
from .diagram import lifecycle_svg
from .fields import entity_fields, type_rows
from .local import extension_views, local_requirements, schemes, tightened

__all__ = ["LANGUAGES", "Site", "build_site", "content", "inline", "source_target"]

LANGUAGES = ("zh", "en")
# Pages with sections (an anchor each) and folders of pages, as a `Standard §…` source names them.
_SECTIONED = ("conventions", "settles", "not-covered", "vendor-guide", "endpoints", "problems", "variants", "inputs")
_FOLDERS = ("entities", "lifecycles", "req", "profiles")
_SOURCE = re.compile(r"^Standard §([a-z-]+)(?:/([A-Za-z0-9-]+))?(?:\s.*)?$")


def source_target(source: str) -> tuple[str, str | None] | None:
    """The page (relative to a language folder) and anchor a ``Standard §…`` source cites, or None."""
    match = _SOURCE.match(source)
    if not match:
        return None
    page, part = match.groups()
    if page == "local":  # a local standard's own page: Standard §local/<standard id>
        return (f"local/{part}/index.html", None) if part else ("index.html", "local")
    if page in _SECTIONED:
        return f"{page}.html", part
    if page in _FOLDERS:
        return (f"{page}/{part}.html", None) if part else (f"{page}/index.html", None)
    return None


@functools.cache
def content() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).with_name("content.yaml")).read_text(encoding="utf-8"))


@dataclass
class Site:
    """What a build wrote: the pages (relative paths) and the requirement ids."""

    root: Path
    pages: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- text helpers

_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> markupsafe.Markup:
    """Escape ``text`` and set its `backticked` parts as code."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def _relative(from_page: str, to: str) -> str:
    """A relative URL from the page ``from_page`` (site-relative) to ``to`` (site-relative, may carry #)."""
    path, _, anchor = to.partition("#")
    start = PurePosixPath(from_page).parent
    up = len(start.parts)
    rel = "/".join([".."] * up + [path]) if up else path
    return rel + (f"#{anchor}" if anchor else "")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("conformance", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["inline"] = inline
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2)
    return env


# ---------------------------------------------------------------------------- the data, gathered


@dataclass(frozen=True)
class RequirementView:
    req: Requirement
    levels: Mapping[str, str]  # profile id -> level there (overrides tighten)
    collections: tuple[str, ...]
    fixtures: tuple[str, ...]


def _requirements(profiles: list[Profile]) -> dict[str, RequirementView]:
    defined: dict[str, Requirement] = {}
    levels: dict[str, dict[str, str]] = {}
    for profile in profiles:
        for req in profile.requirements:
            levels.setdefault(req.id, {})[profile.id] = req.level
            if req.profile == profile.id:
                defined[req.id] = req
    views = {}
    for rid, req in defined.items():
        fixtures, collections = requirement_inputs(req)
        collections += [f.split("/")[0] for f in fixtures]
        views[rid] = RequirementView(req, levels[rid], tuple(dict.fromkeys(collections)), tuple(fixtures))
    return views


def _examples(name: str) -> list[tuple[str, Any]]:
    prefix = f"{name}/valid/"
    return [(n.removeprefix(prefix), load_fixture(n)) for n in fixture_names() if n.startswith(prefix)]


def _endpoints(cat: Catalogue) -> list[dict[str, Any]]:
    """Every operation of the interface standard, read from the catalogue, with its example exchange (a refused
    DELETE has none)."""
    rows: list[dict[str, Any]] = []
    for path in cat.public_paths:
        rows.append({"method": "GET", "path": path, "collection": None, "scope": None, "answers": "200",
                     "note": "public"})
    problems = {"401": "unauthenticated", "403": "forbidden", "404": "not-found", "422": "validation-failed"}
    for col in cat.collections.values():
        item = f"{col.path}/{{id}}"
        read, write = col.scopes.get("read"), col.scopes.get("write")
        base = {"collection": col.name, "capability": col.capability}
        rows.append({**base, "method": "GET", "path": col.path, "scope": read,
                     "answers": "200 page · 400 invalid-parameter · 401 · 403"})
        if col.writable:
            rows.append({**base, "method": "POST", "path": col.path, "scope": write,
                         "answers": f"201 + Location · 401 · 403 · 413 · 415 · 422 {problems['422']}"})
        rows.append({**base, "method": "GET", "path": item, "scope": read, "answers": "200 · 401 · 403 · 404"})
        if col.writable:
            rows.append({**base, "method": "PATCH", "path": item, "scope": write,
                         "answers": "200 · 401 · 403 · 404 · 415 · 422"})
        rows.append({**base, "method": "DELETE", "path": item, "scope": write,
                     "answers": "204 · 404 · 405" if col.deletable else "405",
                     "note": "when_declared" if col.deletable else "refused"})
        if col.transitions_path:
            answers = " · ".join(f"{status} {code}" for status, code in _transition_problems().items())
            rows.append({**base, "method": "POST", "path": f"{item}/transitions", "scope": write,
                         "answers": f"200 · {answers}", "lifecycle": col.lifecycle})
    examples = {(e.method, e.path): e for e in operation_examples(cat)}
    return [{**row, "example": examples.get((row["method"], row["path"]))} for row in rows]


@functools.cache
def _raw_catalogue() -> dict[str, Any]:
    return json.loads((schemas_dir() / "interface" / "catalogue.json").read_text(encoding="utf-8"))


def _transition_problems() -> dict[str, str]:
    return dict(_raw_catalogue().get("transitions", {}).get("problems", {}))


def _example_digests(manual: list[Any]) -> dict[str, str]:
    """A digest per example attestation, each of its own example document's text (the same empty-file digest for
    all three read as if an empty document were what to attest)."""
    return {r.id: hashlib.sha256(f"example document: {r.id} ({r.title['en']})\n".encode()).hexdigest()
            for r in manual}


def _problem_codes() -> list[dict[str, Any]]:
    """The problem registry as ``interface/problem.json`` holds it (titles when it has them)."""
    raw = json.loads((schemas_dir() / "interface" / "problem.json").read_text(encoding="utf-8"))
    code = raw.get("properties", {}).get("code", {})
    titles = code.get("x-titles") or raw.get("x-registry") or {}
    rows = []
    for name in code.get("enum", []):
        entry = titles.get(name) if isinstance(titles, dict) else None
        rows.append({"code": name, "title": entry.get("title", entry) if isinstance(entry, dict) else None,
                     "status": entry.get("status") if isinstance(entry, dict) else None})
    return rows


def _entity_texts(cat: Catalogue) -> dict[str, dict[str, str]]:
    """The title and description of each entity, as its schema states them."""
    titles, descriptions = {}, {}
    for col in cat.collections.values():
        raw = json.loads((schemas_dir() / col.schema.removeprefix(BASE_URI)).read_text(encoding="utf-8"))
        titles[col.entity] = str(raw.get("title", col.entity))
        descriptions[col.entity] = str(raw.get("description", ""))
    return {"entity_titles": titles, "entity_descriptions": descriptions}


def _manual_requirements(views: Mapping[str, RequirementView]) -> list[Requirement]:
    return [v.req for v in views.values() if any(c.check == "institutions.attested" for c in v.req.checks)]


def _cited(views: Mapping[str, RequirementView]) -> dict[tuple[str, str | None], list[str]]:
    """Which requirements cite each page and anchor of the site."""
    cited: dict[tuple[str, str | None], list[str]] = {}
    for rid, view in views.items():
        for source in view.req.source:
            target = source_target(source)
            if target:
                cited.setdefault(target, []).append(rid)
    return cited


# ---------------------------------------------------------------------------- the build


class _Writer:
    def __init__(self, root: Path, site: Site, shared: dict[str, Any]) -> None:
        self.root, self.site, self.shared = root, site, shared
        # the suite's own stylesheet, inlined as it is: escaping it turned its font names' quotes into &#34;
        # entities, and every page fell back to the default serif font
        self.css = markupsafe.Markup(
            _environment().loader.get_source(_environment(), "standard/site.css")[0])  # type: ignore[union-attr]

    def page(self, template: str, path: str, **context: Any) -> None:
        """Render ``template`` once per language at ``<lang>/<path>``."""
        for lang in LANGUAGES:
            here = f"{lang}/{path}"
            other = next(x for x in LANGUAGES if x != lang)
            def t(key: str, _lang: str = lang, _ui: Mapping[str, Any] = self.shared["c"]["ui"]) -> str:
                return _ui[key][_lang]

            def L(value: Any, _lang: str = lang) -> Any:
                if isinstance(value, Mapping) and _lang in value:
                    return value[_lang]
                return value

            def link(to: str, _here: str = here, _lang: str = lang) -> str:
                return _relative(_here, f"{_lang}/{to}")

            def top(to: str, _here: str = here) -> str:  # a file outside the language folders
                return _relative(_here, to)

            html = _environment().get_template(f"standard/{template}").render(
                **self.shared, **context, lang=lang, other=other, t=t, L=L, link=link, top=top, css=self.css,
                here=path, switch=_relative(here, f"{other}/{path}"), source_target=source_target)
            write_file(self.root / here, html, root=self.root)
            self.site.pages.append(here)


def build_site(out: str | Path, *, variants: Iterable[Any] = (), profiles: Iterable[str] | None = None,
               standards: Iterable[Standard] | None = None) -> Site:
    """Write the readable specification into ``out``; ``variants`` are the reference platform's
    tolerated variants (objects with ``name``, ``description``, ``allowed_by``), handed in by the CLI.
    ``standards``: the local standards published with the national base (default: every one searched: those
    given with ``--standard`` and the installed ones), each on pages of its own under ``local/<id>/``."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    local = list(standards) if standards is not None else searched()
    loaded = [load_profile(p) for p in (profiles or profile_ids())]
    views = _requirements(loaded)
    cat = catalogue()
    checks = load_builtin_checks()
    entities = {col.entity: col for col in cat.collections.values()}
    c = content()
    shared: dict[str, Any] = {"c": c, "cat": cat, "profiles": loaded, "views": views, "checks": checks,
                              "entity_collections": entities, "cited": _cited(views), "roles": ROLES,
                              "roles_zh": c["credential_roles_zh"],
                              "version": cat.version, "local_standards": local, **_entity_texts(cat)}
    site = Site(root)
    for schema in sorted(schemas_dir().rglob("*.json")):  # the schemas the pages name, beside them
        write_file(root / "schemas" / schema.relative_to(schemas_dir()), schema.read_bytes(), root=root)
    shared["has_credentials_schema"] = (root / "schemas" / "suite" / "credentials.json").is_file()
    w = _Writer(root, site, shared)
    w.page("index.html.j2", "index.html")
    w.page("conventions.html.j2", "conventions.html", problems=_problem_codes())
    w.page("settles.html.j2", "settles.html")
    w.page("not-covered.html.j2", "not-covered.html", manual=_manual_requirements(views))
    w.page("evaluation.html.j2", "evaluation.html", scheme=load_scheme())  # the formula of every score
    manual = _manual_requirements(views)
    w.page("vendor-guide.html.j2", "vendor-guide.html", manual=manual, all_scopes=list(cat.scopes),
           example_digests=_example_digests(manual))
    w.page("endpoints.html.j2", "endpoints.html", endpoints=_endpoints(cat))
    w.page("problems.html.j2", "problems.html", problems=_problem_codes(), transition_problems=_transition_problems())
    w.page("variants.html.j2", "variants.html", variants=list(variants))
    w.page("types.html.j2", "types.html", types=type_rows())
    w.page("inputs.html.j2", "inputs.html", rules=rule_rows(), bodies=MALFORMED)
    w.page("entities-index.html.j2", "entities/index.html")
    for col in cat.collections.values():
        w.page("entity.html.j2", f"entities/{col.entity}.html", col=col, fields=entity_fields(col),
               examples=_examples(col.name),
               by=[rid for rid, v in views.items() if col.name in v.collections])
    w.page("lifecycles-index.html.j2", "lifecycles/index.html")
    for name, lifecycle in cat.lifecycles.items():
        w.page("lifecycle.html.j2", f"lifecycles/{name}.html", lc=lifecycle, svg=lifecycle_svg(lifecycle),
               collections=[col for col in cat.collections.values() if col.lifecycle == name])
    w.page("requirements-index.html.j2", "req/index.html")
    for rid, view in views.items():
        w.page("requirement.html.j2", f"req/{rid}.html", v=view, r=view.req)
        site.requirements.append(rid)
    for profile in loaded:
        w.page("profile.html.j2", f"profiles/{profile.id}.html", profile=profile)
    for standard in local:
        _local_pages(w, root, standard, loaded)
    w.page("checks.html.j2", "checks.html")
    _landing(root, site, shared, w.css)
    return site


def _local_pages(w: _Writer, root: Path, standard: Standard, loaded: list[Profile]) -> None:
    """A local standard's pages: its requirements and tightened ones, entity extensions, evaluation scheme."""
    own = set(standard.profile_ids())
    extensions = extension_views(standard)
    for view in extensions:  # the schemas the page names, beside the national ones
        write_file(root / view["file"], view["path"].read_bytes(), root=root)
    context = {"std": standard, "extensions": extensions, "schemes": schemes(standard),
               "local_profiles": [p for p in loaded if p.id in own]}
    w.page("local.html.j2", f"local/{standard.id}/index.html", own=local_requirements(standard, loaded),
           tightened=tightened(standard, loaded), **context)
    w.page("local-extensions.html.j2", f"local/{standard.id}/extensions.html", **context)
    w.page("local-evaluation.html.j2", f"local/{standard.id}/evaluation.html", **context)


def _landing(root: Path, site: Site, shared: dict[str, Any], css: str) -> None:
    """``index.html`` and ``req/<ID>.html`` at the top: language-neutral stable URLs with both languages."""
    env = _environment()
    write_file(root / "index.html", env.get_template("standard/landing.html.j2").render(
        **shared, css=css, req=None, up=""), root=root)
    site.pages.append("index.html")
    for rid, view in shared["views"].items():
        write_file(root / "req" / f"{rid}.html", env.get_template("standard/landing.html.j2").render(
            **shared, css=css, req=view.req, up="../"), root=root)
        site.pages.append(f"req/{rid}.html")
