"""`statefulness matrix REPORT... --html DIR`: the matrix as a self-contained page, read as text and
driven in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, through selenium)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from statefulness import cli
from statefulness.deviations import DEVIATIONS
from statefulness.reports import matrix_page

ROOT = Path(__file__).resolve().parents[1]
RESET = next(d for d in DEVIATIONS if d.id == "model.reset_states() removed")
"""The known deviation of the synthetic reports: a real entry of the registry, with an upstream thread."""
ROWS = "state-within-a-batch/rows-of-a-batch-share-no-state"
TUTORIAL_RESET = "reset/tutorial-model-reset-states-resets-every-layer"
EVERY_RESET = "reset/every-reset-zeros-every-shape"
REFUSED = "batch-size/stateful-layer-refuses-a-batch-of-another-size"
MISSING = "batch-size/a-missing-batch-size-is-refused"
"""The claims of the synthetic reports, by their stable ids; their tests:"""
TESTS = {
    ROWS: "spec/test_04_state_within_a_batch.py::test_rows_of_a_batch_share_no_state",
    TUTORIAL_RESET: "spec/test_05_reset.py::test_the_tutorials_model_reset_states_resets_every_stateful_layer",
    EVERY_RESET: "spec/test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros",
    REFUSED: "spec/test_07_batch_size.py::test_a_stateful_layer_refuses_a_batch_of_another_size",
    MISSING: "spec/test_07_batch_size.py::test_a_missing_batch_size_is_refused",
}
DOCS = {ROWS: "Rows of a batch share no state.", TUTORIAL_RESET: "The tutorial's model.reset_states() resets."}


def _claim(claim: str, verdict: str, **extra) -> dict:
    spec_claim, bracket, params = claim.partition("[")
    test = TESTS[spec_claim]
    entry = {"claim": claim, "test": test + bracket + params, "verdict": verdict}
    entry["observed"] = {"max_abs_difference": 1.25e-7, "rows": 2}
    entry.update(chapter=f"Chapter of {Path(test.split('::')[0]).stem}.", doc=DOCS.get(spec_claim, ""), duration_s=0.5)
    return entry | extra


def reports(folder: Path) -> list[Path]:
    """Two claims reports: alpha (Keras 3.15.1) and beta (Keras 2.15.0), both TensorFlow. Over the two, a
    test that passes in every case, a known deviation matched by its cause text and one by its id (in some
    cases only), a failure, and a test skipped everywhere; cases to fold."""
    deviation = {"deviation": RESET.cause, "consequence": "The tutorial's own call raises."}
    alpha = [
        _claim(f"{ROWS}[1]", "pass"),
        _claim(f"{ROWS}[2]", "pass"),
        _claim(TUTORIAL_RESET, "known deviation", **deviation),
        _claim(f"{EVERY_RESET}[LSTM-model.reset_states()]", "known deviation", deviation_id=RESET.id, deviation="x"),
        _claim(f"{EVERY_RESET}[LSTM-layer.reset_states()]", "pass"),
        _claim(f"{REFUSED}[3-predict]", "pass"),
        _claim(f"{REFUSED}[3-fit]", "pass"),
        _claim(MISSING, "skipped"),
    ]
    beta = [
        _claim(f"{ROWS}[1]", "pass"),
        _claim(f"{ROWS}[2]", "pass"),
        _claim(TUTORIAL_RESET, "pass"),
        _claim(f"{EVERY_RESET}[LSTM-model.reset_states()]", "pass"),
        _claim(f"{REFUSED}[3-predict]", "fail"),
        _claim(f"{REFUSED}[3-fit]", "pass"),
        _claim(MISSING, "skipped"),
    ]
    paths = []
    for name, keras, claims in (("alpha", "3.15.1", alpha), ("beta", "2.15.0", beta)):
        environment = {"python": "3.11.7", "keras": keras, "backend": "tensorflow", "env": name}
        environment["tensorflow"] = "2.21.0" if keras.startswith("3") else keras
        path = folder / f"claims-{name}.json"
        report = {"format": "statefulness-claims/2", "environment": environment, "created": "2026-12-01T08:00:00Z"}
        path.write_text(json.dumps(report | {"claims": claims}))
        paths.append(path)
    return paths


def _page(tmp_path: Path, *extra: str) -> Path:
    site = tmp_path / "site" / "nested"
    assert cli.main(["matrix", *map(str, reports(tmp_path)), "--html", str(site), *extra]) == 0
    return site / "index.html"


def _data(page: str) -> dict:
    (embedded,) = re.findall(r'<script type="application/json" id="matrix-data">(.*?)</script>', page, re.S)
    return json.loads(embedded)


def test_the_page_holds_every_claim_folded_by_every_environment_with_its_deviation_matched(tmp_path, capsys):
    """The page has one row per spec test (its cases folded, as in the PNG) and one column per report,
    every case's id, each report's environment and file, the commit; a deviation is matched to the registry
    by its id, else by its cause text, with the workaround of docs/MIGRATING.md."""
    page_path = _page(tmp_path, "--commit", "0123abc")
    capsys.readouterr()
    page = page_path.read_text()
    assert sorted(p.name for p in page_path.parent.iterdir()) == ["index.html"]  # no temporary file left
    data = _data(page)
    assert [c["id"] for c in data["claims"]] == [ROWS, EVERY_RESET, TUTORIAL_RESET, MISSING, REFUSED]
    assert [c["test"] for c in data["claims"]] == [TESTS[c["id"]] for c in data["claims"]]
    assert [c["chapter"] for c in data["claims"]][:3] == ["04 state within a batch", "05 reset", "05 reset"]
    assert data["claims"][0]["name"] == "rows of a batch share no state"
    assert [[cell["verdict"] for cell in c["cells"]] for c in data["claims"]] == [
        ["pass", "pass"],
        ["known deviation (some cases)", "pass"],
        ["known deviation", "pass"],
        ["not run", "not run"],
        ["pass", "fail"],
    ]
    cases = {c["id"]: [[case["case"] for case in cell["cases"]] for cell in c["cells"]] for c in data["claims"]}
    assert cases[REFUSED] == [["3-predict", "3-fit"], ["3-predict", "3-fit"]]
    for name in ("alpha (TF 2.21.0, Keras 3.15.1)", "beta (TF 2.15.0, Keras 2.15.0)", "claims-alpha.json", "0123abc"):
        assert name in page
    matched = [case["deviation"] for c in data["claims"] for cell in c["cells"] for case in cell["cases"]]
    assert matched.count(RESET.id) == 2 and set(matched) == {RESET.id, None}
    entry = data["deviations"][RESET.id]
    assert entry["upstream"] == RESET.upstream and entry["keras"] == RESET.keras
    assert "statefulness.reset_states(model)" in entry["workaround"]["html"]
    assert "deviation:" not in entry["workaround"]["html"]  # its markers are not shown
    assert entry["workaround"]["title"].startswith("model.reset_states() removed")
    assert data["migrating"].endswith("docs/MIGRATING.md")


def test_the_page_references_nothing_outside_itself_but_the_upstream_links(tmp_path):
    """No script, style sheet, font or picture is fetched: no ``src=``, ``<link``, ``@import`` or ``url(``;
    the only web addresses are the registry's upstream threads (plain links), and a policy forbids the rest."""
    page = _page(tmp_path).read_text()
    assert not re.search(r"\bsrc\s*=|<link\b|@import|url\(", page, re.I)
    addresses = set(re.findall(r"https?://[^\s\"'<>)\\]+", page))
    assert addresses and addresses <= {d.upstream for d in DEVIATIONS if d.upstream}
    assert "default-src 'none'" in page
    assert "<script>" in page and "<style>" in page  # inline, both


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--html", "{file}"], "--html: {file} exists and is not a directory"),
        (["--html", "{file}/site"], "--html: cannot write {file}/site"),
        (["--compare", "--html", "{site}"], "--html draws the whole matrix; it does not go with --compare"),
        (["--commit", "0123abc"], "--commit names the commit of the page; it goes with --html"),
        (["--html", "{site}", "--commit", "not a commit"], "argument --commit: expected a commit id or ref"),
        (["--html"], "argument --html: expected one argument"),
    ],
)
def test_bad_page_arguments_get_one_line_naming_the_argument_and_exit_status_2(tmp_path, argv, words, capsys):
    """A bad --html or --commit is refused with one line that names it, exit status 2, and no page."""
    file, site = tmp_path / "a-file", tmp_path / "site"
    file.write_text("not a directory")
    fill = {"file": str(file), "site": str(site)}
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(cli.main(["matrix", *map(str, reports(tmp_path)), *(a.format(**fill) for a in argv)]))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words.format(**fill) in err and len(err.strip().splitlines()) == 1, err
    assert not (site / "index.html").exists() and file.read_text() == "not a directory"


def test_a_page_that_cannot_be_renamed_into_place_leaves_the_previous_one_whole(tmp_path, monkeypatch, capsys):
    """The page is written to a temporary file in DIR and renamed over index.html: where the rename fails,
    the previous page is left as it was and no temporary file stays behind."""
    page = _page(tmp_path)
    before = page.read_bytes()

    def refuse(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(matrix_page.os, "replace", refuse)
    assert cli.main(["matrix", str(reports(tmp_path)[0]), "--html", str(page.parent)]) == 2
    assert "--html: cannot write" in capsys.readouterr().err
    assert page.read_bytes() == before and sorted(p.name for p in page.parent.iterdir()) == ["index.html"]


# In a real browser: headless Chromium from Debian's packages, driven by selenium through Debian's chromedriver
# (the same build as the browser; Selenium Manager, which would download one, is kept offline).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def chromium(user_data_dir: Path):
    """A headless Chromium under selenium, or a skip that says what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if shutil.which(path) is None:
            pytest.skip(f"no {path}: apt-get install {package}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = chromium(tmp_path_factory.mktemp("chromium"))
        yield driver
        driver.quit()


@pytest.fixture
def page(browser, tmp_path, capsys):
    path = _page(tmp_path)
    capsys.readouterr()
    browser.get(path.as_uri())
    return browser


def _shown(driver, selector: str) -> list[str]:
    """The claim ids (or texts) of the elements that ``selector`` finds and the browser shows."""
    found = driver.find_elements("css selector", selector)
    return [e.get_attribute("data-claim") or e.text for e in found if e.is_displayed()]


def _cell(driver, claim: str, column: int):
    return driver.find_element("css selector", f'tr[data-claim="{claim}"] td[data-col="{column}"] button')


def _untick(driver, fieldset: str, value: str) -> None:
    driver.find_element("css selector", f'#{fieldset} input[value="{value}"]').click()


def test_the_browser_shows_each_claim_by_each_environment_coloured_by_verdict_and_fetches_nothing(page):
    """In Chromium the matrix shows all five claims and both environments, each cell in its verdict's colour
    with the count of claims shown, and the page loads no resource at all."""
    assert _shown(page, "tr[data-claim]") == [ROWS, EVERY_RESET, TUTORIAL_RESET, MISSING, REFUSED]
    assert [h.split("\n")[0] for h in _shown(page, "thead th[data-col]")] == ["alpha", "beta"]
    red = tuple(int(matrix_page.COLOURS["fail"][i : i + 2], 16) for i in (1, 3, 5))
    assert _cell(page, REFUSED, 1).value_of_css_property("background-color") == "rgba({}, {}, {}, 1)".format(*red)
    assert _cell(page, REFUSED, 1).text == "FAIL" and _cell(page, EVERY_RESET, 0).text == "deviation 1/2"
    assert page.find_element("id", "count").text == "5 of 5 claims shown · 2 of 2 environments"
    assert page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []


def test_unticking_a_verdict_hides_the_claims_that_show_no_other_verdict(page):
    """Without "pass" the claim that passes everywhere is hidden; without "not run" too, the one skipped
    everywhere; the others stay, and the count follows."""
    _untick(page, "f-verdicts", "pass")
    assert _shown(page, "tr[data-claim]") == [EVERY_RESET, TUTORIAL_RESET, MISSING, REFUSED]
    _untick(page, "f-verdicts", "not run")
    assert _shown(page, "tr[data-claim]") == [EVERY_RESET, TUTORIAL_RESET, REFUSED]
    assert page.find_element("id", "count").text.startswith("3 of 5 claims shown")


def test_unticking_an_environment_hides_its_column_and_filters_combine(page):
    """Without beta its column is hidden, alpha's stays; with "pass" unticked too, the claim that fails only
    in beta goes; choosing Keras 2.15.0 and ticking beta back shows beta alone."""
    from selenium.webdriver.support.select import Select

    _untick(page, "f-envs", "1")
    assert not _cell(page, REFUSED, 1).is_displayed() and _cell(page, REFUSED, 0).is_displayed()
    assert _shown(page, "thead th[data-col]") == ["alpha\nKeras 3.15.1\ntensorflow"]
    _untick(page, "f-verdicts", "pass")
    assert _shown(page, "tr[data-claim]") == [EVERY_RESET, TUTORIAL_RESET, MISSING]
    _untick(page, "f-envs", "1")  # ticked again
    Select(page.find_element("id", "f-keras")).select_by_value("2.15.0")
    assert [h.split("\n")[0] for h in _shown(page, "thead th[data-col]")] == ["beta"]
    assert _shown(page, "tr[data-claim]") == [MISSING, REFUSED]


def test_choosing_a_chapter_shows_only_its_claims(page):
    """With chapter "05 reset" chosen, only its two claims and its heading are shown."""
    from selenium.webdriver.support.select import Select

    Select(page.find_element("id", "f-chapter")).select_by_value("05 reset")
    assert _shown(page, "tr[data-claim]") == [EVERY_RESET, TUTORIAL_RESET]
    assert _shown(page, "tr.chapter") == ["05 RESET"]  # shown in capitals


def test_clicking_a_known_deviation_opens_its_diagnosis_upstream_link_and_workaround(page):
    """A click on a known deviation's cell opens the panel with the claim's sentence, the environment, each
    case, the registry's diagnosis and Keras range, the upstream thread as a link, and the workaround of
    docs/MIGRATING.md with its code; a passing cell's panel has no deviation; Escape closes it."""
    panel = page.find_element("id", "panel")
    assert not panel.is_displayed()
    _cell(page, TUTORIAL_RESET, 0).click()
    assert panel.is_displayed()
    text = panel.text
    assert DOCS[TUTORIAL_RESET] in text and "alpha (TF 2.21.0, Keras 3.15.1)" in text and "rows = 2" in text
    diagnosis = panel.find_element("css selector", f'section[data-deviation="{RESET.id}"] .diagnosis').text
    assert " ".join(diagnosis.split()) == " ".join(RESET.diagnosis.replace("`", "").split())
    assert f"Keras {RESET.keras} · backends tensorflow, jax, torch" in text
    assert [a.get_attribute("href") for a in panel.find_elements("css selector", "a.upstream")] == [RESET.upstream]
    section = (ROOT / "docs/MIGRATING.md").read_text().split(f"<!-- deviation: {RESET.id} -->")[1].split("\n## ")[0]
    code = section.split("```python\n")[1].split("\n")[0]
    assert code in panel.find_element("css selector", ".workaround pre").text
    migrating = panel.find_element("css selector", "a.migrating").get_attribute("href")
    assert migrating.split("#")[0].endswith("docs/MIGRATING.md")
    from selenium.webdriver.common.keys import Keys

    page.find_element("css selector", "body").send_keys(Keys.ESCAPE)
    assert not panel.is_displayed()
    _cell(page, ROWS, 0).click()
    assert panel.is_displayed() and not panel.find_elements("css selector", "section.deviation")
