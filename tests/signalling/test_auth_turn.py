from __future__ import annotations

import base64
import hashlib
import hmac

from edgevoice.signalling import auth
from edgevoice.signalling.turn import ice_servers_for, link_header, turn_credentials


def test_bearer_parsing() -> None:
    assert auth.bearer_token("Bearer abc") == "abc"
    assert auth.bearer_token("bearer   abc ") == "abc"
    assert auth.bearer_token("Basic abc") is None
    assert auth.bearer_token("Bearer ") is None
    assert auth.bearer_token(None) is None


def test_secrets_are_long_random_and_hashed() -> None:
    a, b = auth.new_client_secret(), auth.new_client_secret()
    assert a != b
    raw = base64.urlsafe_b64decode(a.removeprefix(auth.SECRET_PREFIX) + "==")
    assert len(raw) * 8 >= 128
    assert auth.hash_secret(a) == hashlib.sha256(a.encode()).hexdigest()
    assert auth.same_secret(a, a) and not auth.same_secret(a, b) and not auth.same_secret(None, a)


def test_turn_rest_credentials_follow_the_coturn_scheme() -> None:
    username, credential = turn_credentials("s3cret", "sess_1", 1_800_000_000)
    assert username == "1800000000:sess_1"
    # coturn checks the credential by recomputing the HMAC with its shared secret
    expected = hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected
    assert turn_credentials("other", "sess_1", 1_800_000_000)[1] != credential


def test_ice_servers_and_link_headers() -> None:
    servers = ice_servers_for(
        ["stun:stun.example.net:3478", "turn:turn.example.net:3478?transport=udp"],
        "s3cret",
        "sess_1",
        1_800_000_000,
    )
    assert "username" not in servers[0]
    assert servers[1]["username"].endswith(":sess_1")
    assert link_header(servers[0]) == '<stun:stun.example.net:3478>; rel="ice-server"'
    turn_link = link_header(servers[1])
    assert 'credential-type="password"' in turn_link
    assert f'username="{servers[1]["username"]}"' in turn_link
