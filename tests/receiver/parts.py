"""The receiver's parts wired as Receiver wires them, for the unit tests of each part."""

import zmq
from zmq_fabric.budget import Budget
from zmq_fabric.config import Config
from zmq_fabric.hold import ReplyHold
from zmq_fabric.routing import Routes
from zmq_fabric.tally import Tally


class Parts:
    """Budget, reply hold, tally and routes, with their sockets in a temporary IPC directory."""

    def __init__(self, ctx, ipc_dir, **bounds):
        self.ctx = ctx
        self.ipc_dir = ipc_dir
        self.poller = zmq.Poller()
        self.budget = Budget(Config(ipc_dir=ipc_dir, **bounds))
        self.budget.plan()
        self.tally = Tally()
        self.hold = ReplyHold(self.budget.cfg.reply_hold_ms / 1000, self.budget, self.tally)
        self.routes = Routes(self.budget.cfg, socket=self.socket, poller=self.poller, budget=self.budget,
                             hold=self.hold, tally=self.tally)
        self.budget.evict_from(self.routes)

    def socket(self, kind):
        sock = self.ctx.socket(kind)
        sock.linger = 0
        return sock

    def consumer(self, route, kind=zmq.PULL):
        sock = self.socket(kind)
        sock.connect(f"ipc://{self.ipc_dir}/zmq_topic_{route.topic}")
        return sock

    def polled(self, route):
        return dict(self.poller.poll(0)).get(route.socket, 0)


def message(topic, body=b"hello"):
    return (b"msg", topic.encode(), b"cast", body)
