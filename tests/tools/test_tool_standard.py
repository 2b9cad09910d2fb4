"""``sc-conformance standard build``: the readable bilingual specification generated from the data."""

import functools
import html
import json
import re
import shutil
import tempfile
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import markupsafe
import pytest

from conformance.attestations import load_attestations
from conformance.catalogue import catalogue
from conformance.checks import load_builtin_checks
from conformance.cli import main
from conformance.credentials import ROLES, load_credentials
from conformance.profiles import load_profile, profile_ids
from conformance.resources import schemas_dir
from conformance.schemas import BASE_URI
from conformance.tools.examples import operation_examples
from conformance.tools.standard import build_site, content, inline, source_target

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1200,1400")
# The numbered sections of the source paper (Ding Jianwen 2023): what a "Paper §" source may cite.
PAPER_SECTIONS = {"1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "3.3"}


class Page(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.tags, self.lang = set(), [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "html":
            self.lang = attrs.get("lang")
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.links.append(attrs[name])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("standard")
    assert main(["standard", "build", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pages(site):
    return {p.relative_to(site).as_posix(): Page(p.read_text(encoding="utf-8")) for p in site.rglob("*.html")}


@functools.cache
def requirements():
    found = {}
    for pid in profile_ids():
        for req in load_profile(pid).requirements:
            found.setdefault(req.id, req)
    return found


def text_of(site, page):
    return html.unescape((site / page).read_text(encoding="utf-8"))


def test_every_requirement_has_a_page_in_both_languages_and_a_stable_landing(site):
    checks = load_builtin_checks()
    reqs = requirements()
    assert len(reqs) > 100
    for rid, req in reqs.items():
        landing = text_of(site, f"req/{rid}.html")
        assert f"zh/req/{rid}.html" in landing and f"en/req/{rid}.html" in landing
        for lang in ("zh", "en"):
            page = text_of(site, f"{lang}/req/{rid}.html")
            assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in page
            assert req.title[lang] in page and req.level in page
            assert re.sub(r"`", "", req.statement[lang].split("\n")[0])[:40] in re.sub(r"</?code>", "", page)
            for call in req.checks:
                assert call.check in page
                spec = checks[call.check]
                first_line = (spec.doc_zh if lang == "zh" else spec.doc).split("\n")[0]
                assert re.sub(r"`", "", first_line)[:30] in html.unescape(re.sub(r"</?code>", "", page))
            for source in req.source:
                assert source in page


def test_every_link_resolves_to_a_page_and_anchor_of_the_site(site, pages):
    assert len(pages) > 2 * len(requirements())
    for name, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{name} links outside the site: {link}"
            target = (site / name).parent / unquote(parts.path) if parts.path else site / name
            target = target.resolve()
            assert target.is_file(), f"{name}: {link} is missing"
            assert site.resolve() in target.parents, f"{name}: {link} leaves the site"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in pages[target.relative_to(site.resolve()).as_posix()].ids, \
                    f"{name}: {link} names no anchor there"


def test_pages_are_self_contained(pages, site):
    for name, page in pages.items():
        tags = {tag for tag, _ in page.tags}
        assert "script" not in tags and "link" not in tags and "img" not in tags, name
        assert page.lang in ("zh-CN", "en"), name
    assert "@import" not in (site / "zh" / "index.html").read_text(encoding="utf-8")


def test_profiles_cite_the_published_sections_not_internal_documents(site, pages):
    for rid, req in requirements().items():
        assert not [s for s in req.source if "DESIGN" in s], rid
        for source in req.source:
            if source.startswith("Paper §"):
                section = re.match(r"Paper §([0-9.]+)", source).group(1)
                assert section in PAPER_SECTIONS, f"{rid} cites {source!r}: the paper has no §{section}"
            if source.startswith("Standard §"):
                target = source_target(source)
                assert target, f"{rid}: {source!r} is not a reference into the site"
                page, anchor = target
                for lang in ("zh", "en"):
                    assert f"{lang}/{page}" in pages, f"{rid}: {source!r} names no page"
                    assert anchor is None or anchor in pages[f"{lang}/{page}"].ids, f"{rid}: {source!r} names no anchor"
    cited = [r for r in requirements().values() if any(s.startswith("Standard §") for s in r.source)]
    assert len(cited) > 50


def test_settles_page_states_s1_to_s13_in_both_languages(site, pages):
    zh, en = text_of(site, "zh/settles.html"), text_of(site, "en/settles.html")
    for n in range(1, 15):
        assert f"S{n}" in pages["zh/settles.html"].ids and f"S{n}" in pages["en/settles.html"].ids
    for settlement in content()["settlements"]:
        assert re.sub(r"`", "", settlement["zh"])[:25] in re.sub(r"</?code>", "", zh)
        assert re.sub(r"`", "", settlement["en"])[:25] in re.sub(r"</?code>", "", en)
    assert "record-referenced" in en and "Retry-After" in zh and "transition-not-allowed" in en


def test_not_covered_page_lists_what_the_paper_names_and_the_standard_leaves_out(site, pages):
    expected = {"network", "ai", "voice", "visualisation", "payments", "institutions"}
    for lang in ("zh", "en"):
        assert expected <= pages[f"{lang}/not-covered.html"].ids
    for item in content()["not_covered"]:
        for lang in ("zh", "en"):
            cited = set(re.findall(r"§([0-9.]+)", item["paper"][lang])) or set(re.findall(
                r"第 ([0-9.]+) 节", item["paper"][lang]))
            assert cited and cited <= PAPER_SECTIONS, (item["id"], lang, cited)
            assert item["why"][lang] and item["instead"][lang]
    # the attested requirements are named beside the institutional arrangements
    page = text_of(site, "en/not-covered.html")
    assert "GUA-INST-001" in page


def test_entity_pages_show_every_field_and_the_valid_fixtures(site, pages):
    for col in catalogue().collections.values():
        raw = json.loads((schemas_dir() / col.schema.removeprefix(BASE_URI)).read_text(encoding="utf-8"))
        for lang in ("zh", "en"):
            page = pages[f"{lang}/entities/{col.entity}.html"]
            for name in raw["$defs"]["fields"]["properties"]:
                assert f"field-{name}" in page.ids, (col.entity, name)
    resident = text_of(site, "en/entities/resident.html")
    assert "field-identity.number" in resident
    assert "resident-identity-number" in resident and "masked-identity-number" in resident
    assert "residents/valid/minimal" in resident and "/identity/number" in resident
    work_order = text_of(site, "zh/entities/work-order.html")
    assert "field-submitter.role" in work_order and "field-attachments[].name" in work_order


def test_each_lifecycle_is_a_diagram_with_its_states_and_transitions(site, pages):
    for name, lifecycle in catalogue().lifecycles.items():
        page = text_of(site, f"en/lifecycles/{name}.html")
        svg = page[page.index("<svg"):page.index("</svg>")]
        states = set(re.findall(r'class="state[^"]*" data-state="([^"]+)"', svg))
        assert states == set(lifecycle.states)
        edges = re.findall(r'class="transition" data-from="([^"]+)" data-to="([^"]+)"', svg)
        assert sorted(edges) == sorted((t.source, t.target) for t in lifecycle.transitions)
        assert len(re.findall(r'class="state final"', svg)) == len(lifecycle.final)
        for t in lifecycle.transitions:
            for role in t.roles:
                assert f"<code>{role}</code>" in page


def test_endpoints_and_problem_codes_come_from_the_catalogue(site):
    page = text_of(site, "en/endpoints.html")
    for col in catalogue().collections.values():
        assert f"<code>{col.path}</code>" in page and f"<code>{col.path}/{{id}}</code>" in page
        if col.lifecycle:
            assert f"<code>{col.path}/{{id}}/transitions</code>" in page
    problems = text_of(site, "zh/problems.html")
    raw = json.loads((schemas_dir() / "interface" / "problem.json").read_text(encoding="utf-8"))
    for code in raw["properties"]["code"]["enum"]:
        assert f'id="{code}"' in problems


def test_variants_page_renders_whatever_the_table_holds(site, tmp_path):
    from conformance.reference import VARIANTS

    published = (site / "zh" / "variants.html").read_text(encoding="utf-8")
    if VARIANTS:
        assert all(f'id="{name}"' in published for name in VARIANTS)
    else:
        assert content()["ui"]["no_variants"]["zh"] in published
    variant = SimpleNamespace(name="page-size-7", description="answers pages of 7 <records>",
                              allowed_by="S1 page size")
    build_site(tmp_path, variants=[variant], profiles=["core"])
    page = (tmp_path / "en" / "variants.html").read_text(encoding="utf-8")
    assert 'id="page-size-7"' in page and "answers pages of 7 &lt;records&gt;" in page and "S1 page size" in page


def test_vendor_guide_documents_credentials_and_attestations_in_the_formats_the_loaders_read(site, tmp_path):
    for lang in ("zh", "en"):
        guide = text_of(site, f"{lang}/vendor-guide.html")
        for role in ROLES:
            assert f"<code>{role}</code>" in guide
        for scope in catalogue().scopes:
            assert scope in guide
        for word in ("--cleanup", "--deadline", "--insecure", "SC_TOKEN", "Retry-After", "credentials.json"):
            assert word in guide, (lang, word)
        examples = dict(re.findall(r'<code id="(\w+)-example">(.*?)</code>', guide, re.DOTALL))
        (tmp_path / "roles.yaml").write_text(examples["credentials"], encoding="utf-8")
        credentials = load_credentials(tmp_path / "roles.yaml")
        assert set(credentials.roles) == set(ROLES)
        assert credentials.roles["admin"].scopes == frozenset(catalogue().scopes)
        (tmp_path / "attestations.yaml").write_text(examples["attestations"], encoding="utf-8")
        attested = load_attestations(tmp_path / "attestations.yaml")
        manual = {r.id for r in requirements().values() if any(c.check == "institutions.attested" for c in r.checks)}
        assert set(attested) == manual and manual


def test_text_is_escaped():
    assert str(inline("<script>alert(1)</script> `a<b>`")) == \
        "&lt;script&gt;alert(1)&lt;/script&gt; <code>a&lt;b&gt;</code>"


def test_content_is_bilingual_everywhere():
    def walk(node, path):
        if isinstance(node, dict):
            if "zh" in node or "en" in node:
                assert {"zh", "en"} <= set(node), path
                assert all(node[lang] for lang in ("zh", "en")), path
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(content(), "content")
    # S14 is the not-covered list (not_covered); the settlements go on from S15
    assert [s["id"] for s in content()["settlements"]] == [f"S{n}" for n in (*range(1, 14), 15, 16)]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
def test_chromium_opens_a_requirement_page_in_both_languages(site, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    req = requirements()["CORE-PAGE-002"]
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))  # no driver download
    try:
        driver.get((site / "req" / "CORE-PAGE-002.html").as_uri())
        driver.find_element(By.PARTIAL_LINK_TEXT, "中文").click()
        assert driver.find_element(By.ID, "req-id").text == "CORE-PAGE-002"
        assert driver.find_element(By.ID, "req-title").text == req.title["zh"]
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        assert driver.find_element(By.ID, "statement").is_displayed()
        assert "paging.limit" in driver.find_element(By.TAG_NAME, "main").text
        zh_shot = tmp_path / "req-zh.png"
        driver.save_screenshot(str(zh_shot))
        driver.find_element(By.ID, "lang").click()
        assert driver.current_url.endswith("/en/req/CORE-PAGE-002.html")
        assert driver.execute_script("return document.documentElement.lang") == "en"
        assert driver.find_element(By.ID, "req-title").text == req.title["en"]
        assert "SHALL" in driver.find_element(By.ID, "level").text
        source = driver.find_element(By.CSS_SELECTOR, "#sources a")
        source.click()
        assert "/en/conventions.html#" in driver.current_url
        assert driver.find_element(By.ID, urlsplit(driver.current_url).fragment).is_displayed()
        driver.save_screenshot(str(tmp_path / "req-en.png"))
        print(f"screenshots: {zh_shot} {tmp_path / 'req-en.png'}")
    finally:
        driver.quit()


def test_the_stylesheet_is_inlined_as_written_and_no_page_calls_a_shipped_option_unfinished(site):
    """The font names keep their quotes (escaped as &#34; every page fell back to a serif font) and --cleanup,
    which ships, is not "being added" (issue 18)."""
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        style = text.split("<style>", 1)[1].split("</style>", 1)[0] if "<style>" in text else ""
        assert "&#34;" not in style and "&quot;" not in style, page
        assert "being added" not in text and "正在加入" not in text, page


def test_the_attestation_example_gives_each_document_its_own_digest(site):
    """Not the empty file's digest three times (issue 18): an example per document."""
    import re

    for lang in ("en", "zh"):
        text = (site / lang / "vendor-guide.html").read_text(encoding="utf-8")
        example = text.split('id="attestations-example"', 1)[1].split("</code>", 1)[0]
        digests = re.findall(r"sha256: ([0-9a-f]{64})", example)
        assert len(digests) >= 3 and len(set(digests)) == len(digests)
        assert "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" not in digests


# Six or more Latin words in a row: an English sentence (names of checks, codes, scopes and fields are in <code>).
ENGLISH_SENTENCE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,.;:()/+–—-]+[A-Za-z][A-Za-z'’-]*){5,}")


def english_sentences(markup):
    """The English sentences of a page's text outside <code>, <pre> and the stylesheet."""
    text = re.sub(r"<(code|pre|style)\b.*?</\1>", " ", markup, flags=re.S)
    return ENGLISH_SENTENCE.findall(html.unescape(re.sub(r"<[^>]+>", " ", text)))


def roles_table(markup):
    start = markup.index('<table id="roles"')
    return markup[start:markup.index("</table>", start)]


def test_every_credential_role_has_a_chinese_description():
    described = content()["credential_roles_zh"]
    assert set(described) == set(ROLES), "content.yaml credential_roles_zh must describe every role, no other"
    for name, text in described.items():
        assert re.search(r"[\u4e00-\u9fff]", text) and not ENGLISH_SENTENCE.search(re.sub(r"`[^`]*`", " ", text)), name


def test_zh_checks_page_and_role_table_carry_no_english_sentence(site):
    checks_page = (site / "zh" / "checks.html").read_text(encoding="utf-8")
    assert english_sentences(checks_page) == []
    for name, spec in load_builtin_checks().items():  # each check's own Chinese text, not a shared filler
        assert str(inline(spec.doc_zh.split("\n\n")[0])) in checks_page, name
    checks = load_builtin_checks()
    for req_id, req in requirements().items():  # a requirement's page says in Chinese what its checks do
        page = (site / "zh" / "req" / f"{req_id}.html").read_text(encoding="utf-8")
        for call in req.checks:
            assert str(inline(checks[call.check].doc_zh.split("\n\n")[0])) in page, (req_id, call.check)
            assert str(inline(checks[call.check].doc.split("\n\n")[0])) not in page, (req_id, call.check)
    guide = (site / "zh" / "vendor-guide.html").read_text(encoding="utf-8")
    assert english_sentences(roles_table(guide)) == []
    assert str(inline(content()["credential_roles_zh"]["auditor"])) in roles_table(guide)
    # the English pages keep the docstrings and ROLES: the test would see English there
    assert english_sentences((site / "en" / "checks.html").read_text(encoding="utf-8"))
    english_guide = roles_table((site / "en" / "vendor-guide.html").read_text(encoding="utf-8"))
    assert str(inline(ROLES["auditor"])) in english_guide and english_sentences(english_guide)


def test_the_endpoints_page_shows_each_operations_request_and_response_in_both_languages(site):
    examples = operation_examples()
    assert len(examples) == 109
    for lang, request, response in (("zh", "请求", "答复"), ("en", "Request", "Response")):
        raw = (site / lang / "endpoints.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<tr class="example"><td colspan="5"><details>(.*?)</details>', raw, re.S)
        assert len(blocks) == len(examples), lang
        for block, example in zip(blocks, examples, strict=True):
            assert f"<p>{request}</p>" in block and f"<p>{response}</p>" in block
            assert str(markupsafe.escape(f"{example.method} {example.url}")) in block
            for body in (example.request, example.response):
                if body is not None:  # escaped: the JSON's quotes as entities, never raw markup
                    assert str(markupsafe.escape(json.dumps(body, ensure_ascii=False, indent=2))) in block
            if example.response is None:
                assert f"{example.status} (" in block
        # the example follows the row of its own operation
        for example in examples:
            row = re.search(rf"<td><code>{example.method}</code></td><td><code>{re.escape(example.path)}</code>"
                            r"</td>(?:(?!<tr).)*</tr>\s*<tr class=\"example\">(.*?)</details>", raw, re.S)
            assert row and str(markupsafe.escape(example.url)) in row.group(1), (lang, example.method, example.path)
