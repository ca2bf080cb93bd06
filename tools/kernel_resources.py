#!/usr/bin/env python3
"""What ptxas says of every kernel: registers, spills, stack, shared memory.

Reads the output of a build with `nvcc --resource-usage` (CI sets CUDAFLAGS=--resource-usage
for its build of the README test command and feeds the log here), prints one Markdown row per
kernel and architecture, and fails (exit 1) on any spill or on more than 48 KB of static shared
memory (a launch needs an opt-in beyond it). No GPU is needed.

    python3 tools/kernel_resources.py build.log [--out table.md]
"""
import argparse
import re
import shutil
import subprocess
import sys

MAX_STATIC_SHARED = 48 * 1024

ENTRY = re.compile(r"ptxas info\s*: Compiling entry function '([^']+)' for '(sm_\d+a?)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"ptxas info\s*: Used (\d+) registers")
SMEM = re.compile(r"(\d+) bytes smem")


def demangle(names):
    if not names or not shutil.which("c++filt"):
        return {n: n for n in names}
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
    return {n: re.sub(r"\(.*", "", d) for n, d in zip(names, out)}


def parse(lines):
    kernels, current = {}, None
    for line in lines:
        m = ENTRY.search(line)
        if m:
            current = (m.group(1), m.group(2))
            kernels[current] = {"registers": 0, "stack": 0, "spill_stores": 0, "spill_loads": 0, "smem": 0}
            continue
        if current is None:
            continue
        k = kernels[current]
        m = FRAME.search(line)
        if m:
            k["stack"], k["spill_stores"], k["spill_loads"] = map(int, m.groups())
        m = USED.search(line)
        if m:
            k["registers"] = int(m.group(1))
            s = SMEM.search(line)
            k["smem"] = int(s.group(1)) if s else 0
    return kernels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="build output of nvcc --resource-usage ('-' for stdin)")
    ap.add_argument("--out", help="also write the table here")
    args = ap.parse_args()
    text = sys.stdin.read() if args.log == "-" else open(args.log, errors="replace").read()
    kernels = parse(text.splitlines())
    if not kernels:
        print("kernel_resources: no ptxas output found: was every .cu compiled, with CUDAFLAGS=--resource-usage?")
        return 1
    names = demangle(sorted({name for name, _ in kernels}))
    rows = ["| kernel | arch | registers | stack B | spill stores B | spill loads B | static smem B |",
            "|---|---|---|---|---|---|---|"]
    bad = []
    for (name, arch), k in sorted(kernels.items(), key=lambda kv: (names[kv[0][0]], kv[0][1])):
        rows.append(f"| {names[name]} | {arch} | {k['registers']} | {k['stack']} | {k['spill_stores']} | "
                    f"{k['spill_loads']} | {k['smem']} |")
        if k["spill_stores"] or k["spill_loads"]:
            bad.append(f"{names[name]} ({arch}) spills {k['spill_stores']} B stores, {k['spill_loads']} B loads")
        if k["smem"] > MAX_STATIC_SHARED:
            bad.append(f"{names[name]} ({arch}) has {k['smem']} B of static shared memory, more than 48 KB")
    table = "\n".join(rows) + "\n"
    print(table, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    for b in bad:
        print("kernel_resources: FAIL:", b)
    print(f"kernel_resources: {len(kernels)} kernels, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
