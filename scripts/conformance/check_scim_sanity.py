"""Prints scim-sanity's JSON results (`scim-sanity probe --json-output`) and fails on any check
that is not a pass or a skip, unless EXCEPTIONS lists it as contradicting the RFCs.

Usage: check_scim_sanity.py RESULTS EXCEPTIONS
EXCEPTIONS has one line per allowed failure: `check name :: RFC reason`. A listed check that
no longer fails is an error too, so the list stays exact.
"""

import json
import sys


def load_exceptions(path: str) -> dict:
    allowed = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [part.strip() for part in line.split(" :: ")]
            if len(parts) != 2 or not all(parts):
                raise SystemExit(f"{path}:{number}: expected `check name :: RFC reason`")
            allowed[parts[0]] = parts[1]
    return allowed


def main() -> int:
    results_path, exceptions_path = sys.argv[1], sys.argv[2]
    with open(results_path, encoding="utf-8") as f:
        report = json.load(f)
    allowed = load_exceptions(exceptions_path)

    passed = skipped = 0
    unexpected, known = [], set()
    for result in report["results"]:
        name, message = result["name"], result.get("message") or ""
        status = result["status"].upper()
        line = f"{status:5} {result.get('phase', '')}: {name}" + (f" — {message}" if message else "")
        if status == "PASS":
            passed += 1
        elif status == "SKIP":
            skipped += 1
        elif name in allowed:
            known.add(name)
            line += f"\n      known (contradicts the RFC: {allowed[name]})"
        else:
            unexpected.append(name)
        print(line)
    stale = sorted(set(allowed) - known)
    for name in stale:
        print(f"STALE exception (passes now; remove it from the list): {name}")
    for name in unexpected:
        print(f"FAILED: {name}")
    # The closing line counts an allowed RFC contradiction as neither passed nor failed.
    print(f"scim-sanity {report.get('scim_sanity_version', '')}: {len(known)} known RFC contradictions allowed")
    print(f"scim-sanity: {passed} passed, {len(unexpected) + len(stale)} failed, {skipped} skipped")
    return 1 if unexpected or stale or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
