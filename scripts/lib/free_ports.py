"""Prints COUNT distinct free TCP ports on 127.0.0.1, space-separated (for scripts/lib/icantkube.sh).

    python3 scripts/lib/free_ports.py [COUNT]

The kernel picks each (a bind to port 0); all are held open together, so none repeats.
"""

import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
held = [socket.socket() for _ in range(count)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
