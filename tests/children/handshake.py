"""A child that asks DA1 five times, each after the previous answer (what a TUI does while it
starts), then prints HANDSHAKE-DONE and waits. Shared by the session and the app tests."""

import sys

HANDSHAKE = [
    sys.executable,
    "-c",
    "import os, sys, tty\n"
    "tty.setraw(0)\n"
    "for _ in range(5):\n"
    "    os.write(1, b'\\x1b[c')\n"
    "    reply = b''\n"
    "    while not reply.endswith(b'c'):\n"
    "        reply += os.read(0, 1)\n"
    "os.write(1, b'HANDSHAKE-DONE\\r\\n')\n"
    "import time; time.sleep(60)\n",
]
