"""Connection lifecycle: status callbacks, a server restart, tokens, closing."""

import queue

import pytest

import rig
from helpers import WAIT_S, next_matching


def test_status_callbacks_follow_a_server_restart(server):
    statuses = queue.Queue()
    opened = queue.Queue()
    closed = queue.Queue()
    with rig.Socket(server.url) as socket:
        socket.on_status(lambda kind, text: statuses.put((kind, text)))
        socket.on_open(lambda: opened.put(True))
        socket.on_close(lambda code, reason: closed.put((code, reason)))
        room = socket.channel("room:lobby")
        room.join()
        # on_status was registered after connect: it sees what comes next.
        server.restart()
        next_matching(statuses, lambda s: s[0] == "closed")
        closed.get(timeout=WAIT_S)
        next_matching(statuses, lambda s: s[0] == "open")
        opened.get(timeout=WAIT_S)
        # The channel rejoins by itself on the new server.
        next_matching(statuses, lambda s: s[0] == "channel" and "joined" in s[1])
        assert room.push("echo", {"again": True}) == {"again": True}


def test_a_token_is_sent_and_a_wrong_one_is_refused(token_server):
    with rig.Socket(token_server.url, token="secret") as socket:
        assert socket.channel("room:lobby").join().state == "joined"
    statuses = queue.Queue()
    socket = rig.Socket(token_server.url, token="wrong")
    try:
        socket.on_status(lambda kind, text: statuses.put(kind))
        socket.connect()
        next_matching(statuses, lambda kind: kind == "auth_failed")
        assert socket.state == "auth_failed"
    finally:
        socket.close()


def test_params_reach_the_server(token_server):
    with rig.Socket(token_server.url, params={"token": "secret"}) as socket:
        assert socket.channel("room:lobby").join().state == "joined"


def test_close_stops_the_engine_and_later_calls_raise(server):
    socket = rig.Socket(server.url)
    with socket:
        room = socket.channel("room:lobby").join()
        assert socket.is_connected
    assert socket.state == "closed"
    socket.close()  # idempotent
    with pytest.raises(rig.RigError, match="closed"):
        socket.channel("room:lobby")
    with pytest.raises(rig.RigError):
        room.push("echo", {})


def test_a_socket_dropped_without_close_stops_its_engine(server):
    # Nothing to assert but that dropping returns (the engine's threads
    # are stopped with the GIL released, so a callback waiting for it
    # does not deadlock the drop).
    got = queue.Queue()
    socket = rig.Socket(server.url)
    socket.connect()
    room = socket.channel("room:lobby").join()
    room.on("shout", got.put)
    room.send("shout", {"n": 1})
    got.get(timeout=WAIT_S)
    del room, socket


def test_off_removes_one_callback_and_keeps_the_others(server):
    opened = queue.Queue()
    closes = queue.Queue()
    socket = rig.Socket(server.url)
    try:
        first = socket.on_open(lambda: opened.put("first"))
        socket.on_open(lambda: opened.put("second"))
        assert isinstance(first, rig.CallbackRef)
        socket.off(first)
        socket.off(first)  # already gone: ignored
        room = socket.channel("room:lobby")
        room.off(room.on_close(lambda reason: closes.put("gone")))
        room.on_close(lambda reason: closes.put("kept"))
        with pytest.raises(TypeError, match="Binding or a CallbackRef"):
            room.off("not a handle")
        socket.connect()
        # Callbacks run in order on one worker: a removed one would come
        # before the one kept.
        assert opened.get(timeout=WAIT_S) == "second"
        room.join()
        room.leave()
        assert closes.get(timeout=WAIT_S) == "kept"
    finally:
        socket.close()
