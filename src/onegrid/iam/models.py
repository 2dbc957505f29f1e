"""Pydantic shapes of the IAM admin API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from onegrid.iam.tables import AccountType, MatchingPolicy, PolicyRule


class AccountCreate(BaseModel):
    name: str
    type: AccountType = AccountType.USER
    email: str | None = None
    password: str | None = Field(None, description="sets a username/password identity (username = name)")
    groups: list[str] = Field(default_factory=list)


class PasswordSet(BaseModel):
    password: str
    username: str | None = None


class SecretCreate(BaseModel):
    description: str = ""


class GroupCreate(BaseModel):
    path: str
    role: bool = Field(False, description="an optional group, asserted only when asked for")
    description: str = ""


class MemberChange(BaseModel):
    group: str
    account: str


class PolicyCreate(BaseModel):
    rule: PolicyRule
    matching: MatchingPolicy = MatchingPolicy.PATH
    scopes: list[str]
    account: str | None = None
    group: str | None = None
    description: str = ""
