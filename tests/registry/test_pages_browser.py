"""The public pages in Chromium (Debian's chromium + chromium-driver, driven by selenium): the searchable list in
Chinese and English, the platform and certificate pages with the status history, the badge, and platform strings
shown as text, never run."""

import json
import shutil
import tempfile
import threading
import time

import pytest
import uvicorn
from registry_helpers import make_report

from conformance_registry.service import apply_outcome, claim, queue_run, register, revoke
from conformance_registry.suite import RunOutcome
from conformance_registry.testing import free_port
from conformance_registry.web import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1200,1600")
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">智慧社区'


class NoJobs:
    def submit(self, run_id):
        pass

    def close(self):
        pass


def populate(ctx):
    """Two platforms: one valid, one revoked after a suspension (outcomes made by hand: no suite run needed)."""
    ids = []
    for name, verdicts in ((HOSTILE, ["conformant"]), ("Beta 平台", ["conformant", "not-conformant"])):
        for verdict in verdicts:
            report = make_report(verdict=verdict, base_url=f"http://{len(ids)}.test")
            with ctx.sessions.begin() as session:
                platform = register(session, ctx.vault, name=name, vendor="ACME", base_url=f"http://{len(ids)}.test",
                                    profile="core", token="t" * 20, credentials=None)
                session.flush()
                session.flush()
                run = claim(session, queue_run(session, platform, "core", "certify").id)
                apply_outcome(ctx, session, run, RunOutcome(0 if verdict == "conformant" else 1, json.dumps(report),
                                                            report, None))
                certificate = run.outcome_certificate_id
        ids.append(certificate)
    with ctx.sessions.begin() as session:
        from conformance_registry.models import Certificate

        revoke(session, session.get_one(Certificate, ids[1]), "vendor withdrew")
    return ids


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
def test_chromium_reads_the_public_pages(ctx, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    valid, revoked = populate(ctx)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, NoJobs(), "op"), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
    driver = None
    try:
        while not server.started:
            time.sleep(0.05)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        base = f"http://127.0.0.1:{port}"
        driver.get(f"{base}/?lang=zh")
        assert driver.find_element(By.TAG_NAME, "h1").text == "已认证的智慧社区平台"
        rows = driver.find_elements(By.CSS_SELECTOR, "#certificates tbody tr")
        assert len(rows) == 2
        texts = " ".join(row.text for row in rows)
        assert HOSTILE in texts and "有效" in texts and "已撤销" in texts  # the markup shown as text
        assert driver.title == "已认证的智慧社区平台" and not driver.find_elements(By.CSS_SELECTOR, "img[src=x]")
        driver.find_element(By.ID, "q").send_keys("beta")
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        WebDriverWait(driver, 10).until(lambda d: "q=beta" in d.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#certificates tbody tr")
        assert len(rows) == 1 and revoked in rows[0].text
        driver.find_element(By.ID, "lang-switch").click()
        WebDriverWait(driver, 10).until(lambda d: "lang=en" in d.current_url)
        assert driver.execute_script("return document.documentElement.lang") == "en"
        assert "revoked" in driver.find_element(By.ID, "certificates").text
        driver.find_element(By.LINK_TEXT, revoked).click()
        WebDriverWait(driver, 10).until(lambda d: "/certificates/" in d.current_url)
        history = driver.find_element(By.ID, "history").text
        assert [line.split()[1] for line in history.splitlines()[1:]] == ["valid", "suspended", "revoked"]
        assert "vendor withdrew" in history and driver.find_element(By.ID, "status").text == "revoked"
        badge = driver.find_element(By.CSS_SELECTOR, "img[src$='.svg']")
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return arguments[0].complete", badge))
        assert driver.execute_script("return arguments[0].naturalWidth", badge) > 50  # the CSP lets it load
        driver.get(f"{base}/certificates/{valid}?lang=zh")
        assert driver.find_element(By.ID, "platform-name").text == HOSTILE and driver.title == valid
        driver.find_element(By.ID, "platform-name").click()
        WebDriverWait(driver, 10).until(lambda d: "/platforms/" in d.current_url)
        assert driver.find_element(By.ID, "platform-name").text == HOSTILE
        driver.save_screenshot(str(tmp_path / "platform.png"))
    finally:
        if driver is not None:
            driver.quit()
        server.should_exit = True
        thread.join(timeout=10)
