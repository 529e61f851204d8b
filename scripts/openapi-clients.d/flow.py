"""A short REST flow through the Python client that openapi-python-client generated from the live
`GET /v1/openapi.json` (scripts/openapi-clients). Every answer must arrive with the status the
document declares and be parsed into the generated model: not None, not an ErrorBody, no field
the document does not declare (`additional_properties`), and every field of the type its
annotation says (the generated parsers of nullable unions fall back to the raw value instead of
failing, so that is checked here).

The flow: a receiver on 127.0.0.1 that answers 200 and calls the verification callback; create
a webhook pointing at it and wait until it is verified; publish custom events (one of them
twice with the same Idempotency-Key); list the deliveries with `per_page` and page through them;
redeliver one and read the redelivery with its attempts; create a webhook policy (its one-time
public key); create a personal access token, use it, revoke it and see it refused.

    python flow.py --server http://127.0.0.1:PORT --token gth_pat_… --package gatehouse_client

The generated package must be importable (PYTHONPATH).
"""

import argparse
import datetime
import enum
import importlib
import json
import sys
import threading
import time
import types
import typing
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT = "app.clients.ping"
PUBLISHED = 3  # custom events published (one more is a replay of the last)
DEADLINE_SECS = 30


class FlowError(Exception):
    pass


def check(condition, what):
    if not condition:
        raise FlowError(what)


# ---- the receiver ----


class Receiver:
    """Answers every POST with 200 and records the message; calls a `webhook.verify` message's
    callback, as the owner of a real endpoint would."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
                message = json.loads(body)
                with receiver.lock:
                    receiver.messages.append(message)
                if message.get("event") == "webhook.verify":
                    with urllib.request.urlopen(message["payload"]["callback"], timeout=10) as answer:
                        answer.read()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        with self.lock:
            return [message.get("event") for message in self.messages]


# ---- checking what the generated client parsed ----


class Checker:
    """Checks a parsed answer against the generated models' own annotations."""

    def __init__(self, package):
        self.models = importlib.import_module(f"{package}.models")
        self.types = importlib.import_module(f"{package}.types")
        self.namespace = {
            **vars(self.models),
            "Unset": self.types.Unset,
            "UUID": uuid.UUID,
            "datetime": datetime,
            "Any": typing.Any,
        }
        self.hints = {}

    def fields(self, model_class):
        if model_class not in self.hints:
            hints = typing.get_type_hints(model_class, globalns=self.namespace)
            hints.pop("additional_properties", None)
            self.hints[model_class] = hints
        return self.hints[model_class]

    def conforms(self, value, annotation, where):
        """Raises FlowError unless `value` is of the type `annotation` names."""
        if annotation is typing.Any:
            return
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            for member in typing.get_args(annotation):
                try:
                    self.conforms(value, member, where)
                    return
                except FlowError:
                    pass
            raise FlowError(f"{where}: {value!r} is none of {annotation}")
        if origin is list:
            check(isinstance(value, list), f"{where}: {value!r} is not a list")
            (item,) = typing.get_args(annotation)
            for index, element in enumerate(value):
                self.conforms(element, item, f"{where}[{index}]")
            return
        if annotation is type(None):
            check(value is None, f"{where}: {value!r} is not None")
            return
        if annotation is int:
            check(isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an int")
            return
        if annotation is float:
            check(isinstance(value, (int, float)) and not isinstance(value, bool),
                  f"{where}: {value!r} is not a number")
            return
        check(isinstance(annotation, type), f"{where}: cannot check against {annotation!r}")
        check(isinstance(value, annotation), f"{where}: {value!r} is not a {annotation.__name__}")
        if isinstance(value, enum.Enum) or not hasattr(annotation, "additional_properties"):
            return
        self.model(value, where)

    def model(self, value, where):
        """A generated model: every declared field of its type, and nothing undeclared, except
        in the free-form objects (`payload`, headers), which declare no properties."""
        hints = self.fields(type(value))
        if hints:
            check(not value.additional_properties,
                  f"{where}: fields the document does not declare: {sorted(value.additional_properties)}")
        for name, annotation in hints.items():
            self.conforms(getattr(value, name), annotation, f"{where}.{name}")

    def parsed(self, response, status, model, what):
        """The parsed answer of a `sync_detailed` call, which must be `status` and `model` (or
        a list of `model`)."""
        parsed = response.parsed
        body = response.content[:800].decode(errors="replace")
        check(response.status_code == status,
              f"{what}: answered {response.status_code}, expected {status}: {body}")
        if isinstance(model, list):
            (item,) = model
            check(isinstance(parsed, list), f"{what}: parsed as {type(parsed).__name__}, not a list: {body}")
            for index, element in enumerate(parsed):
                check(isinstance(element, item),
                      f"{what}: item {index} parsed as {type(element).__name__}, not {item.__name__}")
            self.conforms(parsed, list[item], what)
        else:
            check(isinstance(parsed, model),
                  f"{what}: parsed as {type(parsed).__name__}, not {model.__name__}: {body}")
            self.conforms(parsed, model, what)
        print(f"  {what}: {response.status_code}, {describe(parsed)}")
        return parsed


def describe(parsed):
    if isinstance(parsed, list):
        return f"{len(parsed)} × {type(parsed[0]).__name__ if parsed else 'nothing'}"
    return type(parsed).__name__


def wait_for(what, probe):
    """Calls `probe` until it returns something true, for at most DEADLINE_SECS."""
    deadline = time.monotonic() + DEADLINE_SECS
    while True:
        result = probe()
        if result:
            return result
        check(time.monotonic() < deadline, f"gave up waiting for {what} after {DEADLINE_SECS} s")
        time.sleep(0.1)


# ---- the flow ----


def flow(server, token, package):
    client_module = importlib.import_module(f"{package}.client")

    def operations(tag, *names):
        return types.SimpleNamespace(**{
            name: importlib.import_module(f"{package}.api.{tag}.{name}") for name in names})

    wh = operations("webhooks", "create_webhook", "get_webhook", "list_webhooks", "list_deliveries_of_webhook")
    dl = operations("webhook_deliveries", "list_webhook_deliveries", "get_webhook_delivery",
                    "redeliver_webhook_delivery")
    ev = operations("events", "publish_event")
    tk = operations("personal_access_tokens", "create_personal_access_token", "revoke_personal_access_token",
                    "get_personal_access_token")
    po = operations("webhook_policies", "create_webhook_policy")
    checker = Checker(package)
    m = checker.models

    # Undocumented statuses raise errors.UnexpectedStatus instead of parsing as None.
    client = client_module.AuthenticatedClient(base_url=server, token=token, raise_on_unexpected_status=True)
    receiver = Receiver()

    print("webhook:")
    created = checker.parsed(
        wh.create_webhook.sync_detailed(client=client, body=m.CreateWebhookBody(
            event=EVENT, uri=f"http://127.0.0.1:{receiver.port}/hook", name="generated client",
            description="scripts/openapi-clients", rate_limit_per_second=50)),
        201, m.CreatedWebhookView, "POST /v1/webhooks")
    check(created.event == EVENT and created.name == "generated client", f"created as {created!r}")
    check(created.description == "scripts/openapi-clients", f"description {created.description!r}")
    check(created.rate_limit_per_second == 50, f"rate_limit_per_second {created.rate_limit_per_second!r}")
    check(created.signing_secret.startswith("whsec_"), "signing_secret is no whsec_ secret")
    check(created.state == m.WebhookState.UNVERIFIED and created.verified is False,
          f"a new webhook is {created.state}, verified={created.verified}")
    webhook_id = created.id
    check(isinstance(webhook_id, uuid.UUID), f"id {webhook_id!r} is not a UUID")

    def verified():
        webhook = checker.parsed(wh.get_webhook.sync_detailed(webhook_id, client=client),
                                 200, m.WebhookView, f"GET /v1/webhooks/{webhook_id}")
        return webhook if webhook.verified else None

    webhook = wait_for("the webhook's verification", verified)
    check(webhook.id == webhook_id, f"GET /v1/webhooks/{webhook_id} answered webhook {webhook.id}")
    check(webhook.state == m.WebhookState.ACTIVE, f"a verified webhook is {webhook.state}")
    check(isinstance(webhook.verified_at, datetime.datetime), f"verified_at {webhook.verified_at!r}")
    listed = checker.parsed(wh.list_webhooks.sync_detailed(client=client, per_page=10),
                            200, [m.WebhookView], "GET /v1/webhooks?per_page=10")
    check(webhook_id in [item.id for item in listed], f"the list holds {[item.id for item in listed]}")

    print("events:")
    published = []
    run = uuid.uuid4().hex[:8]  # idempotency keys are remembered for 24 hours
    for number in range(1, PUBLISHED + 1):
        body = m.PublishEventBody(event=EVENT, object_id=f"ping_{number}",
                                  payload=m.PublishEventBodyPayload.from_dict({"number": number}))
        event = checker.parsed(
            ev.publish_event.sync_detailed(client=client, body=body, idempotency_key=f"ping-{run}-{number}"),
            202, m.PublishedEvent, "POST /v1/events")
        check(event.deliveries == 1 and event.replayed is False and event.object_id == f"ping_{number}",
              f"published {event!r}")
        published.append(event)
    replay = checker.parsed(
        ev.publish_event.sync_detailed(client=client, body=body, idempotency_key=f"ping-{run}-{PUBLISHED}"),
        202, m.PublishedEvent, "POST /v1/events (the same Idempotency-Key)")
    check(replay.replayed is True and replay.id == published[-1].id, f"the replay is {replay!r}")

    print("deliveries:")
    expected = 1 + PUBLISHED  # the verification message and one per event

    def all_succeeded():
        page = checker.parsed(
            wh.list_deliveries_of_webhook.sync_detailed(webhook_id, client=client, per_page=100),
            200, [m.DeliveryView], f"GET /v1/webhooks/{webhook_id}/deliveries?per_page=100")
        done = len(page) == expected and all(item.status == m.DeliveryStatus.SUCCEEDED for item in page)
        return page if done else None

    everything = wait_for(f"{expected} succeeded deliveries", all_succeeded)
    check(all(item.webhook_id == webhook_id and item.response_status == 200 for item in everything),
          f"deliveries {everything!r}")
    check(sorted(receiver.events()) == sorted(item.event for item in everything),
          f"the receiver got {receiver.events()}")
    first_page = checker.parsed(
        wh.list_deliveries_of_webhook.sync_detailed(
            webhook_id, client=client, per_page=2, page=1, sort="-created_at"),
        200, [m.DeliveryView], f"GET /v1/webhooks/{webhook_id}/deliveries?per_page=2")
    check(len(first_page) == 2, f"per_page=2 answered {len(first_page)} deliveries")
    second_page = checker.parsed(
        wh.list_deliveries_of_webhook.sync_detailed(
            webhook_id, client=client, per_page=2, page=2, sort="-created_at"),
        200, [m.DeliveryView], f"GET /v1/webhooks/{webhook_id}/deliveries?per_page=2&page=2")
    check(len(second_page) == 2, f"page 2 of per_page=2 answered {len(second_page)} deliveries")
    check({item.id for item in first_page}.isdisjoint(item.id for item in second_page), "pages 1 and 2 overlap")
    response = dl.list_webhook_deliveries.sync_detailed(
        client=client, per_page=1, webhook_id=str(webhook_id), event=EVENT)
    one = checker.parsed(response, 200, [m.DeliveryView], "GET /v1/webhook_deliveries?per_page=1&event=…")
    check(len(one) == 1 and one[0].event == EVENT, f"per_page=1 answered {one!r}")
    check(response.headers.get("x-pagination-total-entries") == str(PUBLISHED),
          f"X-Pagination-Total-Entries is {response.headers.get('x-pagination-total-entries')!r}")

    print("redelivery:")
    original = one[0]
    redelivery = checker.parsed(dl.redeliver_webhook_delivery.sync_detailed(original.id, client=client),
                                202, m.DeliveryView, f"POST /v1/webhook_deliveries/{original.id}/redeliver")
    check(redelivery.redelivery_of_id == original.id and redelivery.id != original.id,
          f"the redelivery is {redelivery!r}")
    check(redelivery.event == EVENT and redelivery.webhook_id == webhook_id, f"the redelivery is {redelivery!r}")

    def redelivered():
        delivery = checker.parsed(dl.get_webhook_delivery.sync_detailed(redelivery.id, client=client),
                                  200, m.DeliveryView, f"GET /v1/webhook_deliveries/{redelivery.id}")
        return delivery if delivery.status == m.DeliveryStatus.SUCCEEDED else None

    delivery = wait_for("the redelivery", redelivered)
    check(isinstance(delivery.attempts, list) and len(delivery.attempts) == 1, f"attempts {delivery.attempts!r}")
    attempt = delivery.attempts[0]
    check(attempt.response_status == 200 and attempt.response_body == "ok", f"the attempt is {attempt!r}")
    check(attempt.request_uri == f"http://127.0.0.1:{receiver.port}/hook", f"request_uri {attempt.request_uri!r}")
    check(delivery.payload is not None and delivery.payload["object_id"] == original.payload["object_id"],
          f"the redelivered payload is {delivery.payload!r}")
    before = checker.parsed(dl.get_webhook_delivery.sync_detailed(original.id, client=client),
                            200, m.DeliveryView, f"GET /v1/webhook_deliveries/{original.id}")
    check(before.redelivered_by_id == redelivery.id, f"redelivered_by_id {before.redelivered_by_id!r}")

    print("webhook policy:")
    policy = checker.parsed(
        po.create_webhook_policy.sync_detailed(
            client=client, body=m.CreatePolicyBody(name="generated client", jwt_alg="es256")),
        201, m.CreatedPolicyView, "POST /v1/webhook_policies")
    check(policy.jwt_alg == "es256" and len(policy.keys) == 1, f"created {policy!r}")
    check(policy.key_id == policy.keys[0].key_id and policy.keys[0].signing is True, f"keys {policy.keys!r}")
    check(isinstance(policy.public_key_pem, str) and policy.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----"),
          f"public_key_pem {policy.public_key_pem!r}")
    check(policy.public_jwk is not None and policy.public_jwk["kid"] == policy.key_id,
          f"public_jwk {policy.public_jwk!r}")

    print("personal access token:")
    made = checker.parsed(
        tk.create_personal_access_token.sync_detailed(client=client, body=m.CreateTokenBody(
            name="generated client", description="made and revoked by scripts/openapi-clients",
            scopes=[m.ScopeName.WEBHOOKSREAD], expires_in=7)),
        201, m.CreatedTokenView, "POST /v1/personal_access_tokens")
    check(made.token_secret.startswith("gth_pat_"), "token_secret is no gth_pat_ token")
    check(made.scopes == ["webhooks:read"] and made.status == m.TokenStatus.ACTIVE, f"created {made!r}")
    check(made.revoked_at is None, f"revoked_at {made.revoked_at!r}")
    lifetime = made.expires_at - made.created_at
    check(datetime.timedelta(days=6) < lifetime <= datetime.timedelta(days=7, seconds=1), f"lives {lifetime}")
    other = client_module.AuthenticatedClient(base_url=server, token=made.token_secret, raise_on_unexpected_status=True)
    seen = checker.parsed(wh.get_webhook.sync_detailed(webhook_id, client=other),
                          200, m.WebhookView, "GET /v1/webhooks/{id} with the new token")
    check(seen.id == webhook_id, f"the new token sees webhook {seen.id}")
    revoked = checker.parsed(tk.revoke_personal_access_token.sync_detailed(made.id, client=client),
                             200, m.TokenView, f"POST /v1/personal_access_tokens/{made.id}/revoke")
    check(revoked.id == made.id and revoked.status == m.TokenStatus.REVOKED, f"revoked {revoked!r}")
    check(isinstance(revoked.revoked_at, datetime.datetime), f"revoked_at {revoked.revoked_at!r}")
    refused = checker.parsed(wh.get_webhook.sync_detailed(webhook_id, client=other),
                             401, m.ErrorBody, "GET /v1/webhooks/{id} with the revoked token")
    check(refused.message, "the 401 has no message")
    again = checker.parsed(tk.get_personal_access_token.sync_detailed(made.id, client=client),
                           200, m.TokenView, f"GET /v1/personal_access_tokens/{made.id}")
    check(again.status == m.TokenStatus.REVOKED, f"the token is {again.status} after revoking")
    receiver.server.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--package", required=True, help="the generated package's import name")
    arguments = parser.parse_args()
    try:
        flow(arguments.server, arguments.token, arguments.package)
    except FlowError as error:
        print(f"generated Python client flow FAILED: {error}", file=sys.stderr)
        return 1
    print("generated Python client flow passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
