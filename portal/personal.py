"""Every table and column that can hold personal data about a user, in one place.

Each entry says what account deletion does to it and under which key of "My data"
(``accounts.services.export_data``) it appears.  ``tests/security/test_personal_data.py``
builds a person with data in every entry, checks the export and the deletion against this
list, and fails when a model grows a column that looks personal and is in neither list.
"""

from __future__ import annotations

from dataclasses import dataclass

DELETED = "deleted"  # the row goes (by the feature's eraser or ON DELETE CASCADE)
ERASED = "erased"  # the value is blanked, the row stays
ANONYMISED = "anonymised"  # the row stays for aggregates, nothing in it names the person
UNLINKED = "kept-without-link"  # the value stays, the link to the person is set to NULL


@dataclass(frozen=True)
class Personal:
    table: str
    column: str
    on_delete: str
    export: str | None  # dotted path into export_data(); None: see ``why_not_exported``
    why_not_exported: str = ""


_STAFF_WORK = "a record of staff work, not data about the person; the link goes on deletion"

PERSONAL: list[Personal] = [
    # accounts
    Personal("users", "email", DELETED, "account.email"),
    Personal("users", "display_name", DELETED, "account.display_name"),
    Personal("users", "password_hash", DELETED, None, "a secret's hash, never shown"),
    Personal("users", "privacy_consented_at", DELETED, "account.privacy_consent.given_at"),
    Personal("users", "email_verified_at", DELETED, "account.email_verified_at"),
    Personal("users", "last_sign_in_at", DELETED, "account.last_sign_in_at"),
    Personal("users", "suspended_reason", DELETED, None,
             "an administrator's reason for a suspension (exported while suspended)"),
    Personal("users", "suspended_by_id", UNLINKED, None, _STAFF_WORK),
    Personal("login_sessions", "user_id", DELETED, "account.sign_in_sessions.created_at"),
    Personal("login_sessions", "token_hash", DELETED, "account.sign_in_sessions.expires_at"),
    Personal("api_tokens", "user_id", DELETED, "account.api_tokens.created_at"),
    Personal("api_tokens", "name", DELETED, "account.api_tokens.name"),
    Personal("api_tokens", "token_hash", DELETED, "account.api_tokens.prefix"),
    Personal("password_resets", "user_id", DELETED, "account.password_reset_links.created_at"),
    Personal("password_resets", "token_hash", DELETED,
             "account.password_reset_links.expires_at"),
    Personal("email_verifications", "user_id", DELETED,
             "account.email_verification_links.created_at"),
    Personal("email_verifications", "token_hash", DELETED,
             "account.email_verification_links.expires_at"),
    Personal("login_throttle", "key", DELETED, "account.sign_in_failures.failures"),
    Personal("jobs", "payload", DELETED, "account.waiting_jobs.kind"),
    # events
    Personal("signups", "user_id", UNLINKED, "events.event_id"),
    Personal("signups", "checked_in_at", UNLINKED, "events.checked_in_at"),
    Personal("signups", "hours", UNLINKED, "events.hours"),
    Personal("hours_corrections", "reason", ERASED, "events.hours_corrections.reason"),
    Personal("hours_corrections", "by_id", UNLINKED, None, _STAFF_WORK),
    Personal("calendar_feeds", "user_id", DELETED, "calendar_feed.created_at"),
    Personal("calendar_feeds", "token_hash", DELETED, "calendar_feed.created_at"),
    Personal("events", "organizer_id", UNLINKED, None, _STAFF_WORK),
    # households
    Personal("households", "owner_id", ANONYMISED, "household.role"),
    Personal("households", "name", ANONYMISED, "household.name"),
    Personal("households", "town", ANONYMISED, "household.town"),
    Personal("households", "phone", ANONYMISED, "household.phone"),
    Personal("households", "staff_contact", ANONYMISED, "household.staff_contact"),
    Personal("households", "wall_consent_at", ANONYMISED, "household.wall_consent_at"),
    Personal("households", "contact_consent_at", ANONYMISED, "household.contact_consent_at"),
    Personal("household_members", "user_id", DELETED, "household.role"),
    Personal("household_pledges", "code", UNLINKED, "household.pledges.code"),
    Personal("monthly_reports", "kept", UNLINKED, "household.reports.kept"),
    Personal("green_family_applications", "story", ERASED, "household.applications.story"),
    Personal("green_family_applications", "reason", ERASED, "household.applications.reason"),
    Personal("green_family_applications", "decided_by_id", UNLINKED, None, _STAFF_WORK),
    Personal("household_status_events", "reason", ERASED, "household.history.reason"),
    Personal("household_status_events", "by_id", UNLINKED, None, _STAFF_WORK),
    Personal("household_phone_unmasks", "by_id", UNLINKED, None, _STAFF_WORK),
    # schools
    Personal("schools", "applicant_id", UNLINKED, "schools.applications.name_zh"),
    Personal("schools", "address", ERASED, "schools.applications.address"),
    Personal("schools", "contact", ERASED, "schools.applications.contact"),
    Personal("schools", "reason", ERASED, "schools.applications.reason"),
    Personal("school_editors", "user_id", DELETED, "schools.schools_edited"),
    Personal("school_editor_invites", "email", DELETED, "schools.invitations.school"),
    Personal("school_editor_invites", "token_hash", DELETED, "schools.invitations.created_at"),
    Personal("activities", "author_id", UNLINKED, "schools.posts_authored.title"),
    Personal("activities", "draft_title", UNLINKED, "schools.posts_authored.draft_title"),
    Personal("activities", "draft_body", UNLINKED, "schools.posts_authored.draft_body"),
    Personal("activities", "draft_body_html", UNLINKED, "schools.posts_authored.draft_body"),
    Personal("activity_reports", "user_id", UNLINKED, "schools.reports_made.activity_id"),
    Personal("activity_reports", "reason", ERASED, "schools.reports_made.reason"),
    Personal("audit_log", "actor_id", UNLINKED, None, _STAFF_WORK),
    # dashboard
    Personal("entered_figures", "entered_by_id", UNLINKED, None, _STAFF_WORK),
    # editorial (issue 14): who saved, changed or submitted content
    Personal("entries", "updated_by_id", UNLINKED, None, _STAFF_WORK),
    Personal("entries", "submitted_by_id", UNLINKED, None, _STAFF_WORK),
    Personal("revisions", "author_id", UNLINKED, None, _STAFF_WORK),
    # media library (issue 14): who uploaded a picture
    Personal("media", "uploaded_by_id", UNLINKED, None, _STAFF_WORK),
    # notifications (issue 14)
    Personal("notifications", "user_id", DELETED, "notifications.items.kind"),
    Personal("notifications", "params", DELETED, "notifications.items.params"),
    Personal("notification_settings", "user_id", DELETED, "notifications.mail_settings.kind"),
]

# Columns whose names look personal but are not, with the reason.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("events", "notes"): "the organiser's notes about the event, not about a person",
    ("activities", "reason"): "the reviewer's reason about a post",
    ("entries", "unpublish_reason"): "staff's reason for taking content off the site",
    ("activities", "hidden_reason"): "why a post is hidden ('reports' or staff's words)",
    ("audit_log", "reason"): "staff's reason for an action (a post, a school, an account…)",
    ("schools", "name_zh"): "an institution's name",
    ("schools", "name_en"): "an institution's name",
    ("households", "named_on"): "the day the household was named a green family (kept)",
    ("jobs", "unique_key"): "a periodic job's period, e.g. 'events.remind:2026-11-20'",
    ("entered_figures", "target_key"): "which city target a figure is for",
    ("cache_generations", "name"): "a table's name (the page cache's counter for it)",
}
