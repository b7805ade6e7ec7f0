#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/: real requests, answers,
documents and rule fields, as sluicectl, the providers and administrators write
them. Run it again after changing it; the files it writes are committed.
Crashers found by fuzzing go in tests/fuzz/regressions/<target>/ instead, by hand."""
import json
import pathlib
import shutil
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def request(id, method, params=None):
    r = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        r["params"] = params
    return r


def notification(method, params):
    return {"jsonrpc": "2.0", "method": method, "params": params}


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


HELLO = request(1, "sluice.hello", {"protocol": {"major": 1, "minor": 0}})
RULE_CURL = {"app": "/usr/bin/curl", "action": "relay", "protocol": "tcp",
             "destinations": ["127.0.0.0/8", "::1"], "ports": ["8080", "8000-8100"],
             "rate": {"up": "1MiB/s", "down": 2097152}, "comment": "curl through the relay"}
RULE_SMTP = {"action": "block", "ports": ["25"], "user": "1000"}
RULE_GLOB = {"app": "/opt/**/bin/*", "action": "direct", "enabled": False, "protocol": "udp",
             "destinations": ["2001:db8::/32", "10.1.2.3/8"]}
QUOTA_APP = {"app": "/usr/bin/curl", "rate": {"up": "64KiB/s", "down": "1.5MiB/s"},
             "burst": {"down": "4MiB"}, "volume": {"bytes": "10GB", "period": "month",
                                                   "on_exceed": "throttle", "throttle_rate": "64KiB/s"}}
QUOTA_GLOBAL = {"global": True, "rate": {"down": "100Mbit/s"}, "volume": {"bytes": 1000000, "period": "day"}}
DOCUMENT = {"sluice_policy": 1,
            "settings": {"default_action": "direct", "fail_mode": "open", "provider_timeout_ms": "250"},
            "rules": [RULE_CURL, RULE_SMTP, RULE_GLOB], "quotas": [QUOTA_APP, QUOTA_GLOBAL]}
REGISTER_TCP = {"protocol": "tcp", "destination": "127.0.0.1", "port": 8080, "local": "0.0.0.0", "local_port": 40000}
REGISTER_UDP = {"protocol": "udp", "destination": "fd00::53", "port": 53, "local": "::", "local_port": 0}

RPC = {
    "hello": HELLO,
    "hello_wrong_major": request(2, "sluice.hello", {"protocol": {"major": 2, "minor": 0}}),
    "status": request("s-1", "service.status"),
    "rules_session": [
        request(1, "rule.add", {"rule": RULE_CURL}),
        request(2, "rule.add", {"rule": RULE_SMTP, "position": 1}),
        request(3, "rule.add", {"rule": RULE_GLOB}),
        request(4, "rule.move", {"id": 3, "position": 1}),
        request(5, "rule.set_enabled", {"id": 1, "enabled": False}),
        request(6, "rule.get", {"id": 2}),
        request(7, "rule.list", {"offset": 1, "limit": 2}),
        request(8, "rule.remove", {"id": 2}),
        request(9, "policy.check", {"app": "/usr/bin/curl", "destination": "127.0.0.1", "port": 8080, "protocol": "tcp"}),
    ],
    "quotas_session": [
        request(1, "quota.set", QUOTA_APP),
        request(2, "quota.set", {"app": "/usr/bin/curl", "rate": {"up": None}}),
        request(3, "quota.set", QUOTA_GLOBAL),
        request(4, "quota.list"),
        request(5, "quota.clear", {"global": True}),
        request(6, "quota.clear", {"app": "/usr/bin/wget"}),
    ],
    "settings_session": [
        request(1, "settings.get"),
        request(2, "settings.set", {"key": "default_action", "value": "block"}),
        request(3, "settings.set", {"key": "provider_timeout_ms", "value": "60001"}),
        request(4, "policy.check", {"app": "/bin/nc", "destination": "::ffff:192.0.2.1", "port": 7, "user": "alice"}),
    ],
    "policy_import_export": [
        request(1, "policy.import", {"mode": "replace", "document": DOCUMENT}),
        request(2, "policy.export"),
        request(3, "policy.import", {"document": DOCUMENT}),
        request(4, "audit.list", {"limit": 5}),
    ],
    "usage_audit": [
        request(1, "usage.show", {"app": "/usr/bin/curl", "since": "2026-01-01", "by_day": True}),
        request(2, "usage.show"),
        request(3, "audit.list", {"since": "2026-02-28"}),
    ],
    "flows_session": [
        request(1, "rule.add", {"rule": {"action": "block", "ports": ["25"]}}),
        request(2, "flow.register", REGISTER_TCP),
        request(3, "flow.register", dict(REGISTER_TCP, port=25)),
        request(4, "flow.register", REGISTER_UDP),
        notification("flow.release", {"flow_id": 17}),
        request(5, "flows.list"),
        request(6, "stats.get"),
    ],
    "notification": notification("rule.list", {}),
    "invalid_members": [1, {"jsonrpc": "1.0", "id": 1, "method": "x"}, {"jsonrpc": "2.0", "id": 1.5, "method": "rule.list"},
                        {"jsonrpc": "2.0", "id": None, "method": "no.such.method"}, {"jsonrpc": "2.0", "id": 2, "method": 7},
                        {"jsonrpc": "2.0", "id": 3, "method": "rule.list", "params": "x"}],
    "bad_params": [
        request(1, "rule.remove", {"id": "seven"}),
        request(2, "rule.list", {"offset": -1}),
        request(3, "policy.check", {"app": "/x", "destination": "nowhere", "port": 1}),
        request(4, "usage.show", {"since": "2026-13-01"}),
        request(5, "flow.register", {"protocol": "any", "destination": "1.2.3.4", "port": 0}),
        request(6, "quota.set", {"app": "/usr/bin/x", "rate": 5}),
    ],
}

ANSWERS = {
    "answer_relay": {"jsonrpc": "2.0", "id": 1, "result": {"verdict": "relay", "flow_id": 17, "relay": "127.0.0.1",
                                                            "relay_port": 39001, "fail_mode": "open", "timeout_ms": 250,
                                                            "reason": "rule 3", "rule_id": 3}},
    "answer_block": {"jsonrpc": "2.0", "id": 1, "result": {"verdict": "block", "reason": "rule 1", "rule_id": 1,
                                                            "fail_mode": "closed", "timeout_ms": 250}},
    "answer_error": {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "parameter 'port' must be 1-65535"}},
    "params_tcp": REGISTER_TCP,
    "params_udp_relay": {"protocol": "udp", "destination": "10.0.0.53", "port": 53, "local": "0.0.0.0", "local_port": 5353},
    "params_smtp": dict(REGISTER_TCP, port=25),
    "params_ipv6": {"protocol": "TCP", "destination": "2001:db8::1", "port": 443, "local": "::", "local_port": 0},
}

RULE_FIELDS = ["192.0.2.1", "::1", "fe80::1", "2001:db8:0:0:1:0:0:1", "::ffff:1.2.3.4", "64:ff9b::192.0.2.1",
               "1:2:3:4:5:6:7::", "10.0.0.0/8", "10.1.2.3/8", "2001:db8::/32", "::/0", "0.0.0.0/0", "::ffff:0:0/96",
               "80", "8000-8100", "65535", "direct", "Relay", "BLOCK", "tcp", "UDP", "any",
               "/usr/bin/*\n/usr/bin/curl", "/opt/**/bin/*\n/opt/vendor/app/bin/agent", "**\n/anything/at/all",
               "C:\\Program Files\\*\\*.exe\nc:\\program files\\Vendor\\app.exe", "/usr/lib/?ython3\n/usr/lib/python3",
               "*a*a*a*a*b\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]

UNITS = ["4096", "1.5", "10GB", "1.5 MiB", "800kbit/s", "1.5MiB/s", "64 KiB/s", "18446744073709551615",
         "0.0000000000000000001 TiB", " 2 Gbit ", "7 bit", "kb", "1e6", "16777216 TiB"]


# The control plane's limits (control/protocol/json_bounds.h): nesting past 64
# levels or a batch past 64 members is refused before parsing. Seeds sit on both
# sides of each limit and far past it, so the fuzzer starts from the edges.
MAX_DEPTH = 64
MAX_BATCH = 64


def nested_request(depth: int) -> bytes:
    """A request nested `depth` levels in all (its own object is the first)."""
    inner = depth - 1
    return (b'{"jsonrpc":"2.0","id":1,"method":"rule.list","params":' + b"[" * inner + b"]" * inner + b"}")


def limit_seeds():
    seeds = {}
    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100_000):
        seeds[f"depth_{depth}.json"] = nested_request(depth)
    seeds["depth_100000_unclosed.json"] = b"[" * 100_000
    seeds["depth_65_objects.json"] = b'{"a":' * 65 + b"1" + b"}" * 65
    for members in (MAX_BATCH, MAX_BATCH + 1):
        seeds[f"batch_{members}.json"] = compact([request(i, "service.status") for i in range(members)])
    seeds["batch_flood_100000.json"] = b"[" + b",".join([b"1"] * 100_000) + b"]"
    return seeds


def write(target, name, data: bytes):
    (CORPUS / target).mkdir(parents=True, exist_ok=True)
    (CORPUS / target / name).write_bytes(data)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    for name, value in RPC.items():
        write("rpc_dispatch", name + ".json", compact(value))
    write("rpc_dispatch", "not_json.txt", b'{"jsonrpc": "2.0", "id": 1, "method": ')
    write("rpc_dispatch", "empty_batch.json", b"[]")
    for name, data in limit_seeds().items():
        write("rpc_dispatch", name, data)

    # Frames as they cross the control socket: one request, several back to back,
    # one cut short, an empty one, and a header announcing 2 GiB.
    hello = compact(HELLO)
    write("frame_decoder", "hello.bin", frame(hello))
    write("frame_decoder", "three_frames.bin", b"".join(frame(compact(request(i, m))) for i, m in
                                                        enumerate(["service.status", "rule.list", "stats.get"], 1)))
    write("frame_decoder", "truncated.bin", frame(hello)[:20])
    write("frame_decoder", "empty_then_hello.bin", frame(b"") + frame(hello))
    write("frame_decoder", "too_large.bin", struct.pack(">I", 0x80000000) + b"{}")
    write("frame_decoder", "over_small_limit.bin", frame(b"x" * 17) + frame(b"y"))
    for name, data in limit_seeds().items():
        write("frame_decoder", name.replace(".json", ".bin"), frame(data))
    # The largest frame the limit allows, then one byte over it.
    write("frame_decoder", "max_frame.bin", frame(b" " * (1024 * 1024 - 2) + b"{}"))
    write("frame_decoder", "max_frame_plus_one.bin", struct.pack(">I", 1024 * 1024 + 1) + b"{}")

    write("policy_document", "full.json", json.dumps(DOCUMENT, indent=2).encode())
    write("policy_document", "empty.json", compact({"sluice_policy": 1}))
    write("policy_document", "settings_numbers.json", compact({"sluice_policy": 1, "settings": {"provider_timeout_ms": 500}}))
    write("policy_document", "bad_destination.json", compact({"sluice_policy": 1, "rules": [{"action": "block",
                                                                                             "destinations": ["10.0.0.300/8"]}]}))
    write("policy_document", "duplicate_quota.json", compact({"sluice_policy": 1, "quotas": [QUOTA_GLOBAL, QUOTA_GLOBAL]}))

    for i, text in enumerate(RULE_FIELDS):
        write("rule_fields", f"field_{i:02d}.txt", text.encode())
    for i, text in enumerate(UNITS):
        write("units", f"unit_{i:02d}.txt", text.encode())
    for name, value in ANSWERS.items():
        write("flow_registration", name + ".json", compact(value))


if __name__ == "__main__":
    main()
