"""Runs scim2-tester's checks against a Gatehouse SCIM endpoint and fails on any non-success.

Usage: run_scim2_tester.py BASE_URL TOKEN   (BASE_URL ends in /scim/v2)
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    client = SyncSCIMClient(Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}))
    results = check_server(client)
    failures = [result for result in results if result.status != Status.SUCCESS]
    for result in failures:
        print(f"{result.status.name}: {result.title}: {(result.reason or '')[:400]}")
    print(f"scim2-tester: {len(results) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
