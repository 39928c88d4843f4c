"""How a built-in server's pod stops: a stop-aware PID 1, a drain delay, a grace period.

Neither server acts on SIGTERM as PID 1 of its container: TensorFlow Serving installs no
handler (tensorflow/serving `tensorflow_serving/model_servers/server.cc`), and
`torchserve --foreground` as PID 1 ignores it too (its launcher's Java child keeps serving).
A process that is PID 1 of a PID namespace gets no default action for a signal it does not
handle, so the kubelet's SIGTERM would be lost and every rollout would wait out the grace
period and end in SIGKILL.

So the container's command is a small POSIX shell script as PID 1 (`/bin/sh`, present in
both servers' images) that starts the server as its child and, on SIGTERM, runs the server's
own way of stopping: `torchserve --stop` for TorchServe (it signals the Java frontend, which
stops its workers and exits; the launcher then exits), a plain SIGTERM to the child for
TensorFlow Serving (not PID 1, it dies at once). The script then waits for the child and exits
with its status (0 for a stop it asked for). Before that SIGTERM, a `preStop` hook sleeps
`shutdownDelaySeconds` (default 5): the pod is already being removed from the Service's
endpoints, and the delay lets proxies and load balancers stop sending it new requests while
it still answers. `terminationGracePeriodSeconds` (default 30) bounds the whole stop.
The server's own arguments stay in `args`, readable as its command line.
"""

from __future__ import annotations

from functools import cache

from krmfn.constants import Obj
from krmfn.emitter import frozen
from krmfn.options import Options

PID1_NAME = "krmfn-serve"  # $0 of the script, as `ps` shows it

_SCRIPT = """\
stopping=
stop() {{ stopping=1; {stop}; }}
trap stop TERM INT
"$@" &
child=$!
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
if [ -n "$stopping" ] && [ "$status" -eq 143 ]; then status=0; fi
exit "$status"
"""


@cache
def pid1_command(stop: str) -> list[str]:
    """The container command: the stop-aware script, whose arguments are the server's line.

    `stop` is a shell command run on SIGTERM; `$child` is the server's process id. The list
    is shared by every container of a run: never change it.
    """
    return frozen(["/bin/sh", "-c", _SCRIPT.format(stop=stop), PID1_NAME])  # type: ignore[no-any-return]


def lifecycle(options: Options) -> Obj | None:
    """The serving container's `lifecycle`: a drain delay before SIGTERM, if any (shared:
    never change it)."""
    return _lifecycle(options.shutdown_delay_seconds)


@cache
def _lifecycle(seconds: int) -> Obj | None:
    if seconds <= 0:
        return None
    return frozen({"preStop": {"exec": {"command": ["sleep", str(seconds)]}}})  # type: ignore[no-any-return]
