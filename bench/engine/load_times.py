#!/usr/bin/python3
"""Model load time, from a warm page cache: runs each tessera-bench binary N times, alternating,
and prints the min and median of its load_ms (TextEmbedder::open).

    bench/engine/load_times.py --runs 12 --model .peer-bench/models/minilm-l6 ./build/tessera-bench [OTHER_BINARY ...]
"""
import argparse
import json
import statistics
import subprocess


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--model", required=True)
    parser.add_argument("--workload", default=".peer-bench/work/bert/single.json")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    loads = {binary: [] for binary in args.binaries}
    for _ in range(args.runs):
        for binary in args.binaries:
            out = subprocess.run([binary, "--model", args.model, "--threads", "2", "--repeats", "1", "--iters", "3",
                                  "--precision", args.precision, "--workload", args.workload],
                                 capture_output=True, text=True, check=True).stdout
            loads[binary].append(json.loads(out)["load_ms"])
    for binary, values in loads.items():
        print(f"{binary}: load_ms min {min(values):.1f} median {statistics.median(values):.1f} max {max(values):.1f} ({len(values)} runs)")


if __name__ == "__main__":
    main()
