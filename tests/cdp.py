"""A small Chrome DevTools Protocol client: Debian's headless Chromium,
driven over its websocket, with no browser downloaded.

    browser = Browser(profile_dir)        # starts chromium
    page = browser.new_page(width, height)
    page.goto(url); page.evaluate("document.title")
    page.click_and_wait("form button")    # waits for the next page load
    png = page.screenshot()
    browser.close()

Also `distinct_colours(data)`: decodes a PNG (zlib and the five PNG row
filters) and gives the set of its colours, to tell a screenshot from a
blank one.
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

    def new_context(self):
        """A browser context of its own (cookies, storage), for pages that
        must not share a login with the others; its id, for new_page."""
        return self.send("Target.createBrowserContext")["browserContextId"]

    def new_page(self, width, height, mobile=True, context=None):
        """A page `width` x `height` px, in the browser context `context`
        (new_context) or else in the browser's default one."""
        params = {"url": "about:blank"}
        if context is not None:
            params["browserContextId"] = context
        target = self.send("Target.createTarget", params)["targetId"]
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
        # Chromium's fast PNG encoding (the Up filter on every row), which
        # distinct_colours decodes a row at a time: the same pixels.
        params = {"format": "png", "optimizeForSpeed": True}
        if full_page:
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.send("Page.captureScreenshot",
                                          params)["data"])


def _bytewise_sum(low, high):
    """A function adding two rows held as little-endian ints byte by
    byte, modulo 256 in each byte, with no carry from one byte into the
    next; `low` and `high` are 0x7f and 0x80 repeated over the row."""
    def add(a, b):
        return ((a & low) + (b & low)) ^ ((a ^ b) & high)
    return add


def png_pixels(data):
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB or RGBA
    PNG.

    The None, Sub and Up filters, which are most rows of a screenshot, are
    undone a whole row at a time on the row held as one integer; Average
    and Paeth, whose bytes depend on the ones just decoded, byte by byte.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(chunk)
        position += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    add = _bytewise_sum(int.from_bytes(b"\x7f" * stride, "little"),
                        int.from_bytes(b"\x80" * stride, "little"))
    whole = (1 << (8 * stride)) - 1
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        filtered = raw[start + 1:start + 1 + stride]
        if kind == 0:
            row = filtered
        elif kind == 1:
            # Each byte plus the decoded one a pixel to its left: a prefix
            # sum over the pixels, in log2(width) doublings.
            total, shift = int.from_bytes(filtered, "little"), channels
            while shift < stride:
                total = add(total, (total << (8 * shift)) & whole)
                shift *= 2
            row = total.to_bytes(stride, "little")
        elif kind == 2:
            row = add(int.from_bytes(filtered, "little"),
                      int.from_bytes(previous, "little")).to_bytes(
                          stride, "little")
        elif kind == 3:
            row = bytearray(filtered)
            for x in range(channels):
                row[x] = (row[x] + (previous[x] >> 1)) & 0xFF
            for x in range(channels, stride):
                row[x] = (row[x] + ((row[x - channels] + previous[x]) >> 1)
                          ) & 0xFF
            row = bytes(row)
        else:
            assert kind == 4, kind
            row = bytearray(filtered)
            # At the left edge the left and upper-left bytes are 0, and
            # Paeth's predictor is the byte above.
            for x in range(channels):
                row[x] = (row[x] + previous[x]) & 0xFF
            for x in range(channels, stride):
                a, b, c = row[x - channels], previous[x], \
                    previous[x - channels]
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - c - c)
                if pa <= pb and pa <= pc:
                    predicted = a
                elif pb <= pc:
                    predicted = b
                else:
                    predicted = c
                row[x] = (row[x] + predicted) & 0xFF
            row = bytes(row)
        rows.append(row)
        previous = row
    return width, height, rows


def distinct_colours(data):
    """The different pixel values a PNG has (a set: its size is how many
    colours the image shows)."""
    width, height, rows = png_pixels(data)
    # A page's blank or repeated rows count once.
    pixels = b"".join(set(rows))
    if len(rows[0]) == 3 * width:
        # Each pixel padded to four bytes, read as one 32-bit number.
        padded = bytearray(len(pixels) // 3 * 4)
        for channel in range(3):
            padded[channel::4] = pixels[channel::3]
        pixels = padded
    return set(memoryview(pixels).cast("I"))
