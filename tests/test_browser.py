"""The whole flow in a real browser: sample → train (live chart, Stop) → threshold slider
→ download the model → score a file → restore the model in a new browser session."""

import os
import re
import time

import pytest

from tests.browser import browser_page, need_browser, running_app, settle, shoot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
SAMPLE = ROOT / "sample_data" / "machine_sensors.csv"


def _counts(page) -> tuple[int, int]:
    text = page.get_by_text("Flag a row when its anomaly score").inner_text()
    false_alarms = int(re.search(r"false alarms: ([\d,]+)", text).group(1).replace(",", ""))
    caught = int(re.search(r"\(([\d,]+) of [\d,]+\)", text).group(1).replace(",", ""))
    return false_alarms, caught


def _upload(page, label: str, path) -> None:
    page.locator('[data-testid="stFileUploader"]').filter(has_text=label).locator('input[type="file"]').set_input_files(str(path))


def _open_expander(page, title: str, inside: str) -> None:
    """Open an expander and wait until ``inside`` shows in it. A click that lands during a rerun can be lost
    (and an upload through the hidden input still works, into an expander that stays closed), so click
    again until it shows; never click an open one, which would close it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shown = page.get_by_text(inside).first
    for _ in range(5):
        if not shown.is_visible():
            page.get_by_text(title).click()
        try:
            shown.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeout:
            settle(page)
    raise AssertionError(f"The expander {title!r} did not open.")


def _first_session(page, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"only_one_column\n1\n2\n")
    settle(page, "Ready to train")
    shoot(page, "1-data")

    _upload(page, "upload a CSV", bad)
    settle(page, "Could not use 'broken.csv'")
    assert page.get_by_text("Still using the previous table, machine_sensors.csv").is_visible()
    assert page.get_by_text("Ready to train").is_visible()
    shoot(page, "1-data-bad-upload")

    page.get_by_role("link", name="Go to Train").first.click()
    settle(page, "Press Train to start")
    page.get_by_role("spinbutton", name="Epochs (most)").fill("400")
    page.get_by_role("spinbutton", name="Early-stopping patience").fill("0")
    page.get_by_role("button", name=re.compile("^Train the dense autoencoder")).click()
    page.get_by_text(re.compile(r"epoch (1[0-9]|[2-9][0-9]) of 400")).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
    shoot(page, "2-train-running")
    page.get_by_role("button", name="Stop training").click()
    settle(page, "Go to Threshold")
    runs = int(page.get_by_test_id("stMetricValue").first.inner_text())
    assert 10 <= runs < 400, runs  # stopped well before the end: the Python work ended
    assert page.get_by_text("Stopped by you.", exact=False).is_visible()
    shoot(page, "2-train-done")

    page.get_by_role("link", name="Go to Threshold").first.click()
    settle(page, "Flag a row when its anomaly score")
    before = _counts(page)
    slider = page.get_by_role("slider", name="Threshold")
    slider.focus()
    for _ in range(60):
        slider.press("ArrowLeft")
    settle(page)
    page.wait_for_timeout(500)
    settle(page)
    after = _counts(page)
    assert after != before and after[0] >= before[0]
    shoot(page, "3-threshold")

    # Costs: a miss costs 50 false alarms; jump to the minimum-cost threshold.
    page.get_by_role("tab", name="Costs").click()
    page.get_by_role("spinbutton", name="Cost of a missed anomaly").fill("50")
    page.get_by_role("spinbutton", name="Cost of a missed anomaly").press("Enter")
    settle(page)
    page.get_by_role("button", name="Move the threshold to the minimum cost").click()
    settle(page, "rule: lowest expected cost, false alarm 1, miss 50 (cost:1:50")
    page.get_by_role("tab", name="Review band").click()
    page.get_by_text("Use a review band").click()
    settle(page, "Rows to review per 1,000")
    page.get_by_role("tab", name="Costs").click()
    shoot(page, "3-threshold-costs")
    page.get_by_role("tab", name="Report").click()
    with page.expect_download() as report_info:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = tmp_path / "report.html"
    report_info.value.save_as(report)
    remote = []
    viewer = page.context.new_page()  # the same browser, a new tab: the app's session stays open
    viewer.on("request", lambda request: remote.append(request.url) if not request.url.startswith(("file:", "data:", "blob:", "about:")) else None)
    viewer.goto(report.as_uri())
    viewer.get_by_text("Anomaly Lab report").wait_for()
    viewer.wait_for_timeout(1500)
    assert viewer.locator(".plotly-graph-div").count() >= 6 and remote == []
    assert viewer.get_by_text("cost:1:50").first.is_visible()
    shoot(viewer, "5-report")
    viewer.close()
    # Back to a hand-picked threshold for the save/restore round trip.
    current = float(re.search(r"exceeds (\d+(?:\.\d+)?)", page.get_by_text("Flag a row when its anomaly score").inner_text()).group(1))
    page.get_by_role("spinbutton", name="Exact value").fill(f"{current * 0.9:.4f}")
    page.get_by_role("spinbutton", name="Exact value").press("Enter")
    settle(page, "chosen by hand on the Threshold page")
    sentence = page.get_by_text("Flag a row when its anomaly score").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download model (.zip)").click()
    bundle = tmp_path / "model.zip"
    download_info.value.save_as(bundle)

    # A strict threshold misses anomalies; the confusion-matrix button opens them on the Inspect page.
    page.get_by_role("tab", name="Metrics").click()
    page.get_by_role("spinbutton", name="Exact value").fill(f"{current * 3:.4f}")
    page.get_by_role("spinbutton", name="Exact value").press("Enter")
    settle(page)
    page.get_by_role("button", name=re.compile(r"missed anomaly \([1-9]")).click()
    settle(page, "What drives detection overall")
    assert page.get_by_text(re.compile(r"Row \d+: score .* passed as normal")).is_visible()
    assert page.get_by_text("missed anomaly (FN)").first.is_visible()
    shoot(page, "4-inspect-missed")

    page.get_by_role("link", name="5 · Score new data").click()
    settle(page, "Upload a CSV with the model's columns")
    _upload(page, "Table to score", SAMPLE)
    settle(page, "Most anomalous rows first")
    shoot(page, "4-score")
    return bundle, sentence


def test_the_whole_flow_in_the_browser(tmp_path):
    need_browser()
    with running_app() as url:
        with browser_page() as page:
            page.goto(url)
            bundle, sentence = _first_session(page, tmp_path)

        # A new browser session: restore the bundle; the same threshold gives the same counts.
        with browser_page() as page:
            page.goto(url)
            settle(page, "Ready to train")
            _open_expander(page, "Restore a saved model", "Model bundle")
            _upload(page, "Model bundle", bundle)
            settle(page, "Restored the model")
            shoot(page, "1-data-restored")
            page.get_by_role("link", name="3 · Threshold").click()
            settle(page, "Flag a row when its anomaly score")
            assert page.get_by_text("Flag a row when its anomaly score").inner_text() == sentence
            assert page.get_by_text("chosen by hand on the Threshold page").is_visible()


def no_exception(page) -> None:
    """No traceback and no unexpected-error box on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Something went wrong that the app did not expect").count() == 0


def test_every_page_after_moving_between_samples_models_and_rows():
    """Data → Train (conv1d on heartbeats) → Threshold → Inspect (select a row, switch to
    test rows) → Compare (use a model) → Data (the other sample) → Inspect: no exception
    anywhere, a screenshot of every page."""
    need_browser()
    with running_app() as url, browser_page() as page:
        page.goto(url)
        settle(page, "Ready to train")
        page.get_by_role("combobox", name="Bundled sample").click()
        page.get_by_role("option", name=re.compile("Heartbeats")).click()
        settle(page)
        page.get_by_role("button", name="Load sample").click()
        settle(page, "Rows per class")
        page.get_by_text("heartbeats.csv").first.wait_for()
        # Under load the previous table's "Ready to train" line lingers as a stale element while the new run draws the
        # page from the top (the new table's name already shown): wait for heartbeats' split itself, then for the run's end.
        page.get_by_text(re.compile(r"^Ready to train.*\(180 anomalies\)")).first.wait_for(timeout=90_000)  # not the sensors' (90)
        settle(page)
        assert page.get_by_text(re.compile("^Ready to train")).count() == 1  # the sensors' line is gone
        no_exception(page)
        shoot(page, "7-data-heartbeats")

        page.get_by_role("link", name="Go to Train").first.click()
        settle(page, "Press Train to start")
        page.get_by_role("combobox", name="Architecture").click()
        page.get_by_role("option", name=re.compile("^conv1d")).click()
        settle(page, "Conv1d: the hidden sizes are the filters")
        page.get_by_role("spinbutton", name="Epochs (most)").fill("8")
        page.get_by_role("spinbutton", name="Epochs (most)").press("Enter")
        # Under a loaded full suite the run that Enter starts could begin after settle() had already returned, and the
        # value was then lost once (stop 21's CI): wait for that run to have begun and ended. (Noted as a possible race.)
        page.wait_for_timeout(500)
        settle(page)
        # Leave and come back: the settings stay, and the button says what it trains.
        page.get_by_role("link", name="1 · Data").click()
        settle(page, "Ready to train")
        page.get_by_role("link", name="2 · Train").click()
        settle(page, "Conv1d: the hidden sizes are the filters")
        assert page.get_by_role("spinbutton", name="Epochs (most)").input_value() == "8"
        page.get_by_role("button", name=re.compile("^Train the conv1d autoencoder")).click()
        settle(page, "Go to Threshold", timeout=180_000)
        assert page.get_by_text("conv1d autoencoder").first.is_visible()
        no_exception(page)
        shoot(page, "7-train-conv1d")

        page.get_by_role("link", name="3 · Threshold").click()
        settle(page, "Flag a row when its anomaly score")
        no_exception(page)
        shoot(page, "7-threshold")

        page.get_by_role("link", name="4 · Inspect").click()
        settle(page, "What drives detection overall")
        table = page.locator('[data-testid="stDataFrame"]').first
        box = table.bounding_box()
        page.mouse.click(box["x"] + 12, box["y"] + 58)  # the selection checkbox of the third row
        settle(page)
        page.get_by_text("test", exact=True).first.click()  # rows shown: test
        settle(page, re.compile(r"of 300 test rows at threshold"))
        no_exception(page)
        shoot(page, "7-inspect-test-rows")

        page.get_by_role("link", name="6 · Compare detectors").click()
        settle(page, "A small random search")
        page.get_by_role("spinbutton", name="Most epochs per autoencoder").fill("5")
        page.get_by_role("button", name="Compare", exact=True).click()
        settle(page, "Model for the Threshold, Inspect and Score pages", timeout=240_000)
        # The model in use is a row of the table and a curve of the charts (the legend is text in the page).
        page.locator('[data-testid="stPlotlyChart"]').get_by_text(re.compile(r"in use: conv1d autoencoder \(trained\)")).first.wait_for(timeout=30_000)
        page.get_by_role("button", name="Use this model").click()
        settle(page, "is now the model in use")
        no_exception(page)
        shoot(page, "7-compare")

        page.get_by_role("link", name="1 · Data").click()
        settle(page, "Ready to train")
        page.get_by_role("combobox", name="Bundled sample").click()
        page.get_by_role("option", name=re.compile("Machine sensors")).click()
        settle(page)
        page.get_by_role("button", name="Load sample").click()
        settle(page, "machine_sensors.csv")
        shoot(page, "7-data-sensors")

        for link, expected in (("4 · Inspect", "Train a model first"), ("3 · Threshold", "Train a model first"), ("6 · Compare detectors", "A small random search"),
                               ("5 · Score new data", "Train a model first"), ("2 · Train", "Press Train to start")):
            page.get_by_role("link", name=link).click()
            settle(page, expected)
            no_exception(page)
        shoot(page, "7-inspect-after-new-sample")


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _a_long_training_under_way(page, url: str) -> None:
    """The bundled sample's Train page, a training of 2,000 epochs without early stopping, its first epochs drawn."""
    page.goto(url)
    settle(page, "Ready to train")
    page.get_by_role("link", name="Go to Train").first.click()
    settle(page, "Press Train to start")
    page.get_by_role("spinbutton", name="Epochs (most)").fill("2000")
    page.get_by_role("spinbutton", name="Early-stopping patience").fill("0")
    page.get_by_role("spinbutton", name="Early-stopping patience").press("Enter")
    settle(page)
    page.get_by_role("button", name=re.compile("^Train the")).click()
    page.get_by_text(re.compile(r"epoch [1-9]\d* of 2000")).wait_for(timeout=60_000)


def test_closing_the_tab_during_training_stops_the_work_on_the_server():
    need_browser()
    with running_app() as url:
        pid = running_app.pid
        with browser_page() as page:
            _a_long_training_under_way(page, url)
            busy = _cpu_seconds(pid)
            time.sleep(3)
            assert _cpu_seconds(pid) - busy > 0.5  # it was training
        time.sleep(5)  # the tab is gone: Streamlit stops the script at its next call, the next epoch's hook
        idle = _cpu_seconds(pid)
        time.sleep(5)
        assert _cpu_seconds(pid) - idle < 0.5, "the server kept working after the browser tab was closed"


def test_markdown_and_html_in_file_and_column_names_stay_plain_text(tmp_path):
    """A file named with a Markdown link and image, and columns named with them: no link or
    image from them appears anywhere in the page, only their characters."""
    need_browser()
    name = "[click me](http://evil.example) ![x](http://evil.example/x.png) <b>bold</b>.csv"
    header = "[col](http://evil.example/a),![img](http://evil.example/i.png),<img src=http://evil.example/h.png>,status"
    rows = [f"{i % 7}.{i % 10},{(i * 3) % 11}.5,{(i * 5) % 13},{'bad' if i % 10 == 0 else 'ok'}" for i in range(120)]
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join([header] + rows) + "\n")
    with running_app() as url, browser_page() as page:
        remote = []
        page.on("request", lambda request: remote.append(request.url) if "evil.example" in request.url else None)
        page.goto(url)
        settle(page, "Ready to train")
        page.locator('[data-testid="stFileUploader"]').filter(has_text="upload a CSV").locator('input[type="file"]').set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": path.read_bytes()}])
        settle(page, "click me")
        page.wait_for_timeout(1000)
        assert page.locator('a[href*="evil.example"]').count() == 0
        assert page.locator('img[src*="evil.example"]').count() == 0
        assert page.get_by_text("[click me](http://evil.example)").first.is_visible()
        shoot(page, "8-data-markdown-names")
        for link in ("2 · Train", "6 · Compare detectors"):
            page.get_by_role("link", name=link).click()
            settle(page)
            assert page.locator('a[href*="evil.example"]').count() == 0 and page.locator('img[src*="evil.example"]').count() == 0
        assert remote == []


def test_a_fresh_server_opened_at_a_page_address_shows_the_titled_navigation():
    """The first visit of a new server at /train: Streamlit would run pages/train.py alone and list file names."""
    need_browser()
    with running_app() as url, browser_page() as page:
        page.goto(url + "/train")
        settle(page, "Press Train to start")
        nav = page.get_by_test_id("stSidebarNav").inner_text()
        assert "2 · Train" in nav and "6 · Compare detectors" in nav, nav
        assert page.title() == "Anomaly Lab"
        assert page.get_by_role("heading", name="Train").first.is_visible()


def test_streamlits_own_stop_during_training_stops_the_training_as_the_pages_does():
    """The header's Stop (beside "Running…") stopped the script but not the training: the page froze, and a visit to
    Train later went on training as if nothing had been asked."""
    need_browser()
    with running_app() as url, browser_page() as page:
        _a_long_training_under_way(page, url)
        page.get_by_role("button", name="Stop", exact=True).click()  # Streamlit's, not the page's "Stop training"
        settle(page)
        page.get_by_role("link", name="3 · Threshold").click()
        settle(page, "A training was stopped")
        assert "training stopped (epoch" in page.get_by_test_id("stSidebar").inner_text()
        page.get_by_role("link", name="Go to Train").first.click()
        settle(page, "Training time")
        assert page.get_by_text(re.compile(r"^Stopped by you\. Threshold chosen at training")).first.is_visible()
        epochs = int(page.get_by_test_id("stMetric").filter(has_text="Epochs run").get_by_test_id("stMetricValue").inner_text().replace(",", ""))
        assert 0 < epochs < 2000  # stopped where it was, not trained on to the end
        shoot(page, "9-train-after-streamlits-stop")
