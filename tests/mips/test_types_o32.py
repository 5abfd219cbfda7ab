"""``imp.types`` laid out by a real MIPS32 o32 ctypes, against the vendor's compiled layouts.

On the host these layouts can only be emulated (tests/test_types.py); here ctypes itself is the
o32 one (4-byte pointers and longs, 8-byte aligned int64/double), so every struct and union of
``imp.types`` must have exactly the ``sizeof_mips32`` / ``offsetof_mips32`` of libimp 1.1.6.
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from typing import Any

import imp.types as T

# imp.types builds each definition on first use: build them all, so vars(T) lists every one
for _name in T.__all__:
    getattr(T, _name)


def class_name(key: str) -> str:
    """Inventory record key -> class name in imp.types (as tools/gen_types.py names them)."""
    key = re.sub(r"^(struct|union)\s+", "", key)
    if "." in key:
        parent, member = key.split(".", 1)
        return f"_{class_name(parent).lstrip('_')}_{member.strip('<>')}"
    return key


def record_class(key: str) -> Any:
    cls = getattr(T, class_name(key), None)
    assert cls is not None, f"imp.types has no class {class_name(key)} for {key!r}"
    return cls


def _owner(key: str) -> str:
    """Offsets of an anonymous member's fields are relative to the enclosing record."""
    return key.split(".", 1)[0] if ".<anon" in key else key


def _record_classes() -> dict[int, str]:
    """Every concrete struct/union class defined in imp.types (aliases counted once)."""
    found: dict[int, str] = {}
    for name, obj in vars(T).items():
        if (
            isinstance(obj, type)
            and issubclass(obj, (ctypes.Structure, ctypes.Union))
            and obj.__module__ == T.__name__
            and "_fields_" in vars(obj)
        ):
            found.setdefault(id(obj), name)
    return found


def test_every_struct_and_union_of_imp_types_is_in_the_inventory(v116: dict[str, Any]) -> None:
    inventory = {id(record_class(key)) for key in v116["structs"]}
    classes = _record_classes()
    extra = sorted(name for ident, name in classes.items() if ident not in inventory)
    assert not extra, f"imp.types records the 1.1.6 inventory does not list: {extra}"
    assert len(classes) == len(inventory) > 100


def test_sizes_and_offsets_are_the_vendor_o32_ones(
    v116: dict[str, Any], checked: Counter[str]
) -> None:
    problems = []
    sizes = offsets = 0
    for key in v116["structs"]:
        cls = record_class(key)
        if key in v116["sizeof_mips32"]:
            want = v116["sizeof_mips32"][key]
            if ctypes.sizeof(cls) != want:
                problems.append(f"sizeof({key}) = {ctypes.sizeof(cls)}, vendor {want}")
            sizes += 1
        owner = record_class(_owner(key))
        for field, want in v116["offsetof_mips32"].get(key, {}).items():
            got = getattr(owner, field).offset
            if got != want:
                problems.append(f"offsetof({key}, {field}) = {got}, vendor {want}")
            offsets += 1
    checked["imp.types records (sizeof)"] += sizes
    checked["imp.types field offsets"] += offsets
    assert not problems, "\n".join(problems)
    # Every record with a vendor size was compared (the 5 without are anonymous members,
    # whose fields are checked through their parent).
    assert sizes == len(v116["sizeof_mips32"]) > 100
    assert offsets == sum(len(v) for v in v116["offsetof_mips32"].values())


def test_every_named_field_has_a_vendor_offset(v116: dict[str, Any]) -> None:
    """No field escapes the offset check, except bit-fields (C has no offsetof for them)."""
    missing = []
    for key, entries in v116["structs"].items():
        listed = v116["offsetof_mips32"].get(key, {})
        bits = v116["bitfields"].get(key, {})
        for _ctype, name, _dims in entries:
            if name is not None and name not in listed and name not in bits:
                missing.append(f"{key}.{name}")
    assert not missing, missing


def test_alignments_where_the_record_did_not_change_since_1_1_1(
    api: dict[str, Any], v116: dict[str, Any], checked: Counter[str]
) -> None:
    """``alignof_mips32`` is given for 1.1.1; it holds for 1.1.6 records with the same fields."""
    problems = []
    n = 0
    for key, want in api["alignof_mips32"].items():
        if key not in v116["structs"] or api["structs"].get(key) != v116["structs"][key]:
            continue
        got = ctypes.alignment(record_class(key))
        if got != want:
            problems.append(f"alignof({key}) = {got}, vendor {want}")
        n += 1
    checked["imp.types alignments"] += n
    assert not problems, "\n".join(problems)
    assert n > 50


def test_c_types_have_their_o32_widths() -> None:
    sizes = {
        ctypes.c_void_p: 4,
        ctypes.c_long: 4,
        ctypes.c_size_t: 4,
        ctypes.c_int: 4,
        ctypes.c_int64: 8,
        ctypes.c_double: 8,
        ctypes.c_bool: 1,
    }
    for tp, size in sizes.items():
        assert ctypes.sizeof(tp) == size, tp.__name__
    assert ctypes.alignment(ctypes.c_int64) == ctypes.alignment(ctypes.c_double) == 8
    assert ctypes.sizeof(ctypes.POINTER(T.IMPFrameInfo)) == 4
    assert ctypes.sizeof(ctypes.CFUNCTYPE(ctypes.c_int)) == 4
