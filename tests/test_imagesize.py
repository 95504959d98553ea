"""The size report's reading of linker scripts and its budget, on figures given here."""

import pytest
from ember_host import imagesize

LD = """
MEMORY
{
    dport0_0_seg : org = 0x3ff00000, len = 16
    dram0_0_seg :  org = 0x3ffe8000, len = 80K
    iram1_0_seg :  org = 0x40100000, len = 32K
    irom0_0_seg :  org = 0x40209000, len = 1M - 36K
}
INCLUDE boards/esp8266_common.ld
"""


def test_memory_regions_read_as_the_linker_does():
    assert imagesize.memory_regions(LD) == {
        "dport0_0_seg": (0x3FF00000, 16),
        "dram0_0_seg": (0x3FFE8000, 80 * 1024),
        "iram1_0_seg": (0x40100000, 32 * 1024),
        "irom0_0_seg": (0x40209000, 1011712),
    }
    with pytest.raises(ValueError, match="no MEMORY block"):
        imagesize.memory_regions("SECTIONS { }")


def sizes(iram_free, dram_free=100):
    return {
        "IRAM .text": {"used": 32768 - iram_free, "limit": 32768, "free": iram_free},
        "DRAM data+rodata+bss": {"used": 81920 - dram_free, "limit": 81920, "free": dram_free},
    }


def test_the_budget_fails_under_1_kb_of_iram_and_on_any_overflow():
    assert imagesize.check(sizes(1024)) == []
    assert imagesize.check(sizes(1023)) == ["IRAM headroom 1023 bytes, under the 1024-byte budget"]
    assert imagesize.check(sizes(2000, dram_free=-8)) == [
        "DRAM data+rodata+bss: 81928 bytes, over its 81920"
    ]
