from datetime import datetime, timedelta

import pytest

from portal.events import services
from tests.conftest import make_user


@pytest.fixture
def organizer(app):
    return make_user(app, email="org@example.org", role="organizer", name="组织者")


def make_event(app, organizer_id, capacity=2, days=10, hours=3, publish=True, **extra):
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        tz = services.zone()
        start = (datetime.now(tz) + timedelta(days=days)).replace(hour=9, minute=0, second=0,
                                                                   microsecond=0)
        data = services.EventInput(
            title_zh=extra.pop("title_zh", "世界环境日河道清洁"),
            title_en=extra.pop("title_en", "River clean-up"),
            description_zh="一起清理河道。", starts_at=start,
            ends_at=start + timedelta(hours=hours), place="南湖北门", district="nanhu",
            capacity=capacity, **extra)
        event = services.create_event(db.session.get(User, organizer_id), data, publish=publish)
        return event.id


@pytest.fixture
def event_factory(app, organizer):
    def factory(**kwargs):
        return make_event(app, organizer, **kwargs)

    return factory
