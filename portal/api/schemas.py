"""Every shape of /api/v1, declared once: the request bodies, query strings and path
parameters the views are given (validated by flask-openapi3 before a view runs), and the
answers they return (built from these models and serialised by them).  The OpenAPI document
is generated from the same classes (``portal.api.declare.document``).

Descriptions here are part of the published contract: they are in English, like the
document.  A few lists come from the deployment's configuration rather than from code (the
districts, the pledge codes, the kinds of search result); a field names its list with
``configured("districts")`` and the document fills the values in when it is served.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictInt,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from portal.markup import TEXT_MAX, TITLE_MAX
from portal.search import sources
from portal.search.query import MAX_QUERY_LENGTH, clean

ID_MAX = 999_999_999  # route ids have at most 9 digits (portal.DatabaseId)
CONFIGURED = "x-configured"  # marks a field whose allowed values the deployment configures


def configured(name: str) -> dict[str, Any]:
    """``json_schema_extra`` for a field whose values are one of a configured list."""
    return {CONFIGURED: name}


def _text_only(kind: str):
    """Dates and times arrive as ISO 8601 text: a number is not read as a Unix time."""
    def check(value: Any) -> Any:
        if value is not None and not isinstance(value, str | date):
            raise PydanticCustomError(kind, "ISO 8601 text expected")
        return value
    return BeforeValidator(check)


def _in_calendar(day: date) -> date:
    """A day the site can reckon with (and a day later still exists)."""
    if not 1900 <= day.year <= 2200:
        raise PydanticCustomError("date_out_of_range", "a year from 1900 to 2200")
    return day


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
IsoDateTime = Annotated[datetime, _text_only("iso_datetime")]
IsoDate = Annotated[date, _text_only("iso_date")]
Day = Annotated[date, _text_only("iso_date"), AfterValidator(_in_calendar)]
NonBlank = Annotated[str, StringConstraints(pattern=r"\S")]
Month = Annotated[str, StringConstraints(pattern=MONTH_PATTERN)]
Lang = Literal["zh", "en"]


class Shape(BaseModel):
    """Base of every API model.  ``error_codes`` maps a field to the error code a bad value
    of it gets (instead of the general ``invalid``/``bad_query``)."""

    model_config = ConfigDict(extra="ignore")
    error_codes: ClassVar[dict[str, str]] = {}
    named: ClassVar[dict[str, type[Shape]]] = {}  # by class name, for error messages

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Shape.named[cls.__name__] = cls


class Answer(Shape):
    """An answer: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


# -- errors ----------------------------------------------------------------------------------


class ErrorDetail(Answer):
    code: str = Field(description="Stable, for programs.")
    message: str = Field(description="For people, in the request's language.")
    fields: dict[str, str] | None = Field(
        None, description="Input name → what is wrong with it (some 400, 422 and 409 answers "
                          "only).")


class Error(Answer):
    """Every error of the API has this shape."""

    error: ErrorDetail


# -- path parameters -------------------------------------------------------------------------


class EventPath(Shape):
    event_id: int = Field(ge=1, le=ID_MAX, description="The event's id.")


class ActivityPath(Shape):
    activity_id: int = Field(ge=1, le=ID_MAX, description="The activity post's id.")


class SchoolPath(Shape):
    slug: str = Field(min_length=1, max_length=80, pattern="^[^/]+$",
                      description="The school's slug.")


# -- query strings ---------------------------------------------------------------------------

LANG_DESCRIPTION = ("Language of names, titles and error messages (`zh` or `en`).  Without "
                    "it: the token's account language, a `lang` cookie, `Accept-Language`, "
                    "else `zh`.")


class LangQuery(Shape):
    lang: Lang | None = Field(None, description=LANG_DESCRIPTION)


class SearchQuery(Shape):
    error_codes: ClassVar[dict[str, str]] = {"q": "too_long", "kind": "bad_kind",
                                             "lang": "bad_lang", "page": "bad_page"}

    q: str = Field("", description="What to search for: at most 200 characters once spaces "
                                   "are collapsed and control characters dropped.")
    kind: str | None = Field(None, description="Only results of this kind.",
                             json_schema_extra=configured("kinds"))
    lang: Lang | None = Field(None, description="Only results in this language (this also "
                                                "sets the language of error messages).")
    page: int = Field(1, ge=1, le=500, description="Page of results (10 a page).")

    @field_validator("q")
    @classmethod
    def _short_enough(cls, value: str) -> str:
        if len(clean(value)) > MAX_QUERY_LENGTH:
            raise PydanticCustomError("string_too_long", "too long",
                                      {"max_length": MAX_QUERY_LENGTH})
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        kinds = [s.kind for s in sources()]
        if value is not None and value not in kinds:
            raise PydanticCustomError("literal_error", "one of the kinds",
                                      {"expected": ", ".join(kinds)})
        return value


class ObservancesQuery(LangQuery):
    error_codes: ClassVar[dict[str, str]] = {"year": "bad_year"}

    year: int | None = Field(None, ge=1900, le=2200, description="Default: the current year.")


EVENTS_LIMIT = 100  # events one answer of GET /events holds at most
CURSOR_PATTERN = r"^-?[0-9]{1,18}\.[0-9]{1,18}$"


class EventsQuery(LangQuery):
    error_codes: ClassVar[dict[str, str]] = {"limit": "bad_limit", "cursor": "bad_cursor"}

    limit: int = Field(50, ge=1, le=EVENTS_LIMIT, description="Events in one answer.")
    cursor: str | None = Field(None, max_length=40, pattern=CURSOR_PATTERN,
                               description="Where the answer goes on from: the `cursor` of "
                                           "the `Link: <…>; rel=\"next\"` header of the "
                                           "previous answer (with the same `from` and `to`). "
                                           "Without it: the first events.")
    from_: Day | None = Field(None, alias="from", description="First day (events still "
                                                              "running then are included), in "
                                                              "the years 1900 to 2200.")
    to: Day | None = Field(None, description="Last day, inclusive, in the years 1900 to 2200.")


# -- answers ---------------------------------------------------------------------------------


class Me(Answer):
    email: str = Field(json_schema_extra={"format": "idn-email"})
    display_name: str
    role: Literal["citizen", "school", "editor", "organizer", "admin"]
    locale: Lang = Field(description="The account's language, else the site default.")


class SearchHit(Answer):
    kind: str = Field(json_schema_extra=configured("kinds"))
    id: str = Field(description="The record's id within its kind.")
    title: str
    url: str = Field(pattern="^/", description="Site-relative address of the page.")
    snippet: str = Field(description="HTML: escaped text with the matched words in `<mark>`.")
    lang: Lang


class SearchResults(Answer):
    """One page (10 hits) of results, best first."""

    query: str = Field(max_length=200, description="The query as searched (normalised).")
    total: int = Field(ge=0)
    page: int = Field(ge=1, le=500)
    pages: int = Field(ge=1)
    results: list[SearchHit] = Field(max_length=10)


class Observance(Answer):
    slug: str
    name: str
    start: date
    end: date = Field(description="The same as `start` for a single day.")
    kind: Literal["fixed", "rule", "announced"]
    provisional: bool = Field(description="Derived from the rule, not yet announced.")


class Observances(RootModel[list[Observance]]):
    """The observance days of the year, in the library's order."""


class Event(Answer):
    id: int = Field(ge=1)
    title: str = Field(description="In the request's language when the event has it, else "
                                   "the other.")
    starts_at: datetime = Field(description="ISO 8601 with the site's offset (+08:00).")
    ends_at: datetime
    place: str
    district: str = Field(description="Code of one of the city's districts and counties.",
                          json_schema_extra=configured("district_codes"))
    capacity: int = Field(ge=1)
    confirmed: int = Field(ge=0)
    waitlisted: int = Field(ge=0)
    seats_left: int = Field(ge=0)
    status: Literal["published", "cancelled"]
    url: str = Field(json_schema_extra={"format": "uri"}, description="The event's page.")


class Events(RootModel[list[Event]]):
    """Events, soonest first: at most `limit` of them.  When more follow, the `Link` header
    gives the address of the next answer."""


class Signup(Answer):
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"status": {"const": "waitlisted"}}},
        "then": {"required": ["position"]},
        "else": {"not": {"required": ["position"]}}})

    status: Literal["confirmed", "waitlisted"]
    position: int | None = Field(None, ge=1, description="Place on the waiting list (1 = "
                                                         "next); only when waitlisted.")


class SignupCancelled(Answer):
    status: Literal["cancelled"]


class Stats(Answer):
    """Live city-wide figures."""

    households: int = Field(ge=0)
    pledging_households: int = Field(ge=0)
    pledges: int = Field(ge=0)
    green_families: int = Field(ge=0, description="Named (or under rectification).")
    volunteers: int = Field(ge=0, description="People who ever signed up for an event.")
    service_hours: float = Field(ge=0, description="Recorded hours of confirmed volunteers.")
    events: int = Field(ge=0, description="Published events.")
    published_activities: int = Field(ge=0)


class MonthlyReport(Answer):
    month: Month = Field(description="A month, `YYYY-MM`.")
    kept: list[str] = Field(description="Pledge codes kept that month.")
    kept_rate: float = Field(ge=0, le=1, description="Kept ÷ pledged that month, 3 decimals.")


class Household(Answer):
    """The caller's own household (found from the token, never by id)."""

    id: int = Field(ge=1)
    name: str = Field(max_length=40)
    district: str = Field(json_schema_extra=configured("district_codes"))
    members: int = Field(ge=1, le=30)
    status: Literal["none", "named", "rectification", "revoked"] = Field(
        description="Recognition as a green family.")
    pledges: list[str]
    reports: list[MonthlyReport] = Field(description="Oldest first.")
    streak: int = Field(ge=0, description="Consecutive months at or above the kept rate.")
    estimated_co2_kg: float = Field(ge=0, description="An estimate, not a measurement.")


class ActivitySubmitted(Answer):
    id: int = Field(ge=1)
    status: Literal["submitted"]


class Activity(Answer):
    """A school's activity post.  Published posts show their published version; others
    (seen by editors and staff only) their draft."""

    id: int = Field(ge=1)
    school: str = Field(description="The school's slug.")
    title: str
    html: str = Field(description="The text rendered to safe HTML (when it was saved).")
    activity_date: date | None
    status: Literal["draft", "submitted", "published", "rejected"]
    url: str = Field(pattern="^/activities/[0-9]+$",
                     description="Site-relative address of the post's page.")


class Document(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


# -- request bodies --------------------------------------------------------------------------

class EventInput(Shape):
    """Creates and publishes an event.  A title in at least one language is needed (`title`
    is the Chinese one).  Optional fields may be `null` (the same as absent)."""

    model_config = ConfigDict(json_schema_extra={
        "anyOf": [{"required": [name], "properties": {name: {"type": "string", "pattern": r"\S"}}}
                  for name in ("title", "title_zh", "title_en")],
        "examples": [{"title": "南湖湿地观鸟", "title_en": "Bird watching at South Lake",
                      "starts_at": "2027-06-05T09:00:00+08:00",
                      "ends_at": "2027-06-05T11:30:00+08:00", "place": "南湖湿地公园东门",
                      "district": "nanhu", "capacity": 30, "observance": "world-environment-day",
                      "min_age": 8}]})

    title: str | None = Field(None, max_length=TITLE_MAX, description="Chinese title.")
    title_zh: str | None = Field(None, max_length=TITLE_MAX,
                              description="Chinese title (used when given).")
    title_en: str | None = Field(None, max_length=TITLE_MAX, description="English title.")
    description: str | None = Field(None, max_length=TEXT_MAX,
                                 description="Chinese description (Markdown).")
    description_zh: str | None = Field(None, max_length=TEXT_MAX,
                                    description="Used when `description` is empty.")
    description_en: str | None = Field(None, max_length=TEXT_MAX)
    starts_at: IsoDateTime = Field(description="In the future.  ISO 8601; without an offset "
                                               "the site's time zone (Asia/Shanghai) is "
                                               "assumed, e.g. `2027-06-05T09:00:00+08:00`.")
    ends_at: IsoDateTime = Field(description="After `starts_at`.")
    signup_deadline: IsoDateTime | None = Field(None, description="Not after `starts_at`; "
                                                                  "defaults to it.")
    place: NonBlank = Field(max_length=200)
    district: str = Field(max_length=64, description="A district's code or its name in either "
                                                     "language.",
                          json_schema_extra=configured("district_names"))
    capacity: StrictInt = Field(ge=1, le=100000)
    observance: str | None = Field(None, max_length=64,
                                   description="Slug of an observance day the event marks.")
    min_age: StrictInt | None = Field(None, ge=0, le=120)
    notes: str | None = Field(None, max_length=2000)


class HouseholdInput(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "王家", "district": "南湖区", "town": "建设街道", "members": 3}]})

    name: NonBlank = Field(min_length=1, max_length=40, description="e.g. 王家")
    district: str = Field(description="A district's code or its name in either language.",
                          json_schema_extra=configured("district_names"))
    town: str = Field("", max_length=80)
    members: StrictInt = Field(1, ge=1, le=30)
    phone: str | None = Field(None, description="Optional mainland mobile number (11 digits, "
                                                "`+86` allowed); only staff see it, masked.")


class PledgesInput(Shape):
    codes: list[str] = Field(description="The complete new list of pledge codes (replaces "
                                         "the old).", json_schema_extra=configured("pledges"))


class ReportInput(Shape):
    month: Month = Field(description="The current or the previous month (site time), "
                                     "`YYYY-MM`.")
    kept: list[str] = Field(default_factory=list,
                            description="Codes of the household's pledges kept that month.")


class ActivityInput(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"title": "世界水日：我们测了河水", "body": "四年级的同学在老师带领下……",
         "activity_date": "2027-03-22", "topics": ["water"]}]})

    title: NonBlank = Field(min_length=1, max_length=TITLE_MAX)
    body: NonBlank = Field(min_length=1, max_length=TEXT_MAX,
                           description="Markdown; refused when too complex to render within "
                                       "the site's time budget (`markdown_too_complex`).")
    activity_date: IsoDate
    topics: list[str] = Field(default_factory=list, description="Slugs of library topics.")


class RejectInput(Shape):
    reason: NonBlank = Field(min_length=1, max_length=500,
                             description="Shown to the school's editors.")
