"""A PostgreSQL protocol proxy on loopback that counts round trips and can add network delay.

Round trips are the unit of cost once the database is across a network. The proxy forwards bytes both ways and
reads the client's side of the protocol: every simple ``Query`` ('Q') and every ``Sync`` ('S') of the extended
protocol is a message the client then waits on, so their count is the number of round trips a request costs
(connection start-up is counted apart). ``delay`` adds that many seconds to each direction, in order, as a
network between the application and the database would.

It runs an asyncio loop in a daemon thread::

    with CountingProxy(("127.0.0.1", 5432), delay=0.00025) as proxy:
        url = f"postgresql+psycopg://user@127.0.0.1:{proxy.port}/db"
        ...
        proxy.round_trips  # simple queries and syncs since start (or since reset())
"""

from __future__ import annotations

import asyncio
import struct
import threading
from types import TracebackType

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_WAITED_ON = (ord("Q"), ord("S"))


class CountingProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; count the client's queries and syncs."""

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.port = 0
        self.round_trips = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="counting-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def reset(self) -> None:
        with self._lock:
            self.round_trips = 0

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the counting proxy did not start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- the loop ----------------------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer, count=True),
            self._pipe(server_reader, client_writer, count=False),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
        parser = _ClientMessages() if count else None
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                if parser is not None:
                    waited = parser.feed(chunk)
                    if waited:
                        with self._lock:
                            self.round_trips += waited
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class _ClientMessages:
    """Splits the client's byte stream into protocol messages and counts those the client waits on."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False

    def feed(self, data: bytes) -> int:
        self._buffer += data
        waited = 0
        while True:
            if not self._started:
                if len(self._buffer) < 8:
                    return waited
                (length, code) = struct.unpack("!II", self._buffer[:8])
                if len(self._buffer) < length:
                    return waited
                self._buffer = self._buffer[length:]
                if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                    self._started = True  # the startup message itself: connection set-up, not a request's cost
                continue
            if len(self._buffer) < 5:
                return waited
            kind = self._buffer[0]
            (length,) = struct.unpack("!I", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return waited
            self._buffer = self._buffer[1 + length:]
            if kind in _WAITED_ON:
                waited += 1
