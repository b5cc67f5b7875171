"""Instructions retired by user code, from the kernel's ``perf_event_open`` (Linux only).

Wall time moves with load; the number of instructions a first call retires does not
(PyTorch gates its compile-time CI on instruction counts for this reason). This module
opens one hardware counter for the calling thread and the threads it starts, counting
user-space instructions only, and reads it around a region of code.

Where the counter cannot be opened (not Linux, a VM without a PMU, a container that
filters the syscall, ``kernel.perf_event_paranoid`` > 2), :func:`open_counter` returns
``(None, reason)``: callers record the reason and the budgets that need the count fail
with it, they never pass silently.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import struct
import sys

#: ``__NR_perf_event_open`` per machine architecture
_SYSCALL = {"x86_64": 298, "aarch64": 241, "i386": 336, "i686": 336, "ppc64le": 319,
            "s390x": 331, "riscv64": 241}
_PERF_TYPE_HARDWARE = 0
_PERF_COUNT_HW_INSTRUCTIONS = 1
_ATTR_SIZE = 128  # PERF_ATTR_SIZE_VER7 and later; the kernel accepts any known size
# perf_event_attr flag bits (a u64 bitfield at offset 40)
_DISABLED = 1 << 0
_INHERIT = 1 << 1
_EXCLUDE_KERNEL = 1 << 5
_EXCLUDE_HV = 1 << 6
# ioctls from <linux/perf_event.h>: _IO('$', n)
_IOC_ENABLE = 0x2400
_IOC_DISABLE = 0x2401
_IOC_RESET = 0x2403


def attr_bytes() -> bytes:
    """The ``perf_event_attr`` asking for user-space instructions, disabled, inherited."""
    attr = bytearray(_ATTR_SIZE)
    struct.pack_into("=IIQ", attr, 0, _PERF_TYPE_HARDWARE, _ATTR_SIZE, _PERF_COUNT_HW_INSTRUCTIONS)
    struct.pack_into("=Q", attr, 40, _DISABLED | _INHERIT | _EXCLUDE_KERNEL | _EXCLUDE_HV)
    return bytes(attr)


class InstructionCounter:
    """An open counter: ``start()``, run code, ``stop()`` returns the instructions retired."""

    def __init__(self, fd: int, libc: ctypes.CDLL) -> None:
        self._fd = fd
        self._libc = libc

    def start(self) -> None:
        self._libc.ioctl(self._fd, _IOC_RESET, 0)
        self._libc.ioctl(self._fd, _IOC_ENABLE, 0)

    def stop(self) -> int | None:
        self._libc.ioctl(self._fd, _IOC_DISABLE, 0)
        try:
            raw = os.read(self._fd, 8)
        except OSError:
            return None
        return struct.unpack("=Q", raw)[0] if len(raw) == 8 else None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> InstructionCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_counter() -> tuple[InstructionCounter | None, str | None]:
    """``(counter, None)``, or ``(None, why it cannot be counted here)``."""
    if not sys.platform.startswith("linux"):
        return None, f"instruction counts need Linux's perf_event_open (this is {sys.platform})"
    nr = _SYSCALL.get(platform.machine())
    if nr is None:
        return None, f"perf_event_open's syscall number is not known for {platform.machine()}"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError as exc:  # pragma: no cover - libc always loads on Linux
        return None, f"cannot load libc: {exc}"
    libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(attr_bytes(), _ATTR_SIZE)
    fd = libc.syscall(ctypes.c_long(nr), buf, 0, -1, -1, ctypes.c_ulong(0))
    if fd < 0:
        err = ctypes.get_errno()
        why = {
            2: "this machine exposes no hardware instruction counter (a VM without a PMU?)",
            13: "perf_event_open is not permitted (kernel.perf_event_paranoid, or no "
                "CAP_PERFMON)",
            1: "perf_event_open is not permitted (kernel.perf_event_paranoid, or no "
               "CAP_PERFMON)",
            38: "perf_event_open is not implemented by this kernel",
            19: "this CPU has no instruction counter perf can use",
        }.get(err, f"perf_event_open failed: {os.strerror(err)}")
        return None, why
    return InstructionCounter(int(fd), libc), None
