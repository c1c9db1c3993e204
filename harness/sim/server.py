"""Running the simulator: uvicorn in a background thread (:func:`start`) or in the foreground.

The listening socket is bound here, before uvicorn starts, so an ephemeral port (``port=0``)
is known at once and the base URL can be handed out; :func:`start` returns only once uvicorn
accepts connections.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn

from harness.sim.app import build_app
from harness.sim.batch_config import BatchConfig
from harness.sim.catalog import Catalog
from harness.sim.executor import DEFAULT_DEADLINE_S, DEFAULT_EXEC_TIMEOUT_S, Executor, Runner
from harness.sim.faults import FaultConfig
from harness.sim.state import SimState

DEFAULT_HOST = "127.0.0.1"


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits ~40 ms on Nagle + delayed ACK (headers and body are
    # two writes).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        # Listening now means a client told the URL can connect at once: the kernel queues
        # the connection until uvicorn's loop starts accepting.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _server(state: SimState, log_level: str, tls: tuple[str, str] | None = None) -> uvicorn.Server:
    certfile, keyfile = tls or (None, None)
    config = uvicorn.Config(
        build_app(state), log_level=log_level, access_log=False, lifespan="off",
        # no wall-clock Date or Server headers: responses depend only on requests
        server_header=False, date_header=False, timeout_graceful_shutdown=1,
        ssl_certfile=certfile, ssl_keyfile=keyfile)
    return uvicorn.Server(config)


def _state(cases: Iterable[Any] | None, faults: FaultConfig | None, executor: Executor | None,
           deadline_s: float, exec_timeout_s: float,
           batch: BatchConfig | None = None) -> SimState:
    return SimState(Catalog(cases or ()),
                    faults if faults is not None else FaultConfig.from_env(),
                    Runner(executor, exec_timeout_s=exec_timeout_s, deadline_s=deadline_s),
                    batch if batch is not None else BatchConfig.from_env())


class SimServer:
    """A running simulator. Use as a context manager, or call :meth:`stop`.

    Attributes:
        base_url: ``http://127.0.0.1:<port>`` (``https`` when started with ``tls``): give it
            to the SDK as ``HttpOptions(base_url=...)`` or ``GOOGLE_GEMINI_BASE_URL``.
        port: The port it listens on.
        state: Its in-memory state (cases, interactions, files; for tests and tools).

    """

    def __init__(self, state: SimState, server: uvicorn.Server, sock: socket.socket,
                 thread: threading.Thread, *, scheme: str = "http") -> None:
        self.state = state
        self._server = server
        self._sock = sock
        self._thread = thread
        host, port = sock.getsockname()[:2]
        self.port: int = port
        self.base_url = f"{scheme}://{host}:{port}"

    def add_cases(self, cases: Iterable[Any]) -> int:
        """Teach the running simulator more cases (spec ``Case`` or ``SimCase``)."""
        return self.state.catalog.add(cases)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the server thread (idempotent)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SimServer {self.base_url} cases={len(self.state.catalog)}>"


def start(cases: Iterable[Any] | None = None, *, port: int = 0,
          faults: FaultConfig | None = None, executor: Executor | None = None,
          host: str = DEFAULT_HOST, deadline_s: float = DEFAULT_DEADLINE_S,
          exec_timeout_s: float = DEFAULT_EXEC_TIMEOUT_S, log_level: str = "warning",
          ready_timeout: float = 10.0, tls: tuple[str, str] | None = None,
          batch: BatchConfig | None = None) -> SimServer:
    """Start the simulator in a background thread; returns once it accepts connections.

    Args:
        cases: Cases it knows (spec ``Case`` objects or :class:`~harness.sim.catalog.SimCase`).
        port: Port to listen on (0: an ephemeral one).
        faults: Faults to inject; None reads ``$HARNESS_SIM_FAULTS`` (unset: none).
        executor: Runs code (``harness.sandbox.execute.run``'s signature); None: the sandbox.
        host: Interface to listen on.
        deadline_s: The deadline ``sim-timeout`` runs into.
        exec_timeout_s: The limit for other runs.
        log_level: uvicorn's log level.
        ready_timeout: Seconds to wait for the server to come up.
        tls: ``(certfile, keyfile)`` to serve HTTPS and WSS. The SDK's Live API always
            connects with ``wss``, so it needs this (and the client trusting the certificate).
        batch: How batch jobs behave; None reads ``$HARNESS_SIM_BATCH`` (unset: done at once).

    Raises:
        RuntimeError: the server did not come up in time.
        OSError: the port cannot be bound.

    """
    state = _state(cases, faults, executor, deadline_s, exec_timeout_s, batch)
    sock = _bind(host, port)
    server = _server(state, log_level, tls)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"harness-sim-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the harness simulator did not start (see the log above)")
        time.sleep(0.005)
    return SimServer(state, server, sock, thread, scheme="https" if tls else "http")


def serve_forever(cases: Iterable[Any] | None = None, *, port: int = 0,
                  faults: FaultConfig | None = None, executor: Executor | None = None,
                  host: str = DEFAULT_HOST, deadline_s: float = DEFAULT_DEADLINE_S,
                  exec_timeout_s: float = DEFAULT_EXEC_TIMEOUT_S, log_level: str = "warning",
                  on_ready: Callable[[str], None] | None = None) -> None:
    """Serve in the foreground until interrupted (Ctrl+C); for ``harness sim``.

    ``on_ready`` gets the base URL once the port is bound (before serving starts).
    """
    state = _state(cases, faults, executor, deadline_s, exec_timeout_s)
    sock = _bind(host, port)
    try:
        if on_ready is not None:
            bound_host, bound_port = sock.getsockname()[:2]
            on_ready(f"http://{bound_host}:{bound_port}")
        _server(state, log_level).run(sockets=[sock])
    finally:
        sock.close()
