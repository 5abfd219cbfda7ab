"""The decoder module: channel table (``IMP_Decoder_*`` state)."""

from __future__ import annotations

import threading

from imp import log
from imp.core.graph import DEV_ID_DEC
from imp.core.registry import Registry
from imp.decoder.attr import MAX_CHANNELS, DecoderAttr
from imp.decoder.channel import DecoderChannel
from imp.system import get_system

_log = log.get("dec")


class Decoder:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.channels: Registry[DecoderChannel] = Registry(
            "decoder channel", MAX_CHANNELS, "IMP_Decoder_CreateChn"
        )

    def channel(self, chn: int) -> DecoderChannel:
        return self.channels.lookup(chn)

    def create(self, chn: int, attr: DecoderAttr) -> DecoderChannel:
        return self.channels.create_node(
            chn,
            self._lock,
            "Decoder CreateChn",
            lambda: DecoderChannel(chn, attr),
            self.shutdown,
            DEV_ID_DEC,  # the graph puts sources last
            validate=lambda: attr.validate(chn),
        )

    def destroy(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            get_system().graph.unregister(DEV_ID_DEC, chn)  # Busy while bound
            del self.channels[chn]
        ch.destroy()

    def shutdown(self) -> None:
        """System_Exit: destroy every channel (its worker stopped, its frames returned)."""
        self.channels.destroy_all(self._lock, lambda ch: ch.destroy(), _log)


_decoder = Decoder()


def get_decoder() -> Decoder:
    return _decoder
