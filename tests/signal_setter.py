"""A module that sets a signal handler as it is imported, as HELM's code metrics do (SIGALRM,
for their time limits): Python allows that from a process's main thread only."""

import signal


def on_alarm(signum, frame):  # noqa: ANN001 - a signal handler's signature
    raise TimeoutError("time limit")


signal.signal(signal.SIGALRM, on_alarm)
