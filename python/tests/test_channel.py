"""Join, push/reply, error replies, broadcasts, callbacks, iteration, presence."""

import queue
import sys
import threading

import pytest

import rig
from helpers import WAIT_S


@pytest.fixture
def socket(server):
    with rig.Socket(server.url) as sock:
        yield sock


def test_join_returns_the_channel_and_keeps_the_response(socket):
    room = socket.channel("room:lobby", {"user": "ann"}).join()
    assert isinstance(room, rig.Channel)
    assert room.state == "joined"
    assert room.join_response == {"joined": "room:lobby"}


def test_push_returns_the_reply_as_python_objects(socket):
    room = socket.channel("room:lobby").join()
    payload = {"n": 1, "f": 1.5, "s": "é", "l": [1, None, True], "d": {"x": []}}
    assert room.push("echo", payload) == payload


def test_an_error_reply_raises_reply_error_with_the_reply(socket):
    room = socket.channel("room:lobby").join()
    with pytest.raises(rig.ReplyError) as caught:
        room.push("echo_error", {"n": 2})
    assert caught.value.status == "error"
    assert caught.value.response == {"n": 2}
    assert not isinstance(caught.value, rig.JoinError)


def test_a_refused_join_raises_join_error(socket):
    forbidden = socket.channel("room:forbidden")
    with pytest.raises(rig.JoinError) as caught:
        forbidden.join()
    assert isinstance(caught.value, rig.ReplyError)
    assert isinstance(caught.value, rig.RigError)
    assert caught.value.status == "error"


def test_a_push_without_reply_raises_timeout(socket):
    room = socket.channel("room:lobby").join()
    with pytest.raises(rig.Timeout):
        room.push("noreply", {}, timeout=0.05)
    # rig.Timeout is the builtin TimeoutError too.
    assert issubclass(rig.Timeout, TimeoutError)


def test_a_broadcast_reaches_a_callback(socket):
    room = socket.channel("room:lobby").join()
    got = queue.Queue()
    room.on("shout", got.put)
    room.send("shout", {"text": "hello"})
    message = got.get(timeout=WAIT_S)
    assert (message.topic, message.event, message.payload) == (
        "room:lobby",
        "shout",
        {"text": "hello"},
    )


def test_off_removes_a_callback(socket):
    room = socket.channel("room:lobby").join()
    removed, kept = queue.Queue(), queue.Queue()
    binding = room.on("shout", removed.put)
    room.on("shout", kept.put)
    room.off(binding)
    room.send("shout", {"n": 1})
    kept.get(timeout=WAIT_S)
    assert removed.empty()


def test_a_callback_that_raises_is_reported_and_the_engine_goes_on(socket, monkeypatch):
    reported = queue.Queue()
    monkeypatch.setattr(sys, "unraisablehook", reported.put)
    room = socket.channel("room:lobby").join()
    seen = queue.Queue()

    def handler(message):
        seen.put(message.payload["n"])
        if message.payload["n"] == 1:
            raise RuntimeError("boom in a callback")

    room.on("shout", handler)
    room.send("shout", {"n": 1})
    room.send("shout", {"n": 2})
    assert [seen.get(timeout=WAIT_S), seen.get(timeout=WAIT_S)] == [1, 2]
    report = reported.get(timeout=WAIT_S)
    assert isinstance(report.exc_value, RuntimeError)
    assert str(report.exc_value) == "boom in a callback"
    # The channel still answers.
    assert room.push("echo", {"ok": True}) == {"ok": True}


def test_iterating_a_subscription(socket):
    room = socket.channel("room:lobby")
    shouts = room.subscribe("shout", timeout=WAIT_S)
    room.join()
    for n in range(3):
        room.send("shout", {"n": n})
    received = []
    for message in shouts:
        received.append(message.payload["n"])
        if len(received) == 3:
            break
    assert received == [0, 1, 2]


def test_iteration_with_a_timeout_raises_timeout(socket):
    room = socket.channel("room:lobby").join()
    with room.subscribe("shout", timeout=0.1) as shouts:
        with pytest.raises(rig.Timeout):
            next(iter(shouts))
        # recv takes its own timeout; the subscription is still usable.
        room.send("shout", {"late": 1})
        assert shouts.recv(timeout=WAIT_S).payload == {"late": 1}


def test_a_closed_subscription_ends_iteration(socket):
    room = socket.channel("room:lobby").join()
    shouts = room.subscribe("shout", timeout=WAIT_S)
    shouts.close()
    assert list(shouts) == []


def test_presence_lists_who_joined(socket):
    lobby = socket.channel("presence:lobby", {"user_id": "ann", "status": "away"})
    presence = lobby.presence()
    synced = threading.Event()
    joined = queue.Queue()
    presence.on_sync(synced.set)
    presence.on_join(lambda key, current, new: joined.put((key, current, new)))
    lobby.join()
    assert synced.wait(WAIT_S)
    key, current, new = joined.get(timeout=WAIT_S)
    assert (key, current) == ("ann", None)
    assert new["metas"][0]["status"] == "away"
    assert presence.is_synced
    [(key, metas)] = presence.list()
    assert key == "ann" and metas[0]["status"] == "away"
    assert presence.state()["ann"]["metas"][0]["status"] == "away"


def test_a_channel_context_manager_leaves(socket):
    with socket.channel("room:lobby") as room:
        room.join()
        assert room.state == "joined"
    assert room.state in ("closed", "leaving")
