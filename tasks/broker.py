"""The embedded broker: kombu's filesystem transport with messages written atomically.

kombu's filesystem transport creates a message file and then writes it; a worker polling the
folder can take the file in between and read it empty, and the JSON error that follows stops
the worker's consumer for good (every later job waits forever). Here a message is written to
a name the consumer ignores and renamed into place, so a message file is complete whenever it
is visible.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # The signature of kombu.transport.filesystem.Channel._put (its base declares a narrower one).
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as message:
                message.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
