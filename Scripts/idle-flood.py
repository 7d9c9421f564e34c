#!/usr/bin/env python3
"""idle-flood.py — hold many idle TCP connections to a node's P2P port and watch whether the testnet keeps
committing (issue 14, finding 2: ~1,050 idle connections used to exhaust a node started under `ulimit -n 1024`).

Usage:
  Scripts/idle-flood.py --dir TESTNET_DIR [--node 1] [--connections 2000] [--hold 40] [--half-open-api 200]

TESTNET_DIR is a `trellis testnet up` directory (testnet.json gives the addresses; <home>/node.pid the process).
Every 2 s it prints: connections still open (the node closes idle ones), the flooded node's open descriptors, and
every node's committed height. Exit status 0 when every node committed during the hold, 1 otherwise.
"""
import argparse
import json
import os
import socket
import sys
import time
import urllib.request


def height(api):
    try:
        with urllib.request.urlopen(api + "/v1/status", timeout=3) as r:
            return json.load(r).get("height", -1)
    except Exception:
        return -1


def descriptors(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def still_open(sockets):
    """Sockets the server has not closed (a closed one reads EOF or errors without blocking)."""
    alive = []
    for s in sockets:
        try:
            data = s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
            if data == b"":
                s.close()
                continue
            alive.append(s)
        except BlockingIOError:
            alive.append(s)
        except OSError:
            s.close()
    return alive


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--node", type=int, default=1)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=40)
    parser.add_argument("--half-open-api", type=int, default=0, help="also open this many API connections that send half a request head")
    args = parser.parse_args()

    with open(os.path.join(args.dir, "testnet.json")) as f:
        testnet = json.load(f)
    nodes = testnet["nodes"]
    apis = [n["api_url"] for n in nodes]
    target = nodes[args.node - 1]
    p2p_port = int(target["p2p_address"].rsplit(":", 1)[1])
    api_port = int(target["api_url"].rsplit(":", 1)[1])
    pid = int(open(os.path.join(target["home"], "node.pid")).read().strip())

    print(f"node{args.node} pid {pid}: {descriptors(pid)} descriptors before; heights {[height(a) for a in apis]}")
    sockets, refused = [], 0
    for _ in range(args.connections):
        s = socket.socket()
        s.settimeout(0.3)  # a full accept backlog drops the SYN: count it as refused rather than wait
        try:
            s.connect(("127.0.0.1", p2p_port))
            s.setblocking(False)
            sockets.append(s)
        except OSError:
            refused += 1
            s.close()
        if len(sockets) % 250 == 0 and sockets:
            print(f"  {len(sockets)} open, node fds {descriptors(pid)}", flush=True)
    api_sockets = []
    for _ in range(args.half_open_api):
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(("127.0.0.1", api_port))
            s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")  # never finished
            s.setblocking(False)
            api_sockets.append(s)
        except OSError:
            s.close()
    print(f"opened {len(sockets)} p2p connections ({refused} failed to connect), {len(api_sockets)} half-open API connections")

    start = [height(a) for a in apis]
    deadline = time.time() + args.hold
    peak = 0
    while time.time() < deadline:
        time.sleep(2)
        sockets = still_open(sockets)
        api_sockets = still_open(api_sockets)
        fds = descriptors(pid)
        peak = max(peak, fds)
        print(f"t+{args.hold - (deadline - time.time()):5.1f}s open p2p {len(sockets):5d} api {len(api_sockets):4d}  node fds {fds:5d}  heights {[height(a) for a in apis]}", flush=True)
    end = [height(a) for a in apis]
    committed = all(e > s >= 0 for s, e in zip(start, end))
    print(f"heights {start} -> {end}; peak descriptors {peak}; every node committed during the flood: {committed}")
    for s in sockets + api_sockets:
        s.close()
    return 0 if committed else 1


if __name__ == "__main__":
    sys.exit(main())
