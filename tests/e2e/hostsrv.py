#!/usr/bin/python3
"""The end-to-end test's outside world, on the host's 127.0.0.1 only.

The proxy VM's QEMU user networking maps its host alias to the host's
loopback, so these servers are what the dev VM reaches through the proxy:

  tcp 80    HTTP: answers "sbx-e2e PATH" to any GET; a GET of
            /e2e-flag-set/NAME sets flag NAME, /e2e-flag/NAME answers
            "sbx-e2e flag NAME set" (or "unset"): how the proxy VM tells
            the dev VM that its restarts are done
  tcp 443   the same over TLS (a self-signed certificate made at start)
  tcp 22    a fake SSH server: sends its banner, then closes
  tcp 7000  a canary: nothing should ever connect
  udp 53    a canary DNS server: never answers, records every datagram
  udp 7000  a canary

Every connection and datagram is one line in the hit log:
"PROTO PORT PEER FIRST-BYTES".  Runs until killed, or --seconds.

usage: hostsrv.py HITLOG WORKDIR [--seconds N]
"""
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

ADDR = "127.0.0.1"
lock = threading.Lock()
flags = set()


def hit(log, proto, port, peer, data):
    text = data[:60].decode("latin-1").replace("\n", "\\n").replace("\r", "")
    with lock, open(log, "a") as f:
        f.write(f"{proto} {port} {peer[0]}:{peer[1]} {text}\n")


def http_answer(conn, log, port):
    conn.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 8192:
            b = conn.recv(4096)
            if not b:
                break
            data += b
    except (OSError, ssl.SSLError):
        pass
    hit(log, "tcp", port, conn.getpeername(), data)
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    path = parts[1] if len(parts) > 1 else "?"
    body = f"sbx-e2e {path}\n".encode()
    if path.startswith("/e2e-flag-set/"):
        with lock:
            flags.add(path[len("/e2e-flag-set/"):])
    elif path.startswith("/e2e-flag/"):
        name = path[len("/e2e-flag/"):]
        with lock:
            state = "set" if name in flags else "unset"
        body = f"sbx-e2e flag {name} {state}\n".encode()
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: " + str(len(body)).encode() +
                     b"\r\nConnection: close\r\n\r\n" + body)
    except OSError:
        pass


def ssh_answer(conn, log, port):
    conn.settimeout(5)
    try:
        conn.sendall(b"SSH-2.0-sbx-e2e-fake\r\n")
        data = conn.recv(256)
    except OSError:
        data = b""
    hit(log, "tcp", port, conn.getpeername(), data)
    time.sleep(1)


def canary(conn, log, port):
    conn.settimeout(2)
    try:
        data = conn.recv(256)
    except OSError:
        data = b""
    hit(log, "tcp", port, conn.getpeername(), data)


def serve_tcp(port, handler, log, ctx=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ADDR, port))
    s.listen(16)

    def one(conn):
        try:
            if ctx is not None:
                conn = ctx.wrap_socket(conn, server_side=True)
            handler(conn, log, port)
        except (OSError, ssl.SSLError) as e:
            hit(log, "tcp", port, ("?", 0), f"error {e}".encode())
        finally:
            conn.close()

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def serve_udp(port, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ADDR, port))

    def loop():
        while True:
            data, peer = s.recvfrom(4096)
            hit(log, "udp", port, peer, data)

    threading.Thread(target=loop, daemon=True).start()


def main():
    log, work = sys.argv[1], sys.argv[2]
    seconds = None
    if len(sys.argv) > 4 and sys.argv[3] == "--seconds":
        seconds = float(sys.argv[4])
    os.makedirs(work, exist_ok=True)
    key, crt = os.path.join(work, "tls.key"), os.path.join(work, "tls.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                        "-subj", "/CN=sbx-e2e"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    open(log, "a").close()
    serve_tcp(80, http_answer, log)
    serve_tcp(443, http_answer, log, ctx)
    serve_tcp(22, ssh_answer, log)
    serve_tcp(7000, canary, log)
    serve_udp(53, log)
    serve_udp(7000, log)
    print("hostsrv: ready", flush=True)
    deadline = time.time() + seconds if seconds else None
    while deadline is None or time.time() < deadline:
        time.sleep(1)


if __name__ == "__main__":
    main()
