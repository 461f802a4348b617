"""Bounded waits for the tests: every wait has a deadline, never a sleep."""

WAIT_S = 30


def next_matching(q, predicate, timeout=WAIT_S):
    """The first item of queue `q` (a queue.Queue) for which `predicate` holds."""
    while True:
        item = q.get(timeout=timeout)
        if predicate(item):
            return item
