#!/usr/bin/env python3
"""Generate ``imp/types.py``: the ctypes structs/unions, enums and macros of libimp 1.1.6.

Usage (from the repository root)::

    python tools/gen_types.py ../shared/reference/imp_api.json   # writes imp/types.py(i)
    python tools/gen_types.py --check                             # exit 1 if out of date

Two files: ``imp/types.pyi`` holds every definition as plain classes (what type checkers and
readers see), and ``imp/types.py`` builds each one on first use (PEP 562 ``__getattr__``): a
struct or enum costs heap only once a module names it, so a pipeline that needs five of the
~170 records and ~60 enums does not carry the rest (about 1.3 MB of classes on a 64-bit host;
issue 10, memory). ``imp/types.py`` holds the same definitions as source text (``_SOURCE``)
with an index of which slice defines a name and which names that slice needs first: text
costs a byte a character, where compiled class bodies (or a builder function per
definition) cost about 1 KB each, most of it for classes never used.

Input is the ``v1_1_6`` inventory of ``imp_api.json`` (structs, struct_kinds, bitfields,
typedef_aliases, enums, macros, sizeof_mips32, offsetof_mips32) plus the top-level
``struct_tags`` / ``struct_headers`` / ``enum_headers``.

Before writing, the generator lays every struct out with the MIPS o32 rules (pointers, ``long``
and ``size_t`` 4 bytes; ``(u)int64_t`` and ``double`` 8-byte aligned; ``bool`` 1; enums 4; GCC
bit-field allocation) and refuses to write a file whose layout would disagree with
``sizeof_mips32`` / ``offsetof_mips32``. On a MIPS32 host ``ctypes`` applies the same rules, so
the generated classes then have exactly the vendor sizes and offsets.

Decisions where the JSON is silent or ambiguous:

* Packing. The JSON has no "packed" flag. The vendor header declares ``IMPISPAwbInfo`` as
  ``__attribute__((packed, aligned(1)))`` (hence its odd size, 699); it is listed in
  :data:`PACKED` and gets ``_pack_ = 1`` (plus ``_layout_ = "ms"``, which Python >= 3.14 wants
  next to ``_pack_`` and older versions ignore). The o32 check proves no other struct is packed.
* Names. Nested records without a typedef name become private classes: ``Parent.<anon0>`` ->
  ``_Parent_anon0``, ``Parent.s_attr`` -> ``_Parent_s_attr``. Anonymous members (field name
  ``null`` in the JSON) are named ``_anon0`` ... and listed in ``_anonymous_``, so
  ``stream.streamInfo`` works as in C. ``struct tag`` keys drop the keyword
  (``struct isp_core_awb_sta_info`` -> ``isp_core_awb_sta_info``); typedef'd records also get
  their tag as an alias (``isp_core_expr_attr = IMPISPExpr``), as C code may spell either.
* Enums. ``enum tag`` keys drop the keyword (``isp_core_expr_mode``); anonymous enums are named
  from the common prefix of their enumerators in CamelCase (``IMP_LOG_LEVEL_*`` ->
  ``IMPLogLevel``). Fields of enum type are ``c_int`` (``c_uint`` when an enumerator exceeds
  INT_MAX, as ``IMPOsdColour`` does; GCC then makes the enum unsigned). The module-level
  enumerator constants are the ``IntEnum`` members themselves: ints for every purpose (ctypes
  fields, arithmetic, ``%d``) that also show their name in a ``repr``. Duplicate values
  (``IMP_ENC_SLICE_GOLDEN == IMP_ENC_SLICE_SP``) become IntEnum aliases.
* Pointers. Pointers to records are ``POINTER(T)``; ``void *`` is ``c_void_p``; ``char *`` is
  ``c_char_p``; ``T **`` is ``POINTER(POINTER(T))`` (``void **`` -> ``POINTER(c_void_p)``);
  other scalar pointers are ``POINTER(c_<type>)`` (``uint8_t *`` -> ``POINTER(c_uint8)``).
  Function pointers get a private ``CFUNCTYPE`` prototype named ``_<Struct>_<field>_fn``;
  ``const`` is dropped. A struct that points to itself (``IMPIVSInterface``) is declared first
  and gets its ``_fields_`` after its prototypes.
* Macros. Only macros with an integer value are emitted (``IMP_LOG_GET_OPTION`` and ``IMP_LOG``
  expand to code, not numbers, and are skipped).
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO.parent / "shared" / "reference" / "imp_api.json"
DEFAULT_OUT = REPO / "imp" / "types.py"

PACKED = {"IMPISPAwbInfo"}  # __attribute__((packed, aligned(1))) in imp_isp.h

# C scalar -> (ctypes name, o32 size, o32 alignment)
PRIMITIVES: dict[str, tuple[str, int, int]] = {
    "char": ("c_char", 1, 1),
    "signed char": ("c_byte", 1, 1),
    "unsigned char": ("c_ubyte", 1, 1),
    "int8_t": ("c_int8", 1, 1),
    "uint8_t": ("c_uint8", 1, 1),
    "short": ("c_short", 2, 2),
    "unsigned short": ("c_ushort", 2, 2),
    "int16_t": ("c_int16", 2, 2),
    "uint16_t": ("c_uint16", 2, 2),
    "int": ("c_int", 4, 4),
    "unsigned int": ("c_uint", 4, 4),
    "int32_t": ("c_int32", 4, 4),
    "uint32_t": ("c_uint32", 4, 4),
    "long": ("c_long", 4, 4),
    "unsigned long": ("c_ulong", 4, 4),
    "size_t": ("c_size_t", 4, 4),
    "ssize_t": ("c_ssize_t", 4, 4),
    "long long": ("c_longlong", 8, 8),
    "unsigned long long": ("c_ulonglong", 8, 8),
    "int64_t": ("c_int64", 8, 8),
    "uint64_t": ("c_uint64", 8, 8),
    "float": ("c_float", 4, 4),
    "double": ("c_double", 8, 8),
    "bool": ("c_bool", 1, 1),
    "_Bool": ("c_bool", 1, 1),
}
INT_MAX = 2**31 - 1
LAYOUT_NOTE = "Python >= 3.14 wants it next to _pack_; older versions ignore it"


@dataclass(frozen=True)
class CType:
    """A resolved C type: its Python expression in imp/types.py and its o32 size/alignment."""

    expr: str
    size: int
    align: int
    value_deps: frozenset[str] = frozenset()  # classes that must be complete first
    ptr_deps: frozenset[str] = frozenset()  # classes that must merely exist first
    comment: str = ""  # C spelling worth showing next to a c_int (the enum name)


@dataclass
class Record:
    key: str  # JSON key
    cls: str  # Python class name
    kind: str  # "struct" | "union"
    fields: list[tuple[str, CType, int | None]] = field(default_factory=list)
    anonymous: list[str] = field(default_factory=list)
    prototypes: list[tuple[str, str]] = field(default_factory=list)  # (name, CFUNCTYPE expr)
    packed: bool = False
    size: int = 0
    align: int = 1
    offsets: dict[str, int] = field(default_factory=dict)

    @property
    def value_deps(self) -> set[str]:
        return {d for _, t, _ in self.fields for d in t.value_deps}

    @property
    def ptr_deps(self) -> set[str]:
        return {d for _, t, _ in self.fields for d in t.ptr_deps}


def class_name(key: str) -> str:
    """``IMPFoo`` -> ``IMPFoo``; ``struct tag`` -> ``tag``; ``P.<anon0>`` -> ``_P_anon0``."""
    key = re.sub(r"^(struct|union)\s+", "", key)
    if "." in key:
        parent, member = key.split(".", 1)
        return f"_{class_name(parent).lstrip('_')}_{member.strip('<>')}"
    return key


def enum_class_name(key: str, members: dict[str, int]) -> str:
    if key.startswith("<anon"):
        parts = [name.split("_") for name in members]
        prefix: list[str] = []
        for tokens in zip(*parts, strict=False):
            if len(set(tokens)) != 1:
                break
            prefix.append(tokens[0])
        if not prefix:
            raise SystemExit(f"cannot name anonymous enum {key}")
        return prefix[0] + "".join(p.capitalize() for p in prefix[1:])
    return re.sub(r"^enum\s+", "", key)


class Generator:
    def __init__(self, api: dict[str, Any]) -> None:
        self.api = api
        self.v = api["v1_1_6"]
        self.structs: dict[str, list[list[Any]]] = self.v["structs"]
        self.kinds: dict[str, str] = self.v["struct_kinds"]
        self.bitfields: dict[str, dict[str, int]] = self.v.get("bitfields", {})
        self.aliases: dict[str, str] = self.v.get("typedef_aliases", {})
        self.enums: dict[str, dict[str, int]] = self.v["enums"]
        self.tags: dict[str, str] = {
            tag: name for name, tag in api.get("struct_tags", {}).items() if name in self.structs
        }
        self.records: dict[str, Record] = {}
        self.enum_names = {k: enum_class_name(k, m) for k, m in self.enums.items()}

    # ----------------------------------------------------------------- type resolution
    def enum_ctype(self, key: str) -> CType:
        values = self.enums[key].values()
        unsigned = min(values, default=0) >= 0 and max(values, default=0) > INT_MAX
        return CType("c_uint" if unsigned else "c_int", 4, 4, comment=self.enum_names[key])

    def record_key(self, name: str) -> str | None:
        """The JSON struct key a C type spelling refers to, if it is a record."""
        if name in self.structs:
            return name
        bare = re.sub(r"^(struct|union)\s+", "", name)
        if bare in self.structs:
            return bare
        if name in self.tags:
            return self.tags[name]
        if name in self.aliases and self.aliases[name] in self.structs:
            return self.aliases[name]
        return None

    def resolve(self, ctype: str, owner: str, fname: str) -> CType:
        t = re.sub(r"\bconst\b", "", ctype)
        t = re.sub(r"\s+", " ", t).strip()
        t = re.sub(r"\s*\*", " *", t).replace("* *", "**").strip()

        m = re.fullmatch(r"(.+?)\s*\(\s*\*\s*\)\s*\((.*)\)", t)
        if m:
            return self.resolve_funcptr(m.group(1), m.group(2), owner, fname)

        if t.endswith("*"):
            base = t[:-1].strip()
            if base == "void":
                return CType("c_void_p", 4, 4)
            if base == "char":
                return CType("c_char_p", 4, 4)
            rkey = self.record_key(base)
            if rkey is not None:
                cls = class_name(rkey)
                return CType(f"POINTER({cls})", 4, 4, ptr_deps=frozenset({cls}))
            inner = self.resolve(base, owner, fname)
            return CType(f"POINTER({inner.expr})", 4, 4, ptr_deps=inner.value_deps | inner.ptr_deps)

        if t in PRIMITIVES:
            expr, size, align = PRIMITIVES[t]
            return CType(expr, size, align)
        if t in self.enums:
            return self.enum_ctype(t)
        if f"enum {t}" in self.enums:
            return self.enum_ctype(f"enum {t}")
        rkey = self.record_key(t)
        if rkey is not None:
            rec = self.record(rkey)
            return CType(rec.cls, rec.size, rec.align, value_deps=frozenset({rec.cls}))
        if t in self.aliases:
            inner = self.resolve(self.aliases[t], owner, fname)
            return CType(inner.expr, inner.size, inner.align, inner.value_deps, inner.ptr_deps, t)
        raise SystemExit(f"{owner}.{fname}: unknown C type {ctype!r}")

    def resolve_funcptr(self, ret: str, params: str, owner: str, fname: str) -> CType:
        restype = "None" if ret.strip() == "void" else self.resolve(ret, owner, fname).expr
        args = [] if params.strip() in ("", "void") else [p.strip() for p in params.split(",")]
        argtypes = [self.resolve(a, owner, fname) for a in args]
        proto = f"_{class_name(owner).lstrip('_')}_{fname}_fn"
        expr = "CFUNCTYPE(" + ", ".join([restype, *(a.expr for a in argtypes)]) + ")"
        self.record(owner).prototypes.append((proto, expr))
        deps = frozenset(d for a in argtypes for d in (*a.ptr_deps, *a.value_deps))
        return CType(proto, 4, 4, ptr_deps=deps)

    # ----------------------------------------------------------------- records + o32 layout
    def record(self, key: str) -> Record:
        if key in self.records:
            return self.records[key]
        rec = Record(key, class_name(key), self.kinds[key], packed=key in PACKED)
        self.records[key] = rec
        bits = self.bitfields.get(key, {})
        for ctype, fname, dims in self.structs[key]:
            if fname is None:
                m = re.search(r"<(anon\d+)>", ctype)
                if not m:
                    raise SystemExit(f"{key}: unnamed member of type {ctype!r}")
                fname = "_" + m.group(1)
                rec.anonymous.append(fname)
            t = self.resolve(ctype, key, fname)
            if dims is not None:
                for n in reversed(dims if isinstance(dims, list) else [dims]):
                    # T a[A][B] is (T * B) * A; "*" is left-associative in Python
                    t = CType(
                        f"{t.expr} * {n}", t.size * n, t.align, t.value_deps, t.ptr_deps, t.comment
                    )
            rec.fields.append((fname, t, bits.get(fname)))
        self.layout(rec)
        return rec

    def layout(self, rec: Record) -> None:
        """o32 (GCC, little endian) layout of one record."""
        bitpos = 0  # in bits
        size = 0
        align = 1
        for fname, t, width in rec.fields:
            falign = 1 if rec.packed else t.align
            align = max(align, falign)
            if rec.kind == "union":
                rec.offsets[fname] = 0
                size = max(size, t.size)
                continue
            if width is not None:
                unit = t.size * 8
                start_unit = bitpos // unit
                if (bitpos + width - 1) // unit != start_unit:
                    bitpos = (start_unit + 1) * unit
                rec.offsets[fname] = (bitpos // unit) * t.size
                bitpos += width
                size = max(size, -(-bitpos // 8))
                continue
            offset = -(-bitpos // 8)
            offset = -(-offset // falign) * falign
            rec.offsets[fname] = offset
            bitpos = (offset + t.size) * 8
            size = offset + t.size
        rec.align = align
        rec.size = -(-size // align) * align

    def check_o32(self) -> list[str]:
        problems = []
        sizes = self.v.get("sizeof_mips32", {})
        offsets = self.v.get("offsetof_mips32", {})
        for key, rec in self.records.items():
            if key in sizes and sizes[key] != rec.size:
                problems.append(f"sizeof({key}) = {rec.size}, expected {sizes[key]}")
            parent = self.records.get(key.split(".", 1)[0]) if ".<anon" in key else None
            for fname, want in offsets.get(key, {}).items():
                got = rec.offsets.get(fname)
                if parent is not None:  # offsets of Parent.<anonN> members are Parent-relative
                    anon = "_" + key.split("<", 1)[1].rstrip(">")
                    got = None if got is None else got + parent.offsets[anon]
                if got != want:
                    problems.append(f"offsetof({key}, {fname}) = {got}, expected {want}")
        return problems

    # ----------------------------------------------------------------- ordering
    def ordered(self) -> list[Record]:
        """Dependencies first (values and pointers), else in JSON (header) order."""
        by_cls = {r.cls: r for r in self.records.values()}
        json_order = {class_name(key): i for i, key in enumerate(self.structs)}
        done: list[Record] = []
        state: dict[str, int] = {}

        def visit(rec: Record) -> None:
            if state.get(rec.cls) == 2:
                return
            if state.get(rec.cls) == 1:
                raise SystemExit(f"dependency cycle through {rec.cls}")
            state[rec.cls] = 1
            for dep in sorted(rec.value_deps | rec.ptr_deps, key=json_order.__getitem__):
                if dep != rec.cls:
                    visit(by_cls[dep])
            state[rec.cls] = 2
            done.append(rec)

        for key in self.structs:
            visit(self.records[key])
        return done

    # ----------------------------------------------------------------- emission
    def run(self) -> tuple[str, str]:
        """(the lazy module imp/types.py, the stub imp/types.pyi)."""
        for key in self.structs:
            self.record(key)
        problems = self.check_o32()
        if problems:
            raise SystemExit("o32 layout check failed:\n  " + "\n  ".join(problems))
        return self.emit_lazy(), self.emit()

    def emit(self) -> str:
        """The module text: blocks separated by two blank lines, as ruff/black would."""
        records = self.ordered()
        record_blocks = self.emit_records(records)
        alias_block, alias_names = self.emit_aliases()
        enum_blocks, enum_names, enumerators = self.emit_enums()
        macro_block, macro_names = self.emit_macros()
        public = [
            ("structs and unions", [r.cls for r in records if not r.cls.startswith("_")]),
            ("typedef and tag aliases", alias_names),
            ("enums", enum_names),
            ("enumerators", enumerators),
            ("macros", macro_names),
        ]
        names = [n for _, group in public for n in group]
        code = "\n".join(line for block in record_blocks for line in block)
        used = set(re.findall(r"\b(c_\w+|CFUNCTYPE|POINTER)\b", code)) | {"Structure", "Union"}
        # isort order: CONSTANTS, Classes, functions; digits compared as numbers
        imports = sorted(used, key=isort_key)
        self.check_names(names, imports)

        head = [HEADER.format(version="1.1.6").rstrip("\n"), ""]
        head += ["from ctypes import (", *(f"    {n}," for n in imports), ")"]
        head += ["from enum import IntEnum"]
        all_block = ["__all__ = ["]
        for title, group in public:
            all_block += [f"    # {title}", *(f'    "{n}",' for n in group)]
        all_block.append("]")

        blocks: list[list[str]] = [[*head, "", *all_block], *BASE_BLOCKS]
        blocks += [[section("enums")], *enum_blocks]
        blocks += [[section("macros"), *macro_block]]
        blocks += [[section("structs and unions")], *record_blocks]
        blocks += [[section("typedef and tag aliases"), *alias_block]]
        return "\n\n\n".join("\n".join(b) for b in blocks) + "\n"

    def emit_lazy(self) -> str:
        """The runtime module: the stub's definitions as one source text, and an index from
        each name to the slice that defines it and the names that slice needs first;
        :data:`LAZY_TAIL`'s ``__getattr__`` compiles and runs a slice on first use. Text
        costs a byte a character where compiled class bodies cost ~1 KB each."""
        stub = self.emit().split("\n\n\n")
        head = stub[0].replace(HEADER_DOC, HEADER_DOC_LAZY)
        head = head.replace(
            "from enum import IntEnum", "import threading\nfrom enum import IntEnum"
        )
        pieces: list[str] = []
        defs: list[tuple[int, int, list[str]]] = []  # (start, end, names needed first)
        index: dict[str, int] = {}
        offset = 0

        def define(text: str, names: list[str], deps: set[str]) -> None:
            nonlocal offset
            if "\\" in text or QUOTES in text:
                raise SystemExit(f"{names[0]}: a backslash or {QUOTES} cannot go into _SOURCE")
            index.update(dict.fromkeys(names, len(defs)))
            defs.append((offset, offset + len(text), sorted(deps)))
            pieces.append(text)
            offset += len(text) + 1  # the newline joining the pieces

        for rec in self.ordered():
            text = "\n\n".join("\n".join(b) for b in self.emit_records([rec]))
            names = [rec.cls, *(name for name, _ in rec.prototypes)]
            define(text, names, (rec.value_deps | rec.ptr_deps) - {rec.cls})
        enum_blocks, _, _ = self.emit_enums()
        for block, members in zip(enum_blocks[0::2], enum_blocks[1::2], strict=True):
            cls = block[0].split()[1].split("(")[0]
            define("\n".join([*block, "", *members]), [cls, *self.enums_by_class[cls]], set())
        alias_lines, alias_names = self.emit_aliases()
        eager_aliases = []
        records = {r.cls for r in self.records.values()}
        for line, name in zip(alias_lines, alias_names, strict=True):
            target = line.split(" = ", 1)[1].split("  #", 1)[0]
            if target in records:
                define(line, [name], {target})
            else:
                eager_aliases.append(line)
        macro_block, _ = self.emit_macros()
        rows = []
        for a, b, deps in defs:
            needs = "".join(f'"{d}", ' for d in deps).rstrip()
            rows.append(f"    ({a}, {b}, ({needs})),")
        blocks = [
            head,
            *("\n".join(b) for b in BASE_BLOCKS),
            "\n".join([section("macros"), *macro_block]),
            "\n".join([section("typedef aliases of ctypes scalars"), *eager_aliases]),
            "\n".join([section("structs, unions, enums and record aliases: built on first use")]),
            f"_SOURCE = {QUOTES}\\\n" + "\n".join(pieces) + f"\n{QUOTES}",
            "\n".join([f"# {DEFS_NOTE}", "_DEFS = (", *rows, ")"]),
            "\n".join(["_INDEX = {", *(f'    "{n}": {i},' for n, i in index.items()), "}"]),
            LAZY_TAIL.strip("\n"),
        ]
        return "\n\n\n".join(blocks) + "\n"

    @property
    def enums_by_class(self) -> dict[str, list[str]]:
        return {self.enum_names[k]: list(v) for k, v in self.enums.items()}

    def check_names(self, names: list[str], imports: list[str]) -> None:
        seen: set[str] = set()
        for n in [*names, *imports, "IntEnum", "_CStruct", "_CUnion"]:
            if n in seen or keyword.iskeyword(n):
                raise SystemExit(f"name clash in imp/types.py: {n}")
            seen.add(n)
        private = [r.cls for r in self.records.values() if r.cls.startswith("_")]
        if len(set(private)) != len(private) or set(private) & seen:
            raise SystemExit("name clash among private record classes")

    def docstring(self, rec: Record) -> str:
        sizes = self.v.get("sizeof_mips32", {})
        where = self.api.get("struct_headers", {}).get(rec.key)
        if "." in rec.key:
            parent, member = rec.key.split(".", 1)
            what = "Anonymous" if member.startswith("<") else f"Member ``{member}``:"
            text = f"{what} {rec.kind} inside ``{class_name(parent)}``"
        else:
            text = f"C ``{rec.key}`` ({rec.kind}" + (f", {where})" if where else ")")
        if rec.key in sizes:
            text += f"; {sizes[rec.key]} bytes on MIPS o32"
        if rec.packed:
            text += "; packed"
        return f'    """{text}."""'

    def emit_records(self, records: list[Record]) -> list[list[str]]:
        blocks: list[list[str]] = []
        for rec in records:
            base = "_CStruct" if rec.kind == "struct" else "_CUnion"
            fields = []
            for fname, t, width in rec.fields:
                entry = f'("{fname}", {t.expr}' + (f", {width})," if width is not None else "),")
                fields.append(entry + (f"  # {t.comment}" if t.comment else ""))
            head = [f"class {rec.cls}({base}):", self.docstring(rec), ""]
            if rec.packed:
                head += ["    _pack_ = 1", f'    _layout_ = "ms"  # {LAYOUT_NOTE}']
            if rec.anonymous:
                anon = ", ".join(f'"{a}"' for a in rec.anonymous)
                head.append(f"    _anonymous_ = ({anon},)")
            protos = [line for name, expr in rec.prototypes for line in wrap_call(name, expr)]
            if rec.cls in rec.ptr_deps:  # points to itself: declare, then complete
                if head[-1] == "":
                    head.pop()
                blocks.append(head)
                if protos:
                    blocks.append(protos)
                blocks.append([f"{rec.cls}._fields_ = [", *(f"    {f}" for f in fields), "]"])
            else:
                if protos:
                    blocks.append(protos)
                blocks.append(
                    [*head, "    _fields_ = [", *(f"        {f}" for f in fields), "    ]"]
                )
        return blocks

    def emit_aliases(self) -> tuple[list[str], list[str]]:
        lines, names = [], []
        for alias, target in self.aliases.items():
            rkey = self.record_key(target)
            expr = class_name(rkey) if rkey else self.resolve(target, "<typedef>", alias).expr
            lines.append(f"{alias} = {expr}  # typedef")
            names.append(alias)
        order = {name: i for i, name in enumerate(self.structs)}
        for tag, name in sorted(self.tags.items(), key=lambda kv: order[kv[1]]):
            bare = tag.split(" ", 1)[1]
            if bare != name and bare not in self.structs:
                lines.append(f"{bare} = {class_name(name)}  # {tag}")
                names.append(bare)
        return lines, names

    def emit_enums(self) -> tuple[list[list[str]], list[str], list[str]]:
        blocks: list[list[str]] = []
        classes: list[str] = []
        members: list[str] = []
        headers = self.api.get("enum_headers", {})
        for key, values in self.enums.items():
            cls = self.enum_names[key]
            classes.append(cls)
            where = f", {headers[key]}" if key in headers else ""
            c_name = key if not key.startswith("<") else f"anonymous enum {key[1:-1]}"
            block = [f"class {cls}(IntEnum):", f'    """C ``{c_name}``{where}."""', ""]
            for name, value in values.items():
                shown = f"0x{value:X}" if value > 0xFFFF else str(value)
                block.append(f"    {name} = {shown}")
            blocks.append(block)
            blocks.append([f"{name} = {cls}.{name}" for name in values])
            members += values
        return blocks, classes, members

    def emit_macros(self) -> tuple[list[str], list[str]]:
        lines: list[str] = []
        names: list[str] = []
        for name, m in self.v["macros"].items():
            value = m.get("value")
            text = str(m.get("text", ""))
            if not isinstance(value, int) or isinstance(value, bool):
                lines.append(f"# {name} is not an integer ({text}): not emitted")
                continue
            line = f"{name} = {value}"
            if text and text.strip("()") != str(value):
                if len(line + text) + 4 <= 100:
                    line += f"  # {text}"
                elif len(text) <= 98:
                    lines.append(f"# {text}")
            lines.append(line)
            names.append(name)
        return lines, names


def isort_key(name: str) -> tuple[bool, bool, list[Any]]:
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return (not name.isupper(), not name[0].isupper(), parts)


def wrap_call(name: str, expr: str) -> list[str]:
    """``name = F(a, b, ...)`` on one line, or split after ``(`` as ruff format would."""
    line = f"{name} = {expr}"
    if len(line) <= 100:
        return [line]
    func, args = expr.split("(", 1)
    return [f"{name} = {func}(", f"    {args[:-1]}", ")"]


def section(title: str) -> str:
    return f"# {'-' * 30} {title}"


HEADER = '''\
# Generated by tools/gen_types.py from imp_api.json (libimp {version} inventory). Do not edit.
# Regenerate from the repository root:
#     python tools/gen_types.py ../shared/reference/imp_api.json
"""ctypes structs, unions, enums and macros of Ingenic T31 libimp {version}.

Field names, order and types follow the vendor headers; alignment is natural (no ``_pack_``
except where the header packs), so on a MIPS32 (o32) host ``ctypes.sizeof``/``offsetof`` equal
the vendor library's. Pointer members are 8 bytes on a 64-bit host, so only pointer-free
records keep the vendor layout there.
"""
'''

HEADER_DOC = 'records keep the vendor layout there.\n"""'
HEADER_DOC_LAZY = '''records keep the vendor layout there.

Every struct, union and enum is built on first use (module ``__getattr__``, PEP 562): naming
one costs its class (and the records it holds), not the ~1.3 MB of all of them; ``from
imp.types import *`` builds everything. The definitions, as type checkers see them, are in
``imp/types.pyi``.
"""'''

QUOTES = "'" * 3
DEFS_NOTE = "(start, end, names it needs first) of each definition in _SOURCE"

LAZY_TAIL = '''
_BUILD_LOCK = threading.RLock()  # one class per name, also when threads build at once


def __getattr__(name):
    """Build ``name`` (and what it holds) from its slice of _SOURCE, in this namespace."""
    number = _INDEX.get(name)
    if number is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _BUILD_LOCK:
        if name not in globals():
            start, end, needs = _DEFS[number]
            for other in needs:
                if other not in globals():
                    __getattr__(other)
            exec(compile(_SOURCE[start:end], __file__, "exec"), globals())
    return globals()[name]
'''

BASES = '''\
def _field_names(cls):
    names = []
    for entry in cls._fields_:
        if entry[0] in getattr(cls, "_anonymous_", ()):
            names += _field_names(entry[1])
        else:
            names.append(entry[0])
    return names


def _field_repr(value):
    if hasattr(value, "_length_"):  # an array: show the first elements
        return repr(list(value[:8])) + ("..." if len(value) > 8 else "")
    return repr(value)


class _CStruct(Structure):
    """Base of every struct: adds a readable ``repr`` (``Name(field=value, ...)``)."""

    def __repr__(self):
        body = ", ".join(f"{n}={_field_repr(getattr(self, n))}" for n in _field_names(type(self)))
        return f"{type(self).__name__}({body})"


class _CUnion(Union):
    """Base of every union: same ``repr`` as :class:`_CStruct`."""

    __repr__ = _CStruct.__repr__

'''


BASE_BLOCKS = [block.strip("\n").split("\n") for block in BASES.split("\n\n\n")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("json", nargs="?", type=Path, default=DEFAULT_JSON)
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the output is out of date")
    args = ap.parse_args(argv)

    api = json.loads(args.json.read_text(encoding="utf-8"))
    lazy, stub = Generator(api).run()
    outputs = {args.output: lazy, args.output.with_suffix(".pyi"): stub}
    if args.check:
        for path, text in outputs.items():
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                print(f"{path} is out of date; run tools/gen_types.py", file=sys.stderr)
                return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
