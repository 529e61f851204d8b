"""Helpers for scripts/scim-postman: prepares Microsoft's SCIM reference Postman collection and
checks newman's JSON report against the list of assertions that contradict the RFCs.

  postman.py prepare COLLECTION OUT    copy without the "Get Token" step (auth is our token),
                                       each request's id set to "Folder/Request" ("#2" on the
                                       second request of that name in a folder)
  postman.py check REPORT EXCEPTIONS   print every failure; exit 1 on a failure not listed in
                                       EXCEPTIONS, on a listed one that no longer fails, or
                                       when nothing ran

EXCEPTIONS has one line per allowed failure: `Folder/Request :: assertion :: RFC reason`.
"""

import json
import sys


def prepare(source: str, target: str) -> int:
    with open(source, encoding="utf-8") as f:
        collection = json.load(f)

    def walk(items, folder):
        kept, seen = [], {}
        for item in items:
            if item.get("name") == "Get Token":
                continue
            path = f"{folder}/{item['name']}" if folder else item["name"]
            seen[path] = seen.get(path, 0) + 1
            if "item" in item:
                item["item"] = walk(item["item"], path)
            else:
                item["id"] = path if seen[path] == 1 else f"{path} #{seen[path]}"
            kept.append(item)
        return kept

    collection["item"] = walk(collection["item"], "")
    with open(target, "w", encoding="utf-8") as f:
        json.dump(collection, f)
    return 0


def load_exceptions(path: str) -> dict:
    allowed = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [part.strip() for part in line.split(" :: ")]
            if len(parts) != 3 or not all(parts):
                raise SystemExit(f"{path}:{number}: expected `Folder/Request :: assertion :: RFC reason`")
            allowed[(parts[0], parts[1])] = parts[2]
    return allowed


def exchange(execution: dict) -> str:
    """What a request sent and what it got, on one line."""
    request, response = execution.get("request") or {}, execution.get("response") or {}
    url = request.get("url") or {}
    path = "/" + "/".join(url.get("path") or [])
    query = "&".join(f"{q['key']}={q.get('value') or ''}" for q in url.get("query") or [])
    sent = " ".join(((request.get("body") or {}).get("raw") or "").split())
    received = bytes((response.get("stream") or {}).get("data") or []).decode("utf-8", "replace")
    return (
        f"{request.get('method')} {path}{'?' + query if query else ''}"
        + (f" {sent[:300]}" if sent else "")
        + f" -> {response.get('code')} {received[:300]}"
    )


def check(report_path: str, exceptions_path: str) -> int:
    with open(report_path, encoding="utf-8") as f:
        run = json.load(f)["run"]
    allowed = load_exceptions(exceptions_path)

    executions = {e["cursor"].get("ref"): e for e in run["executions"] if e.get("cursor")}
    failed = set()
    unexpected = 0
    for failure in run["failures"]:
        error = failure.get("error") or {}
        source = failure.get("source") or {}
        request = source.get("id") or source.get("name", "?")
        # An assertion failure names its test; a script error or a request error does not.
        assertion = error.get("test") or f"({failure.get('at', 'run')}: {error.get('name', 'error')})"
        key = (request, assertion)
        failed.add(key)
        if key in allowed:
            print(f"known: {request} :: {assertion} — contradicts the RFC: {allowed[key]}")
            continue
        unexpected += 1
        print(f"FAILED: {request} :: {assertion}: {(error.get('message') or '').strip()[:300]}")
        execution = executions.get((failure.get("cursor") or {}).get("ref"))
        if execution:
            print("    " + exchange(execution))
    stale = [key for key in allowed if key not in failed]
    for request, assertion in stale:
        print(f"STALE exception (passes now; remove it from the list): {request} :: {assertion}")

    stats = run["stats"]
    total = stats["assertions"]["total"]
    known = len(failed & set(allowed))
    # The closing line counts an allowed RFC contradiction as neither passed nor failed.
    print(f"postman: {stats['requests']['total']} requests, {known} known RFC contradictions allowed")
    print(f"postman: {total - stats['assertions']['failed']} passed, {unexpected + len(stale)} failed")
    return 1 if unexpected or stale or total == 0 else 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        return prepare(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
