"""Local stand-ins for the outside services, speaking their HTTP APIs (no network in tests)."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One canned answer: a chat completion whose message content is `content`, or an HTTP
    error `status`, optionally after `delay` seconds."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 1200, "completion_tokens": 300}
    )


@dataclass
class FakeOpenAI:
    """An OpenAI-compatible /v1/chat/completions endpoint that answers from a queue of replies
    (the last one repeats) and records every request."""

    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@contextmanager
def fake_openai(*replies: Reply, port: int = 0) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(list(replies))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            reply = fake.next_reply()
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send(reply.status, {"error": {"message": "boom", "type": "server_error"}})
                return
            self._send(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        **reply.usage,
                        "total_tokens": sum(reply.usage.values()),
                    },
                },
            )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # unless the client gave up (a timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler, port) as base_url:
        fake.base_url = f"{base_url}/v1"
        yield fake


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a worker killed on purpose) is not a server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve `handler` on `port` (a free one by default) in a thread; yields the base URL.

    C's setenv is not thread-safe (a thread reading the environment while another changes it can
    crash the process): a test that puts the URL in the environment picks the port first
    (`tests.server.free_port`), sets the environment, then starts the fake on it."""
    server = QuietServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    # A short poll: shutdown() waits for the loop to notice, 0.5 s per server by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 with small JSON answers, written in one piece (no Nagle stalls)."""

    protocol_version = "HTTP/1.1"

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(head + data)

    def form(self) -> dict[str, list[str]] | None:
        """The form fields, or None when the client went away mid-request (like a real server,
        a cut-off request is never acted on)."""
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return parse_qs(body.decode(), keep_blank_values=True)

    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class FakeProvider:
    """A Mailgun- or Twilio-compatible sending API. Records every accepted message's form
    fields; answers per recipient from `refuse` (always) and `flaky` (that many 503s first)."""

    base_url: str = ""
    accepted: list[dict[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    flaky: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    times: list[float] = field(default_factory=list)
    """When each accepted message arrived (time.time), for rates and lookups."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, recipient: str, fields: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls += 1
            if recipient in self.refuse:
                return self.refuse[recipient]
            if self.flaky.get(recipient, 0) > 0:
                self.flaky[recipient] -= 1
                return 503, {"message": "Service Unavailable"}
            self.accepted.append(fields)
            self.times.append(time.time())
            return 200, {"n": len(self.accepted)}

    def recipients(self, field_name: str) -> list[str]:
        return [f[field_name][0] for f in self.accepted]

    def matching(self, field_name: str, value: str) -> list[tuple[int, float]]:
        """(number, arrival time) of the accepted messages whose `field_name` is `value`."""
        with self.lock:
            return [
                (n, at)
                for n, (f, at) in enumerate(zip(self.accepted, self.times, strict=True), start=1)
                if f.get(field_name, [""])[0] == value
            ]


MAILGUN_KEY = "key-test"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-token"


@contextmanager
def fake_mailgun(port: int = 0) -> Iterator[FakeProvider]:
    fake = FakeProvider()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            fields = self.form()
            if fields is None:
                return
            if self.basic_auth() != ("api", MAILGUN_KEY):
                self.send_json(401, {"message": "Invalid private key"})
                return
            if not self.path.endswith("/messages"):
                self.send_json(404, {"message": "Not found"})
                return
            status, body = fake.answer(fields.get("to", [""])[0], fields)
            if status == 200:
                body = {"id": f"<{body['n']}.fake@mg.example.com>", "message": "Queued. Thank you."}
            self.send_json(status, body)

        def do_GET(self) -> None:  # the events API, filtered on one user variable
            query = parse_qs(urlsplit(self.path).query)
            key = json.loads(query.get("user-variables", ["{}"])[0]).get("message_key", "")
            items = [
                {
                    "id": f"event-{n}",
                    "event": "accepted",
                    "message": {"headers": {"message-id": f"{n}.fake@mg.example.com"}},
                }
                for n, _ in fake.matching("v:message_key", key)
            ]
            self.send_json(200, {"items": items[:1]})

    with serving(Handler, port) as base_url:
        fake.base_url = base_url
        yield fake


@contextmanager
def fake_twilio(port: int = 0) -> Iterator[FakeProvider]:
    fake = FakeProvider()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            fields = self.form()
            if fields is None:
                return
            if self.basic_auth() != (TWILIO_SID, TWILIO_TOKEN):
                self.send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            status, body = fake.answer(fields.get("To", [""])[0], fields)
            if status == 200:
                status, body = (
                    201,
                    {
                        "sid": f"SM{body['n']:032x}",
                        "status": "queued",
                        "num_segments": "1",
                        "price": None,
                    },
                )
            self.send_json(status, body)

        def do_GET(self) -> None:  # the Messages list, filtered on the recipient
            to = parse_qs(urlsplit(self.path).query).get("To", [""])[0]
            found = [
                {"sid": f"SM{n:032x}", "to": to, "date_created": formatdate(at, usegmt=True)}
                for n, at in fake.matching("To", to)
            ]
            self.send_json(200, {"messages": found[::-1]})

    with serving(Handler, port) as base_url:
        fake.base_url = base_url
        yield fake


@dataclass
class FakeMailbox:
    """An SMTP server (aiosmtpd) that keeps what it receives and refuses listed recipients."""

    port: int = 0
    received: list[Any] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    """Recipient → SMTP reply, e.g. '550 5.1.1 No such user'."""


@contextmanager
def fake_mailbox(port: int | None = None) -> Iterator[FakeMailbox]:
    """An SMTP server in a thread. Set whatever environment the test needs before starting it
    (pass `port`): C's setenv is not thread-safe, see `serving`."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = FakeMailbox()

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in box.refuse:
                return box.refuse[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 Message accepted"

    if port is None:
        with socket.socket() as probe:  # aiosmtpd needs a real port to check it started
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    box.port = port
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
