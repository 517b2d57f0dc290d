"""Three browser sessions train different tables on one server at the same time: each
sees only its own table, features and threshold, and the server's health endpoint
answers throughout."""

from __future__ import annotations

import re
import urllib.request

import numpy as np
import pandas as pd
import pytest

from tests.browser import ARGS, CHROMIUM, need_browser, running_app, settle

pytestmark = pytest.mark.browser
EPOCHS = 2000  # more than any session reaches before it is stopped: the trainings overlap for sure
RUNNING = re.compile(r"autoencoder · epoch [1-9]\d* of 2000")


def gamma_csv(path) -> int:
    """A small labelled table none of the samples resembles; returns its row count."""
    rng = np.random.default_rng(13)
    n = 400
    frame = pd.DataFrame(rng.normal(size=(n, 5)) * [1, 2, 3, 4, 5], columns=[f"gamma_{c}" for c in "abcde"])
    frame["label"] = np.where(rng.random(n) < 0.08, "odd", "usual")
    frame.to_csv(path, index=False)
    return n


def health(url: str) -> bytes:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as answer:
        return answer.read()


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def load_sensors_with_two_features(page) -> None:
    settle(page, "Ready to train")
    features = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Feature columns")
    features.get_by_role("button", name="Clear all").click()
    settle(page)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for count, feature in enumerate(("rpm", "power_kw"), start=1):
        # The sidebar names the new split once its rerun is over. Typing into the box before then races
        # the rerun, which draws the box anew and drops what was typed: under load, type it again.
        named = f"{count} feature{'' if count == 1 else 's'} · split seed"
        for _ in range(3):
            if features.get_by_text(feature, exact=True).count() == 0:  # not yet a chosen feature
                box = features.get_by_role("combobox")
                box.click()
                box.press_sequentially(feature)
                page.get_by_role("option").filter(has_text=feature).first.wait_for()
                box.press("Enter")
                page.keyboard.press("Escape")
            try:
                page.get_by_text(named).first.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                settle(page)
        settle(page, named)


def load_heartbeats(page) -> None:
    settle(page, "Ready to train")
    page.get_by_role("combobox", name="Bundled sample").click()
    page.get_by_role("option", name=re.compile("Heartbeats")).click()
    settle(page)
    page.get_by_role("button", name="Load sample").click()
    settle(page, "64 features")


def load_upload(page, path) -> None:
    settle(page, "Ready to train")
    page.locator('[data-testid="stFileUploader"]').filter(has_text="upload a CSV").locator('input[type="file"]').set_input_files(str(path))
    settle(page, "5 features")


def start_training(page) -> None:
    page.get_by_role("link", name="Go to Train").first.click()
    settle(page, "Press Train to start")
    for name, value in (("Epochs (most)", EPOCHS), ("Early-stopping patience", 0)):
        # One value committed (Enter) and its rerun finished before the next: two commits queued together can
        # fold into one request that loses a value under load (Streamlit keeps only the newer request's states).
        page.get_by_role("spinbutton", name=name).fill(str(value))
        page.get_by_role("spinbutton", name=name).press("Enter")
        page.wait_for_timeout(500)
        settle(page)
    page.get_by_role("button", name=re.compile("^Train the dense autoencoder")).click()
    page.get_by_text(RUNNING).first.wait_for(timeout=90_000)


def epoch(page) -> int:
    return int(re.search(r"epoch (\d+) of", page.get_by_text(RUNNING).first.inner_text()).group(1))


def test_three_sessions_training_different_tables_see_only_their_own(tmp_path):
    need_browser()
    from playwright.sync_api import sync_playwright

    upload = tmp_path / "gamma_readings.csv"
    upload_rows = gamma_csv(upload)
    # name → (rows, columns, features) each session must show, and nothing of the others.
    expected = {"machine_sensors.csv": (3000, 14, 2), "heartbeats.csv": (1500, 65, 64), "gamma_readings.csv": (upload_rows, 6, 5)}
    with running_app() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pages = {}
            for name in expected:  # one browser, one context (cookies, storage, websocket) per user
                pages[name] = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
                pages[name].goto(url)
            load_sensors_with_two_features(pages["machine_sensors.csv"])
            load_heartbeats(pages["heartbeats.csv"])
            load_upload(pages["gamma_readings.csv"], upload)
            for page in pages.values():
                start_training(page)

            # All three train at once now; the server keeps answering, and every training advances.
            answers, start = [], {name: epoch(page) for name, page in pages.items()}
            for _ in range(200):
                answers.append(health(url))
                if all(epoch(page) > start[name] + 3 for name, page in pages.items()):
                    break
            assert answers and set(answers) == {b"ok"}
            assert all(epoch(page) > start[name] for name, page in pages.items()), "a session's training did not advance while the others trained"

            # Stopping one session's training leaves the others training.
            for i, page in enumerate(pages.values()):
                page.get_by_role("button", name="Stop training").click()
                settle(page, "Go to Threshold")
                assert health(url) == b"ok"
                for other in list(pages.values())[i + 1:]:
                    assert other.get_by_role("button", name="Stop training").is_enabled()

            thresholds = {}
            for name, page in pages.items():
                rows, columns, features = expected[name]
                side = sidebar_text(page)
                assert name in side and f"{rows:,} rows × {columns:,} columns" in side and f"{features} features" in side, side
                assert not [other for other in expected if other != name and other in side], side
                assert "Stopped by you" in page.get_by_text("Threshold chosen at training:").inner_text()
                chosen = re.search(r"Threshold chosen at training: (\S+) —", page.get_by_text("Threshold chosen at training:").inner_text()).group(1)
                thresholds[name] = chosen
                assert re.search(rf"Threshold\s+{re.escape(chosen)} ", side), side
                page.get_by_role("link", name="Go to Threshold").first.click()
                settle(page, "Flag a row when")
                sentence = page.locator(".alab-sentence").filter(has_text=re.compile(r"exceeds [-+\d.e]+:")).first.inner_text()
                shown = float(re.search(r"exceeds ([-+\d.e]+):", sentence).group(1))
                assert shown == pytest.approx(float(chosen), rel=1e-4), (name, chosen, sentence)
                page_text = page.locator('[data-testid="stApp"]').inner_text()
                assert not [other for other in expected if other != name and other in page_text], name
            assert len(set(thresholds.values())) == 3, thresholds
            assert health(url) == b"ok"
        finally:
            browser.close()
