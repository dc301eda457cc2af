"""Push multipart messages given as JSON lists of hex frames on stdin (run inside a namespace)."""

import json
import sys

import zmq


def main():
    messages = json.load(sys.stdin)
    context = zmq.Context()
    push = context.socket(zmq.PUSH)
    push.setsockopt(zmq.IMMEDIATE, 1)
    push.setsockopt(zmq.SNDTIMEO, 5000)
    push.setsockopt(zmq.LINGER, 5000)
    push.connect(sys.argv[1])
    for message in messages:
        push.send_multipart([bytes.fromhex(frame) for frame in message])
    push.close()
    context.term()


if __name__ == "__main__":
    main()
