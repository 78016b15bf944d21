"""A small Chrome DevTools Protocol client: Debian's headless Chromium,
driven over its websocket, with no browser downloaded.

    browser = Browser(profile_dir)        # starts chromium
    page = browser.new_page(width, height)
    page.goto(url); page.evaluate("document.title")
    page.click_and_wait("form button")    # waits for the next page load
    png = page.screenshot()
    browser.close()

Also `png_is_blank(data)`: decodes a PNG (zlib and the five PNG row
filters) and says whether it is a single colour.
"""

import base64
import contextlib
import json
import os
import shutil
import struct
import subprocess
import time
import zlib

from websockets.sync.client import connect

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-port=0", "--remote-allow-origins=*",
    # No host name resolves: the tests browse loopback by address only, and
    # a page that tried to send the browser elsewhere (evil.example) fails
    # here instead of reaching a network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    def __init__(self, profile_dir, timeout=30):
        self.timeout = timeout
        self.process = subprocess.Popen(
            [chromium_path(), "--user-data-dir=%s" % profile_dir]
            + CHROMIUM_FLAGS + ["about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(profile_dir, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while not os.path.exists(port_file) or \
                len(open(port_file).read().split()) < 2:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise AssertionError("chromium did not start")
            time.sleep(0.1)
        port, path = open(port_file).read().split()[:2]
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(connect(
            "ws://127.0.0.1:%s%s" % (port, path), max_size=None,
            open_timeout=timeout))
        self._next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        """Send a command and return its result, keeping the events that
        arrive meanwhile."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method,
                   "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=self.timeout))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError("%s: %s" % (method, reply["error"]))
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method, session, after):
        """The first event `method` of `session` past index `after`."""
        deadline = time.monotonic() + self.timeout
        index = after
        while time.monotonic() < deadline:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if event.get("method") == method and \
                        event.get("sessionId") == session:
                    return event
            self.events.append(json.loads(self.socket.recv(
                timeout=max(0.1, deadline - time.monotonic()))))
        raise AssertionError("no %s event" % (method,))

    def new_page(self, width, height, mobile=True):
        target = self.send("Target.createTarget",
                           {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {
            "targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": mobile})
        return page

    def close(self):
        try:
            if getattr(self, "_stack", None) is not None:
                self._stack.close()
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def send(self, method, params=None):
        return self.browser.send(method, params, self.session)

    def _loaded_after(self, action):
        mark = len(self.browser.events)
        action()
        self.browser.wait_for("Page.loadEventFired", self.session, mark)

    def goto(self, url):
        self._loaded_after(lambda: self.send("Page.navigate", {"url": url}))

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        return result["result"].get("value")

    def fill(self, values):
        """Set form fields by id: {id: value} (True/False for a checkbox)."""
        for field, value in values.items():
            self.evaluate(
                "(function(e, v) { if (e.type === 'checkbox') e.checked = v;"
                " else e.value = v; })(document.getElementById(%s), %s)"
                % (json.dumps(field), json.dumps(value)))

    def click_and_wait(self, selector):
        self._loaded_after(lambda: self.evaluate(
            "document.querySelector(%s).click()" % json.dumps(selector)))

    @property
    def url(self):
        return self.evaluate("location.href")

    @property
    def text(self):
        return self.evaluate("document.body.innerText")

    def screenshot(self, full_page=True):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.send("Page.captureScreenshot",
                                          params)["data"])


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_pixels(data):
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB or RGBA
    PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            if kind == 1:
                row[x] = (row[x] + left) & 0xFF
            elif kind == 2:
                row[x] = (row[x] + up) & 0xFF
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                upper_left = previous[x - channels] if x >= channels else 0
                row[x] = (row[x] + _paeth(left, up, upper_left)) & 0xFF
        rows.append(bytes(row))
        previous = row
    return width, height, rows


def distinct_colours(data):
    """How many different pixel values a PNG has."""
    width, height, rows = png_pixels(data)
    channels = len(rows[0]) // width
    colours = set()
    for row in rows:
        for x in range(0, len(row), channels):
            colours.add(row[x:x + channels])
    return colours
