#!/usr/bin/env python3
"""Replays the privilege escalations of the penetration test against a live Gatehouse.

scripts/security-regression starts the server and runs this; standard library only (3.11).

    escalations.py --server http://127.0.0.1:PORT --binary target/debug/gatehouse

The CLI (--binary) builds the fixtures on the server's database (GATEHOUSE_DATABASE_URL and
GATEHOUSE_SECRET_KEY_FILE come from the environment), as an operator bootstraps an account.

How to read it
--------------
PEOPLE and TOKENS are the cast: who exists, with which tokens, in every account. SCENARIOS
(below "The expectations") is the list of
checks in the order they run. Every scenario gets an account of its own, built from scratch,
so an escalation that succeeds cannot hide or fake the next one (a disabled Ada would make
every later check of hers meaningless). Three kinds of check:

  Guard       an attack. The request must be refused with `expect` (and the refusal must look
              as `refusal` says); afterwards every `unchanged` fact must still hold, as seen by
              the read-only observer O. A 2xx answer, or an `unchanged` fact broken whatever
              the answer, is an ESCALATION. Refused with another status or shape is a failure
              too (counted with the controls: the contract says 403), but no escalation.
  Control     what must keep working. The request must answer `expect`, the answer must pass
              `answer` checks, then every `then` fact must hold. A fix that switches a feature
              off instead of guarding it fails here.
  CliControl  the same for a CLI command: exit status 0, `output` contains, then facts.

Output: one line per check: PASS or FAIL, its id, what was sent (method and path with ids
shown by name, or the CLI command), as whom, the status expected and the status received;
evidence indented below a failure. Token secrets are never printed: anything shaped like one
is redacted, and requests are shown without their Authorization header.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

# ------------------------------------------------------------------------------------------
# The cast: the same people and tokens in every account.
# ------------------------------------------------------------------------------------------

PEOPLE = {
    "ada": {"email": "ada@example.org", "name": "Ada Lovelace", "role": "account_administrator"},
    "dora": {"email": "dora@example.org", "name": "Dora Director", "role": "directory_administrator"},
    "sam": {"email": "sam@example.org", "name": "Sam Specialist", "role": "specialist"},
    # Olga only looks: her token reads the state an attack was after, so an attack that
    # disables Ada or revokes her token cannot also blind the check.
    "olga": {"email": "olga@example.org", "name": "Olga Observer", "role": "account_administrator"},
}
ADA_EMAIL = PEOPLE["ada"]["email"]

# token: (owner, scopes, lifetime in days)
TOKENS = {
    "T1": ("ada", ["personal_access_tokens:write"], 7),
    "A": ("ada", ["people:write", "personal_access_tokens:write", "scim:write"], 30),
    "D": ("dora", ["people:write", "personal_access_tokens:write", "scim:write"], 30),
    "S": ("sam", ["personal_access_tokens:write"], 30),
    "S2": ("sam", ["personal_access_tokens:write"], 30),
    "O": ("olga", ["people:read", "personal_access_tokens:read", "scim:read"], 30),
}

# ------------------------------------------------------------------------------------------
# Plumbing: HTTP, CLI, redaction.
# ------------------------------------------------------------------------------------------

SECRET = re.compile(r"gth_pat_[A-Za-z0-9]+")


def redact(text: str) -> str:
    return SECRET.sub("gth_pat_[redacted]", text)


def say(text: str = "") -> None:
    print(redact(text), flush=True)


@dataclass
class Answer:
    status: int | None  # None: no answer at all
    headers: dict = field(default_factory=dict)
    body: object = None  # parsed JSON, or None
    text: str = ""

    def shown(self) -> str:
        return "no answer" if self.status is None else str(self.status)

    def field(self, name: str):
        return self.body.get(name) if isinstance(self.body, dict) else None


class Context:
    """One account: its name, the ids of its people and tokens, the secrets of its tokens."""

    def __init__(self, server: str, binary: str, account: str):
        self.server, self.binary, self.account = server, binary, account
        self.ids: dict[str, str] = {"account": account}
        self.secrets: dict[str, str] = {}
        self.expires: dict[str, str] = {}

    def fill(self, value):
        """`{ada}`, `{token_A}`, `{ada_scim}`, `{account}` in paths, bodies and argv."""
        if isinstance(value, str):
            return value.format_map(self.ids)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value

    def http(self, token: str, method: str, path: str, body=None) -> Answer:
        secret = self.secrets[token]
        data = None if body is None else json.dumps(self.fill(body)).encode()
        request = urllib.request.Request(self.server + self.fill(path), data=data, method=method)
        request.add_header("Authorization", f"Bearer {secret}")
        request.add_header("X-Gatehouse-Account", self.account)
        if data is not None:
            scim = path.startswith("/scim/")
            request.add_header("Content-Type", "application/scim+json" if scim else "application/json")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, OSError) as error:
            return Answer(None, text=str(error))
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return Answer(status, {key.lower(): value for key, value in headers.items()}, body, text)

    def cli(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, *argv], capture_output=True, text=True, timeout=60, check=False
        )


class SetupError(Exception):
    pass


def build_account(server: str, binary: str, account: str) -> Context:
    """The account and its cast, through the CLI (which prints token secrets only with --json)."""
    ctx = Context(server, binary, account)

    def run(*argv):
        done = ctx.cli(*argv, "--json")
        if done.returncode != 0:
            raise SetupError(f"`gatehouse {' '.join(argv[:2])}` exited {done.returncode}: "
                             f"{done.stderr.strip()[:300]}")
        return json.loads(done.stdout)

    run("account", "create", account, "--name", f"Security regression {account}")
    for key, person in PEOPLE.items():
        created = run("person", "create", "--account", account, "--email", person["email"],
                      "--name", person["name"], "--role", person["role"])
        ctx.ids[key] = (created[0] if isinstance(created, list) else created)["id"]
    for name, (owner, scopes, days) in TOKENS.items():
        argv = ["token", "create", "--account", account, "--person", PEOPLE[owner]["email"],
                "--name", name, "--expires-in", str(days)]
        for scope in scopes:
            argv += ["--scope", scope]
        created = run(*argv)
        ctx.secrets[name] = created["token_secret"]
        ctx.ids[f"token_{name}"] = created["id"]
        ctx.expires[name] = created["expires_at"]
    return ctx


def when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------------
# Facts: what must hold after a check, read by the observer O (or by trying a token).
# Each probe returns (holds, what was observed); holds is None when the server did not answer,
# which is no evidence either way.
# ------------------------------------------------------------------------------------------


@dataclass
class Fact:
    text: str
    probe: Callable[[Context], "tuple[bool | None, str]"]


def unanswered(answer: Answer) -> bool:
    return answer.status is None


def person(who: str, **expected) -> Fact:
    """The person as O reads it at GET /v1/people/{id}: e.g. disabled=False, source="manual"."""
    wanted = ", ".join(f"{key} {json.dumps(value)}" for key, value in expected.items())

    def probe(ctx):
        answer = ctx.http("O", "GET", f"/v1/people/{{{who}}}")
        if unanswered(answer):
            return None, f"GET /v1/people/{{{who}}} as O: {answer.text}"
        if answer.status != 200:
            return False, f"GET /v1/people/{{{who}}} as O answered {answer.shown()}"
        seen = {key: answer.field(key) for key in expected}
        return seen == expected, ", ".join(f"{key} {json.dumps(value)}" for key, value in seen.items())

    return Fact(f"{who.capitalize()}: {wanted}", probe)


def token_works(token: str, path: str = "/v1/personal_access_tokens") -> Fact:
    def probe(ctx):
        answer = ctx.http(token, "GET", path)
        if unanswered(answer):
            return None, f"GET {path} as {token}: {answer.text}"
        return answer.status == 200, f"GET {path} as {token} answered {answer.shown()}" + (
            f" ({answer.field('message')})" if answer.field("message") else "")

    return Fact(f"token {token} still authenticates (GET {path} → 200)", probe)


def token_refused(token: str) -> Fact:
    path = "/v1/personal_access_tokens"

    def probe(ctx):
        answer = ctx.http(token, "GET", path)
        if unanswered(answer):
            return None, f"GET {path} as {token}: {answer.text}"
        return answer.status == 401, f"GET {path} as {token} answered {answer.shown()}"

    return Fact(f"token {token} is refused (GET {path} → 401)", probe)


def scim_user_active(key: str) -> Fact:
    def probe(ctx):
        answer = ctx.http("O", "GET", f"/scim/v2/Users/{{{key}}}")
        if unanswered(answer):
            return None, f"GET /scim/v2/Users/{{{key}}} as O: {answer.text}"
        if answer.status != 200:
            return False, f"GET /scim/v2/Users/{{{key}}} as O answered {answer.shown()}"
        return answer.field("active") is True, f"active {json.dumps(answer.field('active'))}"

    return Fact("her SCIM User still exists and is active", probe)


# ------------------------------------------------------------------------------------------
# Answer checks: the shape of a refusal (guards) or of a success (controls).
# Each returns a problem, or None.
# ------------------------------------------------------------------------------------------

AnswerCheck = Callable[[Context, Answer], "str | None"]


def www_authenticate(word: str) -> AnswerCheck:
    def check(ctx, answer):
        header = answer.headers.get("www-authenticate", "")
        return None if word in header else f"WWW-Authenticate lacks {word!r}: {header!r}"

    return check


def message_names(*scopes: str) -> AnswerCheck:
    def check(ctx, answer):
        message = answer.field("message")
        if not isinstance(message, str):
            return f"no JSON `message` in the answer: {answer.text[:200]!r}"
        missing = [scope for scope in scopes if scope not in message]
        return f"`message` does not name {', '.join(missing)}: {message!r}" if missing else None

    return check


def scim_error(status: str) -> AnswerCheck:
    def check(ctx, answer):
        schemas = answer.field("schemas") or []
        if SCIM_ERROR not in schemas or answer.field("status") != status:
            return f"not a SCIM error with status {status!r}: {answer.text[:200]!r}"
        return None

    return check


def minted_scopes(scopes: list[str]) -> AnswerCheck:
    def check(ctx, answer):
        got = sorted(answer.field("scopes") or [])
        return None if got == sorted(scopes) else f"minted token has scopes {got}, not {scopes}"

    return check


def minted_expires_within(token: str) -> AnswerCheck:
    """Not after `token` expires: the server cuts its default lifetime to the creator's."""

    def check(ctx, answer):
        expires = answer.field("expires_at")
        if not expires or when(expires) > when(ctx.expires[token]):
            return f"minted token expires {expires}, after {token} ({ctx.expires[token]})"
        return None

    return check


def minted_token_answers(path: str, status: int = 200) -> AnswerCheck:
    def check(ctx, answer):
        secret = answer.field("token_secret")
        if not secret:
            return "the answer carries no token_secret"
        ctx.secrets["minted"] = secret
        got = ctx.http("minted", "GET", path)
        return None if got.status == status else \
            f"the minted token: GET {path} answered {got.shown()}, not {status}"

    return check


# Evidence for a guard that let an attack through (printed, never judged).
Evidence = Callable[[Context, Answer], str]


def minted_token_reaches(path: str) -> Evidence:
    def show(ctx, answer):
        secret = answer.field("token_secret")
        if not secret:
            return "no token_secret in the answer"
        ctx.secrets["minted"] = secret
        got = ctx.http("minted", "GET", path)
        verdict = "confirmed" if got.status == 200 else "not confirmed"
        return (f"{verdict}: the minted token (scopes {', '.join(answer.field('scopes') or [])}) "
                f"→ GET {path} answered {got.shown()}")

    return show


def minted_outlives(token: str) -> Evidence:
    def show(ctx, answer):
        expires = answer.field("expires_at")
        if not expires:
            return "no expires_at in the answer"
        days = (when(expires) - when(ctx.expires[token])).days
        return f"confirmed: the minted token expires {expires}, {days} days after {token} ({ctx.expires[token]})"

    return show


# ------------------------------------------------------------------------------------------
# Checks.
# ------------------------------------------------------------------------------------------


@dataclass
class Request:
    token: str
    method: str
    path: str
    body: object = None

    def send(self, ctx: Context) -> Answer:
        return ctx.http(self.token, self.method, self.path, self.body)

    def shown(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Result:
    passed: bool
    escalation: bool = False
    evidence: list[str] = field(default_factory=list)


def judge_facts(ctx: Context, facts: list[Fact], within: float = 0.0) -> tuple[list[str], list[str]]:
    """The facts that do not hold, and those that could not be observed (no answer), polling up
    to `within` seconds for changes made behind the server's back (the CLI writing the
    database), which its credential cache sees only after its time-to-live."""
    deadline = time.monotonic() + within
    while True:
        broken, unknown = [], []
        for fact in facts:
            holds, observed = fact.probe(ctx)
            if holds is None:
                unknown.append(f"{fact.text} — could not observe: {observed}")
            elif not holds:
                broken.append(f"{fact.text} — observed: {observed}")
        if not (broken or unknown) or time.monotonic() >= deadline:
            return broken, unknown
        time.sleep(0.25)


@dataclass
class Guard:
    id: str
    title: str
    request: Request
    expect: int
    refusal: list[AnswerCheck] = field(default_factory=list)
    unchanged: list[Fact] = field(default_factory=list)
    confirm: list[Evidence] = field(default_factory=list)
    kind = "guard"

    def sent(self, ctx: Context) -> str:
        return self.request.shown()

    def actor(self) -> str:
        return self.request.token

    def expected(self) -> str:
        return str(self.expect)

    def run(self, ctx: Context) -> tuple[str, Result]:
        answer = self.request.send(ctx)
        got = answer.shown()
        broken, unknown = judge_facts(ctx, self.unchanged)
        if answer.status is not None and 200 <= answer.status < 300:
            evidence = [f"ESCALATION: the server accepted it ({got})"]
            evidence += [show(ctx, answer) for show in self.confirm]
            evidence += [f"damage: {text}" for text in broken]
            return got, Result(False, True, evidence)
        if broken:
            evidence = [f"ESCALATION: refused ({got}) but applied anyway"]
            evidence += [f"damage: {text}" for text in broken]
            return got, Result(False, True, evidence)
        problems = []
        if answer.status is None:
            problems.append(f"no answer: {answer.text}")
        elif answer.status != self.expect:
            problems.append(f"refused, but with {got} instead of {self.expect}: {answer.text[:200]!r}")
        else:
            problems += [p for p in (check(ctx, answer) for check in self.refusal) if p]
        problems += unknown
        return got, Result(not problems, False, problems)


@dataclass
class Control:
    id: str
    title: str
    request: Request
    expect: int
    answer: list[AnswerCheck] = field(default_factory=list)
    then: list[Fact] = field(default_factory=list)
    save: dict[str, str] = field(default_factory=dict)  # ids[key] = answer[field]
    kind = "control"

    def sent(self, ctx: Context) -> str:
        return self.request.shown()

    def actor(self) -> str:
        return self.request.token

    def expected(self) -> str:
        return str(self.expect)

    def run(self, ctx: Context) -> tuple[str, Result]:
        answer = self.request.send(ctx)
        if answer.status != self.expect:
            return answer.shown(), Result(False, evidence=[f"the answer: {answer.text[:300]!r}"])
        for key, name in self.save.items():
            ctx.ids[key] = answer.field(name)
        problems = [p for p in (check(ctx, answer) for check in self.answer) if p]
        problems += sum(judge_facts(ctx, self.then), [])
        return answer.shown(), Result(not problems, evidence=problems)


@dataclass
class CliControl:
    id: str
    title: str
    argv: list[str]
    output: list[str] = field(default_factory=list)
    then: list[Fact] = field(default_factory=list)
    within: float = 5.0  # the server's credential cache lives 2 s by default
    kind = "control"

    def sent(self, ctx: Context) -> str:
        return "gatehouse " + " ".join(ctx.fill(self.argv))

    def actor(self) -> str:
        return "operator"

    def expected(self) -> str:
        return "exit 0"

    def run(self, ctx: Context) -> tuple[str, Result]:
        done = ctx.cli(*ctx.fill(self.argv))
        got = f"exit {done.returncode}"
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or [""])[0]
            return got, Result(False, evidence=[f"stderr: {first}"])
        problems = [f"the output does not contain {text!r}" for text in self.output
                    if text not in done.stdout]
        problems += sum(judge_facts(ctx, self.then, self.within), [])
        return got, Result(not problems, evidence=problems)


@dataclass
class Scenario:
    title: str
    account: str
    checks: list
    setup: list[Control] = field(default_factory=list)  # must succeed; not counted as checks
    reuse: bool = False  # the account of an earlier scenario, as that scenario left it


# ------------------------------------------------------------------------------------------
# The expectations.
# ------------------------------------------------------------------------------------------


def scim_user_of_ada(given: str, family: str, active: bool = True) -> dict:
    return {
        "schemas": [SCIM_USER],
        "userName": ADA_EMAIL,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": ADA_EMAIL, "primary": True}],
        "active": active,
    }


ADA_UNHARMED = [person("ada", disabled=False), token_works("A", "/v1/me")]
ADA_PROVISIONS_HERSELF = Control(
    "setup", "Ada provisions herself through SCIM",
    Request("A", "POST", "/scim/v2/Users", scim_user_of_ada("Ada", "Lovelace")), 201,
    save={"ada_scim": "id"})

SCENARIOS = [
    Scenario("A. A token mints wider tokens than itself", "a-token-minting", [
        Guard("A1", "T1 (personal_access_tokens:write only) mints webhooks:write + people:write",
              Request("T1", "POST", "/v1/personal_access_tokens",
                      {"name": "wider", "scopes": ["webhooks:write", "people:write"], "expires_in": 7}),
              expect=403,
              refusal=[www_authenticate("insufficient_scope"),
                       message_names("webhooks:write", "people:write")],
              confirm=[minted_token_reaches("/v1/webhooks")]),
        Guard("A2", "T1 (expires in 7 days) mints a token for 365 days",
              Request("T1", "POST", "/v1/personal_access_tokens",
                      {"name": "longer", "scopes": ["personal_access_tokens:read"], "expires_in": 365}),
              expect=403,
              confirm=[minted_outlives("T1")]),
        Control("A3", "T1 mints a narrower token, its expiry left to the server (write implies read)",
                Request("T1", "POST", "/v1/personal_access_tokens",
                        {"name": "narrower", "scopes": ["personal_access_tokens:read"]}),
                expect=201,
                answer=[minted_scopes(["personal_access_tokens:read"]), minted_expires_within("T1"),
                        minted_token_answers("/v1/personal_access_tokens", 200)]),
    ]),
    Scenario("B. A directory administrator (Dora) acts on an account administrator (Ada)",
             "b1-rest-disable", [
        Guard("B1", "Dora disables Ada over REST",
              Request("D", "PATCH", "/v1/people/{ada}", {"disabled": True}), expect=403,
              unchanged=ADA_UNHARMED),
    ]),
    Scenario("B. SCIM take-over of a hand-made account administrator", "b2-scim-takeover", [
        Guard("B2", "Dora POSTs a SCIM User with Ada's email (take-over, renamed Mallory)",
              Request("D", "POST", "/scim/v2/Users", scim_user_of_ada("Mallory", "X")), expect=403,
              refusal=[scim_error("403")],
              unchanged=[person("ada", disabled=False, source="manual", name="Ada Lovelace"),
                         token_works("A", "/v1/me")]),
    ]),
    Scenario("B. Ada provisions herself through SCIM; section C reuses this account",
             "b3-scim-self", [
        Control("B3", "Ada (account administrator) provisions herself: equal rank may",
                ADA_PROVISIONS_HERSELF.request, expect=201, save={"ada_scim": "id"},
                then=[person("ada", disabled=False, source="scim", name="Ada Lovelace"),
                      token_works("A", "/v1/me")]),
    ]),
    Scenario("B. Dora deactivates Ada's SCIM User with PATCH", "b4-scim-patch", setup=[ADA_PROVISIONS_HERSELF], checks=[
        Guard("B4", "Dora PATCHes Ada's SCIM User: replace active false",
              Request("D", "PATCH", "/scim/v2/Users/{ada_scim}",
                      {"schemas": [SCIM_PATCH_OP],
                       "Operations": [{"op": "replace", "path": "active", "value": False}]}),
              expect=403, refusal=[scim_error("403")],
              unchanged=[*ADA_UNHARMED, scim_user_active("ada_scim")]),
    ]),
    Scenario("B. Dora deactivates Ada's SCIM User with PUT", "b5-scim-put", setup=[ADA_PROVISIONS_HERSELF], checks=[
        Guard("B5", "Dora PUTs Ada's SCIM User with active false",
              Request("D", "PUT", "/scim/v2/Users/{ada_scim}",
                      scim_user_of_ada("Ada", "Lovelace", active=False)),
              expect=403, refusal=[scim_error("403")],
              unchanged=[*ADA_UNHARMED, scim_user_active("ada_scim")]),
    ]),
    Scenario("B. Dora deletes Ada's SCIM User", "b6-scim-delete", setup=[ADA_PROVISIONS_HERSELF], checks=[
        Guard("B6", "Dora DELETEs Ada's SCIM User (which disables her)",
              Request("D", "DELETE", "/scim/v2/Users/{ada_scim}"),
              expect=403, refusal=[scim_error("403")],
              unchanged=[*ADA_UNHARMED, scim_user_active("ada_scim")]),
    ]),
    Scenario("B. Dora revokes Ada's token", "b7-token-revoke", [
        Guard("B7", "Dora revokes Ada's token A",
              Request("D", "POST", "/v1/personal_access_tokens/{token_A}/revoke"), expect=403,
              unchanged=ADA_UNHARMED),
    ]),
    Scenario("B. What Dora may still do to a specialist (controls)", "b8-controls", [
        Control("B8", "Dora disables Sam (specialist)",
                Request("D", "PATCH", "/v1/people/{sam}", {"disabled": True}), expect=200,
                then=[person("sam", disabled=True), token_refused("S")]),
        Control("B9", "Dora enables Sam again",
                Request("D", "PATCH", "/v1/people/{sam}", {"disabled": False}), expect=200,
                then=[person("sam", disabled=False), token_works("S")]),
        Control("B10", "Dora revokes one of Sam's tokens (S2)",
                Request("D", "POST", "/v1/personal_access_tokens/{token_S2}/revoke"), expect=200,
                then=[token_refused("S2"), token_works("S")]),
    ]),
    Scenario("C. Break-glass CLI on the SCIM-provisioned Ada (controls)", "b3-scim-self", reuse=True, checks=[
        CliControl("C1", "the operator lists the account's people",
                   ["person", "list", "--account", "{account}"], output=[ADA_EMAIL]),
        CliControl("C2", "the operator disables Ada, SCIM-provisioned",
                   ["person", "update", "--account", "{account}", ADA_EMAIL, "--disable"],
                   then=[person("ada", disabled=True), token_refused("A")]),
        CliControl("C3", "the operator enables Ada again",
                   ["person", "update", "--account", "{account}", ADA_EMAIL, "--enable"],
                   then=[person("ada", disabled=False), token_works("A", "/v1/me")]),
    ]),
]

# ------------------------------------------------------------------------------------------
# The run.
# ------------------------------------------------------------------------------------------


def cast() -> None:
    say("cast (the same in every account; secrets never shown):")
    for name, (owner, scopes, days) in TOKENS.items():
        who = PEOPLE[owner]
        say(f"  {name:<3} {who['name']:<15} {who['role']:<24} {days:>3} d  {' '.join(scopes)}")
    say()


def line(verdict: str, check, ctx: Context, got: str) -> str:
    sent = check.sent(ctx)
    return (f"{verdict}  {check.id:<4} {check.kind:<7} {sent:<49} as {check.actor():<8} "
            f"expected {check.expected()}, got {got}  — {check.title}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()

    cast()
    contexts: dict[str, Context] = {}
    total = escalations = failures = 0
    caught, missed_controls = [], []
    for scenario in SCENARIOS:
        say(f"== {scenario.title} (account {scenario.account})")
        problem, ctx = None, Context(args.server, args.binary, scenario.account)
        try:
            if scenario.reuse:
                ctx = contexts[scenario.account]
            else:
                ctx = contexts[scenario.account] = build_account(args.server, args.binary, scenario.account)
            for step in scenario.setup:
                got, result = step.run(ctx)
                if not result.passed:
                    problem = f"setup `{step.title}` ({step.sent(ctx)} as {step.actor()}) answered {got}"
                    problem += "".join(f"; {text}" for text in result.evidence)
                    break
        except (SetupError, KeyError) as error:
            problem = f"setup failed: {error}"
        for check in scenario.checks:
            total += 1
            if problem:
                failures += 1
                missed_controls.append(check.id)
                say(line("FAIL", check, ctx, "not run"))
                say(f"      {problem}")
                continue
            try:
                got, result = check.run(ctx)
            except Exception as error:  # a missing id, an unexpected answer: report, go on
                got, result = "error", Result(False, evidence=[f"{type(error).__name__}: {error}"])
            if result.escalation:
                escalations += 1
                caught.append(check.id)
            elif not result.passed:
                failures += 1
                missed_controls.append(check.id)
            say(line("PASS" if result.passed else "FAIL", check, ctx, got))
            for text in result.evidence:
                say(f"      {text}")
        say()

    if caught:
        say(f"escalations that got through: {', '.join(caught)}")
    if missed_controls:
        say(f"controls (or refusals) not as expected: {', '.join(missed_controls)}")
    say(f"security regression: {total} checks, {escalations} escalations succeeded, "
        f"{failures} controls failed")
    return 1 if escalations or failures else 0


if __name__ == "__main__":
    sys.exit(main())
