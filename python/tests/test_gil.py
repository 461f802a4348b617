"""Waits release the GIL, and a signal (Ctrl-C) interrupts them."""

import os
import signal
import threading

import pytest

import rig
from helpers import WAIT_S


class Interrupted(Exception):
    pass


def test_a_wait_does_not_hold_the_gil(server):
    with rig.Socket(server.url) as socket:
        room = socket.channel("room:lobby").join()
        shouts = room.subscribe("shout")
        # Only another Python thread can send the message this wait is
        # for: if recv held the GIL, that thread could never run and recv
        # would end in a Timeout.
        ran = threading.Event()

        def other_thread():
            ran.set()
            room.send("shout", {"from": "another thread"})

        sender = threading.Timer(0.2, other_thread)
        sender.start()
        try:
            message = shouts.recv(timeout=WAIT_S)
        finally:
            sender.join(WAIT_S)
        assert ran.is_set()
        assert message.payload == {"from": "another thread"}


def test_a_signal_interrupts_a_wait(server):
    def on_sigint(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with rig.Socket(server.url) as socket:
            room = socket.channel("room:lobby").join()
            # "noreply" is never answered: the push would wait out its timeout.
            kill = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
            kill.start()
            with pytest.raises(Interrupted):
                room.push("noreply", {}, timeout=WAIT_S * 10)
            kill.join(WAIT_S)
    finally:
        signal.signal(signal.SIGINT, previous)
