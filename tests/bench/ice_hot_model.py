#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A model of ice_hot's replacement under the shared-port runs of `make bench` (BENCH_SHARED=1).

    /usr/bin/python3 tests/bench/ice_hot_model.py [FRAMES [ROUNDS]]

ice_hot is 32,768 lines of 8 entries; a sender's line is a hash of it (random here). As in the
bench: 500,000 senders per family are learned first (each puts its entry), then each round runs,
per kind (media, then the two Binding Request runs) and per family, one request from each of
that family's 100,000 active senders (the untimed learning before the run), then FRAMES frames
from the active senders in turn (the timed run). Prints, per run, the share of frames whose
sender had no entry (read from the sets instead), for each replacement policy:
  random  a free entry, else one at random (before commit 513d852);
  nru     a free entry, else the first not marked used from a way at random, else unmark all
          and take one at random (an entry is marked when put and when a packet finds it
          unmarked); nru-first the same, the first unmarked from way 0 on.
"""
import random
import sys

LINES, WAYS = 32768, 8
SENDERS, ACTIVE = 500000, 100000
KINDS = ("media", "stun4", "stun32")


class Hot:
    def __init__(self, policy, rng):
        self.policy, self.rng = policy, rng
        self.key = [[None] * WAYS for _ in range(LINES)]
        self.ref = [[False] * WAYS for _ in range(LINES)]

    def access(self, line, sender):
        """True if sender had an entry in line; else puts one."""
        keys, ref = self.key[line], self.ref[line]
        for w in range(WAYS):
            if keys[w] == sender:
                ref[w] = True
                return True
        w = next((w for w in range(WAYS) if keys[w] is None), None)
        if w is None and self.policy.startswith("nru"):
            r = 0 if self.policy == "nru-first" else self.rng.randrange(WAYS)
            w = next(((r + i) % WAYS for i in range(WAYS) if not ref[(r + i) % WAYS]), None)
            if w is None:
                ref[:] = [False] * WAYS
        if w is None:
            w = self.rng.randrange(WAYS)
        keys[w], ref[w] = sender, True
        return False


def run(policy, frames, rounds):
    rng = random.Random(1)
    lines = {f: [rng.randrange(LINES) for _ in range(SENDERS)] for f in (4, 6)}
    active = {f: list(range(0, SENDERS, SENDERS // ACTIVE)) for f in (4, 6)}
    hot = Hot(policy, rng)
    for f in (4, 6):
        for s in range(SENDERS):
            hot.access(lines[f][s], (f, s))
    for r in range(1, rounds + 1):
        for kind in KINDS:
            for f in (4, 6):
                for s in active[f]:
                    hot.access(lines[f][s], (f, s))
                a = active[f]
                miss = sum(not hot.access(lines[f][a[i % len(a)]], (f, a[i % len(a)]))
                           for i in range(frames))
                print(f"{policy:6} round {r} {kind:6} IPv{f}: {100 * miss / frames:.2f}% "
                      "without an entry", flush=True)


def main():
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 4000000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for policy in ("random", "nru-first", "nru"):
        run(policy, frames, rounds)


if __name__ == "__main__":
    main()
