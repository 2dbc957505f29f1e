"""Client calls of onegrid.iam: tokens, whoami, accounts, groups, policies, keys."""

from __future__ import annotations

from typing import Any

from onegrid.client.base import Transport

EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def _form(**fields: str | None) -> dict[str, str]:
    return {k: v for k, v in fields.items() if v is not None}


class IamClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    # -- tokens (the token endpoint needs no bearer token: the grant authenticates) -------

    def _token(self, form: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        response = self.t.request("POST", "/token", data=form, headers={"Authorization": ""}, **kwargs)
        return dict(response.json())

    def password_token(self, username: str, password: str, *, scope: str | None = None,
                       audience: str | None = None) -> dict[str, Any]:
        """`{"access_token", "refresh_token", "expires_in", "scope", ...}` for a username and password."""
        return self._token(_form(grant_type="password", username=username, password=password, scope=scope,
                                 audience=audience))

    def client_credentials_token(self, client_id: str, client_secret: str, *, scope: str | None = None,
                                 audience: str | None = None) -> dict[str, Any]:
        return self._token(_form(grant_type="client_credentials", scope=scope, audience=audience),
                           auth=(client_id, client_secret))

    def refresh_token(self, refresh_token: str, *, scope: str | None = None,
                      audience: str | None = None) -> dict[str, Any]:
        return self._token(_form(grant_type="refresh_token", refresh_token=refresh_token, scope=scope,
                                 audience=audience))

    def exchange_token(self, subject_token: str | None = None, *, scope: str | None = None,
                       audience: str | None = None) -> dict[str, Any]:
        """A narrower token (scope, audience) from `subject_token` (default: our own)."""
        subject = subject_token or self.t.token
        if not subject:
            from onegrid.errors import Unauthenticated

            raise Unauthenticated("no token to exchange: log in first (onegrid login)")
        return self._token(_form(grant_type=EXCHANGE_GRANT, subject_token=subject,
                                 subject_token_type=ACCESS_TOKEN_TYPE, scope=scope, audience=audience))

    def whoami(self) -> dict[str, Any]:
        return dict(self.t.json("GET", "/whoami"))

    def openid_configuration(self) -> dict[str, Any]:
        return dict(self.t.json("GET", "/.well-known/openid-configuration"))

    def jwks(self) -> dict[str, Any]:
        return dict(self.t.json("GET", "/jwks"))

    # -- accounts ------------------------------------------------------------------------

    def add_account(self, name: str, *, type: str = "USER", email: str | None = None,
                    password: str | None = None, groups: list[str] | None = None) -> dict[str, Any]:
        body = {"name": name, "type": type.upper(), "email": email, "password": password, "groups": groups or []}
        return dict(self.t.json("POST", "/iam/accounts", json=body))

    def list_accounts(self, *, type: str | None = None) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/iam/accounts", params={"type": type.upper()} if type else None))

    def get_account(self, name: str) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/iam/accounts/{name}"))

    def suspend_account(self, name: str) -> dict[str, Any]:
        return dict(self.t.json("POST", f"/iam/accounts/{name}/suspend"))

    def activate_account(self, name: str) -> dict[str, Any]:
        return dict(self.t.json("POST", f"/iam/accounts/{name}/activate"))

    def set_password(self, name: str, password: str, *, username: str | None = None) -> dict[str, Any]:
        return dict(self.t.json("POST", f"/iam/accounts/{name}/password",
                                json={"password": password, "username": username}))

    def add_client_secret(self, name: str, description: str = "") -> dict[str, Any]:
        """`{"client_id", "client_secret"}`: the secret is shown only once."""
        return dict(self.t.json("POST", f"/iam/accounts/{name}/secrets", json={"description": description}))

    # -- groups --------------------------------------------------------------------------

    def add_group(self, path: str, *, role: bool = False, description: str = "") -> dict[str, Any]:
        return dict(self.t.json("POST", "/iam/groups", json={"path": path, "role": role,
                                                              "description": description}))

    def list_groups(self, under: str | None = None) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/iam/groups", params={"under": under} if under else None))

    def list_members(self, group: str) -> list[str]:
        return list(self.t.json("GET", "/iam/groups/members", params={"group": group}))

    def add_member(self, group: str, account: str) -> dict[str, Any]:
        return dict(self.t.json("POST", "/iam/groups/members", json={"group": group, "account": account}))

    def remove_member(self, group: str, account: str) -> dict[str, Any]:
        return dict(self.t.json("DELETE", "/iam/groups/members", params={"group": group, "account": account}))

    # -- scope policies ------------------------------------------------------------------

    def add_policy(self, rule: str, scopes: list[str], *, account: str | None = None, group: str | None = None,
                   matching: str = "PATH", description: str = "") -> dict[str, Any]:
        body = {"rule": rule.upper(), "matching": matching.upper(), "scopes": scopes, "account": account,
                "group": group, "description": description}
        return dict(self.t.json("POST", "/iam/policies", json=body))

    def list_policies(self, *, account: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("account", account), ("group", group)) if v}
        return list(self.t.json("GET", "/iam/policies", params=params or None))

    def delete_policy(self, policy_id: int) -> dict[str, Any]:
        return dict(self.t.json("DELETE", f"/iam/policies/{policy_id}"))

    # -- signing keys --------------------------------------------------------------------

    def list_keys(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/iam/keys"))

    def rotate_key(self) -> dict[str, Any]:
        return dict(self.t.json("POST", "/iam/keys/rotate"))
