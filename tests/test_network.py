"""The asyncio socket transport under httpx, over real sockets: plain and TLS, timeouts, a connection the server
closed while idle or right after its answer, a body larger than the read buffer, refusals; and that it is built
from httpx's and httpcore's public interfaces only."""

from __future__ import annotations

import asyncio
import datetime
import functools
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from sentry_issue_export.web.network import READ_BUFFER_HIGH, AsyncioBackend, AsyncioTransport, httpx_error_for
from sentry_issue_export.web.transport import ApiTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def in_event_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


@asynccontextmanager
async def serving(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def response(body: bytes, *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), connection, body)


def fast_client(verify: ssl.SSLContext | bool = False, **kwargs: object) -> httpx.AsyncClient:
    context = httpx.create_ssl_context() if verify is True else verify or None
    return httpx.AsyncClient(transport=AsyncioTransport(ssl_context=context), **kwargs)  # type: ignore[arg-type]


def test_the_api_transport_uses_the_asyncio_transport_and_a_test_transport_is_left_alone() -> None:
    network = ApiTransport("http://127.0.0.1:9", "token").network
    assert isinstance(network, AsyncioTransport) and isinstance(network.backend, AsyncioBackend)
    assert isinstance(network.pool, httpcore.AsyncConnectionPool)
    mocked = ApiTransport("http://127.0.0.1:9", "token", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert mocked.network is None


def test_every_httpcore_error_becomes_the_httpx_error_of_its_name() -> None:
    """The transport maps errors by name: a class either library renames or adds must fail here."""
    errors = [getattr(httpcore, name) for name in dir(httpcore) if not name.startswith("_")]
    errors = [kind for kind in errors if isinstance(kind, type) and issubclass(kind, Exception)]
    assert len(errors) >= 14
    for kind in errors:
        mapped = httpx_error_for(kind("x"))
        if kind is httpcore.ConnectionNotAvailable:  # the pool's own signal, retried inside httpcore
            continue
        assert mapped is getattr(httpx, kind.__name__), kind
    assert httpx_error_for(ValueError("not httpcore's")) is None


def test_a_server_that_closes_after_each_answer_never_fails_a_request() -> None:
    """No ``Connection: close``, then the server hangs up a moment later (an idle timeout): the next request must
    not go down the dead connection, although the event loop was busy when the close arrived and only the
    socket knows of it (retries are off here). The server runs in a thread, as a real one runs apart."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            for _ in range(20):
                connection, _ = listener.accept()
                with connection:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += connection.recv(4096)
                    connection.sendall(response(b"one"))
                    time.sleep(0.01)

    server = threading.Thread(target=serve, daemon=True)
    server.start()

    async def requests() -> list[bytes]:
        bodies = []
        async with fast_client(timeout=5) as client:
            for _ in range(20):
                bodies.append((await client.get(f"http://127.0.0.1:{port}/")).content)
                time.sleep(0.03)  # busy rendering: the event loop does not run while the server hangs up
        return bodies

    assert asyncio.run(requests()) == [b"one"] * 20
    server.join(timeout=5)


@in_event_loop
async def test_plain_requests_share_one_kept_alive_connection() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        for number in range(3):
            await read_request(reader)
            writer.write(response(b"answer %d" % number))
            await writer.drain()
        writer.close()

    async with serving(handler) as port, fast_client() as client:
        bodies = [(await client.get(f"http://127.0.0.1:{port}/")).content for _ in range(3)]
    assert bodies == [b"answer 0", b"answer 1", b"answer 2"]
    assert connections == 1


@in_event_loop
async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"once"))  # keep-alive is implied, then the server hangs up anyway
        await writer.drain()
        writer.close()

    async with serving(handler) as port, fast_client() as client:
        first = await client.get(f"http://127.0.0.1:{port}/")
        await asyncio.sleep(0.1)  # the FIN arrives while the connection sits in the pool
        second = await client.get(f"http://127.0.0.1:{port}/")
    assert (first.content, second.content) == (b"once", b"once")


@in_event_loop
async def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    body = bytes(range(256)) * (3 * READ_BUFFER_HIGH // 256 + 17)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(body, close=True))
        await writer.drain()
        writer.close()

    chunks, most_unread = [], 0
    async with (
        serving(handler) as port,
        fast_client() as client,
        client.stream("GET", f"http://127.0.0.1:{port}/") as answer,
    ):
        unread = answer.extensions["network_stream"]._protocol.buffer
        async for chunk in answer.aiter_raw():
            chunks.append(chunk)
            await asyncio.sleep(0.005)  # a slow reader: the socket is paused rather than buffered whole
            most_unread = max(most_unread, len(unread))
    assert b"".join(chunks) == body
    assert READ_BUFFER_HIGH // 2 < most_unread < 2 * READ_BUFFER_HIGH


@in_event_loop
async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with serving(handler) as port, fast_client(timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"http://127.0.0.1:{port}/")


@in_event_loop
async def test_a_connection_cut_mid_body_is_a_protocol_error_and_a_refused_one_a_connect_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()
        writer.transport.abort()

    async with serving(handler) as port, fast_client() as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await client.get(f"http://127.0.0.1:{port}/")
    async with serving(handler) as port:
        pass  # the port is free again: nothing listens there
    async with fast_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


@in_event_loop
async def test_tls_through_start_tls_verifies_the_certificate() -> None:
    server_context, trusted = _self_signed_contexts()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the untrusting client hung up during the handshake
        writer.write(response(b"over tls"))
        await writer.drain()
        await reader.read()  # kept alive until the client hangs up
        writer.close()

    async with serving(handler, server_context) as port:
        async with fast_client(verify=trusted) as client:
            answer = await client.get(f"https://localhost:{port}/")
            assert answer.content == b"over tls"
            assert answer.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with fast_client(verify=True) as client:  # the system's roots do not know this certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(f"https://localhost:{port}/")


@in_event_loop
async def test_a_unix_socket_round_trip() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory, "api.sock"))

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write((await reader.readexactly(5)).upper())
            await writer.drain()
            writer.close()

        server = await asyncio.start_unix_server(handler, path)
        try:
            stream = await AsyncioBackend().connect_unix_socket(path, timeout=5)
            await stream.write(b"hello")
            assert await stream.read(100, timeout=5) == b"HELLO"
            assert await stream.read(100, timeout=5) == b""  # the server closed it
            assert stream.get_extra_info("is_readable")
            await stream.aclose()
        finally:
            server.close()
            await server.wait_closed()
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_unix_socket(str(Path(directory, "missing.sock")))


def _self_signed_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for localhost, and a client context that trusts only it."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert_path, key_path)
        client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
