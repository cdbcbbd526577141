"""python -m bench.receiver --port N: a webhook receiver that answers every POST with 204.

As cheap as a receiver can be (asyncio protocol, no HTTP library, no parsing beyond the
Content-Length), so that the bench measures the sender. It counts the requests and the
distinct webhook-ids it got, and prints both on SIGTERM.
"""

import argparse
import asyncio
import re
import signal
import sys
from typing import ClassVar

_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
_ID = re.compile(rb"\r\nwebhook-id: *([^\r]+)", re.IGNORECASE)
_ANSWER = b"HTTP/1.1 204 No Content\r\n\r\n"


class Receiver(asyncio.Protocol):
    requests: ClassVar[int] = 0
    ids: ClassVar[set[bytes]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            found = _LENGTH.search(head)
            size = end + 4 + (int(found[1]) if found else 0)
            if len(self.buffer) < size:
                return
            self.buffer = self.buffer[size:]
            Receiver.requests += 1
            if found_id := _ID.search(head):
                Receiver.ids.add(found_id[1])
            self.transport.write(_ANSWER)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port)
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    async with server:
        await stopped.wait()
    sys.stdout.write(f"{Receiver.requests} {len(Receiver.ids)}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.receiver", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
