"""Joins a channel on a running `rig serve`, pushes, receives a broadcast
and prints presence.

    rig serve --addr 127.0.0.1:4000 &
    python python/examples/lobby.py ws://127.0.0.1:4000/socket
"""

import sys
import threading

import rig

url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:4000/socket"

with rig.Socket(url) as socket:
    socket.on_status(lambda kind, text: print(f"status: {text}"))

    # Join, push and read the reply; an error reply raises rig.ReplyError.
    room = socket.channel("room:lobby", {"user": "ann"}).join(timeout=5)
    print("joined:", room.join_response)
    print("echo replied:", room.push("echo", {"n": 1}))
    try:
        room.push("echo_error", {"n": 2})
    except rig.ReplyError as err:
        print(f"echo_error replied {err.status}: {err.response}")

    # A broadcast, by iteration (a callback would be room.on("shout", f)).
    with room.subscribe("shout", timeout=5) as shouts:
        room.send("shout", {"text": "hello"})
        message = next(iter(shouts))
        print(f"broadcast {message.event}: {message.payload}")

    # Presence: who is on presence:lobby once the first state arrives.
    lobby = socket.channel("presence:lobby", {"user_id": "ann", "status": "away"})
    presence = lobby.presence()
    synced = threading.Event()
    presence.on_sync(synced.set)
    lobby.join(timeout=5)
    if not synced.wait(5):
        sys.exit("no presence state within 5 s")
    for key, metas in presence.list():
        print(f"present: {key} {metas}")
