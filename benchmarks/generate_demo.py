"""Demo generator throughput and memory at growing sizes.

    .venv/bin/python benchmarks/generate_demo.py [--sizes 20000,200000,1000000] [--out DIR]

Prints interactions/s and the peak resident memory of a child process per size: flat memory
across sizes is what lets the generator reach tens of millions of interactions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from ingestion.demo.generator import generate
out, size = Path(sys.argv[1]), int(sys.argv[2])
started = time.perf_counter()
summary = generate(out, seed=1, interactions=size, progress=False)
seconds = time.perf_counter() - started
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
files = sum(1 for p in out.rglob("*") if p.is_file())
print(json.dumps({"interactions": summary.interactions, "seconds": seconds,
                  "peak_mib": peak_mib, "files": files}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20000,200000,1000000")
    parser.add_argument("--out", help="scratch folder (default: a temp dir, removed after)")
    args = parser.parse_args()
    scratch = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="rapport-gen-"))
    print(f"{'interactions':>12} {'seconds':>8} {'per second':>11} {'peak MiB':>9} {'files':>8}")
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            out = scratch / f"demo_{size}"
            done = subprocess.run([sys.executable, "-c", CHILD, str(out), str(size)],
                                  check=True, capture_output=True, text=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{r['interactions']:>12,} {r['seconds']:>8.1f} "
                  f"{r['interactions'] / r['seconds']:>11,.0f} {r['peak_mib']:>9.0f} "
                  f"{r['files']:>8,}")
            shutil.rmtree(out)
    finally:
        if not args.out:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
