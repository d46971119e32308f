#!/usr/bin/env python3
"""One TCP stream, measured where it arrives: for the shaping tests (kernel_shape_test.cpp).

    throughput.py receive PORT        accepts one connection on IPv4 PORT and prints the
                                      Mbit/s it got, from its first byte to its last
    throughput.py send HOST PORT SECS sends as fast as it can for SECS seconds, then closes

What a shaped link lets through is what arrives: the sender's buffers drain at the shaped
rate after it stops writing, and the receiver counts them too.
"""
import socket
import sys
import time


def receive(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", port))
        server.listen(1)
        conn, _ = server.accept()
        with conn:
            total, first, last = 0, None, None
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                now = time.monotonic()
                if first is None:
                    first = now
                else:
                    total += len(data)  # bytes after the first read, over the time after it
                last = now
    seconds = (last - first) if first is not None and last > first else 0
    print(f"{total * 8 / seconds / 1e6:.2f}" if seconds else "0")


def send(host, port, seconds):
    chunk = b"\0" * (1 << 16)
    with socket.create_connection((host, port)) as s:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            s.sendall(chunk)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "receive":
        receive(int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)
