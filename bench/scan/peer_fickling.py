#!/usr/bin/env python3
"""fickling 0.1.12 on local files, the way its own `fickling --huggingface` scan treats each
downloaded file (fickling/cli.py `_scan_huggingface`), without the network:

- a zip archive: `fickling.scan_zip_archive(path, graceful=True)` (its members named
  .pkl/.pickle/.bin);
- a NumPy file: skipped, as fickling does ("scanning these formats is not yet supported");
- a pickle (`polyglot.check_pickle(min_length=2)`, restated below) or a .bin/.pkl/.pickle name:
  `fickling.scan_file(path, graceful=True)`;
- anything else: skipped.

fickling's own check tells torch zips apart with `torch.serialization._is_zipfile` (torch is
not installed here); `zipfile.is_zipfile`, which its check also consults, stands in for it.
`fickling -s FILE` alone would only read raw pickles (a zip is a parse error, exit 2).

    python peer_fickling.py FILE... -> one JSON line per file, exit 1 if any is unsafe
"""

import json
import os
import sys
import tempfile
import zipfile
from pathlib import PurePosixPath

import numpy.lib.format as npformat
from fickling import scan_file, scan_zip_archive
from fickling.fickle import Pickled, StackedPickle

RAW_PICKLE_EXTENSIONS = {".bin", ".pkl", ".pickle"}


# fickling.polyglot imports torch at module level, so its two checks are restated here as
# they are written there (check_numpy reduced to the magic test, check_pickle verbatim).
def is_numpy_file(file):
    file.seek(0)
    try:
        npformat.read_magic(file)
        return True
    except ValueError:
        return False


def check_pickle(file, min_length=0):
    file.seek(0)
    try:
        return len(Pickled.load(file)) > min_length
    except Exception:  # noqa: BLE001 - as in fickling.polyglot.check_pickle
        file.seek(0)
        try:
            return any(len(p) > min_length for p in StackedPickle.load(file).pickled)
        except Exception:  # noqa: BLE001
            return False


def verdict(path, report):
    ext = PurePosixPath(path).suffix.lower()
    if zipfile.is_zipfile(path):
        results = list(scan_zip_archive(path, graceful=True, json_output_path=report).values())
    else:
        with open(path, "rb") as file:
            is_numpy = is_numpy_file(file)
            is_pickle = not is_numpy and check_pickle(file, min_length=2)
        if is_numpy:
            return "skipped", "NumPy file: not supported by fickling's scan"
        if not (is_pickle or ext in RAW_PICKLE_EXTENSIONS):
            return "skipped", "not a pickle"
        results = [scan_file(path, graceful=True, json_output_path=report)]
    if not results:
        return "skipped", "no pickle member"
    if any(not result.is_safe for result in results):
        return "flagged", "; ".join(f"{result.filepath}: {result.severity.name}" for result in results if not result.is_safe)
    if any(result.errors for result in results):
        return "error", "; ".join(error for result in results for error in result.errors)[:300]
    return "clean", ""


def main():
    status = 0
    with tempfile.TemporaryDirectory() as scratch:
        # fickling appends its analysis to a JSON file; keep it out of the working folder
        report = os.path.join(scratch, "safety_results.json")
        for path in sys.argv[1:]:
            try:
                found, detail = verdict(path, report)
            except Exception as error:  # noqa: BLE001 - a crash of the peer is its verdict "error"
                found, detail = "error", f"{type(error).__name__}: {error}"[:300]
            status = max(status, {"clean": 0, "skipped": 0, "flagged": 1, "error": 2}[found])
            print(json.dumps({"path": path, "verdict": found, "detail": detail}), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
