#!/usr/bin/env python3
"""browser.py — drives headless Chromium through the DevTools protocol over a pipe (no websocket library, no
network port for the browser): runs a plan of steps read as JSON from the file named by its argument (or stdin)
and prints the results as JSON.

Plan: {"steps": [step, ...], "width": 1280, "height": 900}. Steps, in order:
  {"goto": URL}                                  navigate (the page's scripts run as in any browser)
  {"wait": JS_EXPRESSION, "timeout": SECONDS}    poll every 100 ms until the expression is truthy; a timeout fails
  {"eval": JS_EXPRESSION, "as": NAME}            the expression's value (JSON) goes into results[NAME]
  {"screenshot": PATH}                           a PNG of the whole page
Output: {"ok": true|false, "results": {...}, "failed": "what failed", "exceptions": [...], "console": [...]}; exit 0
when every step passed, 1 otherwise, 2 when Chromium cannot start. Chromium: $CHROMIUM or `chromium` on PATH
(Debian's package). Used by ExplorerEndToEndTests, which with TRELLIS_EXPLORER_SCREENSHOTS=DIR also writes the
screenshots of docs/EXPLORER.md.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, width, height):
        binary = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise OSError("no chromium on PATH (Debian: apt-get install chromium), or set CHROMIUM")
        self.profile = tempfile.mkdtemp(prefix="trellis-browser-")
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()
        # The child's ends moved above 9, so the dup2s to 3 and 4 below cannot clobber one another.
        low = (to_browser_read, from_browser_write)
        to_browser_read, from_browser_write = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in low)
        for fd in low:
            os.close(fd)
        # The browser reads commands on fd 3 and writes answers on fd 4 (--remote-debugging-pipe). The pipes are
        # non-inheritable (PEP 446), so only these two duplicates, made in the child, survive its exec.
        def child_fds():
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)
        self.process = subprocess.Popen(
            [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            close_fds=False, preexec_fn=child_fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            answer = self.read(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            self.events.append(answer)

    def read(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise TimeoutError("the browser did not answer")
            # Waits for an answer only as long as the deadline allows: a browser that is alive but silent would
            # otherwise block os.read for good, and the test that waits for this script with it.
            if not select.select([self.from_browser], [], [], remaining)[0]:
                continue
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise OSError("the browser closed its pipe (did it crash?)")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open_page(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(f"{expression[:80]}: {details.get('exception', {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    def screenshot(self, path):
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def exceptions(self):
        return [e["params"]["exceptionDetails"].get("exception", {}).get("description") or e["params"]["exceptionDetails"].get("text")
                for e in self.events if e.get("method") == "Runtime.exceptionThrown"]

    def console(self):
        return [" ".join(str(a.get("value", a.get("description", ""))) for a in e["params"].get("args", []))
                for e in self.events if e.get("method") == "Runtime.consoleAPICalled"]


def run(plan):
    out = {"ok": True, "results": {}}
    try:
        browser = Browser(plan.get("width", 1280), plan.get("height", 900))
    except OSError as error:
        print(json.dumps({"ok": False, "failed": f"cannot start chromium: {error}", "results": {}}))
        return 2
    try:
        browser.open_page()
        for index, step in enumerate(plan["steps"]):
            what = f"step {index + 1} {json.dumps(step)[:160]}"
            if "goto" in step:
                browser.send("Page.navigate", {"url": step["goto"]})
            elif "wait" in step:
                deadline = time.time() + step.get("timeout", 60)
                last = None
                while True:
                    try:
                        if browser.evaluate(step["wait"]):
                            break
                    except RuntimeError as error:
                        last = str(error)
                    if time.time() > deadline:
                        raise TimeoutError(f"{what}: not true within {step.get('timeout', 60)} s" + (f" (last error: {last})" if last else ""))
                    time.sleep(0.1)
            elif "eval" in step:
                out["results"][step.get("as", str(index))] = browser.evaluate(step["eval"])
            elif "screenshot" in step:
                browser.screenshot(step["screenshot"])
            else:
                raise ValueError(f"{what}: unknown step")
    except Exception as error:  # every failure becomes the report's "failed", with what the page said
        out["ok"] = False
        out["failed"] = str(error)
        try:
            out["results"]["_view_text"] = browser.evaluate("document.getElementById('view') ? document.getElementById('view').innerText.slice(0, 2000) : document.body.innerText.slice(0, 2000)")
        except Exception:
            pass
    finally:
        out["exceptions"] = browser.exceptions()
        out["console"] = browser.console()[-20:]
        browser.close()
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as plan_file:
            sys.exit(run(json.load(plan_file)))
    sys.exit(run(json.load(sys.stdin)))
