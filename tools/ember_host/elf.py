"""Just enough of a 32-bit little-endian ELF reader for a firmware's sections and symbols.

The size report and the frozen-module check read the linked firmware itself (firmware.elf), not
what the build meant to put in it, and need nothing but the standard library.
"""

import struct
from typing import NamedTuple

SHF_ALLOC = 0x2
SHT_SYMTAB = 2
SHT_NOBITS = 8


class Section(NamedTuple):
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 1 or d[5] != 1:
            raise ValueError(f"{path}: not a 32-bit little-endian ELF file")
        (shoff,) = struct.unpack_from("<I", d, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x2E)
        raw = [struct.unpack_from("<10I", d, shoff + i * shentsize) for i in range(shnum)]
        names = raw[shstrndx][4]  # sh_offset of the section-name string table
        self.sections = [
            Section(self._cstr(names + r[0]), r[1], r[2], r[3], r[4], r[5]) for r in raw
        ]
        self._raw = raw

    def _cstr(self, offset):
        return self.data[offset : self.data.index(b"\0", offset)].decode()

    def allocated(self):
        """Sections that take room on the chip (code, data, bss), with their sizes."""
        return [s for s in self.sections if s.flags & SHF_ALLOC and s.size]

    def symbol(self, name):
        """(address, size) of a symbol from the symbol table; KeyError when absent."""
        for i, s in enumerate(self.sections):
            if s.type != SHT_SYMTAB:
                continue
            strtab = self.sections[self._raw[i][6]].offset  # sh_link: its string table
            for off in range(s.offset, s.offset + s.size, 16):
                st_name, value, size = struct.unpack_from("<III", self.data, off)
                if st_name and self._cstr(strtab + st_name) == name:
                    return value, size
        raise KeyError(name)

    def read(self, addr, size):
        """The bytes at a load address, from the section that holds them."""
        for s in self.sections:
            if s.type != SHT_NOBITS and s.addr <= addr and addr + size <= s.addr + s.size:
                start = s.offset + addr - s.addr
                return self.data[start : start + size]
        raise ValueError(f"no section holds {size} bytes at {addr:#x}")
