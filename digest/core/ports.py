"""Is a TCP port free to serve on? Standard library only, so the Makefile can ask
before anything is installed: ``python3 digest/core/ports.py --host H --port P``
exits 0 when free and 1 with one line on stderr when not."""

from __future__ import annotations

import argparse
import errno
import socket
import sys


def port_problem(host: str, port: int) -> str:
    """Why ``host:port`` cannot be served on ("" when it can), as one sentence."""
    if not 0 < port < 65536:
        return f"PORT={port} is not a port number from 1 to 65535."
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return f"HOST={host} is not an address or name this machine can serve on."
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the web server binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use (another make run?): stop "
                    f"that program or pick another port, e.g. make run PORT={port + 1}."
                )
            if error.errno == errno.EACCES:
                return f"Port {port} on {host} needs privileges; pick one above 1023."
            return f"Cannot serve on {host}:{port}: {error.strerror}."
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    options = parser.parse_args(argv)
    try:
        port = int(options.port)
    except ValueError:
        print(f"PORT={options.port} is not a port number.", file=sys.stderr)
        return 1
    problem = port_problem(options.host, port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
