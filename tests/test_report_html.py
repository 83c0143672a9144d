"""report.html, opened in a real browser (Debian's headless Chromium, driven by Selenium).

The page is made by the CLI from a tiny run on a folder of photographs, two of
them named like HTML (ids come from users' file names), so what is checked is
what a user opens: no console errors, sortable columns, the A minus B sort,
images that decode, and hostile names shown as text.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from inpaintbench.cli import main
from inpaintbench.grid import OUTLINE_COLOUR
from inpaintbench.reports import write_reports
from inpaintbench.results import ResultsStore

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
#: item ids that would run script if they were pasted into the page as markup
HOSTILE = ["<script>window.pwned = 1</script>.png", "<img src=x onerror=window.pwned=2>.png"]
METHODS = ["telea", "mean-fill"]


def photographs(root: Path, names: list[str]) -> None:
    """Small textured images (distinct, so the methods score them differently) under the given relative names."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(names):
        y, x = np.mgrid[0:96, 0:96]
        image = np.stack([(x * (k + 1)) % 256, (y * 3 + k * 40) % 256, (x + y) % 256], -1).astype(np.uint8)
        image = cv2.add(image, rng.integers(0, 40 * k + 1, image.shape, dtype=np.uint8))
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), image)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results directory made by the CLI: two methods, four items, irregular masks."""
    root = tmp_path_factory.mktemp("report")
    photographs(root / "photos", ["plain.png", "sub/folder & more.png", *HOSTILE])
    out = root / "out"
    args = ["compare", "--dataset", "folder", "--root", str(root / "photos"), "--methods", ",".join(METHODS),
            "--limit", "4", "--mask", "irregular", "--image-size", "96", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium that reaches nothing on the network and keeps the console log."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver (Debian; .ci/run does this)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit driver path: Selenium Manager (which may download drivers) never runs
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, results):
    """report.html freshly loaded, with the console log of this load only."""
    browser.get_log("browser")  # drop what earlier tests logged
    browser.get((results / "report.html").as_uri())
    return browser


def column(driver, index: int) -> list[float]:
    """The sort keys (data-v) of one column of the per-image table, top to bottom; NaN where empty."""
    values = driver.execute_script(
        "return Array.from(document.querySelectorAll('#per-image tbody tr'), r => r.cells[arguments[0]].getAttribute('data-v'))",
        index,
    )
    return [float(v) if v not in (None, "") else math.nan for v in values]


def header_index(driver, metric: str, method: str) -> int:
    return driver.execute_script(
        "return document.querySelector(`#per-image th[data-metric='${arguments[0]}'][data-method='${arguments[1]}']`).cellIndex",
        metric, method,
    )


def items(driver) -> list[str]:
    return driver.execute_script("return Array.from(document.querySelectorAll('#per-image td.item'), c => c.textContent)")


def test_the_report_loads_without_console_errors_and_every_image_decodes(page, results):
    assert page.title.startswith("inpaintbench: folder:all")
    errors = [entry for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    images = page.execute_script("return Array.from(document.images, i => [i.complete, i.naturalWidth, i.alt])")
    # per kept item: input, each method, truth; then each method's worst and best (4 items, so all of them)
    assert len(images) == 4 * (len(METHODS) + 2) + len(METHODS) * 4
    assert all(complete and width > 0 for complete, width, _ in images), [alt for c, w, alt in images if not (c and w)]
    for name in ("summary", "by-area"):
        assert page.find_elements(By.CSS_SELECTOR, f"table.{name} tbody tr"), name
    rows = page.find_elements(By.CSS_SELECTOR, "#per-image tbody tr")
    assert len(rows) == 4


def test_clicking_a_score_header_sorts_the_rows_both_ways(page):
    index = header_index(page, "psnr_hole", "telea")
    original = column(page, index)
    score_of = dict(zip(items(page), original))
    assert len(set(original)) == 4  # distinct scores, so the order is a real check
    header = page.find_elements(By.CSS_SELECTOR, "#per-image thead th")[index]
    header.click()
    assert column(page, index) == sorted(original) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert column(page, index) == sorted(original, reverse=True) and header.get_attribute("aria-sort") == "descending"
    assert dict(zip(items(page), column(page, index))) == score_of  # whole rows move: each item keeps its score


def test_sorting_by_the_difference_of_two_methods(page):
    Select(page.find_element(By.ID, "diff-metric")).select_by_value("psnr")
    Select(page.find_element(By.ID, "diff-a")).select_by_value("mean-fill")
    Select(page.find_element(By.ID, "diff-b")).select_by_value("telea")
    a, b = column(page, header_index(page, "psnr", "mean-fill")), column(page, header_index(page, "psnr", "telea"))
    headers = page.find_elements(By.CSS_SELECTOR, "#per-image thead th")
    difference = column(page, len(headers) - 1)
    assert headers[-1].is_displayed() and "mean-fill − telea" in headers[-1].text
    assert difference == pytest.approx([x - y for x, y in zip(a, b)])
    assert difference == sorted(difference, reverse=True) and len(set(difference)) == 4  # largest first
    headers[-1].click()
    assert column(page, len(headers) - 1) == sorted(difference)


def test_the_difference_puts_the_best_items_of_a_first_on_a_lower_is_better_score(page):
    """hole L1 is marked ↓: A minus B sorts smallest first, so A's best items still come first."""
    telea = page.find_elements(By.CSS_SELECTOR, "#per-image thead th")[header_index(page, "l1_hole", "telea")]
    assert "hole L1 (%) ↓" in telea.text
    Select(page.find_element(By.ID, "diff-a")).select_by_value("mean-fill")
    Select(page.find_element(By.ID, "diff-b")).select_by_value("telea")
    Select(page.find_element(By.ID, "diff-metric")).select_by_value("l1_hole")
    a, b = column(page, header_index(page, "l1_hole", "mean-fill")), column(page, header_index(page, "l1_hole", "telea"))
    difference = column(page, len(page.find_elements(By.CSS_SELECTOR, "#per-image thead th")) - 1)
    assert difference == pytest.approx([x - y for x, y in zip(a, b)])
    assert difference == sorted(difference) and len(set(difference)) == 4


def test_hostile_item_ids_are_shown_as_text(page):
    assert page.execute_script("return window.pwned") is None
    assert page.execute_script("return document.scripts.length") == 1  # the page's own script only
    assert set(HOSTILE) <= set(items(page))
    assert "folder & more" in page.find_element(By.ID, "per-image").text


def test_report_html_escapes_names_and_references_nothing_on_the_network(tmp_path):
    """Without a browser: the file itself, for a store made by hand with a hostile item id and method name."""
    store = ResultsStore(tmp_path)
    item, method = '"><script>alert(1)</script>', "m<u>x"
    store.write_record({"dataset": "d", "split": "s", "protocol": {"mask": "irregular"}, "seed": 0,
                        "methods": {method: {"status": "ok"}, "gone": {"status": "unavailable", "reason": "<i>no</i>"}},
                        "method_order": [method, "gone"]})
    store.append_scores(method, [{"item": item, "psnr": 20.0, "ssim": 0.5, "psnr_hole": 15.0, "ssim_hole": 0.3,
                                  "l1_hole": 0.1, "hole_fraction": 0.25, "seconds": 0.01}])
    image = np.full((32, 32, 3), 90, np.uint8)
    for kind in ("input", method, "target"):
        store.save_image(kind, item, image)
    mask = np.zeros((32, 32), bool)
    mask[8:24, 8:24] = True
    store.save_mask(item, mask)

    reports = write_reports(store)
    assert tmp_path / "report.html" in reports.written
    text = (tmp_path / "report.html").read_text()
    assert "<script>alert" not in text and "<u>" not in text and "<i>no</i>" not in text
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text and "m&lt;u&gt;x" in text and "&lt;i&gt;no&lt;/i&gt;" in text
    assert text.count("<script") == 1 and "http://" not in text and "https://" not in text
    thumbnails = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', text)
    assert len(thumbnails) == 4  # input, completion, truth; the completion again as the method's worst item
    border = np.zeros_like(mask)
    border[8:24, 8:24], border[9:23, 9:23] = True, False
    for encoded in thumbnails:
        rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert np.abs(rgb[border].astype(int) - OUTLINE_COLOUR).mean() < 30  # the hole outlined
        assert np.abs(rgb[~border].astype(int) - 90).mean() < 10  # and nothing else
