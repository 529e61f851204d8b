#!/usr/bin/env python3
"""Verify Gatehouse's signed webhook JWTs with PyJWT + cryptography: code we did not write.

Reads JSON lines on stdin, each with
  alg, token, audience, issuer, message, expect ("valid" | "expired" | "wrong_audience"),
  and either public_key_pem (+ jwk) for the asymmetric algorithms or secret (base64url) for HS*.
For every line, decodes with the algorithm pinned (as a receiver must) and checks the outcome
is the expected one; a valid token is also checked against its JWK, checked to carry the
message under `data` with the registered claims, and then tampered with (one claim changed,
signature kept), which must fail. Prints one line per check and "N passed, N failed";
exits 1 on any failure.

Usage: python3 verify_jwt.py < jwt.jsonl   (see scripts/webhook-signing-conformance)
"""
import base64
import json
import sys

import jwt
from jwt.exceptions import ExpiredSignatureError, InvalidAudienceError, InvalidSignatureError


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(token, key, line):
    return jwt.decode(
        token,
        key,
        algorithms=[line["alg"]],
        audience=line["audience"],
        issuer=line["issuer"],
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "jti", "sub"]},
    )


def tamper(token):
    header, claims, signature = token.split(".")
    payload = json.loads(b64url_decode(claims))
    payload["data"]["payload"]["id"] = payload["data"]["payload"]["id"] + 1
    changed = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    return f"{header}.{changed}.{signature}"


def check(line):
    """Yields (name, ok, detail) for every check made on one line."""
    alg = line["alg"]
    if "secret" in line:
        keys = {"secret": b64url_decode(line["secret"])}
    else:
        keys = {"pem": line["public_key_pem"].encode()}
        if line.get("jwk"):
            keys["jwk"] = jwt.PyJWK(line["jwk"]).key
    expect = line["expect"]
    header = jwt.get_unverified_header(line["token"])
    yield f"{alg} header", header.get("alg") == alg and header.get("typ") == "JWT" and header.get("kid") == line["kid"], str(header)
    for key_kind, key in keys.items():
        name = f"{alg} {expect} ({key_kind})"
        try:
            claims = decode(line["token"], key, line)
        except ExpiredSignatureError as error:
            yield name, expect == "expired", repr(error)
            continue
        except InvalidAudienceError as error:
            yield name, expect == "wrong_audience", repr(error)
            continue
        except Exception as error:  # any other refusal is a failure of ours
            yield name, False, repr(error)
            continue
        if expect != "valid":
            yield name, False, "accepted a token that should have been refused"
            continue
        shape_ok = (
            claims.get("data") == line["message"]
            and claims["nbf"] == claims["iat"]
            and claims["exp"] > claims["iat"]
        )
        yield name, shape_ok, json.dumps(sorted(claims))
        try:
            decode(tamper(line["token"]), key, line)
            yield f"{alg} tampered ({key_kind})", False, "tampered token accepted"
        except InvalidSignatureError:
            yield f"{alg} tampered ({key_kind})", True, "InvalidSignatureError"
        except Exception as error:
            yield f"{alg} tampered ({key_kind})", False, repr(error)


def main():
    passed = failed = 0
    for raw in sys.stdin:
        if not raw.strip():
            continue
        for name, ok, detail in check(json.loads(raw)):
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
            passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"jwt: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
