"""The routes of /api/v1 for accounts, for admins; declared like
those in ``views``: find people (``GET /users``) and change an account's role or suspension
(``PATCH /users/<id>``).  The rules are the people services' (``portal.accounts.services``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from flask import abort, request, url_for
from pydantic import Field, RootModel, StrictBool

from portal.accounts import services as accounts
from portal.accounts.models import User as UserRecord
from portal.api.declare import operation, reply
from portal.api.schemas import ID_MAX, Answer, LangQuery, Shape
from portal.extensions import db
from portal.paging import keyset_cursor
from portal.security import ROLES, current_principal
from portal.site import zone

Role = Literal[ROLES]  # type: ignore[valid-type]  (the roles of portal.security)
USERS_LIMIT = 100  # accounts one answer of GET /users holds at most
# A people cursor: the newest-first list's id, or a search's name (URL-safe base64) and id.
USERS_CURSOR = r"^([A-Za-z0-9_-]{0,400}\.)?[0-9]{1,18}$"


class UserPath(Shape):
    user_id: int = Field(ge=1, le=ID_MAX, description="The account's id.")


class UsersQuery(LangQuery):
    error_codes: ClassVar[dict[str, str]] = {"limit": "bad_limit", "cursor": "bad_cursor",
                                             "q": "too_long"}

    q: str = Field("", max_length=accounts.QUERY_MAX,
                   description="An e-mail address or its beginning (case does not matter), or "
                               "part of a display name.  Empty: the newest accounts first; "
                               "otherwise by display name.")
    limit: int = Field(50, ge=1, le=USERS_LIMIT, description="Accounts in one answer.")
    cursor: str | None = Field(None, max_length=420, pattern=USERS_CURSOR,
                               description="Where the answer goes on from: the `cursor` of "
                                           "the `Link: <…>; rel=\"next\"` header of the "
                                           "previous answer (with the same `q`).  Without "
                                           "it: the first accounts.")


class UserPatch(Shape):
    role: Role | None = Field(None, description="The new role.")
    suspended: StrictBool | None = Field(
        None, description="`true` suspends the account (signed out everywhere, no sign-in, "
                          "API tokens refused; needs a `reason`), `false` restores it.")
    reason: str | None = Field(None, max_length=accounts.REASON_MAX,
                               description="Why (recorded in the audit log); required to "
                                           "suspend.")


class User(Answer):
    id: int
    email: str = Field(json_schema_extra={"format": "idn-email"})
    display_name: str
    role: Role
    verified: bool = Field(description="Whether the account's e-mail address is confirmed.")
    last_sign_in_at: datetime | None = Field(description="The last sign-in on the site "
                                                         "(site time), or null.")
    suspended: bool


class Users(RootModel[list[User]]):
    pass


def _user(user: UserRecord) -> User:
    last = user.last_sign_in_at
    return User(id=user.id, email=user.email, display_name=user.display_name, role=user.role,
                verified=user.email_verified_at is not None,
                last_sign_in_at=last.astimezone(zone()) if last is not None else None,
                suspended=user.suspended_at is not None)


NEXT_LINK = {"Link": {
    "description": 'Only when more accounts follow: `<address>; rel="next"`, the address '
                   "(relative to this one) of the next answer; it carries the `cursor`.",
    "required": False, "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'}}}


@operation("get", "/users", id="listUsers", tag="account", roles=True,
           ok={200: (Users, "The accounts (at most `limit`)", NEXT_LINK)},
           errors={400: ("A parameter is not valid: `q` is longer than 100 characters, "
                         "`limit` is not a number from 1 to 100, or the `cursor` is not one "
                         "this API gave", "too_long", "bad_limit", "bad_cursor")})
def list_users(query: UsersQuery):
    """Find accounts (administrators)

    By e-mail address (exact or its beginning, whatever the case) or part of the display
    name, by display name; without `q`, the newest accounts first.  When more follow, the
    `Link` header (`rel="next"`) gives the address of the next answer, with a `cursor`."""
    after = keyset_cursor(accounts.people_order(query.q), "cursor")
    page = accounts.find_people(query.q, after, size=query.limit, param="cursor")
    answer = reply(Users([_user(u) for u in page.items]))
    if page.next is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        answer.headers["Link"] = f'<{url_for("api.list_users", **args, cursor=page.next)}>; ' \
                                 'rel="next"'
    return answer


@operation("patch", "/users/<int:user_id>", id="updateUser", tag="account", roles=True,
           ok={200: (User, "The account, changed")},
           errors={404: ("No such account", "not_found"),
                   409: ("Refused: the last administrator keeps the role and cannot be "
                         "suspended (`last_admin`), administrators cannot take their own role "
                         "(`own_role`) or suspend themselves (`own_account`)",
                         "last_admin", "own_role", "own_account"),
                   422: ("Some fields are not valid; `error.fields` names them (`invalid`), "
                         "or a suspension has no reason (`reason_required`, "
                         "`error.fields.reason`)", "invalid", "reason_required")})
def update_user(path: UserPath, body: UserPatch):
    """Change an account's role or suspension (administrators)

    Only the fields sent change; the role first, then the suspension.  Suspending signs the
    person out everywhere and refuses their API tokens until they are restored."""
    user = db.session.get(UserRecord, path.user_id)
    if user is None:
        abort(404)
    user = accounts.update_person(current_principal(), user, role=body.role,
                                  suspended=body.suspended, reason=body.reason or "")
    return reply(_user(user))
