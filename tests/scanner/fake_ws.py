"""A fake Polygon-style websocket server on loopback (the ``websockets`` package) that replays a
recording: 'connected' status, login check, subscription, then the events of one connection;
every connection but the last is dropped after its events (a disconnect)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any


class FakePolygon:
    def __init__(self, connections: list[list[str]], key: str) -> None:
        self.connections = connections
        self.key = key
        self.received: list[dict[str, Any]] = []
        self.served = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.url = ""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handler(self, ws: Any) -> None:
        n = self.served
        self.served += 1
        await ws.send(json.dumps([{"ev": "status", "status": "connected", "message": "Connected Successfully"}]))
        auth = json.loads(await ws.recv())
        self.received.append(auth)
        if auth.get("params") != self.key:
            await ws.send(json.dumps([{"ev": "status", "status": "auth_failed", "message": "authentication failed"}]))
            return
        await ws.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "authenticated"}]))
        self.received.append(json.loads(await ws.recv()))  # subscribe
        for msg in self.connections[min(n, len(self.connections) - 1)]:
            await ws.send(msg)
        if n < len(self.connections) - 1:
            return  # drop the connection: the client must reconnect
        assert self._stop is not None
        await self._stop.wait()

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}"
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakePolygon:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
