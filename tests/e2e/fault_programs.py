#!/usr/bin/env python3
"""Client programs for faults.sh, run under sluice-run by the unmodified python3
interpreter. They make only the socket calls any program makes, so what they see
when sluiced dies under them is what a program would see.

  udp-client PORT READY_FILE [connect]
      A datagram to 127.0.0.1:PORT every 50 ms, each answer awaited up to 50 ms,
      with sendto/recvfrom on an unconnected socket (or send/recv on a connected one
      with 'connect'). Creates READY_FILE at the first answer. Ends at the first
      error a socket call reports: prints "error ERRNO_NAME" and exits 3. Gives up
      after 30 s with status 4 (then it saw no error at all).

  connector PORT
      One HTTP GET to 127.0.0.1:PORT at once, then one more per line read from
      standard input, each on a new socket. Prints one line per attempt:
      "attempt MS ok STATUS_LINE" or "attempt MS error ERRNO_NAME", MS being how
      long connect() took. Ends at the end of its input.
"""
import errno
import socket
import sys
import time


def udp_client(port, ready_file, connected):
    destination = ("127.0.0.1", port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if connected:
        s.connect(destination)
    s.settimeout(0.05)
    deadline = time.monotonic() + 30
    answered = False
    n = 0
    while time.monotonic() < deadline:
        try:
            payload = b"ping %d" % n
            n += 1
            if connected:
                s.send(payload)
            else:
                s.sendto(payload, destination)
            try:
                s.recv(2048) if connected else s.recvfrom(2048)
                if not answered:
                    open(ready_file, "w").close()
                    answered = True
            except socket.timeout:
                pass
        except OSError as e:
            print("error", errno.errorcode.get(e.errno, e.errno), flush=True)
            sys.exit(3)
        time.sleep(0.05)
    print("no error in 30 s", flush=True)
    sys.exit(4)


def http_status(port):
    started = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        ms = (time.monotonic() - started) * 1000
        return "attempt %.0f error %s" % (ms, errno.errorcode.get(e.errno, e.errno))
    ms = (time.monotonic() - started) * 1000
    try:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        status = s.makefile("rb").readline().decode(errors="replace").strip()
    except OSError as e:
        status = "send/receive failed: %s" % errno.errorcode.get(e.errno, e.errno)
    finally:
        s.close()
    return "attempt %.0f ok %s" % (ms, status)


def connector(port):
    print(http_status(port), flush=True)
    for _ in sys.stdin:
        print(http_status(port), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "udp-client":
        udp_client(int(sys.argv[2]), sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "connect")
    elif sys.argv[1] == "connector":
        connector(int(sys.argv[2]))
    else:
        sys.exit("usage: fault_programs.py udp-client PORT READY_FILE [connect] | connector PORT")
