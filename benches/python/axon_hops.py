"""The hops benchmark's topology on the original Python Axon.

Source -> 8 forwarders -> sink, every inbox bounded to 1024, forwarders that
drain their inbox (Kamaelia's recommended style). Prints "<ns per hop> <messages>".
Needs: pip install kamaelia-axon==1.14.32
"""
import sys
import time

import Axon
from Axon.Ipc import producerFinished
from Axon.AxonExceptions import noSpaceInBox

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
FORWARDERS = 8
CAPACITY = 1024


class Source(Axon.Component.component):
    def main(self):
        n = 0
        while n < MESSAGES:
            try:
                self.send(n, "outbox")
                n += 1
            except noSpaceInBox:
                self.pause()
                yield 1
        self.send(producerFinished(self), "signal")
        yield 1


class Forwarder(Axon.Component.component):
    def main(self):
        held = None
        while True:
            while held is not None or self.dataReady("inbox"):
                if held is None:
                    held = self.recv("inbox")
                try:
                    self.send(held, "outbox")
                    held = None
                except noSpaceInBox:
                    break
            if held is None and not self.dataReady("inbox") and self.dataReady("control"):
                self.send(self.recv("control"), "signal")
                return
            if held is not None or not self.dataReady("inbox"):
                self.pause()
            yield 1


class Sink(Axon.Component.component):
    def main(self):
        self.total = 0
        while True:
            while self.dataReady("inbox"):
                self.total += self.recv("inbox")
            if self.dataReady("control") and not self.dataReady("inbox"):
                return
            self.pause()
            yield 1


def run():
    chain = [Source()] + [Forwarder() for _ in range(FORWARDERS)] + [Sink()]
    for a, b in zip(chain, chain[1:]):
        a.link((a, "outbox"), (b, "inbox"))
        a.link((a, "signal"), (b, "control"))
        b.inboxes["inbox"].setSize(CAPACITY)
    for c in chain:
        c.activate()
    start = time.perf_counter()
    Axon.Scheduler.scheduler.run.runThreads()
    elapsed = time.perf_counter() - start
    assert chain[-1].total == MESSAGES * (MESSAGES - 1) // 2, chain[-1].total
    return elapsed


if __name__ == "__main__":
    elapsed = run()
    print("%.2f %d" % (elapsed * 1e9 / (MESSAGES * (FORWARDERS + 1)), MESSAGES))
