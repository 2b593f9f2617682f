"""The embedded broker (tasks/broker.py): a consumer polling the folder while a producer
writes never takes a message before it is complete. kombu's own filesystem transport created
the file and then wrote it; a worker that read it empty stopped consuming for good, and every
later job of every test waited for nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from queue import Empty

from kombu import Connection

MESSAGES = 3000
TRANSPORT = "tasks.broker:Transport"


def test_a_polling_consumer_only_ever_sees_whole_messages(tmp_path: Path) -> None:
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path),
               "store_processed": False}
    received: list[object] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        with Connection("filesystem://", transport=TRANSPORT,
                        transport_options=options) as connection:
            channel = connection.default_channel
            while not (done.is_set() and len(received) >= MESSAGES):
                try:
                    received.append(channel._get("jobs"))
                except Empty:
                    if done.is_set() and not any(tmp_path.glob("*.jobs.msg")):
                        return
                except Exception as exc:  # an empty or half-written file
                    failures.append(exc)
                    return

    consumer = threading.Thread(target=consume)
    consumer.start()
    with Connection("filesystem://", transport=TRANSPORT,
                    transport_options=options) as connection:
        channel = connection.default_channel
        payload = {"body": "x" * 20_000}  # big enough for a reader to catch a partial write
        for n in range(MESSAGES):
            channel._put("jobs", {**payload, "n": n})
    done.set()
    consumer.join(timeout=60)
    assert not failures, failures[0]
    assert sorted(message["n"] for message in received) == list(range(MESSAGES))  # type: ignore[index]
