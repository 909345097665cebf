#!/usr/bin/env python3
"""Counts a few SASS instruction kinds per kernel of a cubin, for machines without
cuobjdump or nvdisasm (the development machines): sm_80+ instructions are 128-bit
words whose low 12 bits are the opcode. The codes below were checked against the
PTX of our attention kernels on sm_80 and sm_90 (256 mma.sync -> 256 HMMA,
80 ldmatrix -> 80 LDSM, 40 cp.async -> 40 LDGSTS, 20 st.global -> 20 STG); shared
stores are left out (their code differs by width and arch). LDL and STL are listed
for local-memory traffic; ptxas -v reports the same as stack and spill bytes.
On the GPU machine, cuobjdump -sass is the real tool.

  nvcc -std=c++20 -cubin -arch=sm_90 -I. kernels/cuda/flash_attention_fwd_d128_bf16.cu -o f.cubin
  python3 bench/attention_sass_opcodes.py f.cubin
"""
import collections
import struct
import sys

NAMES = {0x23c: "HMMA", 0x83b: "LDSM", 0xfae: "LDGSTS", 0x308: "MUFU", 0x986: "STG",
         0xf89: "SHFL", 0xb1d: "BAR", 0x983: "LDL", 0x387: "STL"}


def main(path):
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx]
    for sec in sections:
        name = data[names[4] + sec[0]:].split(b"\0")[0].decode()
        if not name.startswith(".text."):
            continue
        body = data[sec[4]:sec[4] + sec[5]]
        hist = collections.Counter(struct.unpack_from("<Q", body, i)[0] & 0xfff for i in range(0, len(body), 16))
        print(f"{name[6:]}: {len(body) // 16} instructions")
        print("  " + ", ".join(f"{label} {hist[code]}" for code, label in NAMES.items()))


if __name__ == "__main__":
    main(sys.argv[1])
