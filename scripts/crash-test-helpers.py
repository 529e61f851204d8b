#!/usr/bin/env python3
"""The moving parts of scripts/crash-test, with the standard library only.

receive  A webhook receiver on 127.0.0.1: completes the verification (GETs the callback a
         `webhook.verify` message carries) and appends one line per other message to a file:
         object_id, X-Gatehouse-Delivery, X-Gatehouse-Attempt, arrival (Unix time). The line is
         written when the request arrives, before the answer, so a message counts as received
         even if the sender dies before it reads the 200.
publish  POSTs /v1/events from several keep-alive connections at once and appends the object_id
         of every event answered 202 (acknowledged) to a file. With --kill-pid it sends SIGKILL
         to the server once --kill-after events were acknowledged and the receiver is answering
         a message (writing the moment to --kill-time-file), then keeps publishing until each
         connection fails: whatever was not answered 202 is not acknowledged.
verify   Waits (bounded) until every acknowledged object_id was received and the server holds no
         pending delivery, then reports the counts; exits 1 if an acknowledged event is missing.
         With --takeover-within SECS it also fails unless every message that was in flight at
         the kill (received before it, its outcome never recorded) was sent again within SECS
         of the moment in --takeover-since (the kill, or the restart).
"""

import argparse
import http.client
import http.server
import json
import os
import signal
import sys
import threading
import time
import urllib.request

EVENT = "crash.test"


def receive(args):
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1, encoding="utf-8")
    in_flight = [0]

    def verify(callback):
        for _ in range(50):
            try:
                with urllib.request.urlopen(callback, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError as error:
                print(f"receiver: verification callback failed: {error}", file=sys.stderr)
            time.sleep(0.1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def log_message(self, *_):
            pass

        def answer(self, body):
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            # The publisher asks how many messages are being answered right now.
            with lock:
                count = in_flight[0]
            self.answer(str(count).encode())

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            message = json.loads(body)
            if message.get("event") == "webhook.verify":
                callback = message["payload"]["callback"]
                threading.Thread(target=verify, args=(callback,), daemon=True).start()
                self.answer(b"ok")
                return
            line = "{} {} {} {:.3f}\n".format(
                message.get("object_id"),
                self.headers.get("x-gatehouse-delivery"),
                self.headers.get("x-gatehouse-attempt"),
                time.time(),
            )
            with lock:
                log.write(line)
                in_flight[0] += 1
            try:
                # A little work per message, so that deliveries are in flight when the server
                # dies.
                time.sleep(args.delay_ms / 1000)
                self.answer(b"ok")
            finally:
                with lock:
                    in_flight[0] -= 1

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

        def handle_error(self, request, client_address):
            # A sender killed mid-request resets its connections: expected here.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as port_file:
        port_file.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


def lines(path):
    try:
        with open(path, encoding="utf-8") as file:
            return [line.split() for line in file if line.strip()]
    except FileNotFoundError:
        return []


def receiver_in_flight(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/in-flight")
    answer = connection.getresponse()
    count = int(answer.read())
    connection.close()
    return count


def publish(args):
    lock = threading.Lock()
    acked_file = open(args.acked, "a", buffering=1, encoding="utf-8")
    state = {"next": args.first, "acked": 0, "unanswered": 0, "refused": []}
    half_way = threading.Event()
    publishing_done = threading.Event()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        while True:
            with lock:
                index = state["next"]
                if index >= args.last:
                    return
                state["next"] += 1
            object_id = f"crash-{index:06d}"
            body = json.dumps({"event": EVENT, "object_id": object_id, "payload": {"n": index}})
            try:
                connection.request(
                    "POST",
                    "/v1/events",
                    body=body,
                    headers={
                        "authorization": f"Bearer {args.token}",
                        "content-type": "application/json",
                    },
                )
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                # Connection refused, reset or closed: the server is gone (or this is a bug,
                # which the summary shows). Either way the event is not acknowledged.
                with lock:
                    state["unanswered"] += 1
                return
            with lock:
                if status != 202:
                    state["refused"].append((object_id, status))
                    continue
                acked_file.write(object_id + "\n")
                state["acked"] += 1
                if args.kill_pid and state["acked"] >= args.kill_after:
                    half_way.set()

    def killer():
        # Half-way, and at a moment the receiver is answering messages: those deliveries are
        # sent but not yet recorded, so they are still leased to the process that dies.
        while not half_way.wait(0.01):
            if publishing_done.is_set():
                break
        until = time.monotonic() + 10
        in_flight = 0
        while time.monotonic() < until:
            in_flight = receiver_in_flight(args.receiver_port)
            if in_flight > 0:
                break
        os.kill(args.kill_pid, signal.SIGKILL)
        if args.kill_time_file:
            with open(args.kill_time_file, "w", encoding="utf-8") as kill_time:
                kill_time.write(f"{time.time():.3f}")
        with lock:
            acked = state["acked"]
        print(
            f"  kill -9 after {acked} acknowledged events, with {in_flight} messages being "
            f"answered and {len(lines(args.received))} received so far"
        )

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    kill_thread = threading.Thread(target=killer) if args.kill_pid else None
    if kill_thread:
        kill_thread.start()
    for thread in threads:
        thread.join()
    publishing_done.set()
    if kill_thread:
        kill_thread.join()
    elapsed = time.monotonic() - started
    print(
        f"  published crash-{args.first:06d} and on: {state['acked']} acknowledged in "
        f"{elapsed:.1f} s, {state['unanswered']} unanswered (connection lost), "
        f"{len(state['refused'])} refused"
    )
    with open(args.next_file, "w", encoding="utf-8") as next_file:
        next_file.write(str(min(state["next"], args.last)))
    if state["refused"]:
        print(f"  refused (not 202): {state['refused'][:10]}", file=sys.stderr)
        sys.exit(1)
    if not args.kill_pid and state["unanswered"]:
        print("  requests went unanswered while the server was up", file=sys.stderr)
        sys.exit(1)


def pending_deliveries(args):
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
    counts = {}
    for status in ("pending", "failed"):
        connection.request(
            "GET",
            f"/v1/webhook_deliveries?status={status}&per_page=1",
            headers={"authorization": f"Bearer {args.token}"},
        )
        answer = connection.getresponse()
        answer.read()
        counts[status] = int(answer.getheader("x-pagination-total-entries", "-1"))
    connection.close()
    return counts


def verify(args):
    acked = {line[0] for line in lines(args.acked)}
    started = time.monotonic()
    deadline = started + args.deadline_secs
    while True:
        received = lines(args.received)
        missing = acked - {line[0] for line in received}
        try:
            counts = pending_deliveries(args)
        except (OSError, http.client.HTTPException, ValueError):
            counts = {"pending": -1, "failed": -1}
        done = not missing and counts["pending"] == 0
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    ids = [line[0] for line in received]
    unique = set(ids)
    retried = sum(1 for line in received if line[2] != "1")
    print(
        f"  acknowledged {len(acked)}, received {len(ids)} messages for {len(unique)} events "
        f"({len(ids) - len(unique)} duplicates, {retried} with attempt > 1, "
        f"{len(unique - acked)} received but never acknowledged); "
        f"server: {counts['pending']} pending, {counts['failed']} failed; "
        f"{elapsed:.1f} s after the restart's publishing"
    )
    if missing:
        print(
            f"  LOST: {len(missing)} acknowledged events never received, e.g. {sorted(missing)[:10]}",
            file=sys.stderr,
        )
        sys.exit(1)
    if args.takeover_within is not None:
        check_takeover(args, received)
    if counts["pending"] != 0:
        print("  deliveries still pending at the deadline", file=sys.stderr)
        sys.exit(1)


def read_time(path):
    with open(path, encoding="utf-8") as file:
        return float(file.read().strip())


def check_takeover(args, received):
    """Messages in flight at the kill were received before it and never recorded: each is sent
    again once its lease is given back (SQLite, at the restart) or runs out (PostgreSQL). The
    last of those second sends must come within --takeover-within of --takeover-since."""
    killed_at = read_time(args.kill_time_file)
    since = read_time(args.takeover_since)
    before_kill = {line[0] for line in received if float(line[3]) < killed_at}
    again = [float(line[3]) - since for line in received
             if float(line[3]) >= killed_at and line[0] in before_kill]
    if not again:
        print("  takeover: no message was in flight at the kill, nothing to take over")
        return
    last = max(again)
    # (a negative figure: sent again before the restart was seen to answer /readyz)
    print(
        f"  takeover: {len(again)} messages in flight at the kill were sent again, the last "
        f"{last:.1f} s after the {args.takeover_label} (limit {args.takeover_within:g} s)"
    )
    if last > args.takeover_within:
        print("  takeover too slow", file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    receiver = commands.add_parser("receive")
    receiver.add_argument("--port-file", required=True)
    receiver.add_argument("--log", required=True)
    receiver.add_argument("--delay-ms", type=float, default=10)

    publisher = commands.add_parser("publish")
    publisher.add_argument("--port", type=int, required=True)
    publisher.add_argument("--token", required=True)
    publisher.add_argument("--first", type=int, required=True)
    publisher.add_argument("--last", type=int, required=True, help="exclusive")
    publisher.add_argument("--workers", type=int, default=8)
    publisher.add_argument("--acked", required=True)
    publisher.add_argument("--received", required=True)
    publisher.add_argument("--next-file", required=True)
    publisher.add_argument("--receiver-port", type=int, default=0)
    publisher.add_argument("--kill-pid", type=int, default=0)
    publisher.add_argument("--kill-after", type=int, default=0)
    publisher.add_argument("--kill-time-file", default="")

    verifier = commands.add_parser("verify")
    verifier.add_argument("--port", type=int, required=True)
    verifier.add_argument("--token", required=True)
    verifier.add_argument("--acked", required=True)
    verifier.add_argument("--received", required=True)
    verifier.add_argument("--deadline-secs", type=float, default=120)
    verifier.add_argument("--kill-time-file", default="")
    verifier.add_argument("--takeover-since", default="", help="a file holding a Unix time")
    verifier.add_argument("--takeover-label", default="kill")
    verifier.add_argument("--takeover-within", type=float, default=None)

    args = parser.parse_args()
    {"receive": receive, "publish": publish, "verify": verify}[args.command](args)


if __name__ == "__main__":
    main()
