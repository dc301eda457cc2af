"""Senders for the restart tests: threads pushing numbered messages to a receiver for a while.

    loadsend.py ENDPOINT TOPIC --mode persistent|kilo --threads N --seconds S [--rate R]

persistent: each thread keeps one PUSH socket and sends up to R messages a second on it
(bursts every 10 ms), as a long-lived sender with much in flight would.
kilo: each thread opens a context, a PUSH socket and a connection per message, closes
the socket and terminates the context, as oslo.messaging 1.8.3 does for every cast.

Every message is [b"0", TOPIC, b"cast", b"<thread>-<n>"]. Each socket closes with a
linger of LINGER_MS and its context is terminated, so the process ends by itself once
its messages are delivered (or the linger is up). Prints {"sent": [count per thread],
"failed": [...]}: a failed send timed out and is not counted as sent.
"""

import argparse
import json
import threading
import time

import zmq

LINGER_MS = 20000
SNDTIMEO_MS = 5000
BURST_INTERVAL = 0.01


def message(topic, thread, number):
    return [b"0", topic, b"cast", b"%d-%d" % (thread, number)]


def persistent(args, thread, result):
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.SNDTIMEO, SNDTIMEO_MS)
    push.connect(args.endpoint)
    burst = max(1, int(args.rate * BURST_INTERVAL))
    sent = failed = 0
    start = time.monotonic()
    tick = start
    while time.monotonic() - start < args.seconds:
        for _ in range(burst):
            try:
                push.send_multipart(message(args.topic.encode(), thread, sent))
                sent += 1
            except zmq.Again:
                failed += 1
        tick += BURST_INTERVAL
        time.sleep(max(0.0, tick - time.monotonic()))
    push.close(linger=LINGER_MS)
    ctx.term()
    result[thread] = (sent, failed)


def kilo(args, thread, result):
    sent = failed = 0
    start = time.monotonic()
    while time.monotonic() - start < args.seconds:
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.SNDTIMEO, SNDTIMEO_MS)
        push.connect(args.endpoint)
        try:
            push.send_multipart(message(args.topic.encode(), thread, sent))
            sent += 1
        except zmq.Again:
            failed += 1
        push.close(linger=LINGER_MS)
        ctx.term()
    result[thread] = (sent, failed)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("topic")
    parser.add_argument("--mode", choices=["persistent", "kilo"], required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rate", type=int, default=1000, help="messages a second per persistent thread")
    args = parser.parse_args()
    target = persistent if args.mode == "persistent" else kilo
    result = {}
    threads = [threading.Thread(target=target, args=(args, index, result)) for index in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"sent": [result[i][0] for i in range(args.threads)],
                      "failed": [result[i][1] for i in range(args.threads)]}))


if __name__ == "__main__":
    main()
