"""An httpx transport whose sockets are asyncio's own, built from public interfaces only.

httpcore reaches asyncio through anyio, which costs about a millisecond of CPU per request: a cancel scope
for every read and write, and a dictionary of socket attributes built each time the pool asks whether an
idle connection was closed by the server. A large export is bound by that CPU, so the API transport uses
:class:`AsyncioTransport`: an ``httpx.AsyncBaseTransport`` over an ``httpcore.AsyncConnectionPool`` given this
module's :class:`AsyncioBackend` through its public ``network_backend`` parameter. Reads wait on a protocol's
buffer, a timeout is armed only when a read has to wait, and whether the server closed an idle connection is
asked of the socket itself, so a close the kernel has seen is never missed.

Only direct connections use it: httpx mounts its own transports for proxies from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import ssl
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator
from typing import Any

import httpcore
import httpx

READ_BUFFER_HIGH = 1024 * 1024
"""Bytes held unread before the socket is no longer read, so a slow reader does not buffer a whole body."""


_TRANSPORT_INFO = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername", "socket": "socket"}
"""httpcore's names for what it asks of a stream -> asyncio's names for the same."""


class _BufferingProtocol(asyncio.Protocol):
    """Collects what the socket delivers, and wakes the one reader waiting for it."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self._reader: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_BUFFER_HIGH and self.transport is not None and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        self._release_writer()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._release_writer()

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._reading_paused and len(self.buffer) <= READ_BUFFER_HIGH // 2 and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def wait_for_data(self) -> None:
        self._reader = asyncio.get_running_loop().create_future()
        try:
            await self._reader
        finally:
            self._reader = None

    @property
    def must_drain(self) -> bool:
        return self._writing_paused and not self.closed

    async def wait_for_drain(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()
        try:
            await self._drained
        finally:
            self._drained = None

    def _wake(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def _release_writer(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection, plain or TLS, as httpcore wants it."""

    def __init__(self, transport: asyncio.Transport, protocol: _BufferingProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.closed:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.wait_for_data()
            except TimeoutError:
                raise httpcore.ReadTimeout(f"no data from the server in {timeout} s") from None
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing() or self._protocol.closed:
            raise httpcore.WriteError("the connection was closed")
        self._transport.write(buffer)
        if not self._protocol.must_drain:  # a request fits the socket's buffer: nothing to wait for
            return
        try:
            async with asyncio.timeout(timeout):
                await self._protocol.wait_for_drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send to the server in {timeout} s") from None

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout(f"the TLS handshake took longer than {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the server closed the connection during the TLS handshake")
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # for an idle connection: the server closed it, or sent something unasked
            return self._protocol.closed or bool(self._protocol.buffer) or _socket_readable(self._transport)
        if info not in _TRANSPORT_INFO or self._transport.is_closing():  # a closed TLS transport has no info
            return None
        return self._transport.get_extra_info(_TRANSPORT_INFO[info])


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        opening = asyncio.get_running_loop().create_connection(_BufferingProtocol, host, port, local_addr=local)
        return await _connect(opening, timeout, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        opening = asyncio.get_running_loop().create_unix_connection(_BufferingProtocol, path)
        return await _connect(opening, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connect(
    opening: Coroutine[Any, Any, tuple[asyncio.Transport, _BufferingProtocol]],
    timeout: float | None,
    socket_options: Iterable[Any] | None,
) -> AsyncioStream:
    """The stream once ``opening`` connects within ``timeout``, its socket options set; httpcore's errors else."""
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await opening
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"could not connect within {timeout} s") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return AsyncioStream(transport, protocol)


def _socket_readable(transport: asyncio.Transport) -> bool:
    """Whether the socket has something to read, or was closed: what the event loop has not told the protocol
    yet (a close that arrived just now). A socket that cannot be asked counts as closed."""
    sock = transport.get_extra_info("socket")
    if sock is None or transport.is_closing():
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class AsyncioTransport(httpx.AsyncBaseTransport):
    """httpx's requests over an ``httpcore.AsyncConnectionPool`` whose sockets are :class:`AsyncioBackend`'s."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 10,
        max_keepalive_connections: int | None = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self.backend = AsyncioBackend()
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            network_backend=self.backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("AsyncioTransport sends only requests with an asynchronous body")
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = await self.pool.handle_async_request(sent)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_BodyStream(answer.stream),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


class _BodyStream(httpx.AsyncByteStream):
    """httpcore's response body as httpx reads it, with httpcore's errors as httpx's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            with _as_httpx_errors():
                await self._stream.aclose()


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as httpx's of the same name (both libraries name them alike, publicly)."""
    try:
        yield
    except Exception as exc:
        mapped = httpx_error_for(exc)
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


def httpx_error_for(exc: BaseException) -> type[httpx.TransportError] | None:
    """The httpx exception class for an httpcore exception, by the nearest class name httpx also has."""
    if not isinstance(exc, Exception) or type(exc).__module__.split(".")[0] != "httpcore":
        return None
    for kind in type(exc).__mro__:
        found = getattr(httpx, kind.__name__, None)
        if isinstance(found, type) and issubclass(found, httpx.TransportError):
            return found
    return httpx.TransportError
