"""Kill a checkpointed ``LandmarkDetector.fit`` N times (SIGKILL, seeded random instants, some
in the middle of a checkpoint write), resume after each, and compare with an uninterrupted run.

    python benchmarks/kill_resume.py [--kills 20] [--seed 1] [--epochs 40] [--work DIR]

Prints one line per kill (its kind, the epochs done before and after, temporary files left),
whether every resume succeeded, the best epoch of both runs (state.json) and the largest
difference between their final weights and their last epoch's weights and optimizer state.
Exit status 0 when every resume succeeded and the best epochs are equal, else 1. The training
child and the kill schedule are in ``tests/_kill_resume.py`` (shared with the test, which kills
4 times). CPU: about 12 s per child process plus 0.1 s per epoch on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import _kill_resume


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill schedule")
    parser.add_argument("--epochs", type=int, default=40, help="epochs of the training run")
    parser.add_argument("--work", help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()
    os.environ["FL_EPOCHS"] = str(args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        _kill_resume.make_data(work)
        t0 = time.monotonic()
        plain = _kill_resume.uninterrupted(work)
        print(
            f"uninterrupted: {plain['seconds']:.1f} s, first checkpoint after "
            f"{plain['first_checkpoint']:.1f} s, {args.epochs} epochs"
        )
        report = _kill_resume.run_with_kills(work, args.kills, plain, seed=args.seed)
        for i, kill in enumerate(report["log"], 1):
            print(
                f"kill {i:2d} {kill['kind']:<6} epochs done {kill['epochs_before']} -> "
                f"{kill['epochs_after']}  left: {', '.join(kill['leftovers']) or '-'}"
            )
        result = _kill_resume.compare(work)
        print(f"kills landed {report['kills']} of {args.kills} ({report['attempts']} starts)")
        print(f"failed resumes: {len(report['failures'])}")
        for failure in report["failures"]:
            print("  " + failure.replace("\n", "\n  "))
        print(json.dumps(result))
        print(f"total {time.monotonic() - t0:.0f} s")
    same = result["best_epoch"][0] == result["best_epoch"][1]
    return 0 if same and not report["failures"] and report["kills"] == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
