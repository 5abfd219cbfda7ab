"""``imp.types`` against the libimp 1.1.6 inventory in ``imp_api.json``.

Names, field order, enum values and macros are checked everywhere. Sizes and offsets are checked
natively on a MIPS32 host (4-byte pointers) for every record, and on a 64-bit host for the
records without pointer-sized members. Independently of the host, the ctypes field lists are
also laid out with the o32 rules by a small emulator and compared with every vendor size/offset.
"""

from __future__ import annotations

import ast
import ctypes
import enum
import json
import os
import re
from _ctypes import CFuncPtr
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import imp.types as T

# imp.types builds each definition on first use: build them all, so vars(T) lists every one
for _name in T.__all__:
    getattr(T, _name)

DEFAULT_JSON = Path(__file__).parents[1].parent / "shared/reference/imp_api.json"
WORD_SIZED = {"long", "unsigned long", "size_t", "ssize_t", "long int", "unsigned long int"}
POINTER_BYTES = ctypes.sizeof(ctypes.c_void_p)


@cache
def _api() -> dict[str, Any]:
    path = Path(os.environ.get("IMP_API_JSON", DEFAULT_JSON))
    if not path.is_file():
        pytest.skip(f"reference inventory not found at {path} (set IMP_API_JSON to its path)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def api() -> dict[str, Any]:
    return _api()


@pytest.fixture(scope="module")
def v116(api: dict[str, Any]) -> dict[str, Any]:
    return api["v1_1_6"]


# --------------------------------------------------------------------------- naming rules
def class_name(key: str) -> str:
    """JSON record key -> class name in imp.types (nested unnamed records are private)."""
    key = re.sub(r"^(struct|union)\s+", "", key)
    if "." in key:
        parent, member = key.split(".", 1)
        return f"_{class_name(parent).lstrip('_')}_{member.strip('<>')}"
    return key


def record_class(key: str) -> Any:
    cls = getattr(T, class_name(key), None)
    assert cls is not None, f"imp.types has no class {class_name(key)} for {key!r}"
    return cls


def expected_field_names(entries: list[list[Any]]) -> list[str]:
    """JSON field names; an anonymous member (name null, type 'union P.<anon0>') is '_anon0'."""
    names = []
    for ctype, name, _dims in entries:
        if name is None:
            m = re.search(r"<(anon\d+)>", ctype)
            assert m, f"unnamed member of type {ctype!r}"
            name = "_" + m.group(1)
        names.append(name)
    return names


def enum_class(key: str, members: dict[str, int]) -> type[enum.IntEnum]:
    """The IntEnum for a JSON enum key; anonymous enums are found by their members."""
    if key.startswith("<anon"):
        found = [
            obj
            for obj in vars(T).values()
            if isinstance(obj, type)
            and issubclass(obj, enum.IntEnum)
            and set(obj.__members__) == set(members)
        ]
        assert len(found) == 1, f"no unique IntEnum in imp.types for {key}"
        return found[0]
    name = re.sub(r"^enum\s+", "", key)
    cls = getattr(T, name, None)
    assert isinstance(cls, type) and issubclass(cls, enum.IntEnum), f"no IntEnum {name}"
    return cls


# --------------------------------------------------------------------------- names and values
def test_every_record_has_a_class_with_the_header_fields(v116: dict[str, Any]) -> None:
    problems = []
    for key, entries in v116["structs"].items():
        cls = record_class(key)
        base = ctypes.Union if v116["struct_kinds"][key] == "union" else ctypes.Structure
        if not issubclass(cls, base):
            problems.append(f"{key}: expected a {base.__name__}")
        got = [f[0] for f in cls._fields_]
        if got != expected_field_names(entries):
            problems.append(f"{key}: fields {got} != {expected_field_names(entries)}")
        anon = [n for n in expected_field_names(entries) if n.startswith("_anon")]
        if list(getattr(cls, "_anonymous_", ())) != anon:
            problems.append(f"{key}: _anonymous_ should be {anon}")
    assert not problems, "\n".join(problems)
    assert len(v116["structs"]) > 100


def test_array_lengths(v116: dict[str, Any]) -> None:
    for key, entries in v116["structs"].items():
        fields = {f[0]: f[1] for f in record_class(key)._fields_}
        for _ctype, name, dims in entries:
            if dims is None:
                continue
            tp = fields[name]
            for n in dims if isinstance(dims, list) else [dims]:
                assert issubclass(tp, ctypes.Array) and tp._length_ == n, f"{key}.{name}"
                tp = tp._type_


def test_bitfields(v116: dict[str, Any]) -> None:
    for key, widths in v116["bitfields"].items():
        fields = {f[0]: f for f in record_class(key)._fields_}
        for name, width in widths.items():
            assert len(fields[name]) == 3 and fields[name][2] == width, f"{key}.{name}"


def test_anonymous_members_work_as_in_c() -> None:
    stream = T.IMPEncoderStream()
    stream.streamInfo.iNumBytes = 1234
    assert stream.jpegInfo.iNumBytes == 1234
    ctl = T.IMPISPModuleCtl()
    ctl.bitBypassMDNS = 1
    ctl.bitBypassBLC = 1
    assert ctl.key == 0x80000001
    roi = T.IMPISPAERoi(value=0x44332211)
    assert (roi.endy, roi.endx, roi.starty, roi.startx) == (0x11, 0x22, 0x33, 0x44)
    assert "streamInfo=" in repr(stream)


def test_enums(v116: dict[str, Any]) -> None:
    for key, members in v116["enums"].items():
        cls = enum_class(key, members)
        got = {name: int(member) for name, member in cls.__members__.items()}
        assert got == members, key
        for name, value in members.items():
            const = getattr(T, name)
            assert isinstance(const, int) and const == value, name
            assert name in T.__all__, name
        assert cls.__name__ in T.__all__


def test_enum_constants_are_usable_as_c_ints() -> None:
    attr = T.IMPFSChnAttr(pixFmt=T.PIX_FMT_NV12)
    assert attr.pixFmt == 10 and T.DEV_ID_FS == 0
    assert T.IMPPixelFormat(attr.pixFmt) is T.PIX_FMT_NV12
    assert T.IMP_ENC_SLICE_GOLDEN == T.IMP_ENC_SLICE_SP == 3
    pad = T.IMPOSDRgnAttrData()
    pad.lineRectData.color = T.OSD_WHITE  # > INT_MAX: the field must be unsigned
    assert pad.lineRectData.color == 0xFFFFFFFF


def test_integer_macros(v116: dict[str, Any]) -> None:
    checked = 0
    for name, macro in v116["macros"].items():
        if isinstance(macro.get("value"), int):
            assert getattr(T, name) == macro["value"], name
            assert name in T.__all__
            checked += 1
    assert checked > 20


def test_typedef_aliases(v116: dict[str, Any], api: dict[str, Any]) -> None:
    for alias, target in v116["typedef_aliases"].items():
        want = getattr(T, target, None) if target in v116["structs"] else None
        if want is None:
            want = {"int": ctypes.c_int, "unsigned int": ctypes.c_uint}[target]
        assert getattr(T, alias) is want, alias
    for name, tag in api.get("struct_tags", {}).items():
        if name in v116["structs"]:
            assert getattr(T, tag.split()[1]) is getattr(T, name)


def test_all_lists_exactly_the_public_names() -> None:
    assert len(T.__all__) == len(set(T.__all__))
    for name in T.__all__:
        assert not name.startswith("_") and hasattr(T, name), name
    public = {
        name
        for name, obj in vars(T).items()
        if not name.startswith("_")
        and (
            (isinstance(obj, type) and issubclass(obj, (ctypes.Structure, ctypes.Union)))
            or (isinstance(obj, type) and issubclass(obj, enum.IntEnum) and obj is not enum.IntEnum)
            or (isinstance(obj, int) and name.isupper())
        )
    }
    assert public - {"Structure", "Union", "IntEnum"} <= set(T.__all__)


def test_source_is_python_311_syntax() -> None:
    source = Path(T.__file__).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 11))
    assert source.startswith("# Generated by tools/gen_types.py")


# --------------------------------------------------------------------------- layouts
def _word_sized(v116: dict[str, Any], ctype: str, seen: frozenset[str] = frozenset()) -> bool:
    """Does a C type (or a record it embeds by value) hold a pointer, long or size_t?"""
    t = re.sub(r"\bconst\b", "", ctype).strip()
    if "*" in t or t in WORD_SIZED:
        return True
    t = v116["typedef_aliases"].get(t, t)
    bare = re.sub(r"^(struct|union)\s+", "", t)
    for key in (t, bare):
        if key in v116["structs"] and key not in seen:
            return any(_word_sized(v116, f[0], seen | {key}) for f in v116["structs"][key])
    return False


def _portable(v116: dict[str, Any], key: str) -> bool:
    """Layout identical on LP64 hosts: no pointer-sized member in the record (or its parent,
    for Parent.<anonN> entries whose offsets are Parent-relative)."""
    owner = key.split(".", 1)[0] if ".<anon" in key else key
    return not any(_word_sized(v116, f[0]) for f in v116["structs"][owner]) and not any(
        _word_sized(v116, f[0]) for f in v116["structs"][key]
    )


def _field_offset(key: str, name: str) -> int:
    if ".<anon" in key:  # offsets relative to the parent, reached through _anonymous_
        return getattr(record_class(key.split(".", 1)[0]), name).offset
    return getattr(record_class(key), name).offset


def test_native_sizes_and_offsets(v116: dict[str, Any]) -> None:
    mips_host = POINTER_BYTES == 4
    records = offsets = 0
    problems = []
    for key in v116["structs"]:
        if not (mips_host or _portable(v116, key)):
            continue
        if key in v116["sizeof_mips32"]:
            got = ctypes.sizeof(record_class(key))
            if got != v116["sizeof_mips32"][key]:
                problems.append(f"sizeof({key}) = {got}, vendor {v116['sizeof_mips32'][key]}")
            records += 1
        for name, want in v116["offsetof_mips32"].get(key, {}).items():
            got = _field_offset(key, name)
            if got != want:
                problems.append(f"offsetof({key}, {name}) = {got}, vendor {want}")
            offsets += 1
    host = "MIPS32 host, all records" if mips_host else "64-bit host, pointer-free records"
    print(f"\n[test_types] native layout ({host}): {records} sizes, {offsets} offsets checked")
    assert not problems, "\n".join(problems)
    assert records > 0 and offsets > 0


# o32 emulation of the ctypes classes themselves: pointers and function pointers 4 bytes,
# every scalar aligned to its size (o32 aligns int64/double to 8), GCC bit-field packing.
# On an LP64 host c_int64 *is* c_long, so an 8-byte 'l' is taken for int64_t; the inventory
# has no long/size_t members (asserted below), which makes that reading exact.
def _o32(tp: Any) -> tuple[int, int]:
    if issubclass(tp, (ctypes._Pointer, CFuncPtr)):
        return 4, 4
    if issubclass(tp, ctypes.Array):
        size, align = _o32(tp._type_)
        return size * tp._length_, align
    if issubclass(tp, (ctypes.Structure, ctypes.Union)):
        size, align, _ = _o32_record(tp)
        return size, align
    if tp._type_ in "PzZO":
        return 4, 4
    size = ctypes.sizeof(tp)
    return size, size


@cache
def _o32_record(tp: Any) -> tuple[int, int, dict[str, int]]:
    packed = getattr(tp, "_pack_", 0) == 1
    is_union = issubclass(tp, ctypes.Union)
    offsets: dict[str, int] = {}
    bitpos = size = 0
    align = 1
    for entry in tp._fields_:
        name, ftype = entry[0], entry[1]
        fsize, falign = _o32(ftype)
        falign = 1 if packed else falign
        align = max(align, falign)
        if is_union:
            offsets[name] = 0
            size = max(size, fsize)
        elif len(entry) == 3:  # bit-field: stays inside one aligned storage unit
            width, unit = entry[2], fsize * 8
            if bitpos // unit != (bitpos + width - 1) // unit:
                bitpos = (bitpos // unit + 1) * unit
            offsets[name] = bitpos // unit * fsize
            bitpos += width
            size = max(size, -(-bitpos // 8))
        else:
            offset = -(-bitpos // 8)
            offset = -(-offset // falign) * falign
            offsets[name] = offset
            size = offset + fsize
            bitpos = size * 8
        if name in getattr(tp, "_anonymous_", ()):
            for sub, sub_off in _o32_record(ftype)[2].items():
                offsets[sub] = offsets[name] + sub_off
    return -(-size // align) * align, align, offsets


def test_o32_emulated_layout_matches_vendor(v116: dict[str, Any]) -> None:
    for entries in v116["structs"].values():
        assert not any(re.sub(r"\bconst\b", "", f[0]).strip() in WORD_SIZED for f in entries)
    records = offsets = 0
    problems = []
    for key in v116["structs"]:
        owner = key.split(".", 1)[0] if ".<anon" in key else key
        size, _align, layout = _o32_record(record_class(key))
        parent_layout = _o32_record(record_class(owner))[2]
        if key in v116["sizeof_mips32"]:
            if size != v116["sizeof_mips32"][key]:
                problems.append(f"o32 sizeof({key}) = {size}, vendor {v116['sizeof_mips32'][key]}")
            records += 1
        for name, want in v116["offsetof_mips32"].get(key, {}).items():
            got = parent_layout[name] if owner != key else layout[name]
            if got != want:
                problems.append(f"o32 offsetof({key}, {name}) = {got}, vendor {want}")
            offsets += 1
    print(f"\n[test_types] emulated o32 layout: {records} sizes, {offsets} offsets checked")
    assert not problems, "\n".join(problems)
    assert records == len(v116["sizeof_mips32"]) and offsets > 0
