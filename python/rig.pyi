"""Phoenix Channels client: Python bindings for the rig engine.

Blocking calls release the GIL and can be interrupted with Ctrl-C;
callbacks run on the engine's dispatcher threads.
"""

from types import TracebackType
from typing import Any, Callable, Iterator, List, Mapping, Optional, Tuple, Type, Union

__version__: str

JSON = Any
"""None, bool, int, float, str, list, tuple or dict with str keys (nested)."""

class RigError(Exception):
    """Base class of rig's errors (besides `Timeout`)."""

class ReplyError(RigError):
    """The server answered with a status other than ok."""

    status: str
    response: Any

class JoinError(ReplyError):
    """The server refused a join."""

class ChannelClosed(RigError):
    """The channel closed or was removed before the push was answered."""

class Timeout(TimeoutError):
    """No reply within the push timeout, or no message within a timeout."""

class Message:
    """One message a channel received."""

    @property
    def topic(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def payload(self) -> Any:
        """Decoded JSON, or bytes for a binary frame."""

class Binding:
    """What `Channel.on` returns, for `Channel.off`."""

class CallbackRef:
    """What a lifecycle callback's registration returns (`Socket.on_open`,
    `Channel.on_error`, ...), for `Socket.off` or `Channel.off`."""

class Subscription:
    """Messages of one event; iterate, or call `recv`."""

    def __iter__(self) -> Iterator[Message]: ...
    def __next__(self) -> Message:
        """Raises `Timeout` after the subscription's timeout; StopIteration once closed."""
    def recv(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next message (None once closed); raises `Timeout`."""
    @property
    def dropped(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Subscription": ...
    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

class Presence:
    """A channel's synced presence view."""

    def list(self) -> List[Tuple[str, List[Any]]]:
        """[(key, metas), ...]."""
    def state(self) -> dict:
        """{key: {"metas": [...]}, ...}."""
    @property
    def is_synced(self) -> bool: ...
    def on_sync(self, callback: Callable[[], Any]) -> None: ...
    def on_join(self, callback: Callable[[str, Optional[dict], dict], Any]) -> None: ...
    def on_leave(self, callback: Callable[[str, dict, dict], Any]) -> None: ...

class Channel:
    """One channel of a socket."""

    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> str:
        """"closed", "errored", "joining", "joined" or "leaving"."""
    @property
    def join_response(self) -> Any: ...
    def join(self, timeout: Optional[float] = None) -> "Channel":
        """Joins and returns the channel; raises `JoinError` or `Timeout`."""
    def leave(self, timeout: Optional[float] = None) -> None: ...
    def push(self, event: str, payload: JSON = None, timeout: Optional[float] = None) -> Any:
        """The reply's response; raises `ReplyError`, `Timeout` or `ChannelClosed`."""
    def send(self, event: str, payload: JSON = None) -> None:
        """Sends without waiting for a reply."""
    def on(self, event: str, callback: Callable[[Message], Any]) -> Binding: ...
    def off(self, handle: Union[Binding, CallbackRef]) -> None: ...
    def subscribe(self, event: str, timeout: Optional[float] = None) -> Subscription: ...
    def presence(self) -> Presence:
        """Ask before `join`."""
    def on_error(self, callback: Callable[[str], Any]) -> CallbackRef: ...
    def on_close(self, callback: Callable[[str], Any]) -> CallbackRef: ...
    def __enter__(self) -> "Channel": ...
    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        """Leaves (if joined) and removes the channel."""

class Socket:
    """A Phoenix socket run by its own engine threads."""

    def __init__(
        self,
        url: str,
        params: Optional[Mapping[str, str]] = None,
        token: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        heartbeat_interval: Optional[float] = None,
    ) -> None: ...
    def connect(self) -> None: ...
    def disconnect(self) -> None: ...
    def close(self) -> None:
        """Closes the connection and stops the engine; idempotent."""
    def channel(self, topic: str, params: JSON = None) -> Channel: ...
    @property
    def is_connected(self) -> bool: ...
    @property
    def state(self) -> str: ...
    def on_open(self, callback: Callable[[], Any]) -> CallbackRef: ...
    def on_close(self, callback: Callable[[Optional[int], str], Any]) -> CallbackRef: ...
    def on_error(self, callback: Callable[[str], Any]) -> CallbackRef: ...
    def on_reconnecting(self, callback: Callable[[int], Any]) -> CallbackRef: ...
    def on_status(self, callback: Callable[[str, str], Any]) -> CallbackRef:
        """callback(kind, text) for every status change."""
    def off(self, callback: CallbackRef) -> None:
        """Removes a callback an `on_*` method added."""
    def __enter__(self) -> "Socket":
        """Connects."""
    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        """Closes."""
