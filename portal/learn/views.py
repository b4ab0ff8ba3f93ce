from datetime import date, datetime

from flask import Blueprint, abort, redirect, render_template, url_for

from portal.events import services as events
from portal.i18n import _l, current_locale, format_skeleton
from portal.learn import search, services
from portal.learn.observances import today, upcoming
from portal.paging import keyset_cursor
from portal.site import zone

bp = Blueprint("learn", __name__, template_folder="templates")


def init_app(app) -> None:
    # The library's content loader is registered by portal.editorial (articles are entries).
    search.register()
    app.register_blueprint(bp)


@bp.route("/learn")
def index():
    return render_template("learn/index.html", sections=services.sections(current_locale()))


#: Where articles that are not library articles live (``/learn/<slug>`` sends them there).
ELSEWHERE = {"page": "core.page", "campaign": "learn.observance"}


@bp.route("/learn/<slug>")
def article(slug: str):
    """Library articles, news and notices (all at ``/learn/<slug>``)."""
    versions = services.versions(slug)
    if not versions:
        abort(404)
    locale = current_locale()
    shown = services.pick(versions, locale)
    if shown.kind in ELSEWHERE:
        return redirect(url_for(ELSEWHERE[shown.kind], slug=slug), 301)
    return render_template(  # the body's HTML and contents were stored when it was saved
        "learn/article.html", article=shown, body=shown.body_html(), toc_items=shown.toc or [],
        cover=services.cover(shown),
        missing_in_locale=locale not in versions,
        other_langs=[lang for lang in versions if lang != shown.lang],
        related=services.related(shown, locale),
        observances=services.observances_named(shown.observances))


@bp.route("/news")
def news():
    page = services.published_page("news", current_locale(),
                                   keyset_cursor(services.LISTED_ORDER))
    return render_template("learn/published.html", page=page, heading=_l("News"))


@bp.route("/notices")
def notices():
    page = services.published_page("notice", current_locale(),
                                   keyset_cursor(services.LISTED_ORDER))
    return render_template("learn/published.html", page=page, heading=_l("Notices"))


@bp.route("/learn/topics/<slug>")
def topic(slug: str):
    found = services.topic(slug)
    if found is None:
        abort(404)
    page = services.topic_page(slug, current_locale(), keyset_cursor(services.TOPIC_ORDER))
    return render_template("learn/topic.html", topic=found, page=page)


@bp.route("/observances")
def observances():
    on = today()
    days = [(o, upcoming(o, on, years=1)) for o in services.observances()]
    return render_template("learn/observances.html", days=days, today=on)


@bp.route("/observances/<slug>")
def observance(slug: str):
    found = services.observance(slug)
    if found is None:
        abort(404)
    next_dates = upcoming(found)
    locale = current_locale()
    articles, more = services.articles_about_observance(slug, locale)
    text = services.campaign(slug, locale)  # the campaign page's staff text, if published
    return render_template("learn/observance.html", obs=found, upcoming=next_dates,
                           tentative=any(occ is None or occ.provisional
                                         for _year, occ in next_dates),
                           articles=articles, more_articles=more, campaign=text,
                           cover=services.cover(text),
                           events=events.published_between(
                               datetime.now(zone()), None, observance=slug,
                               limit=CAMPAIGN_EVENTS, listed=True),
                           posts=services.posts_about_observance(slug))


CAMPAIGN_EVENTS = 5  # the day's upcoming events its page shows


KIND_LABELS = {"fixed": _l("Same date every year"),
               "rule": _l("Set by a rule; announced each year"),
               "announced": _l("Announced each year")}


@bp.app_template_global()
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def month_day_label(month_day: str) -> str:
    """'06-05' → '6月5日' / 'June 5' in the reader's language."""
    month, day = map(int, month_day.split("-"))
    return format_skeleton("MMMMd", date(2000, month, day))
