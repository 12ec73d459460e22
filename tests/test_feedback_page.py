"""The feedback pages in a real browser (Debian's chromium, headless): grade-all's page and nbgrader's
`generate_feedback` page with the derived config load without a console error or a request to the
network, their maths are MathML (readable offline), and nothing is wider than the window."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_course
from autograder.gradebook import fill_gradebook
from autograder.grade_all import grade_all
from autograder.release import nbgrader
from autograder.report.mathml import markdown_to_mathml
from autograder.samples import submission

A = "a01_perceptron"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/install.sh installs "
                                                             "it: apt-get install chromium)")
WIDTH = 800   # a narrow laptop window, in CSS pixels


class Browser:
    """Headless chromium driven over the DevTools protocol: load a page, collect its console errors
    and failed requests, evaluate an expression in it."""

    def __init__(self, profile: Path):
        import websocket   # websocket-client, installed with jupyter-server

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={WIDTH},900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        for _ in range(600):   # its first start on a busy machine takes seconds
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params) -> dict:
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.ids:
                return message.get("result", {})
            self.events.append(message)

    def load(self, path: Path) -> None:
        self.events.clear()
        self.send("Page.navigate", url=path.as_uri())
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.socket.recv()))
        self.evaluate("new Promise(done => setTimeout(done, 500))")   # late console messages

    def evaluate(self, expression: str):
        reply = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        return reply["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, exceptions and requests to anywhere but the page's own file."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.error: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(("file:", "data:")):
                found.append(f"network request: {params['request']['url']}")
        return found

    def overflow(self) -> dict:
        """How much wider than the window the page is, and which elements stick out of it."""
        return self.evaluate("""(() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60));
            return {scroll: document.documentElement.scrollWidth, width, wide};
        })()""")

    def screenshot(self, path: Path) -> None:
        import base64

        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", captureBeyondViewport=True)["data"]))

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install.sh installs it: apt-get install chromium)")
    opened = Browser(tmp_path_factory.mktemp("chromium"))
    yield opened
    opened.close()


def _check_page(browser: Browser, page: Path) -> None:
    browser.load(page)
    assert browser.problems() == [], page
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")   # the output too
    overflow = browser.overflow()
    assert overflow["scroll"] <= overflow["width"] and overflow["wide"] == [], (page, overflow)
    if os.environ.get("FEEDBACK_SCREENSHOTS"):   # to look at them: FEEDBACK_SCREENSHOTS=DIR
        browser.screenshot(Path(os.environ["FEEDBACK_SCREENSHOTS"]) / f"{page.parent.name}-{page.stem}.png")


def _long_line_submission():
    """A perfect notebook that prints a 3,000-character line without a space, and HTML."""
    notebook = submission(A, {})
    notebook.cells.append(nbformat.v4.new_code_cell("print('x' * 3000)\nprint('<b>not bold</b>')"))
    return notebook


def test_maths_become_mathml_and_code_stays_as_written():
    """Is $...$ and $$...$$ maths written as MathML, and are code spans, escaped and lone dollars kept?"""
    text = markdown_to_mathml(r"sigmoid $\sigma(z) = \frac{1}{1+e^{-z}}$; $$a^2$$ costs \$5, `$x$`, $5 or $6")
    assert text.count("<math") == 2 and '<mfrac>' in text and 'display="block"' in text
    assert r"\$5, `$x$`, $5 or $6" in text and "\\sigma" not in text


@needs_chromium
def test_grade_alls_feedback_pages_load_cleanly_and_fit_the_window(browser, tmp_path):
    """Does every feedback page of grade-all (a perfect notebook printing a 3,000-character line, and a
    stub) load in chromium without a console error or a network request, no wider than the window?"""
    nbformat.write(_long_line_submission(), tmp_path / "ada.ipynb")
    nbformat.write(submission(A, None), tmp_path / "bob.ipynb")
    grade_all(tmp_path, out=tmp_path / "out", assignment=A, jobs=1, progress=False)
    pages = sorted((tmp_path / "out" / A).glob("*.html"))
    assert [p.stem for p in pages] == ["ada", "bob"]
    for page in pages:
        _check_page(browser, page)
    browser.load(pages[0])
    assert browser.evaluate("document.querySelector('details pre').textContent.includes('<b>not bold</b>')")
    assert browser.evaluate("document.querySelectorAll('h2').length") == 7   # a subtotal per exercise


@needs_chromium
@pytest.mark.slow
def test_nbgraders_feedback_page_reads_offline_and_fits_the_window(browser, tmp_path):
    """Does nbgrader's generate_feedback page (the derived config) show its maths as MathML, load in
    chromium with no request to a CDN and no console error, and stay within the window?"""
    graded = tmp_path / "class"
    graded.mkdir()
    nbformat.write(_long_line_submission(), graded / "ada.ipynb")
    results = grade_all(graded, out=tmp_path / "out", assignment=A, jobs=1, progress=False)
    course_dir = nbgrader_course.create(tmp_path / "course", [A])
    assert fill_gradebook(course_dir, results).recorded == 1
    nbgrader(["generate_feedback", A, "--force"], course_dir)
    page = nbgrader_course.feedback_files(course_dir, A)["ada"]
    html = page.read_text()
    assert "<math" in html and "MathJax" not in html and "cdnjs" not in html and "\\frac" not in html
    _check_page(browser, page)
    assert browser.evaluate("document.querySelectorAll('math').length") > 5
