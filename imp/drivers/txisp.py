"""Client of ``/dev/tx-isp``: sensor registration, input selection, ISP buffers, links.

Sequences of kernel_abi.md §3.3. Note that unknown commands on this node return 0, so success of
an ioctl proves nothing about support (gotcha 13); we only use commands the driver has.
"""

from __future__ import annotations

import errno

from imp.drivers._ioctl import call, call_struct
from imp.errors import DeviceError
from imp.kernel import abi
from imp.kernel.seam import Kernel

PATH = "/dev/tx-isp"


class TxIspDevice:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.fd: int | None = None

    def open(self) -> None:
        try:
            self.fd = self.kernel.open(PATH, abi.TX_ISP_OPEN_FLAGS)
        except OSError as exc:
            raise DeviceError(exc.errno or 0, f"open {PATH}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            self.kernel.close(fd)

    def _fd(self) -> int:
        if self.fd is None:
            raise DeviceError(errno.EBADF, f"{PATH} is not open")
        return self.fd

    def _int_cmd(self, cmd: int, value: int, what: str) -> int:
        return abi.int_of(call(self.kernel, self._fd(), cmd, abi.int_arg(value), what))

    def register_sensor(self, info: abi.SensorRegisterInfo) -> None:
        call_struct(self.kernel, self._fd(), abi.VIDIOC_REGISTER_SENSOR, info, "REGISTER_SENSOR")

    def release_sensor(self, info: abi.SensorRegisterInfo) -> None:
        call_struct(self.kernel, self._fd(), abi.VIDIOC_RELEASE_SENSOR, info, "RELEASE_SENSOR")

    def find_input(self, name: bytes) -> int:
        """ENUMINPUT index = 0, 1, ... until the name matches (as libimp does)."""
        index = 0
        while True:
            try:
                out = call_struct(
                    self.kernel,
                    self._fd(),
                    abi.VIDIOC_ENUMINPUT,
                    abi.V4L2Input(index=index),
                    "ENUMINPUT",
                )
            except DeviceError as exc:
                raise DeviceError(
                    exc.errno or 0, f"sensor {name.decode(errors='replace')!r} is not registered"
                ) from exc
            if out.name == name:
                return index
            index += 1

    def select_input(self, index: int) -> None:
        self._int_cmd(abi.VIDIOC_S_INPUT, index, "S_INPUT")

    def selected_input(self) -> int:
        return self._int_cmd(abi.VIDIOC_G_INPUT, 0, "G_INPUT")

    def buf_info_size(self) -> int:
        out = call_struct(
            self.kernel, self._fd(), abi.VIDIOC_GET_BUF_INFO, abi.BufInfo(), "GET_BUF_INFO"
        )
        return int(out.size)

    def set_buf_info(self, phys: int, size: int) -> None:
        call_struct(
            self.kernel,
            self._fd(),
            abi.VIDIOC_SET_BUF_INFO,
            abi.BufInfo(paddr=phys, size=size),
            "SET_BUF_INFO",
        )

    def set_bin_path(self, path: bytes) -> None:
        buf = bytearray(
            abi.BIN_PATH_LEN
        )  # the driver copies 0x40 bytes despite the size-4 encoding
        buf[: len(path)] = path[: abi.BIN_PATH_LEN - 1]
        call(self.kernel, self._fd(), abi.VIDIOC_SET_DEFAULT_BIN_PATH, buf, "SET_DEFAULT_BIN_PATH")

    def get_bin_path(self) -> bytes:
        buf = call(
            self.kernel,
            self._fd(),
            abi.VIDIOC_GET_DEFAULT_BIN_PATH,
            bytearray(abi.BIN_PATH_LEN),
            "GET_DEFAULT_BIN_PATH",
        )
        return bytes(buf).split(b"\0", 1)[0]

    def stream_on(self) -> None:
        self._int_cmd(abi.VIDIOC_STREAMON, 0, "ISP STREAMON")

    def stream_off(self) -> None:
        self._int_cmd(abi.VIDIOC_STREAMOFF, 0, "ISP STREAMOFF")

    def create_links(self, link: int = 0) -> None:
        self._int_cmd(abi.VIDIOC_CREATE_SUBDEV_LINKS, link, "CREATE_SUBDEV_LINKS")

    def destroy_links(self, index: int) -> None:
        self._int_cmd(abi.VIDIOC_DESTROY_SUBDEV_LINKS, index, "DESTROY_SUBDEV_LINKS")

    def links_stream_on(self) -> None:
        self._int_cmd(abi.VIDIOC_LINKS_STREAMON, 0, "LINKS_STREAMON")

    def links_stream_off(self) -> None:
        self._int_cmd(abi.VIDIOC_LINKS_STREAMOFF, 0, "LINKS_STREAMOFF")

    def command(self, cmd: int, arg: bytearray, what: str) -> bytearray:
        """Any other tx-isp command with a byte buffer (GPIO, frame drop, sensor registers, WDR,
        custom 3A): the buffer is the in/out argument."""
        return call(self.kernel, self._fd(), cmd, arg, what)
