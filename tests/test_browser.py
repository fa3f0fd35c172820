"""The widgets work in a real browser: JupyterLab in headless Chromium, driven by Playwright.

A JupyterLab server starts on a free local port (127.0.0.1, a one-off token)
in a temporary folder holding a copy of the playground notebook and a small
notebook showing ``backward_viewer``. The browser runs each notebook, presses
the buttons a learner would press, and checks what changes on the page.

Needs ``playwright`` and ``jupyterlab`` (the dev extra) and a Chromium on PATH
(``chromium``; Playwright drives it, it downloads no browser of its own).
Without them the test is skipped with the reason; in CI it fails instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import HAS_DOT, HEADLESS_CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "images" / "playground-jupyterlab.png"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [*HEADLESS_CHROMIUM_ARGS, "--no-proxy-server"]  # the server is on this machine
VIEWER_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {
            "cell_type": "code",
            "id": "viewer",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": (
                "from autograd import Value, backward_viewer\n"
                "x, w, b = Value(2.0, label='x'), Value(-3.0, label='w'), Value(6.8813735870195432, label='b')\n"
                "o = (x * w + b).tanh(); o.label = 'o'\n"
                "backward_viewer(o)"
            ),
        }
    ],
}


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def find_browser() -> str:
    """The Chromium to drive, once everything else the test needs is known to be there."""
    for module, extra in (("playwright", "playwright"), ("jupyterlab", "jupyterlab"), ("ipywidgets", "ipywidgets"),
                          ("matplotlib", "matplotlib")):
        if importlib.util.find_spec(module) is None:
            unavailable(f"needs {module} (pip install {extra}, or pip install -e '.[dev]')")
    if not HAS_DOT:
        unavailable("needs the Graphviz 'dot' program (sudo apt-get install graphviz)")
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    unavailable("needs a Chromium on PATH (sudo apt-get install chromium)")
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A JupyterLab server on a free local port, serving a temporary folder of notebooks."""
    browser = find_browser()
    home = tmp_path_factory.mktemp("lab")
    folder = home / "notebooks"
    folder.mkdir()
    shutil.copyfile(ROOT / "notebooks" / "10_playground.ipynb", folder / "10_playground.ipynb")
    (folder / "viewer.ipynb").write_text(json.dumps(VIEWER_NOTEBOOK))
    # settings: no news or update checks (they would reach out to the internet), and every cell of a
    # notebook stays in the page (by default cells scrolled out of view are taken out of it)
    settings = home / "settings" / "@jupyterlab"
    for extension, name, values in (
        ("apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False}),
        ("notebook-extension", "tracker", {"windowingMode": "none"}),
    ):
        (settings / extension).mkdir(parents=True, exist_ok=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--ServerApp.port_retries=0",
         "--allow-root", "--ServerApp.terminals_enabled=False", "--LabApp.extension_manager=readonly",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for a local server
    try:
        for _ in range(120):  # up to a minute for the server to answer
            if server.poll() is not None:
                break
            try:
                with direct.open(f"{url}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within a minute")
        if server.poll() is not None:
            pytest.fail("JupyterLab stopped: " + (home / "server.log").read_text()[-2000:])
        yield {"url": url, "token": token, "browser": browser, "log": str(home / "server.log")}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(lab: dict[str, str]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=lab["browser"], args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def menu(page, title: str, command: str) -> None:
    """Choose a command from JupyterLab's menu bar, as a learner would."""
    page.click(f"#jp-MainMenu .lm-MenuBar-item:has-text('{title}')")
    page.click(f"li.lm-Menu-item[data-command='{command}']")


def open_and_run_all(browser, lab: dict[str, str], name: str, timeout_s: float = 120):
    """Open a notebook in JupyterLab, clear its stored outputs, run all its cells, and wait until they ran."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60_000)
    page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
    # the kernel has started and is connected: the status bar says so
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    menu(page, "Edit", "editmenu:clear-all")
    menu(page, "Run", "runmenu:run-all")
    prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt")
    error = page.locator(".jp-NotebookPanel [data-mime-type='application/vnd.jupyter.error']")
    deadline = time.monotonic() + timeout_s
    while True:
        assert not error.count(), error.first.inner_text()
        numbers = [p.strip() for p in prompts.all_inner_texts()]
        if numbers and all(re.fullmatch(r"\[\d+\]:", n) for n in numbers):
            return page
        assert time.monotonic() < deadline, f"{name} did not finish running: prompts {numbers}"
        page.wait_for_timeout(500)


def wait_until(page, condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(250)


def epoch_of(status) -> int:
    match = re.search(r"epoch (\d+)", status.inner_text())
    assert match, status.inner_text()
    return int(match.group(1))


def test_the_playground_plays_in_jupyterlab(browser, lab):
    page = open_and_run_all(browser, lab, "10_playground.ipynb")
    widget = page.locator(".jp-NotebookPanel .jp-CodeCell").first.locator(".jp-OutputArea-output")
    play = widget.locator("button.jupyter-button", has_text="play").first
    play.wait_for()
    status = widget.locator(".widget-html", has_text="epoch").first
    boundary = widget.locator("img.widget-image").first
    boundary.wait_for()
    start = epoch_of(status)
    assert start > 0  # the notebook trained the playground's network before we got here
    before = boundary.screenshot()
    before_src = boundary.get_attribute("src")

    play.click()
    pause = widget.locator("button.jupyter-button", has_text="pause").first
    pause.wait_for(timeout=10_000)  # the play button became a pause button
    wait_until(page, lambda: epoch_of(status) >= start + 20, 60, "the epoch counter did not advance")
    wait_until(page, lambda: boundary.get_attribute("src") != before_src, 30, "the boundary picture was not redrawn")
    pause.click()
    widget.locator("button.jupyter-button", has_text="play").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    after = boundary.screenshot()
    assert epoch_of(status) >= start + 20
    assert after != before  # the decision boundary changed on screen

    # keep a picture of the playground in JupyterLab: the side bar folded, the widget's cell at the top
    page.click(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.evaluate("cell => cell.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000
    page.close()


def red_edges(output) -> tuple[str, ...]:
    """The titles (``tail->head``) of the edges drawn in red: the chain-rule step being applied."""
    edges = output.locator("g.edge", has=output.page.locator("path[stroke='red']"))
    return tuple(sorted(edges.locator("title").all_text_contents()))


def test_the_backward_viewer_slider_moves_the_red_edge(browser, lab):
    page = open_and_run_all(browser, lab, "viewer.ipynb")
    output = page.locator(".jp-NotebookPanel .jp-CodeCell").first.locator(".jp-OutputArea-output")
    picture = output.locator(".widget-html svg").first
    picture.wait_for()
    slider = output.locator(".widget-slider .noUi-handle, .widget-slider [role='slider']").first
    readout = output.locator(".widget-readout").first
    assert readout.inner_text().strip() == "1"
    first = red_edges(output)
    assert first, "step 1 marks no edge in red"
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: readout.inner_text().strip() == "2", 10, "the slider did not move to step 2")
    wait_until(page, lambda: red_edges(output) not in ((), first), 10, "the red edge did not move")
    second = red_edges(output)
    assert second and set(second) != set(first), (first, second)
    assert output.locator(".widget-html svg text", has_text="step 2 of").count() == 1
    page.close()
