#!/usr/bin/python3
"""A TCP gate on loopback between a fleet node and etcd, for tests that must cut the node off at
one exact point: usage gate.py LISTEN_PORT TARGET_PORT CONTROL_FILE. What the control file says
(read at every chunk, and every 20 ms):
  pass            bytes pass both ways (also when the file is missing);
  cut-at-compact  they pass until etcd answers a watch with a compacted revision; that answer
                  passed, the gate writes "down" in the file and is down;
  down            every connection is closed, and every new one as soon as it is taken;
  cut-txn         bytes pass, but a connection that carries a transaction (POST /v3/kv/txn) is
                  closed when etcd answers it, the answer not passed: etcd made the change, the
                  client saw its connection cut;
  hold-pinned-range  bytes pass, but the first range request that names a revision (a page of
                  a read after its first) is held: the gate writes "held" in the file and passes
                  it on once the file says anything else.
Either side's end of its stream closes both ways (curl and etcd never half-close).
"""
import asyncio
import os
import re
import sys

COMPACTED = re.compile(rb'"compact_revision":"?[1-9]')


def mode(path):
    try:
        with open(path) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


async def main():
    listen, target, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    open_writers = set()

    def cut_all():
        for w in list(open_writers):
            w.close()
        open_writers.clear()

    async def pipe(reader, writer, from_etcd, conn):
        tail = b""
        try:
            while data := await reader.read(65536):
                if mode(ctl) == "down":
                    break
                if not from_etcd and mode(ctl) == "hold-pinned-range":
                    if b"POST /v3/kv/range" in data:
                        conn["range"] = True
                    if conn.get("range") and b'"revision"' in data:
                        with open(ctl + ".gate", "w") as f:
                            f.write("held\n")
                        os.replace(ctl + ".gate", ctl)
                        while mode(ctl) == "held":
                            await asyncio.sleep(0.02)
                if mode(ctl) == "cut-txn":
                    if not from_etcd and b"POST /v3/kv/txn" in data:
                        conn["txn"] = True
                    elif from_etcd and conn.get("txn"):
                        print("cut-txn: an answer to a transaction not passed", file=sys.stderr,
                              flush=True)
                        conn["client"].close()
                        break
                writer.write(data)
                await writer.drain()
                # The answer may come in two chunks: the end of the last one searched too.
                if from_etcd and mode(ctl) == "cut-at-compact" and COMPACTED.search(tail + data):
                    with open(ctl + ".gate", "w") as f:
                        f.write("down\n")
                    os.replace(ctl + ".gate", ctl)
                    break
                tail = data[-64:]
        except OSError:
            pass
        cut_all_if_down()
        writer.close()

    def cut_all_if_down():
        if mode(ctl) == "down":
            cut_all()

    async def serve(client_r, client_w):
        if mode(ctl) == "down":
            client_w.close()
            return
        try:
            etcd_r, etcd_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        open_writers.update((client_w, etcd_w))
        conn = {"client": client_w}
        await asyncio.gather(pipe(client_r, etcd_w, False, conn),
                             pipe(etcd_r, client_w, True, conn))
        open_writers.discard(client_w)
        open_writers.discard(etcd_w)

    async def watch_control():
        while True:
            cut_all_if_down()
            await asyncio.sleep(0.02)

    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    async with server:
        await asyncio.gather(server.serve_forever(), watch_control())


if __name__ == "__main__":
    asyncio.run(main())
