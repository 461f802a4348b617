"""Wrong types from Python are exceptions, never a crash."""

import math

import pytest

import rig


@pytest.fixture
def room(server):
    with rig.Socket(server.url) as socket:
        yield socket.channel("room:lobby").join()


@pytest.mark.parametrize(
    "payload, error, text",
    [
        ({1: "a"}, TypeError, "dict keys must be str"),
        ({"a": object()}, TypeError, "payload.a: object is not JSON"),
        ({"a": [1, {2, 3}]}, TypeError, r"payload.a\[1\]: set"),
        ({"a": math.nan}, ValueError, "not a JSON number"),
        ({"a": 2**70}, ValueError, "does not fit in 64 bits"),
        ("not an object", None, None),
    ],
)
def test_payloads_json_cannot_carry_are_refused(room, payload, error, text):
    if error is None:
        # A bare string is JSON: the server echoes it back.
        assert room.push("echo", payload) == payload
        return
    with pytest.raises(error, match=text):
        room.push("echo", payload)
    # The channel is untouched.
    assert room.push("echo", {"n": 1}) == {"n": 1}


def test_a_cycle_is_refused(room):
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="nested deeper"):
        room.push("echo", cycle)


def test_bytes_go_as_a_binary_payload(room):
    reply = room.push("binary", b"\x00\x01\x02")
    assert reply is not None


@pytest.mark.parametrize(
    "call",
    [
        lambda room: room.push(123, {}),
        lambda room: room.push("echo", {}, timeout="soon"),
        lambda room: room.on("shout", 5),
        lambda room: room.off("not a binding"),
        lambda room: room.subscribe(None),
        lambda room: room.presence().on_sync(None),
    ],
)
def test_wrong_argument_types_raise_type_error(room, call):
    with pytest.raises(TypeError):
        call(room)


@pytest.mark.parametrize("timeout", [-1.0, math.inf, math.nan])
def test_bad_timeouts_raise_value_error(room, timeout):
    with pytest.raises(ValueError, match="timeout"):
        room.push("echo", {}, timeout=timeout)


def test_socket_arguments_are_checked():
    with pytest.raises(TypeError):
        rig.Socket(123)
    with pytest.raises(TypeError):
        rig.Socket("ws://127.0.0.1:9/socket", params={"a": 1})
    with pytest.raises(ValueError):
        rig.Socket("not a url at all")
    with pytest.raises(ValueError):
        rig.Socket("ws://127.0.0.1:9/socket", timeout=-5)
