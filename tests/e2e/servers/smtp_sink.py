"""An SMTP receiver for the tests: aiosmtpd (tests/e2e/requirements-smtp.txt) on
127.0.0.1 with a port of the system's choosing. Each delivered message is decoded
and written to the directory given as one JSON file, <n>.json, with the envelope's
sender and recipients, the From, To and Subject headers and the plain-text body.
Prints "MCPGATE_E2E_LISTENING 127.0.0.1:<port>" once it accepts connections."""

import asyncio
import email
import email.policy
import itertools
import json
import pathlib
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        body = message.get_body(("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "text": body.get_content() if body is not None else "",
        }
        number = next(self.counter)
        partial = self.directory / f".{number}.partial"
        partial.write_text(json.dumps(record))
        # Renamed when complete, so a reader never sees half a message.
        partial.rename(self.directory / f"{number}.json")
        return "250 Message accepted for delivery"


async def main() -> None:
    directory = pathlib.Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    store = Store(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(store, hostname="localhost"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"MCPGATE_E2E_LISTENING 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
