"""A fake local LLM server on loopback for the tests: speaks Ollama's ``/api/chat`` and the
OpenAI ``/v1/chat/completions`` protocol and replays replies (a list, or a function of the
request body). ``delay`` makes it answer late (a timeout); an unknown model gets Ollama's 404."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], str]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeLLM:
    def __init__(self, replies: list[str] | Responder, *, delay: float = 0.0, models: tuple[str, ...] | None = None,
                 status: int = 200) -> None:  # fmt: skip
        self.replies = replies
        self.delay = delay
        self.models = models
        self.status = status
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, code: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (timeout)
                    self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/api/tags":
                    names = fake.models if fake.models is not None else ("0xroyce/plutus",)
                    self._send(200, {"models": [{"name": f"{m}:latest"} for m in names]})
                else:
                    self._send(200, {"version": "0.0-fake"} if self.path == "/api/version" else {"data": []})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with fake._lock:
                    fake.requests.append((self.path, body, dict(self.headers)))
                    n = len(fake.requests)
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.status != 200:
                    self._send(fake.status, {"error": "fake server failure"})
                    return
                if fake.models is not None and body.get("model") not in fake.models:
                    self._send(404, {"error": f"model \"{body.get('model')}\" not found, try pulling it first"})
                    return
                if callable(fake.replies):
                    text = fake.replies(body)
                else:
                    text = fake.replies[(n - 1) % len(fake.replies)]
                if self.path == "/api/chat":
                    self._send(200, {"model": body["model"], "message": {"role": "assistant", "content": text}, "done": True})
                elif self.path == "/v1/chat/completions":
                    self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})
                else:
                    self._send(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


def reply(signal: str = "BUY", confidence: Any = 0.7, reasoning: str = "trend up", risk_note: str = "gap risk") -> str:
    return json.dumps({"signal": signal, "confidence": confidence, "reasoning": reasoning, "risk_note": risk_note})


def momentum_responder(body: dict[str, Any]) -> str:
    """BUY 0.7 after an up bar, SELL 0.65 after a down bar, HOLD 0.3 when flat (from the prompt)."""
    user = body["messages"][-1]["content"]
    one = user.split("Returns: 1 bar ", 1)[1].split("%", 1)[0]
    x = float(one)
    if x > 0:
        return reply("BUY", 0.7)
    if x < 0:
        return reply("SELL", 0.65)
    return reply("HOLD", 0.3)
