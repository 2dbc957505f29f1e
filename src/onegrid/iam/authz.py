"""Who may administer what in IAM.

Root may do everything. A VO administrator (a member of `/<vo>/admin`, the group name is
`iam.vo_admin_group`) manages the groups under its VO, their members and their scope
policies, and may read accounts. Account-level policies, new accounts, suspension and
signing keys are root's alone.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onegrid.errors import Forbidden
from onegrid.iam import service
from onegrid.iam.principal import Principal


def administered_vos(session: Session, principal: Principal, admin_group: str) -> set[str]:
    if principal.is_root:
        return set()
    return service.administered_vos(session, principal.account, admin_group)


def require_account_reader(session: Session, principal: Principal, admin_group: str, account: str | None) -> None:
    """Root, a VO admin, or (for one account) the account itself."""
    if principal.is_root or account == principal.account:
        return
    if not administered_vos(session, principal, admin_group):
        raise Forbidden("only root or a VO administrator may read other accounts")


def require_group_admin(session: Session, principal: Principal, admin_group: str, group: str) -> None:
    if principal.is_root:
        return
    vo = service.vo_of(group)
    if vo not in administered_vos(session, principal, admin_group):
        raise Forbidden(f"only root or an administrator of {vo} (member of {vo}/{admin_group}) may manage {group}")
