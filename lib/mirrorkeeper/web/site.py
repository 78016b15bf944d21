"""The plumbing between twisted.web and the handlers: routes, the
request context (session, form, CSRF), responses and error pages.

A handler is an ``async`` method of the application given a Context and
the values its route's pattern captured; it returns a Response.  The
WebResource is a leaf resource: it matches the whole path against the
application's routes, so that every URL the site has is listed in one
place (app.ROUTES), as klein would have them, without a global app.

A POST is refused (403, nothing done) unless its form carries the
session's CSRF token; the JSON API's POSTs, which take a mirror's token
and no cookie, are the handlers' to authorise (web.checkin_pages).
Exceptions become error pages: policy.NotLoggedIn on a GET sends the
visitor to log in; policy.Forbidden is 403; NotFoundError 404;
InvalidValueError 400 (for the JSON API).
"""

import functools
import gzip
import hashlib
import json
import re
import unicodedata
from urllib.parse import parse_qs, quote, unquote, urlsplit

import attrs
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from mirrorkeeper.errors import MirrorKeeperError, NotFoundError
from mirrorkeeper.validators import RESERVED_DISTRIBUTION_NAMES
from mirrorkeeper.web.policy import Forbidden, NotLoggedIn
from mirrorkeeper.web.sessions import COOKIE_NAME, CSRF_FIELD

log = Logger()

# Forms are small; a body bigger than this is not one of ours.
MAX_FORM_BYTES = 64 * 1024

# Answers smaller than this are sent as they are: gzip would save less
# than a packet.
GZIP_OVER = 1024

# The Server header of every answer: no version for a scanner to match.
SERVER = "mirrorkeeper"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
}


def _parse_form(text):
    """{name: last value} of a query string or urlencoded form.  A byte of
    invalid UTF-8 becomes a lone surrogate (as Python reads file names),
    not U+FFFD, so that validators.valid_text can refuse it instead of
    storing a silent replacement."""
    return {key: values[-1] for key, values in parse_qs(
        text, keep_blank_values=True, encoding="utf-8",
        errors="surrogateescape").items()}


@attrs.define
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict = attrs.Factory(dict)


def redirect(location, status=303):
    return Response(status, b"", "text/plain; charset=utf-8",
                    {"Location": location})


def json_response(value, status=200):
    # No indent: only json's C encoder writes without one, three times
    # as fast on the status of 1,000 mirrors.  `jq .` makes it readable.
    return Response(status, json.dumps(value).encode("utf-8"),
                    "application/json")


class HTTPError(Exception):
    """An answer other than the page: `status`, a message for people, and
    `headers` to send with it."""

    def __init__(self, status, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@attrs.frozen
class Route:
    methods: tuple
    pattern: re.Pattern
    handler: str
    kind: str                   # 'html', 'json' or 'text': its errors
    defaults: dict


def route(methods, template, handler, kind="html", **defaults):
    """A Route: `template` is a path with {name} for one path segment."""
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)",
                           re.escape(template)) + "$"
    return Route(tuple(methods.split("|")), re.compile(pattern), handler,
                 kind, defaults)


class Context:
    """One request as the handlers see it."""

    def __init__(self, request, signer):
        self.request = request
        self.signer = signer
        self.method = request.method.decode("ascii", "replace")
        raw_path, _, raw_query = request.uri.decode(
            "latin-1").partition("?")
        self.path = unquote(raw_path, errors="replace")
        self.query = _parse_form(raw_query)
        self.form = {}
        self.kind = "html"
        cookie = request.getCookie(COOKIE_NAME.encode("ascii"))
        self.session = signer.load(cookie.decode("latin-1")) \
            if cookie else None
        self.session_changed = self.session is None
        if self.session is None:
            self.session = signer.new()

    @property
    def csrf_token(self):
        return self.signer.csrf_token(self.session)

    def set_session(self, session):
        self.session = session
        self.session_changed = True

    def read_form(self):
        body = self.request.content.read(MAX_FORM_BYTES + 1)
        if len(body) > MAX_FORM_BYTES:
            raise HTTPError(413, "The form is too large.")
        self.form = _parse_form(body.decode("latin-1"))

    @property
    def next_path(self):
        return quote(self.request.uri.decode("latin-1"), safe="")


# What a browser drops from a URL before reading it (the WHATWG URL
# standard): ASCII tabs and newlines anywhere, C0 controls and spaces at
# either end.  Dropped here too, so that we judge the URL it will follow.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_TRIMMED = "".join(chr(c) for c in range(0x21))
# What a Location may carry as it is; everything else is percent-encoded.
_LOCATION_SAFE = "/?&=%:@!$'()*+,;~-._#[]"


def local_path(path, default="/"):
    """`path` as a path of this site, else `default`: a login's ?next=
    must not send people elsewhere.  It is judged as a browser reads it:
    tabs and newlines dropped, control characters and spaces trimmed, a
    backslash read as a slash; it must then start with one '/', and have
    neither scheme nor host.  What is returned is that reading, percent-
    encoded, so that the Location header says what the browser will do."""
    if not path:
        return default
    text = _URL_IGNORED.sub("", path).strip(_URL_TRIMMED).replace("\\", "/")
    if not text.startswith("/") or text.startswith("//"):
        return default
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        return default
    try:
        parts = urlsplit(text)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return quote(text, safe=_LOCATION_SAFE)


def client_address(request):
    """The address the request came from, as text (the peer's: a
    forwarded-for header is what the client says, not where it is)."""
    peer = request.getClientAddress()
    return getattr(peer, "host", None) or str(peer)


@functools.lru_cache(maxsize=16)
def _encoded(body, gzipped):
    """(what is sent, its ETag) of an answer's `body`, gzipped or not.
    Kept for the last few bodies: a cached answer (web.answers) is the
    same bytes from one request to the next, and gzip took 9 ms of the
    status of 1,000 mirrors, where the rest of a request served from the
    cache takes about 2."""
    suffix = ""
    if gzipped:
        # mtime=0: the same answer compresses to the same bytes.
        body = gzip.compress(body, compresslevel=6, mtime=0)
        suffix = "-gzip"
    return body, '"%s%s"' % (hashlib.sha256(body).hexdigest()[:32], suffix)


class WebResource(Resource):
    """The whole site: dispatches to `app`'s handlers by its ROUTES."""

    isLeaf = True

    def __init__(self, app, secure_cookies="auto"):
        Resource.__init__(self)
        self.app = app
        self.secure_cookies = secure_cookies

    def render(self, request):
        d = defer.ensureDeferred(self._handle(request))
        d.addCallback(self._write, request)
        d.addErrback(self._crashed, request)
        return NOT_DONE_YET

    def _match(self, ctx):
        """(route, its parameters) for the request.  The first route whose
        pattern matches the path decides: a method it does not take is a
        405 naming those it does (never the next route's page: GET
        /+logout is not a distribution called '+logout').  A reserved
        name in a distribution's place is no page at all."""
        path = ctx.path
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        method = "GET" if ctx.method == "HEAD" else ctx.method
        for candidate in self.app.ROUTES:
            match = candidate.pattern.match(path)
            if match is None:
                continue
            ctx.kind = candidate.kind
            params = match.groupdict()
            distribution = params.get("distribution", "")
            if distribution.startswith("+") or \
                    distribution in RESERVED_DISTRIBUTION_NAMES:
                break
            if method not in candidate.methods:
                allowed = list(candidate.methods)
                if "GET" in allowed:
                    allowed.append("HEAD")
                raise HTTPError(405, "This address does not take %s "
                                "requests; it takes %s." % (
                                    ctx.method[:10], ", ".join(allowed)),
                                {"Allow": ", ".join(allowed)})
            return candidate, dict(candidate.defaults, **params)
        if path.startswith("/api/"):
            ctx.kind = "json"
        raise HTTPError(404, "There is no page at this address.")

    async def _handle(self, request):
        ctx = Context(request, self.app.signer)
        try:
            found, params = self._match(ctx)
            # The JSON API's POSTs go by a mirror's token, never by the
            # session cookie: there is nothing for a forged form to borrow,
            # and their handlers read the body themselves.
            if ctx.method == "POST" and ctx.kind != "json":
                ctx.read_form()
                if not self.app.signer.check_csrf(
                        ctx.session, ctx.form.get(CSRF_FIELD)):
                    raise HTTPError(
                        403, "The form had expired or was not from this "
                        "site: nothing was changed.  Go back, reload the "
                        "page and try again.")
            response = await getattr(self.app, found.handler)(ctx, **params)
        except HTTPError as error:
            response = self.app.error(ctx, error.status, error.message)
            response.headers.update(error.headers)
        except NotLoggedIn as error:
            if ctx.method in ("GET", "HEAD") and ctx.kind == "html":
                response = redirect("/+login?next=" + ctx.next_path)
            else:
                response = self.app.error(ctx, 403, str(error).capitalize()
                                          + ".")
        except Forbidden as error:
            response = self.app.error(ctx, 403, "You may not do this: %s."
                                      % (error,))
        except NotFoundError as error:
            response = self.app.error(ctx, 404, str(error).capitalize()
                                      + ".")
        except MirrorKeeperError as error:
            # FormError, InvalidValueError, InvalidURLError, DuplicateError:
            # what was asked for cannot be; nothing was done.
            response = self.app.error(ctx, 400, str(error))
        return ctx, response

    def _write(self, result, request):
        ctx, response = result
        if request._disconnected:
            return
        headers = dict(SECURITY_HEADERS, Server=SERVER)
        headers["Content-Type"] = response.content_type
        if ctx.kind == "html":
            headers["Cache-Control"] = "no-store"
        elif response.status == 200 and ctx.method in ("GET", "HEAD"):
            # The API and the feeds: shared caches may keep an answer
            # for [web] cache_seconds.
            headers["Cache-Control"] = "public, max-age=%d" % (
                self.app.settings.cache_seconds,)
        if ctx.kind == "json":
            # Read-only CORS: status pages elsewhere may read the API;
            # it takes no cookies and changes nothing.
            headers["Access-Control-Allow-Origin"] = "*"
        headers.update(response.headers)
        body = response.body
        status = response.status
        if ctx.kind != "html" and status == 200 and \
                ctx.method in ("GET", "HEAD"):
            body, status = self._conditional(request, headers, body)
        request.setResponseCode(status)
        for name, value in headers.items():
            request.setHeader(name, value)
        request.setHeader("Content-Length", str(len(body)))
        if ctx.session_changed and ctx.kind == "html":
            secure = request.isSecure() if self.secure_cookies == "auto" \
                else self.secure_cookies == "true"
            request.addCookie(
                COOKIE_NAME, self.app.signer.dump(ctx.session), path="/",
                httpOnly=True, sameSite="lax", secure=secure,
                max_age=str(self.app.signer.max_age))
        if ctx.method != "HEAD":
            request.write(body)
        request.finish()

    @staticmethod
    def _conditional(request, headers, body):
        """(body, status) of a cacheable answer: gzip when the client
        takes it and it is worth it, an ETag of what is sent, and 304
        with no body when the client already has it."""
        accepts = (request.getHeader(b"accept-encoding") or b"").lower()
        headers["Vary"] = "Accept-Encoding"
        gzipped = len(body) > GZIP_OVER and b"gzip" in accepts
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        body, tag = _encoded(body, gzipped)
        headers["ETag"] = tag
        wanted = (request.getHeader(b"if-none-match") or b"").decode(
            "latin-1")
        if tag in [t.strip().removeprefix("W/") for t in wanted.split(",")] \
                or wanted.strip() == "*":
            headers.pop("Content-Type", None)
            headers.pop("Content-Encoding", None)
            return b"", 304
        return body, 200

    def _crashed(self, failure, request):
        """A handler failed: log it, and answer 500 as every other answer
        is made (the security headers, the site's layout, JSON under
        /api/), without the session, which may be what failed."""
        log.failure("Rendering {uri} failed", failure,
                    uri=request.uri.decode("latin-1"))
        if request.finished or request._disconnected:
            return
        ctx = _FailedContext(request, self.app.signer)
        try:
            response = self.app.error(
                ctx, 500, "Something went wrong on our side; it was logged.")
        except Exception:
            log.failure("Rendering the error page of {uri} failed",
                        uri=request.uri.decode("latin-1"))
            response = Response(500, b"Something went wrong on our side; "
                                b"it was logged.\n",
                                "text/plain; charset=utf-8")
        self._write((ctx, response), request)


class _FailedContext:
    """What an error page needs of a request whose handling failed: no
    session (none is sent), the kind of answer its path wants."""

    session_changed = False

    def __init__(self, request, signer):
        path = request.path.decode("latin-1")
        self.request = request
        self.method = request.method.decode("ascii", "replace")
        self.kind = "json" if path.startswith("/api/") else "html"
        self.csrf_token = ""
