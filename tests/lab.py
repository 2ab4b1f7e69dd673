"""JupyterLab in Debian's Chromium, for the browser tests and the browser benchmark.

`lab(folder)` starts JupyterLab on 127.0.0.1 (a free port, a random token, nothing fetched from the
network) serving ``folder``; `browser(...)` opens Chromium through Playwright (never a browser
that a test tool downloads); `open_notebook` opens a notebook and runs all its cells. Both are
context managers that stop what they started.
"""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing():
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM is None:
        return "no chromium on this machine (Debian: apt-get install chromium)"
    for module, extra in (("playwright", "dev"), ("jupyterlab", "dev"), ("anywidget", "notebook")):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install chainrule[{extra}])"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab(folder, timeout=90):
    """JupyterLab serving ``folder`` on 127.0.0.1; yields its base URL with the token."""
    port, token = _free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix="chainrule-lab-"))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               IPYTHONDIR=str(home / "ipython"))
    env.pop("MPLBACKEND", None)  # notebooks draw with the inline backend, as in a learner's Jupyter
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start: " + (home / "lab.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def browser(width=1280, height=900, headless=True):
    """A fresh Chromium profile through Playwright; yields a page. ``headless=False`` needs a
    display (Xvfb)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    args = CHROMIUM_ARGS if headless else [a for a in CHROMIUM_ARGS if a != "--headless"]
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=headless, args=args,
                viewport={"width": width, "height": height})
            try:
                page = context.pages[0] if context.pages else context.new_page()
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def open_notebook(page, base, token, name, timeout=120_000):
    """Open ``name`` in JupyterLab, wait for its kernel, and run all cells (Run > Run All Cells).
    The menu is tried again if no cell starts: a kernel still connecting ignores the first try."""
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=timeout)
    started = ("() => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
               ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))")
    deadline = time.monotonic() + timeout / 1000
    while True:
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=timeout)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(started, timeout=5_000)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")


def wait_idle(page, timeout=120_000):
    """Wait until the notebook's kernel has run everything it was given."""
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.dataset.status === 'idle' &&"
        " ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*')); }",
        timeout=timeout)
