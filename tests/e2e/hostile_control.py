#!/usr/bin/env python3
"""A hostile local user's control-plane client, for hostile_control.sh. Each mode
prints one JSON line saying what the service answered.
  depth SOCK                 requests nested 63, 64, 65 and 100 000 levels, one connection
  batch SOCK CONNECTIONS     1 MiB batches of trivial members on that many connections at once
  connections SOCK COUNT HOLD_FILE   opens COUNT connections, asks each for status, holds the
                             ones served until HOLD_FILE disappears (at most 120 s)"""
import json
import os
import socket
import struct
import sys
import threading
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    return s


def send(s, body: bytes):
    s.sendall(struct.pack(">I", len(body)) + body)


def receive(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    size, = struct.unpack(">I", head)
    data = b""
    while len(data) < size:
        chunk = s.recv(min(65536, size - len(data)))
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def status_request(id):
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": "service.status"}).encode()


def nested(depth):
    inner = depth - 1
    return b'{"jsonrpc":"2.0","id":1,"method":"service.status","params":' + b"[" * inner + b"]" * inner + b"}"


def error_of(answer):
    if isinstance(answer, dict) and "error" in answer:
        return {"code": answer["error"].get("code"), "message": answer["error"].get("message")}
    return None


def depth_mode(path):
    s = connect(path)
    out = {}
    for depth in (63, 64, 65, 100_000):
        send(s, nested(depth))
        answer = receive(s)
        out[str(depth)] = error_of(answer) or ("answered" if answer is not None else "closed")
        send(s, status_request(2))  # the same connection must still be served
        after = receive(s)
        out[f"{depth}_then_status"] = "answered" if isinstance(after, dict) and "result" in after else "lost"
    print(json.dumps(out))


def batch_mode(path, connections):
    body = b"[" + b",".join([b"1"] * (512 * 1024 - 1)) + b"]"  # 1 MiB - 1 byte, half a million members
    results = []
    lock = threading.Lock()

    def attack():
        try:
            s = connect(path)
            for _ in range(4):
                send(s, body)
                e = error_of(receive(s))
                with lock:
                    results.append(e["message"] if e else "no refusal")
        except OSError as e:
            with lock:
                results.append("error: " + str(e))

    threads = [threading.Thread(target=attack) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    print(json.dumps({"answers": len(results), "distinct": sorted(set(results))}))


def connections_mode(path, count, hold_file):
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 64
    if hard == resource.RLIM_INFINITY or hard >= wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    held, served, refused, other = [], 0, {}, {}
    for i in range(count):
        try:
            s = connect(path)
            try:
                send(s, status_request(i))
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the request went out: the refusal waits to be read
            answer = receive(s)
        except OSError as e:
            other[str(e)] = other.get(str(e), 0) + 1
            continue
        if isinstance(answer, dict) and "result" in answer:
            served += 1
            held.append(s)
        elif error_of(answer):
            message = error_of(answer)["message"]
            refused[message] = refused.get(message, 0) + 1
            s.close()
        else:
            other["closed"] = other.get("closed", 0) + 1
    print(json.dumps({"served": served, "refused": refused, "other": other}), flush=True)
    deadline = time.monotonic() + 120
    while os.path.exists(hold_file) and time.monotonic() < deadline:
        time.sleep(0.1)


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "depth":
        depth_mode(path)
    elif mode == "batch":
        batch_mode(path, int(sys.argv[3]))
    elif mode == "connections":
        connections_mode(path, int(sys.argv[3]), sys.argv[4])
