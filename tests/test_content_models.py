"""Content files are checked by pydantic models: one problem per mistake, naming file and field."""

import shutil

import pytest
import yaml

from portal.config import ROOT
from portal.core.content import ContentProblems
from portal.households import catalogue
from portal.site import load_site


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _edit(path, change):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def test_the_shipped_site_and_pledges_load():
    site = load_site(str(ROOT / "content"))
    assert site.division("nanhu").zh == "南湖区" and site.privacy_notice_version
    assert site.green_family.min_pledges == 6 and len(site.targets) == 12
    found, problems = catalogue.check(str(ROOT / "content"))
    assert problems == [] and found.actions["sort-kitchen-waste"].heading


def test_every_mistake_in_the_pledges_is_named(folder):
    def spoil(raw):
        first = raw["headings"][0]
        first["actions"][0]["co2_kg_per_month"] = -3
        first["actions"][1].pop("en")
        raw["headings"][1]["code"] = "Not A Code"
        raw["headings"][2]["actions"] = []

    _edit(folder / "pledges.yaml", spoil)
    raw = yaml.safe_load((folder / "pledges.yaml").read_text(encoding="utf-8"))
    first = raw["headings"][0]
    _found, problems = catalogue.check(str(folder))
    assert [str(p) for p in problems] == [
        f"pledges.yaml: heading '{first['code']}', action '{first['actions'][0]['code']}': "
        "'co2_kg_per_month' must be more than 0",
        f"pledges.yaml: heading '{first['code']}', action '{first['actions'][1]['code']}': "
        "'en' is missing",
        "pledges.yaml: heading 'Not A Code': 'code' must be lower-case-words (like "
        "'waste-sorting')",
        f"pledges.yaml: heading '{raw['headings'][2]['code']}': 'actions' has too few entries "
        "(at least 1)",
    ]


def test_a_repeated_pledge_code_is_refused(folder):
    def repeat(raw):
        raw["headings"][1]["actions"][0]["code"] = raw["headings"][0]["actions"][0]["code"]

    _edit(folder / "pledges.yaml", repeat)
    _found, problems = catalogue.check(str(folder))
    assert len(problems) == 1 and "may be used once; repeated:" in str(problems[0])


def test_a_bad_site_file_names_each_field(folder):
    def spoil(raw):
        raw["timezone"] = "Mars/Base"
        raw["divisions"][1].pop("zh")
        raw["green_family"] = {"min_kept_rate": 2}

    _edit(folder / "site.yaml", spoil)
    with pytest.raises(ContentProblems) as info:
        load_site(str(folder))
    assert [str(p) for p in info.value.problems] == [
        "site.yaml: 'timezone': unknown time zone 'Mars/Base' (like Asia/Shanghai)",
        "site.yaml: division 'xiuzhou': 'zh' is missing",
        "site.yaml: 'green_family.min_kept_rate' must be at most 1",
    ]
