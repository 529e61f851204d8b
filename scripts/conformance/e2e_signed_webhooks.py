#!/usr/bin/env python3
"""End to end: what a running `gatehouse serve` sends, verified by code we did not write.

scripts/webhook-signing-conformance checks signatures the Rust side writes in a unit test; this
check drives a real server over REST and receives its real deliveries over HTTP, so it also
covers what only the whole service decides: which key signs an attempt, the claims it fills in
(`jti` = the delivery id, `sub` = the webhook id, `iss`, `aud`, `exp`), the headers, the
one-time disclosure of keys and secrets, key rotation and pausing by a disabled policy. The
verifiers are PyJWT + cryptography and the official `standardwebhooks` package.

One receiver (a ThreadingHTTPServer on 127.0.0.1) serves every webhook, one path each
(`/hook/NAME`). Like a careful real receiver it verifies the `webhook.verify` message before it
GETs the callback, so a webhook whose verification message does not verify never becomes
verified. Every POST is recorded; the checks below then verify the recorded messages.

  a) every policy algorithm (rs*, ps*, es*, eddsa, hs*): the create answer hands out the public
     key (PEM + JWK) or the HMAC secret once and GET never again; the linked webhook's messages
     are compact JWS (`application/jwt`) that PyJWT verifies with that key alone, pinned to the
     algorithm, with the policy's audience; the claims carry the message at the top level, `jti`
     equal to the `x-gatehouse-delivery` header, `sub` the webhook id, `exp - iat` the policy's
     5 minutes. PyJWT must refuse the same token with a wrong audience, with one character of
     its claims changed, and once expired (negative leeway): the checks have teeth.
  b) a webhook without a policy: Standard Webhooks headers that `standardwebhooks` verifies with
     the `whsec_` secret from the create answer; after a secret rotation with an overlap, a
     message carries two signatures and verifies with the old secret and with the new one.
  c) rotating an rs256 and an es256 policy's key with no overlap: with both public keys held by
     `kid`, every message verifies with the key its `kid` names, and messages published after
     the rotation carry the new `kid`. Rotating again with an hour's overlap: the messages
     still carry the (now) old `kid`, which keeps signing until `active_from`.
  d) a disabled policy pauses its webhooks: nothing is sent, the delivery stays `pending` with a
     `waiting_reason`; enabling it again sends the message, signed, and it verifies.
  e) a policy made with only a name and an algorithm signs as Xurrent does: the body is
     `{"jwt": "<compact JWS>"}` (`application/json`), the message is the `data` claim, `nbf` =
     `iat`, no `exp` and no `aud`; PyJWT verifies it requiring `iss`, `sub`, `jti`, `iat`, `nbf`.
     Setting `jwt_claim_expires_in` as Xurrent writes it (`"00:10"`) adds `exp` = `iat` + 600.

  f) OpenID Connect discovery: a webhook with `openid_connect_discovery` and an es256 policy. The
     receiver knows nothing but the message: it reads `iss`, GETs
     `<iss>/.well-known/openid-configuration`, and PyJWT's PyJWKClient takes the key its
     `jwks_uri` lists under the message's `kid` — before a rotation, after one that takes effect
     at once (a `kid` it has not seen: it fetches again), and during one with an overlap (the
     JWKS lists the current and the next key).

Policies of a) to d) ask for `jwt_format: "jwt"` (the JWS as the body, message keys as claims).

Usage (scripts/webhook-signing-e2e starts the server and a virtualenv, then runs this):

  python e2e_signed_webhooks.py --server http://127.0.0.1:PORT --token TOKEN

Prints one line per check, a summary table and exits 1 on any failure.
"""
import argparse
import base64
import http.server
import json
import re
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timezone

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    InvalidAudienceError,
    InvalidSignatureError,
)
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ALGORITHMS = [
    "rs256", "rs384", "rs512", "ps256", "ps384", "ps512",
    "es256", "es384", "es512", "eddsa", "hs256", "hs384", "hs512",
]
EXPIRES_IN_MINUTES = 5
WAIT_SECS = 20
# Allowed clock skew when a token is valid (server and receiver share a clock here).
LEEWAY_SECS = 10
# How long after a rotation answers the check waits before it expects the new key or secret to
# sign. The contract: at once (0). Raise it only if the contract is changed to allow a delay.
ROTATION_SEEN_WITHIN_SECS = 0
REGISTERED_CLAIMS = ["iss", "aud", "iat", "nbf", "exp", "jti", "sub"]
ONE_TIME_POLICY_FIELDS = ["public_key_pem", "public_jwk", "secret"]
EC_CURVES = {"es256": "secp256r1", "es384": "secp384r1", "es512": "secp521r1"}
HMAC_MIN_BYTES = {"hs256": 32, "hs384": 48, "hs512": 64}


class CheckFailed(Exception):
    """A check did not hold; the message says what was expected and what came."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def jose_name(alg):
    """The JOSE `alg` for a policy's `jwt_alg`: rs256 -> RS256, eddsa -> EdDSA."""
    return "EdDSA" if alg == "eddsa" else alg.upper()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_rfc3339(text):
    """An RFC 3339 timestamp as an aware datetime (fractions beyond microseconds dropped)."""
    match = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text or ""
    )
    expect(match, f"not an RFC 3339 timestamp: {text!r}")
    whole, fraction, zone = match.groups()
    fraction = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{whole}.{fraction}{zone}")


# ---- the Gatehouse REST API ----


class Api:
    def __init__(self, server, token):
        self.server = server.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, expect_status=(200,)):
        """The JSON answer of one request; CheckFailed naming the request on another status."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={
                "authorization": f"Bearer {self.token}",
                "content-type": "application/json",
                "accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        described = f"{method} {path}" + (f" {json.dumps(body)}" if body is not None else "")
        expect(
            status in expect_status,
            f"{described} answered {status}, expected {'/'.join(map(str, expect_status))}: "
            f"{text[:1000]}",
        )
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise CheckFailed(f"{described} answered {status} with a body that is not JSON: {text[:500]}")

    def publish(self, object_id, n):
        return self.call(
            "POST",
            "/v1/events",
            {"event": "e2e.ping", "object_id": object_id, "payload": {"n": n}},
            expect_status=(202,),
        )

    def wait_verified(self, webhook_id, name):
        deadline = time.monotonic() + WAIT_SECS
        while True:
            webhook = self.call("GET", f"/v1/webhooks/{webhook_id}")
            if webhook.get("verified") is True:
                return webhook
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"webhook {name} ({webhook_id}) not verified after {WAIT_SECS} s: "
                    f"GET /v1/webhooks/{webhook_id} says verified={webhook.get('verified')!r}, "
                    f"state={webhook.get('state')!r}; receiver errors: "
                    f"{RECEIVER.errors_for(name) or 'none'}"
                )
            time.sleep(0.1)


# ---- the receiver ----


class Received:
    """One POST the receiver got. `message` is read without verification, only to match it."""

    def __init__(self, name, headers, body):
        self.name = name
        self.arrived = time.monotonic()
        self.headers = headers  # names lower-case
        self.body = body
        self.content_type = headers.get("content-type", "")
        self.message = None
        self.message_location = None  # "top level" or "data" (for a JWS)
        try:
            if self.content_type.startswith("application/jwt"):
                claims = jwt.decode(body.decode().strip(), options={"verify_signature": False})
                if "event" in claims:
                    self.message, self.message_location = claims, "top level"
                elif isinstance(claims.get("data"), dict):
                    self.message, self.message_location = claims["data"], "data"
            else:
                self.message = json.loads(body)
                if set(self.message) == {"jwt"}:  # Xurrent's body: the message is its `data`
                    claims = jwt.decode(self.message["jwt"], options={"verify_signature": False})
                    self.message, self.message_location = claims.get("data"), "xurrent body"
        except Exception:  # an unreadable message matches nothing; checks report it missing
            self.message = None

    @property
    def event(self):
        return (self.message or {}).get("event")

    @property
    def object_id(self):
        return (self.message or {}).get("object_id")

    def describe(self):
        return (
            f"content-type {self.content_type!r}, headers {sorted(self.headers)}, "
            f"body {self.body[:300]!r}"
        )


class Receiver:
    """Records every POST per webhook name; verifies and calls back `webhook.verify` messages."""

    def __init__(self):
        self.lock = threading.Condition()
        self.inbox = {}  # name -> [Received]
        self.verifiers = {}  # name -> function(Received) raising on a bad signature
        self.errors = {}  # name -> [str]
        self.server = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                name = self.path.rsplit("/", 1)[-1] if self.path.startswith("/hook/") else None
                if name:
                    headers = {key.lower(): value for key, value in self.headers.items()}
                    receiver.record(Received(name, headers, body))
                self.send_response(200 if name else 404)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def url(self, name):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook/{name}"

    def record(self, received):
        with self.lock:
            self.inbox.setdefault(received.name, []).append(received)
            self.lock.notify_all()
        if received.event == "webhook.verify":
            threading.Thread(target=self.answer_verification, args=(received,), daemon=True).start()

    def error(self, name, text):
        with self.lock:
            self.errors.setdefault(name, []).append(text)

    def errors_for(self, name):
        with self.lock:
            return list(self.errors.get(name, []))

    def expect_verifier(self, name, verifier):
        """How `name`'s messages are verified; set before (or just after) the webhook exists."""
        with self.lock:
            self.verifiers[name] = verifier
            self.lock.notify_all()

    def answer_verification(self, received):
        # A plain webhook's secret is known only once its create answer is back, and the
        # verification message may come first: wait for it.
        with self.lock:
            self.lock.wait_for(lambda: received.name in self.verifiers, timeout=WAIT_SECS)
            verifier = self.verifiers.get(received.name)
        if verifier is None:
            self.error(received.name, "verification message came, but no key to verify it with")
            return
        try:
            verifier(received)
        except Exception as error:  # refused: do not prove we own the URI
            self.error(received.name, f"verification message did not verify: {error!r}")
            return
        callback = (received.message.get("payload") or {}).get("callback")
        if not isinstance(callback, str):
            self.error(received.name, f"verification message has no payload.callback: {received.describe()}")
            return
        try:
            with urllib.request.urlopen(callback, timeout=10) as answer:
                answer.read()
        except OSError as error:
            self.error(received.name, f"GET {callback} failed: {error!r}")

    def wait_for(self, name, object_id, timeout=WAIT_SECS):
        """The first message about event object `object_id` at webhook `name`, once it came."""
        def matching():
            return [r for r in self.inbox.get(name, []) if r.object_id == object_id]

        with self.lock:
            self.lock.wait_for(matching, timeout=timeout)
            found = matching()
            everything = list(self.inbox.get(name, []))
        if not found:
            seen = [(r.event, r.object_id, r.content_type) for r in everything]
            raise CheckFailed(
                f"webhook {name}: no message about object {object_id!r} after {timeout} s; "
                f"it received {seen or 'nothing'}"
            )
        return found[0]

    def all_for(self, name):
        """Everything webhook `name` received so far, in order."""
        with self.lock:
            return list(self.inbox.get(name, []))


RECEIVER = Receiver()


# ---- verification with PyJWT ----


class Policy:
    """A policy as the check knows it: its keys by `kid` (one-time values kept from answers)."""

    def __init__(self, name, alg, created):
        self.name = name
        self.alg = alg
        self.id = created["id"]
        self.audience = f"https://receiver.example/{name}"
        self.keys = {}  # kid -> key PyJWT verifies with
        self.jwk_keys = {}  # kid -> the same key, from the JWK
        self.current_kid = None
        self.rotated_at = None  # time.monotonic() when the last rotate answered
        self.add_key(created, "create")

    def add_key(self, answer, where):
        """Checks an answer that discloses a key (create, rotate) and keeps the key."""
        kid = answer.get("key_id")
        expect(isinstance(kid, str) and kid, f"{where} answer for {self.name}: no key_id: {answer}")
        if self.alg.startswith("hs"):
            expect(answer.get("public_key_pem") is None and answer.get("public_jwk") is None,
                   f"{where} answer for {self.name}: an HMAC policy has no public key, got {answer}")
            secret = answer.get("secret")
            expect(isinstance(secret, str) and secret, f"{where} answer for {self.name}: no secret: {answer}")
            expect("=" not in secret and re.fullmatch(r"[A-Za-z0-9_-]+", secret),
                   f"{where} answer for {self.name}: secret is not unpadded base64url: {secret!r}")
            key = b64url_decode(secret)
            expect(len(key) >= HMAC_MIN_BYTES[self.alg],
                   f"{self.name}: {self.alg} secret has {len(key)} bytes, RFC 7518 3.2 wants "
                   f">= {HMAC_MIN_BYTES[self.alg]}")
            self.keys[kid] = key
        else:
            expect(answer.get("secret") is None,
                   f"{where} answer for {self.name}: an asymmetric policy discloses a secret: {answer}")
            pem = answer.get("public_key_pem")
            expect(isinstance(pem, str) and pem.startswith("-----BEGIN PUBLIC KEY-----"),
                   f"{where} answer for {self.name}: public_key_pem is not an SPKI PEM: {pem!r}")
            key = serialization.load_pem_public_key(pem.encode())
            check_key_type(self.alg, key, self.name)
            self.keys[kid] = key
            jwk = answer.get("public_jwk")
            expect(isinstance(jwk, dict), f"{where} answer for {self.name}: public_jwk is not an object: {jwk!r}")
            expect(jwk.get("kid") in (None, kid),
                   f"{where} answer for {self.name}: public_jwk kid {jwk.get('kid')!r} != key_id {kid!r}")
            expect("d" not in jwk and "p" not in jwk,
                   f"{where} answer for {self.name}: public_jwk holds private parameters")
            jwk_key = jwt.PyJWK(jwk).key
            expect(spki(jwk_key) == spki(key),
                   f"{where} answer for {self.name}: public_jwk and public_key_pem are different keys")
            self.jwk_keys[kid] = jwk_key
        return kid


def spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_key_type(alg, key, name):
    if alg[:2] in ("rs", "ps"):
        expect(isinstance(key, rsa.RSAPublicKey), f"{name}: {alg} key is {type(key).__name__}, not RSA")
        expect(key.key_size >= 2048, f"{name}: RSA key of {key.key_size} bits, < 2048")
    elif alg.startswith("es"):
        expect(isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == EC_CURVES[alg],
               f"{name}: {alg} key is {type(key).__name__} {getattr(key, 'curve', None)}, "
               f"not EC {EC_CURVES[alg]}")
    elif alg == "eddsa":
        expect(isinstance(key, ed25519.Ed25519PublicKey), f"{name}: eddsa key is {type(key).__name__}, not Ed25519")


def jwt_decode(token, key, alg, audience, issuer=None, **extra):
    return jwt.decode(
        token,
        key,
        algorithms=[jose_name(alg)],
        audience=audience,
        issuer=issuer,
        options={"require": REGISTERED_CLAIMS, **extra.pop("options", {})},
        **extra,
    )


def verify_jws(received, policy, webhook_id, kid_expected=None):
    """Verifies one policy-signed message with PyJWT; returns (header, claims)."""
    name = received.name
    expect(received.content_type.startswith("application/jwt"),
           f"{name}: a policy's message must be application/jwt: {received.describe()}")
    token = received.body.decode().strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise CheckFailed(f"{name}: the body is not a compact JWS ({error}): {received.describe()}")
    expect(header.get("alg") == jose_name(policy.alg) and header.get("typ") == "JWT",
           f"{name}: JWS header {header}, expected alg {jose_name(policy.alg)} and typ JWT")
    kid = header.get("kid")
    expect(kid in policy.keys, f"{name}: JWS kid {kid!r} names none of the keys disclosed {sorted(policy.keys)}")
    if kid_expected is not None:
        expect(kid == kid_expected, f"{name}: signed by kid {kid!r}, expected {kid_expected!r}")
    # The expected issuer is the account's URL, which the message names.
    issuer = (received.message or {}).get("account")
    try:
        claims = jwt_decode(token, policy.keys[kid], policy.alg, policy.audience, issuer=issuer, leeway=LEEWAY_SECS)
    except jwt.PyJWTError as error:
        raise CheckFailed(f"{name}: PyJWT refused the message signed by kid {kid} (audience "
                          f"{policy.audience!r}, issuer {issuer!r}): {error!r}; claims "
                          f"{jwt.decode(token, options={'verify_signature': False})}")
    expect(isinstance(claims["iss"], str) and claims["iss"], f"{name}: iss {claims['iss']!r} is not a string")
    expect(claims["jti"] == received.headers.get("x-gatehouse-delivery"),
           f"{name}: jti {claims['jti']!r} != x-gatehouse-delivery {received.headers.get('x-gatehouse-delivery')!r}")
    expect(claims["sub"] == webhook_id, f"{name}: sub {claims['sub']!r} != webhook id {webhook_id!r}")
    expect(claims["exp"] - claims["iat"] == EXPIRES_IN_MINUTES * 60,
           f"{name}: exp - iat = {claims['exp'] - claims['iat']}, expected {EXPIRES_IN_MINUTES * 60}")
    if kid in policy.jwk_keys:  # the JWK verifies too
        try:
            jwt_decode(token, policy.jwk_keys[kid], policy.alg, policy.audience, issuer=issuer, leeway=LEEWAY_SECS)
        except jwt.PyJWTError as error:
            raise CheckFailed(f"{name}: verifies with public_key_pem but not with public_jwk: {error!r}")
    return header, claims


def tamper(token):
    """The token with one character of its claims segment changed, signature kept."""
    header, claims, signature = token.split(".")
    index = len(claims) // 2
    changed = "A" if claims[index] != "A" else "B"
    return f"{header}.{claims[:index]}{changed}{claims[index + 1:]}.{signature}"


def expect_refusal(description, errors, decode):
    try:
        decode()
    except errors as error:
        return f"{description}: {type(error).__name__}"
    except Exception as error:
        raise CheckFailed(f"{description}: expected {'/'.join(e.__name__ for e in errors)}, got {error!r}")
    raise CheckFailed(f"{description}: PyJWT accepted the token")


def negative_checks(received, policy):
    """PyJWT must refuse the token with a wrong audience, tampered, and once expired."""
    token = received.body.decode().strip()
    key = policy.keys[jwt.get_unverified_header(token)["kid"]]
    return [
        expect_refusal("wrong audience", (InvalidAudienceError,),
                       lambda: jwt_decode(token, key, policy.alg, policy.audience + "/other", leeway=LEEWAY_SECS)),
        expect_refusal("tampered claims", (InvalidSignatureError, DecodeError),
                       lambda: jwt_decode(tamper(token), key, policy.alg, policy.audience, leeway=LEEWAY_SECS)),
        # 400 s after a 300 s lifetime (iat/nbf left unchecked so only exp can refuse it).
        expect_refusal("expired", (ExpiredSignatureError,),
                       lambda: jwt_decode(token, key, policy.alg, policy.audience, leeway=-400,
                                          options={"verify_nbf": False, "verify_iat": False})),
    ]


def check_message(claims, object_id, n):
    expect(claims.get("event") == "e2e.ping", f"claims event {claims.get('event')!r} != 'e2e.ping'")
    expect(claims.get("object_id") == object_id, f"claims object_id {claims.get('object_id')!r} != {object_id!r}")
    expect(claims.get("payload") == {"n": n}, f"claims payload {claims.get('payload')!r} != {{'n': {n}}}")


# ---- the checks ----


class Results:
    """Checks by subject (an algorithm, "standard webhooks", ...) and step."""

    def __init__(self):
        self.rows = []  # (subject, step, ok, detail)

    def record(self, subject, step, ok, detail):
        self.rows.append((subject, step, ok, detail))
        print(f"{'ok  ' if ok else 'FAIL'} {subject} / {step}: {detail}", flush=True)

    def run(self, subject, step, check, *args):
        """Runs one check; a failure is recorded, not raised. Returns its result, None if failed."""
        try:
            outcome = check(*args)
        except CheckFailed as error:
            self.record(subject, step, False, str(error))
            return None
        except Exception as error:  # a bug of ours or a surprise of theirs: show where
            traceback.print_exc()
            self.record(subject, step, False, f"{type(error).__name__}: {error}")
            return None
        self.record(subject, step, True, outcome if isinstance(outcome, str) else "passed")
        return True if outcome is None else outcome

    def failed(self):
        return [row for row in self.rows if not row[2]]

    def table(self):
        subjects = list(dict.fromkeys(subject for subject, _, _, _ in self.rows))
        width = max(len(subject) for subject in subjects)
        print(f"\n{'subject'.ljust(width)}  result  steps (first failure)")
        print(f"{'-' * width}  ------  --------------------")
        for subject in subjects:
            rows = [row for row in self.rows if row[0] == subject]
            failures = [row for row in rows if not row[2]]
            steps = ", ".join(f"{step} {'ok' if ok else 'FAIL'}" for _, step, ok, _ in rows)
            if failures:
                detail = failures[0][3]
                steps += ": " + (detail if len(detail) <= 160 else detail[:157] + "...")
            print(f"{subject.ljust(width)}  {'FAIL' if failures else 'pass'}    {steps}")
        failed = len({row[0] for row in self.failed()})
        print(f"\n{len(subjects) - failed} of {len(subjects)} subjects passed "
              f"({len(self.rows) - len(self.failed())} of {len(self.rows)} checks)")


def create_policy(api, name, alg):
    audience = f"https://receiver.example/{name}"
    body = {"name": name, "jwt_alg": alg, "jwt_claim_expires_in": EXPIRES_IN_MINUTES, "jwt_audience": audience,
            "jwt_format": "jwt"}
    created = api.call("POST", "/v1/webhook_policies", body, expect_status=(201,))
    for field, wanted in [("name", name), ("jwt_alg", alg), ("jwt_claim_expires_in", EXPIRES_IN_MINUTES),
                          ("jwt_audience", audience), ("jwt_format", "jwt"), ("disabled", False)]:
        expect(created.get(field) == wanted, f"POST /v1/webhook_policies ({alg}): {field} is {created.get(field)!r}, expected {wanted!r}")
    policy = Policy(name, alg, created)
    policy.current_kid = created["key_id"]
    check_not_disclosed(api, policy)
    return policy


def check_not_disclosed(api, policy):
    """The one-time rule: GET never shows the public key or secret again."""
    shown = api.call("GET", f"/v1/webhook_policies/{policy.id}")
    leaked = [field for field in ONE_TIME_POLICY_FIELDS if shown.get(field) is not None]
    expect(not leaked, f"GET /v1/webhook_policies/{policy.id} shows one-time field(s) {leaked}")
    expect(shown.get("key_id") == policy.current_kid,
           f"GET /v1/webhook_policies/{policy.id}: key_id {shown.get('key_id')!r}, expected {policy.current_kid!r}")


def create_webhook(api, name, policy=None):
    """POST /v1/webhooks for `name`'s path, linked to `policy` if given; checks the answer."""
    body = {"event": "e2e.*", "uri": RECEIVER.url(name)}
    if policy is not None:
        body["webhook_policy_id"] = policy.id
    created = api.call("POST", "/v1/webhooks", body, expect_status=(201,))
    expect(created.get("verified") is False,
           f"POST /v1/webhooks ({name}): verified is {created.get('verified')!r}, expected false")
    expect(created.get("webhook_policy_id") == (policy.id if policy else None),
           f"POST /v1/webhooks ({name}): webhook_policy_id is {created.get('webhook_policy_id')!r}")
    return created


def policy_hook(api, name, alg):
    """A policy and a webhook linked to it, verified. Returns (policy, webhook_id)."""
    policy = create_policy(api, name, alg)
    webhook = {}
    created = threading.Event()

    def verify(received):  # how the receiver checks the `webhook.verify` message
        expect(created.wait(WAIT_SECS), f"{name}: the webhook's create answer never came")
        verify_jws(received, policy, webhook["id"])

    RECEIVER.expect_verifier(name, verify)
    webhook.update(create_webhook(api, name, policy))
    created.set()
    api.wait_verified(webhook["id"], name)
    return policy, webhook["id"]


def check_event_jws(received, policy, webhook_id, object_id, n, kid_expected=None):
    """Verifies an `e2e.ping` message and checks what it says. Where in the claims the message
    is (top level, as the contract has it) is checked apart, by `check_claims_layout`, so that a
    misplaced message does not hide the other results."""
    header, claims = verify_jws(received, policy, webhook_id, kid_expected)
    message = claims if received.message_location == "top level" else claims.get("data") or {}
    check_message(message, object_id, n)
    return header, claims


def check_claims_layout(hook, object_id):
    policy, _ = hook
    received = RECEIVER.wait_for(policy.name, object_id)
    claims = jwt.decode(received.body.decode().strip(), options={"verify_signature": False})
    expect(received.message_location == "top level",
           f"{received.name}: the message keys must be top-level claims; they are "
           f"{'under `data`' if received.message_location == 'data' else 'missing'} "
           f"(claims: {sorted(claims)})")
    return "message keys are top-level claims"


# a) every algorithm


def check_event(hook, object_id, n):
    policy, webhook_id = hook
    received = RECEIVER.wait_for(policy.name, object_id)
    check_event_jws(received, policy, webhook_id, object_id, n)
    return f"verified, kid {policy.current_kid}"


def check_refusals(hook, object_id):
    policy, _ = hook
    received = RECEIVER.wait_for(policy.name, object_id)
    return "refused: " + ", ".join(negative_checks(received, policy))


def check_all_algorithms(api, results):
    hooks = {}
    for alg in ALGORITHMS:
        hook = results.run(alg, "policy+webhook verified", policy_hook, api, f"alg-{alg}", alg)
        if hook:
            hooks[alg] = hook
    if not hooks:
        return
    # One event; it fans out to every verified webhook (all listen to e2e.*).
    if not results.run("events", "publish x-1", api.publish, "x-1", 1):
        return
    for alg, hook in hooks.items():
        if results.run(alg, "event verified", check_event, hook, "x-1", 1):
            results.run(alg, "claims layout", check_claims_layout, hook, "x-1")
            results.run(alg, "negatives", check_refusals, hook, "x-1")


# b) Standard Webhooks


def standard_verify(received, secret):
    """The message verified by `standardwebhooks` with `secret`; CheckFailed if refused."""
    expect(received.content_type.startswith("application/json"),
           f"{received.name}: content-type {received.content_type!r}, expected application/json")
    missing = [h for h in ("webhook-id", "webhook-timestamp", "webhook-signature") if h not in received.headers]
    expect(not missing, f"{received.name}: missing Standard Webhooks header(s) {missing}: {received.describe()}")
    try:
        return Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError as error:
        raise CheckFailed(f"{received.name}: standardwebhooks refused the message with the "
                          f"secret {secret[:10]}...: {error} (webhook-signature "
                          f"{received.headers['webhook-signature']!r})")


def expect_refused_by_wrong_secret(received):
    wrong = "whsec_" + base64.b64encode(b"\x01" * 32).decode()
    try:
        Webhook(wrong).verify(received.body, received.headers)
    except WebhookVerificationError:
        return
    raise CheckFailed(f"{received.name}: standardwebhooks accepted a wrong secret")


class StandardHook:
    """A webhook without a policy; its secrets as the create and rotate answers gave them."""

    name = "standard"

    def __init__(self, api):
        self.api = api
        self.secret = None
        self.id = None

    def create(self):
        created = create_webhook(self.api, self.name)
        self.id = created["id"]
        self.secret = created.get("signing_secret")
        expect(isinstance(self.secret, str) and self.secret.startswith("whsec_"),
               f"POST /v1/webhooks ({self.name}): signing_secret {self.secret!r} is not a whsec_ secret")
        # The verification message may already be waiting for the secret.
        RECEIVER.expect_verifier(self.name, lambda received: standard_verify(received, self.secret))
        shown = self.api.call("GET", f"/v1/webhooks/{self.id}")
        expect(shown.get("signing_secret") is None, f"GET /v1/webhooks/{self.id} shows signing_secret again")
        self.api.wait_verified(self.id, self.name)

    def one_secret(self):
        self.api.publish("sw-1", 1)
        received = RECEIVER.wait_for(self.name, "sw-1")
        message = standard_verify(received, self.secret)
        expect(message.get("event") == "e2e.ping" and message.get("payload") == {"n": 1},
               f"{self.name}: unexpected message {message}")
        expect_refused_by_wrong_secret(received)
        return "verified; a wrong secret is refused"

    def rotation(self):
        path = f"/v1/webhooks/{self.id}/signing_secret/rotate"
        answer = self.api.call("POST", path, {"overlap_seconds": 3600})
        rotated_at = time.monotonic()
        new = answer.get("signing_secret")
        expect(isinstance(new, str) and new.startswith("whsec_") and new != self.secret,
               f"POST {path}: signing_secret {new!r} is not a new whsec_ secret")
        expect("previous_expires_at" in answer, f"POST {path}: no previous_expires_at in {answer}")
        time.sleep(ROTATION_SEEN_WITHIN_SECS)
        self.api.publish("sw-2", 2)
        received = RECEIVER.wait_for(self.name, "sw-2")
        signatures = received.headers.get("webhook-signature", "").split(" ")
        expect(len(signatures) == 2, f"{self.name}: during the overlap, webhook-signature has "
                                     f"{len(signatures)} signature(s), expected 2: {signatures} "
                                     f"(received {received.arrived - rotated_at:.2f} s after the "
                                     f"rotate answered)")
        standard_verify(received, self.secret)
        standard_verify(received, new)
        return "two signatures; verified with the old secret and with the new one"


def check_standard_webhooks(api, results):
    hook = StandardHook(api)
    subject = "standard webhooks"
    if results.run(subject, "create+verified", hook.create):
        if results.run(subject, "one secret", hook.one_secret):
            results.run(subject, "rotation overlap", hook.rotation)


# c) key rotation


def rotate(api, policy, overlap_seconds):
    """Rotates the policy's key; checks and keeps the new key. Returns its kid."""
    path = f"/v1/webhook_policies/{policy.id}/rotate"
    answer = api.call("POST", path, {"overlap_seconds": overlap_seconds})
    policy.rotated_at = time.monotonic()
    time.sleep(ROTATION_SEEN_WITHIN_SECS)
    new_kid = policy.add_key(answer, f"POST {path}")
    expect(new_kid != policy.current_kid, f"POST {path}: key_id unchanged ({new_kid})")
    active_from = parse_rfc3339(answer.get("active_from"))
    delay = (active_from - datetime.now(timezone.utc)).total_seconds()
    expect(abs(delay - overlap_seconds) <= 60,
           f"POST {path} with overlap {overlap_seconds}: active_from {answer.get('active_from')} "
           f"is {delay:.0f} s from now")
    return new_kid


def publish_and_check(api, policy, webhook_id, label, numbers, kid):
    """Publishes one event per number, then checks each message is signed by `kid`."""
    for n in numbers:
        api.publish(f"{policy.name}-{label}-{n}", n)
    for n in numbers:
        object_id = f"{policy.name}-{label}-{n}"
        received = RECEIVER.wait_for(policy.name, object_id)
        try:
            check_event_jws(received, policy, webhook_id, object_id, n, kid_expected=kid)
        except CheckFailed as error:
            since = "" if policy.rotated_at is None else (
                f", received {received.arrived - policy.rotated_at:.2f} s after the rotate answered")
            raise CheckFailed(f"{label} the rotation, message {object_id} (delivery "
                              f"{received.headers.get('x-gatehouse-delivery')}{since}): {error}")


def check_rotation(api, alg):
    policy, webhook_id = policy_hook(api, f"rotate-{alg}", alg)
    first = policy.current_kid
    # Every message arrives before the rotation (each attempt is signed when it is made).
    publish_and_check(api, policy, webhook_id, "before", (1, 2, 3), first)
    second = rotate(api, policy, 0)
    policy.current_kid = second
    check_not_disclosed(api, policy)
    publish_and_check(api, policy, webhook_id, "after", (4, 5, 6), second)
    # With an overlap the new key waits until active_from; the current one keeps signing.
    third = rotate(api, policy, 3600)
    publish_and_check(api, policy, webhook_id, "overlap", (7, 8), second)
    return f"kid {first} -> {second} at once; during an overlap still {second}, not {third}"


# d) disabled policy


def deliveries(api, webhook_id):
    listing = api.call("GET", f"/v1/webhook_deliveries?webhook_id={webhook_id}")
    return listing if isinstance(listing, list) else (listing or {}).get("data", [])


def check_disabled_policy(api):
    name = "paused"
    policy, webhook_id = policy_hook(api, name, "es256")
    path = f"/v1/webhook_policies/{policy.id}"
    patched = api.call("PATCH", path, {"disabled": True})
    expect(patched.get("disabled") is True, f"PATCH {path} disabled=true answered disabled={patched.get('disabled')!r}")
    before = len(RECEIVER.all_for(name))
    api.publish("paused-1", 1)
    time.sleep(2)
    arrived = RECEIVER.all_for(name)[before:]
    expect(not arrived, f"{name}: {len(arrived)} message(s) sent while its policy was disabled, "
                        f"the first: {arrived[0].describe() if arrived else ''}")
    listed = deliveries(api, webhook_id)
    pending = [d for d in listed if d.get("status") == "pending"]
    expect(pending, f"GET /v1/webhook_deliveries?webhook_id={webhook_id}: no pending delivery while "
                    f"the policy is disabled; statuses {[d.get('status') for d in listed]}")
    reasons = [d.get("waiting_reason") for d in pending]
    expect(all(isinstance(r, str) and r.strip() for r in reasons),
           f"GET /v1/webhook_deliveries?webhook_id={webhook_id}: pending without a waiting_reason: {pending}")
    patched = api.call("PATCH", path, {"disabled": False})
    expect(patched.get("disabled") is False, f"PATCH {path} disabled=false answered disabled={patched.get('disabled')!r}")
    received = RECEIVER.wait_for(name, "paused-1")
    check_event_jws(received, policy, webhook_id, "paused-1", 1, kid_expected=policy.current_kid)
    return f"held while disabled (waiting_reason {reasons[0]!r}); sent and verified once enabled"


# e) Xurrent's signed body, the default


XURRENT_CLAIMS = ["iss", "iat", "nbf", "jti", "sub"]


def verify_xurrent_body(received, key, webhook_id, expires_in_secs=None):
    """Verifies a message in Xurrent's `{"jwt": …}` body with PyJWT; returns its claims."""
    name = received.name
    expect(received.content_type.startswith("application/json"),
           f"{name}: Xurrent's body is application/json, not {received.content_type!r}")
    try:
        body = json.loads(received.body)
    except ValueError as error:
        raise CheckFailed(f"{name}: the body is not JSON ({error}): {received.describe()}")
    expect(isinstance(body, dict) and list(body) == ["jwt"] and isinstance(body["jwt"], str),
           f"{name}: the body must be exactly {{\"jwt\": \"…\"}}: {received.describe()}")
    required = XURRENT_CLAIMS + (["exp"] if expires_in_secs else [])
    try:
        claims = jwt.decode(body["jwt"], key, algorithms=["ES256"], options={"require": required},
                            leeway=LEEWAY_SECS)
    except jwt.PyJWTError as error:
        raise CheckFailed(f"{name}: PyJWT refused Xurrent's body: {error!r}")
    expect("aud" not in claims, f"{name}: aud {claims.get('aud')!r} without a jwt_audience")
    if expires_in_secs:
        expect(claims["exp"] - claims["iat"] == expires_in_secs,
               f"{name}: exp - iat = {claims['exp'] - claims['iat']}, expected {expires_in_secs}")
    else:
        expect("exp" not in claims, f"{name}: exp {claims.get('exp')!r} without jwt_claim_expires_in")
    expect(claims["nbf"] == claims["iat"], f"{name}: nbf {claims['nbf']} != iat {claims['iat']}")
    expect(claims["sub"] == webhook_id, f"{name}: sub {claims['sub']!r} != webhook id {webhook_id!r}")
    expect(claims["jti"] == received.headers.get("x-gatehouse-delivery"),
           f"{name}: jti {claims['jti']!r} != x-gatehouse-delivery")
    expect(isinstance(claims.get("data"), dict), f"{name}: no message under data: {sorted(claims)}")
    return claims


def check_xurrent_default(api):
    name = "xurrent-default"
    created = api.call("POST", "/v1/webhook_policies", {"name": name, "jwt_alg": "es256"},
                       expect_status=(201,))
    expect(created.get("jwt_format") == "xurrent",
           f"POST /v1/webhook_policies without jwt_format: jwt_format {created.get('jwt_format')!r}")
    expect(created.get("jwt_claim_expires_in") is None,
           f"POST /v1/webhook_policies without an expiry: jwt_claim_expires_in "
           f"{created.get('jwt_claim_expires_in')!r}, expected null")
    key = serialization.load_pem_public_key(created["public_key_pem"].encode())
    webhook = {}
    made = threading.Event()

    def verify(received):
        expect(made.wait(WAIT_SECS), f"{name}: the webhook's create answer never came")
        verify_xurrent_body(received, key, webhook["id"])

    RECEIVER.expect_verifier(name, verify)
    body = {"event": "e2e.*", "uri": RECEIVER.url(name), "webhook_policy_id": created["id"]}
    webhook.update(api.call("POST", "/v1/webhooks", body, expect_status=(201,)))
    made.set()
    api.wait_verified(webhook["id"], name)
    api.publish("xurrent-1", 1)
    claims = verify_xurrent_body(RECEIVER.wait_for(name, "xurrent-1"), key, webhook["id"])
    check_message(claims["data"], "xurrent-1", 1)
    path = f"/v1/webhook_policies/{created['id']}"
    patched = api.call("PATCH", path, {"jwt_claim_expires_in": "00:10"})
    expect(patched.get("jwt_claim_expires_in") == 10,
           f"PATCH {path} with \"00:10\": jwt_claim_expires_in {patched.get('jwt_claim_expires_in')!r}")
    api.publish("xurrent-2", 2)
    claims = verify_xurrent_body(RECEIVER.wait_for(name, "xurrent-2"), key, webhook["id"], 600)
    check_message(claims["data"], "xurrent-2", 2)
    return "{\"jwt\": …}, message under data, no exp; with \"00:10\" exp = iat + 600"


# f) OpenID Connect discovery


def verify_by_discovery(received, expected_kid=None):
    """Verifies Xurrent's body the way a discovery receiver does, from the message's `iss`
    alone: its openid-configuration, then PyJWKClient on its `jwks_uri` picks the key listed
    under the message's `kid`. Returns (kid, claims)."""
    name = received.name
    token = json.loads(received.body)["jwt"]
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
    kid = jwt.get_unverified_header(token).get("kid")
    with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=10) as answer:
        cache = answer.headers.get("cache-control", "")
        configuration = json.load(answer)
    expect("max-age=3600" in cache, f"{name}: openid-configuration Cache-Control {cache!r}")
    expect(configuration.get("issuer") == issuer,
           f"{name}: the configuration's issuer {configuration.get('issuer')!r} is not iss {issuer!r}")
    expect(configuration.get("jwks_uri") == issuer + "/jwks",
           f"{name}: jwks_uri {configuration.get('jwks_uri')!r}")
    try:
        key = jwt.PyJWKClient(configuration["jwks_uri"]).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=configuration["id_token_signing_alg_values_supported"],
                            issuer=issuer, options={"require": XURRENT_CLAIMS}, leeway=LEEWAY_SECS)
    except jwt.PyJWTError as error:
        raise CheckFailed(f"{name}: PyJWKClient + PyJWT refused the message of kid {kid} (object "
                          f"{(received.message or {}).get('object_id')!r}; the JWKS lists "
                          f"{jwks_kids(issuer)}): {error!r}")
    if expected_kid is not None:
        expect(kid == expected_kid, f"{name}: signed by kid {kid!r}, expected {expected_kid!r}")
    return kid, claims


def jwks_kids(issuer):
    with urllib.request.urlopen(issuer + "/jwks", timeout=10) as answer:
        return [key.get("kid") for key in json.load(answer).get("keys", [])]


def check_discovery(api):
    name = "discovery"
    created = api.call("POST", "/v1/webhook_policies", {"jwt_alg": "es256"}, expect_status=(201,))
    first = created["key_id"]
    webhook = {}
    made = threading.Event()

    def verify(received):
        expect(made.wait(WAIT_SECS), f"{name}: the webhook's create answer never came")
        verify_by_discovery(received)

    RECEIVER.expect_verifier(name, verify)
    body = {"event": "e2e.*", "uri": RECEIVER.url(name), "webhook_policy_id": created["id"],
            "openid_connect_discovery": True}
    webhook.update(api.call("POST", "/v1/webhooks", body, expect_status=(201,)))
    made.set()
    api.wait_verified(webhook["id"], name)
    # Before a rotation.
    api.publish("discovery-1", 1)
    _, claims = verify_by_discovery(RECEIVER.wait_for(name, "discovery-1"), first)
    check_message(claims["data"], "discovery-1", 1)
    issuer = claims["iss"]
    expect(issuer.endswith("/webhook_policies/" + created["name"]), f"{name}: iss {issuer!r}")
    expect(jwks_kids(issuer) == [first], f"{name}: before the rotation the JWKS lists {jwks_kids(issuer)}")
    # During a rotation's overlap the JWKS lists the next key too; the current one signs.
    overlap = 5
    path = f"/v1/webhook_policies/{created['id']}/rotate"
    second = api.call("POST", path, {"overlap_seconds": overlap})["key_id"]
    rotated = time.monotonic()
    kids = jwks_kids(issuer)
    expect(kids == [first, second], f"{name}: during the overlap the JWKS lists {kids}, expected {[first, second]}")
    api.publish("discovery-2", 2)
    verify_by_discovery(RECEIVER.wait_for(name, "discovery-2"), first)
    # After it, the next key signs and is the one listed.
    time.sleep(max(0.0, overlap + 1 - (time.monotonic() - rotated)))
    api.publish("discovery-3", 3)
    verify_by_discovery(RECEIVER.wait_for(name, "discovery-3"), second)
    expect(jwks_kids(issuer) == [second], f"{name}: after the overlap the JWKS lists {jwks_kids(issuer)}")
    return (f"iss → openid-configuration → jwks_uri → PyJWKClient: kid {first} before, "
            f"{first} during the overlap (JWKS lists {first} and {second}), {second} after")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="bearer token (see scripts/webhook-signing-e2e)")
    args = parser.parse_args()
    api = Api(args.server, args.token)
    RECEIVER.start()
    results = Results()

    check_all_algorithms(api, results)
    check_standard_webhooks(api, results)
    for alg in ("rs256", "es256"):
        results.run(f"rotation {alg}", "rotate", check_rotation, api, alg)
    results.run("disabled policy", "pause+resume", check_disabled_policy, api)
    results.run("xurrent default", "sign+verify", check_xurrent_default, api)
    results.run("oidc discovery", "rotation", check_discovery, api)

    for name, errors in sorted(RECEIVER.errors.items()):
        for error in errors:  # (also named by the failed wait for verification)
            results.record(f"receiver {name}", "verification message", False, error)
    results.table()
    sys.exit(1 if results.failed() else 0)


if __name__ == "__main__":
    main()
