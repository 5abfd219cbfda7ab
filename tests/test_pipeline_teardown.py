"""System_Exit stops the modules in the order the bind graph gives: consumers first."""

from __future__ import annotations

from imp.core.graph import DEV_ID_DEC, DEV_ID_ENC, DEV_ID_FS, DEV_ID_IVS, DEV_ID_OSD, Graph
from imp.core.vbm import Frame


class Node:
    def __init__(self, device: int, group: int, outputs: int) -> None:
        self.device, self.group, self.num_outputs = device, group, outputs

    def on_frame(self, frame: Frame) -> None:
        frame.release()


def test_teardown_order_follows_the_binds() -> None:
    g = Graph()
    for node in (
        Node(DEV_ID_FS, 0, 2),
        Node(DEV_ID_FS, 1, 2),
        Node(DEV_ID_OSD, 0, 1),
        Node(DEV_ID_ENC, 0, 0),
        Node(DEV_ID_IVS, 0, 1),
    ):
        g.register(node)
    everything = {DEV_ID_FS, DEV_ID_OSD, DEV_ID_ENC, DEV_ID_IVS}
    # FS0 -> IVS0 -> OSD0 -> ENC0: deepest chain decides
    g.bind((DEV_ID_FS, 0, 0), (DEV_ID_IVS, 0, 0))
    g.bind((DEV_ID_IVS, 0, 0), (DEV_ID_OSD, 0, 0))
    g.bind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
    assert g.teardown_order(everything) == [DEV_ID_ENC, DEV_ID_OSD, DEV_ID_IVS, DEV_ID_FS]
    # the other way round: FS1 -> OSD... and IVS fed by OSD
    g.unbind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
    g.unbind((DEV_ID_IVS, 0, 0), (DEV_ID_OSD, 0, 0))
    g.unbind((DEV_ID_FS, 0, 0), (DEV_ID_IVS, 0, 0))
    g.bind((DEV_ID_FS, 1, 0), (DEV_ID_OSD, 0, 0))
    g.bind((DEV_ID_OSD, 0, 0), (DEV_ID_IVS, 0, 0))
    g.bind((DEV_ID_IVS, 0, 0), (DEV_ID_ENC, 0, 0))
    assert g.teardown_order(everything) == [DEV_ID_ENC, DEV_ID_IVS, DEV_ID_OSD, DEV_ID_FS]
    # nothing bound any more: producers (FS, DEC) still last
    g.unbind((DEV_ID_IVS, 0, 0), (DEV_ID_ENC, 0, 0))
    g.unbind((DEV_ID_OSD, 0, 0), (DEV_ID_IVS, 0, 0))
    g.unbind((DEV_ID_FS, 1, 0), (DEV_ID_OSD, 0, 0))
    order = g.teardown_order(everything | {DEV_ID_DEC})
    assert order[-2:] == [DEV_ID_FS, DEV_ID_DEC]
    assert set(order[:3]) == {DEV_ID_ENC, DEV_ID_IVS, DEV_ID_OSD}


def test_system_exit_runs_device_hooks_in_graph_order() -> None:
    import imp
    from imp.system import get_system

    calls: list[str] = []
    system = get_system()
    hooks = {
        name: (lambda name=name: calls.append(name)) for name in ("a", "enc", "osd", "fs", "z")
    }
    imp.kernel.sim_overrides(clock="virtual")
    try:
        with imp.open() as cam:
            main = cam.framesource(size=(640, 360))
            osd = cam.overlay(main)
            cam.encoder(osd, imp.H264(bitrate_kbps=300))
            system.on_exit(hooks["a"], order=20)
            system.on_exit(hooks["z"], order=90)
            for dev, name in ((DEV_ID_ENC, "enc"), (DEV_ID_OSD, "osd"), (DEV_ID_FS, "fs")):
                system.on_exit(hooks[name], device=dev)
            system.exit()  # with FS -> OSD -> ENC still bound, as an application may leave it
    finally:
        for hook in hooks.values():
            system.remove_exit_hook(hook)
    assert calls == ["a", "enc", "osd", "fs", "z"]


def test_a_destroyed_channel_says_it_is_closed() -> None:
    import pytest

    from imp.core.registry import Registry
    from imp.errors import InvalidArgument, NotFound

    table: Registry[str] = Registry("encoder channel", 4, "CreateChn")
    with pytest.raises(NotFound, match="does not exist; call CreateChn first"):
        table.lookup(1)
    table[1] = "h264"
    assert table.lookup(1) == "h264" and table.free() == 0
    del table[1]
    with pytest.raises(NotFound, match=r"was destroyed .*closed.*CreateChn to create it again"):
        table.lookup(1)
    with pytest.raises(InvalidArgument, match=r"encoder channel 4 must be 0\.\.3"):
        table.lookup(4)


def test_every_module_hooks_system_exit_by_device() -> None:
    """FrameSource (and EmuFrameSource), the decoder and the five audio modules are placed by
    the graph (device=DEV_ID_*), never by an order number; consumers go before producers."""
    import imp
    from imp.audio.adec import get_adec
    from imp.audio.aenc import get_aenc
    from imp.audio.ai import get_ai
    from imp.audio.ao import get_ao
    from imp.audio.dmic import get_dmic
    from imp.codec.base import CodecType
    from imp.core.graph import DEV_ID_ADEC, DEV_ID_AENC, DEV_ID_AI, DEV_ID_AO, DEV_ID_DMIC
    from imp.decoder.attr import DecoderAttr
    from imp.decoder.module import get_decoder
    from imp.framesource.module import get_framesource
    from imp.system import get_system

    system = get_system()
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        cam.framesource(size=(640, 360))
        get_decoder().create(0, DecoderAttr(CodecType.H264, 640, 360))
        aenc, adec = get_aenc(), get_adec()
        aenc.create(0, 0, 16)  # PT_PCM
        adec.create(0, 0, 16)
        modules = {
            get_framesource().shutdown: DEV_ID_FS,
            get_decoder().shutdown: DEV_ID_DEC,
            get_ai().shutdown: DEV_ID_AI,
            get_ao().shutdown: DEV_ID_AO,
            get_dmic().shutdown: DEV_ID_DMIC,
            aenc.destroy_channels: DEV_ID_AENC,
            adec.destroy_channels: DEV_ID_ADEC,
        }
        registered = {hook: dev for dev, _, hook in system._exit_hooks if hook in modules}
        assert registered == modules  # every one by device, none by order
        order = [modules[h] for h in system._exit_order() if h in modules]
        assert order.index(DEV_ID_AENC) < order.index(DEV_ID_AI)
        assert order.index(DEV_ID_AO) < order.index(DEV_ID_AI)
        assert set(order[-4:]) == {DEV_ID_FS, DEV_ID_DEC, DEV_ID_AI, DEV_ID_DMIC}
    assert not aenc.channels and not adec.channels and not get_decoder().channels


def test_destroy_all_logs_a_failure_and_destroys_the_rest(caplog) -> None:  # type: ignore[no-untyped-def]
    import logging
    import threading

    from imp.core.registry import Registry

    table: Registry[str] = Registry("decoder channel", 4, "CreateChn")
    table.update({0: "ok", 1: "bad", 2: "ok too"})
    destroyed: list[str] = []

    def destroy(item: str) -> None:
        if item == "bad":
            raise OSError("device gone")
        destroyed.append(item)

    with caplog.at_level(logging.ERROR):
        table.destroy_all(threading.Lock(), destroy, logging.getLogger("imp.test"))
    assert destroyed == ["ok", "ok too"] and not table
    assert "decoder channel 1: teardown: device gone" in caplog.text
