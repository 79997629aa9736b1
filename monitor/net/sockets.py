"""The address guard for connections we do not make ourselves: yt-dlp's.

yt-dlp opens its own sockets (blocking, in the YouTube checker's worker threads), so the
httpcore backend of `guard.py` never sees them. Its urllib and websockets handlers connect
through one function, `yt_dlp.networking._helper.create_connection` (bound by name in each
handler module); we replace those bindings with one that resolves the name, drops every
address the policy refuses and connects to a vetted address only: the same check, with the
address pinned (no second lookup a rebinding DNS server could answer differently).

The replacement is inert outside `guarded(...)`, which marks the calling thread: other
threads, and runs with `allow_private`, get yt-dlp's own function. Handlers whose sockets we
cannot reach (requests/urllib3, curl_cffi, when installed) are removed from a guarded
`YoutubeDL` by `keep_guarded_handlers`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from monitor.net.guard import METADATA_NAMES, AddressPolicy

# yt-dlp modules that bind `create_connection` by name, and the handlers that use it.
_YTDLP_MODULES = (
    "yt_dlp.networking._helper",
    "yt_dlp.networking._urllib",
    "yt_dlp.networking._websockets",
)
GUARDED_HANDLERS = frozenset({"Urllib", "Websockets"})

_state = threading.local()
_install_lock = threading.Lock()


class ConnectionRefusedByGuard(ConnectionRefusedError):
    """Every address of the host is one the policy refuses."""


def vet(host: str, port: int, policy: AddressPolicy) -> list[Any]:
    """getaddrinfo results for host:port that the policy allows; raises when none is."""
    if host.lower().rstrip(".") in METADATA_NAMES:
        raise ConnectionRefusedByGuard(f"refused to connect: {host} is a cloud metadata name")
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    allowed, reasons = [], []
    for info in infos:
        reason = policy(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if reason is None:
            allowed.append(info)
        else:
            reasons.append(reason)
    if not allowed:
        why = reasons[0] if reasons else f"no address for {host}"
        raise ConnectionRefusedByGuard(f"refused to connect: {host} resolves to {why}")
    return allowed


def _guarding(original: Callable[..., Any], connect_one: Callable[..., Any]) -> Callable[..., Any]:
    def create_connection(
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: Any = None,
        *,
        _create_socket_func: Callable[..., Any] | None = None,
    ) -> Any:
        policy: AddressPolicy | None = getattr(_state, "policy", None)
        trusted: frozenset[tuple[str, int]] = getattr(_state, "trusted", frozenset())
        host, port = address
        if policy is None or (host.lower(), int(port)) in trusted:
            kwargs = {"_create_socket_func": _create_socket_func} if _create_socket_func else {}
            return original(address, timeout, source_address, **kwargs)
        connect = _create_socket_func or connect_one
        last: OSError | None = None
        for info in vet(host, int(port), policy):
            try:
                return connect(info, timeout, source_address)
            except OSError as exc:
                last = exc
        assert last is not None
        raise last

    create_connection.__monitor_guard__ = True  # type: ignore[attr-defined]
    return create_connection


def install() -> None:
    """Put the guarded `create_connection` into yt-dlp's networking modules (idempotent)."""
    import yt_dlp.networking  # noqa: F401 (loads the handler modules that are available)

    with _install_lock:
        helper = sys.modules["yt_dlp.networking._helper"]
        original = helper.create_connection
        if getattr(original, "__monitor_guard__", False):
            return
        guarded = _guarding(original, helper._socket_connect)
        for name in _YTDLP_MODULES:
            module = sys.modules.get(name)
            if module is not None and hasattr(module, "create_connection"):
                setattr(module, "create_connection", guarded)  # noqa: B010 (untyped module)


@contextlib.contextmanager
def guarded(
    policy: AddressPolicy | None, trusted: frozenset[tuple[str, int]] = frozenset()
) -> Iterator[None]:
    """Within this block, this thread's yt-dlp connections pass the address policy.

    `trusted` (host, port) pairs are connected to as they are: the proxy that the operator
    configured on the command line or in the environment.
    """
    if policy is None:
        yield
        return
    install()
    previous: tuple[AddressPolicy | None, frozenset[tuple[str, int]]] = (
        getattr(_state, "policy", None),
        getattr(_state, "trusted", frozenset()),
    )
    _state.policy, _state.trusted = policy, trusted
    try:
        yield
    finally:
        _state.policy, _state.trusted = previous


def is_guarded() -> bool:
    return getattr(_state, "policy", None) is not None


def keep_guarded_handlers(handlers: dict[str, Any]) -> None:
    """Drop yt-dlp request handlers whose sockets bypass the guard (a guarded thread only)."""
    if not is_guarded():
        return
    for key in [k for k in handlers if k not in GUARDED_HANDLERS]:
        handlers.pop(key).close()
