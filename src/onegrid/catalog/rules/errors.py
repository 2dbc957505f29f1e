"""The rules engine's errors, each with the exception name the stock Rucio client raises."""

from __future__ import annotations

from onegrid.errors import AlreadyExists, Conflict, NotFound


class RuleNotFound(NotFound):
    code = "RULE_NOT_FOUND"
    rucio_class = "RuleNotFound"


class DuplicateRule(AlreadyExists):
    code = "DUPLICATE_RULE"
    rucio_class = "DuplicateRule"


class NoWritableRSE(Conflict):
    code = "NO_WRITABLE_RSE"
    rucio_class = "InvalidRSEExpression"


class InsufficientTargetRSEs(Conflict):
    code = "INSUFFICIENT_TARGET_RSES"
    rucio_class = "InsufficientTargetRSEs"


class RuleLocked(Conflict):
    code = "RULE_LOCKED"
    rucio_class = "UnsupportedOperation"


class SubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"
    rucio_class = "SubscriptionNotFound"


class SubscriptionDuplicate(AlreadyExists):
    code = "SUBSCRIPTION_DUPLICATE"
    rucio_class = "SubscriptionDuplicate"
