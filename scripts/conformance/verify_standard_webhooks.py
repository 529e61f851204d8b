#!/usr/bin/env python3
"""Verify Gatehouse's Standard Webhooks signatures with the official `standardwebhooks` package.

Reads JSON lines on stdin: secret (whsec_...), msg_id, timestamp, body, signature, and expect
("valid" | "invalid"). Prints one line per check and "N passed, N failed"; exits 1 on any
failure. The package refuses timestamps more than five minutes from now: run it right after
the vectors are written (scripts/webhook-signing-conformance does).
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main():
    passed = failed = 0
    for number, raw in enumerate(sys.stdin, start=1):
        if not raw.strip():
            continue
        line = json.loads(raw)
        headers = {
            "webhook-id": line["msg_id"],
            "webhook-timestamp": str(line["timestamp"]),
            "webhook-signature": line["signature"],
        }
        try:
            Webhook(line["secret"]).verify(line["body"].encode(), headers)
            ok, detail = line["expect"] == "valid", "verified"
        except WebhookVerificationError as error:
            ok, detail = line["expect"] == "invalid", repr(error)
        signatures = len(line["signature"].split(" "))
        print(f"{'ok  ' if ok else 'FAIL'} line {number} expect {line['expect']} ({signatures} signature(s)): {detail}")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"standard webhooks: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
