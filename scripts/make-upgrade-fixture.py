"""Fills the database GATEHOUSE_DATABASE_URL names with data in every table, using the gatehouse
binary given (an old release) through its CLI and its API. Called by make-upgrade-fixture."""

import base64
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BINARY, TOKEN_FILE = sys.argv[1], sys.argv[2]
EVERY_SCOPE = [
    f"{resource}:{access}"
    for resource in ["people", "personal_access_tokens", "webhooks", "webhook_policies",
                     "webhook_deliveries", "scim", "events"]
    for access in ["read", "write"]
]


def cli(*arguments):
    done = subprocess.run([BINARY, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"gatehouse {' '.join(arguments)}: {done.stderr}")
    return done.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def message(body):
    """The message a body carries: JSON, `{"jwt": …}` or a compact JWS (signed webhooks)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {"jwt": body.decode()}
    if isinstance(parsed, dict) and "jwt" in parsed:
        claims = parsed["jwt"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        return claims.get("data", claims)
    return parsed


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 200, 500 for `app.fail`, and calls a verification message's callback."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        event = self.headers.get("x-gatehouse-event", "")
        self.send_response(500 if event == "app.fail" else 200)
        self.send_header("content-length", "0")
        self.end_headers()
        if event == "webhook.verify":
            callback = message(body)["payload"]["callback"]
            threading.Thread(target=urllib.request.urlopen, args=(callback,)).start()

    def log_message(self, *arguments):
        pass


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    cli("account", "create", "acme", "--name", "Acme")
    cli("person", "create", "--account", "acme", "--email", "ada@example.org", "--name",
        "Ada Lovelace", "--role", "account_administrator")
    scopes = [argument for scope in EVERY_SCOPE for argument in ("--scope", scope)]
    token = cli("token", "create", "--account", "acme", "--person", "ada@example.org", "--name",
                "fixture", "--expires-in", "365", *scopes).strip().splitlines()[-1]
    with open(TOKEN_FILE, "w", encoding="utf-8") as file:
        file.write(token + "\n")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [BINARY, "serve", "--listen", f"127.0.0.1:{port}"],
        env={**os.environ, "GATEHOUSE_ALLOW_PRIVATE_TARGETS": "true",
             "GATEHOUSE_DELIVERY_POLL_INTERVAL_MS": "50", "GATEHOUSE_LOG_LEVEL": "warn",
             "GATEHOUSE_RATE_LIMIT_PER_MINUTE": "100000"},
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/readyz")
                break
            except OSError:
                time.sleep(0.05)
        fill(base, token, hook)
    finally:
        server.terminate()
        server.wait()
        receiver.shutdown()


def call(base, token, method, path, body=None, content_type="application/json", headers=None):
    request = urllib.request.Request(f"{base}{path}", method=method)
    request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, data) as answer:
            text = answer.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode()}")
    return json.loads(text) if text else None


def fill(base, token, hook):
    api = lambda *arguments, **options: call(base, token, *arguments, **options)  # noqa: E731
    scim = "application/scim+json"
    api("POST", "/v1/people", {"name": "Sam Specialist", "primary_email": "sam@example.org",
                               "job_title": "Analyst", "roles": ["specialist"]})
    api("POST", "/v1/personal_access_tokens",
        {"name": "deploy script", "description": "made for the fixture", "expires_in": 90,
         "scopes": ["webhooks:read"]})
    grace = api("POST", "/scim/v2/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "grace@example.org", "externalId": "ext-grace",
        "name": {"givenName": "Grace", "familyName": "Hopper"}, "displayName": "Grace Hopper",
        "title": "Rear Admiral", "active": True,
        "emails": [{"value": "grace@example.org", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701", "department": "Navy"},
    }, content_type=scim)
    api("POST", "/scim/v2/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "linus@example.org", "active": False,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "manager": {"value": grace["id"]}},
    }, content_type=scim)
    api("POST", "/scim/v2/Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Compilers", "externalId": "ext-compilers",
        "members": [{"value": grace["id"]}],
    }, content_type=scim)

    policy = api("POST", "/v1/webhook_policies",
                 {"name": "Signing", "jwt_alg": "es256", "jwt_audience": "fixture"})
    signed = api("POST", "/v1/webhooks", {"event": "app.signed", "uri": hook, "name": "Signed",
                                          "webhook_policy_id": policy["id"]})
    api("POST", "/v1/webhooks", {"event": "app.invoice.*", "uri": hook, "name": "Invoices",
                                 "description": "every invoice event", "ordered": True,
                                 "rate_limit_per_second": 50})
    api("POST", "/v1/webhooks", {"event": "app.fail", "uri": hook, "name": "Failing",
                                 "mail_exceptions_to": "ops@example.org"})
    wait(lambda: all(webhook["verified"] for webhook in api("GET", "/v1/webhooks")))

    api("POST", "/v1/events", {"event": "app.signed", "object_id": "s-1",
                               "payload": {"amount": 12}})
    for number in range(3):
        api("POST", "/v1/events", {"event": "app.invoice.paid", "object_id": f"inv-{number}",
                                   "payload": {"number": number}},
            headers={"Idempotency-Key": f"invoice-{number}"})
    api("POST", "/v1/events", {"event": "app.fail", "object_id": "f-1"})
    wait(lambda: api("GET", "/v1/webhook_notifications"))
    wait(lambda: all(delivery["status"] != "pending" or delivery["event"] == "app.fail"
                     for delivery in api("GET", "/v1/webhook_deliveries?per_page=100")))
    first = api("GET", "/v1/webhook_deliveries?event=app.invoice.paid")[-1]
    api("POST", f"/v1/webhook_deliveries/{first['id']}/redeliver")
    api("POST", f"/v1/webhooks/{signed['id']}/signing_secret/rotate", {"overlap_seconds": 3600})
    api("POST", f"/v1/webhook_policies/{policy['id']}/rotate", {"overlap_seconds": 3600})
    console_session(base, token)


def console_session(base, token):
    """Signs in to the console, as a browser would."""
    with urllib.request.urlopen(f"{base}/console/sign-in") as answer:
        cookie = answer.headers["Set-Cookie"].split(";")[0]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "token": token}).encode()
    request = urllib.request.Request(f"{base}/console/sign-in", data=form, method="POST")
    request.add_header("Cookie", cookie)
    request.add_header("Content-Type", "application/x-www-form-urlencoded")

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *arguments):
            return None

    try:
        urllib.request.build_opener(Stay).open(request)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            sys.exit(f"console sign-in: {answer.code}")


def wait(done, seconds=20):
    deadline = time.time() + seconds
    while not done():
        if time.time() > deadline:
            sys.exit("the fixture's deliveries did not settle")
        time.sleep(0.1)


main()
