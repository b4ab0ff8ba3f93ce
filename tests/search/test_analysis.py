"""Our analyzers on Chinese and English examples."""

from portal.search.analysis import bigram_analyzer, mixed_analyzer, terms


def tokens(text, mode="index"):
    return [(t.text, t.pos) for t in mixed_analyzer()(text, positions=True, mode=mode)]


def test_chinese_words_and_sub_words_share_a_position():
    got = tokens("我们坚持垃圾分类")
    assert ("垃圾分类", 2) in got and ("垃圾", 2) in got and ("分类", 2) in got
    positions = [p for _t, p in got]
    assert positions == sorted(positions)


def test_query_mode_uses_the_precise_segmentation_only():
    assert terms("垃圾分类", mixed_analyzer()) == ["垃圾分类"]
    assert "垃圾" in terms("垃圾分类", mixed_analyzer(), mode="index")


def test_domain_words_stay_whole():
    for word in ["生态文明", "低碳出行", "世界环境日", "绿色家庭", "易腐垃圾", "光盘行动"]:
        assert word in terms(f"我们{word}活动", mixed_analyzer()), word


def test_english_is_lower_cased_and_stemmed():
    assert terms("Recycling", mixed_analyzer()) == terms("recycle", mixed_analyzer())
    assert terms("recycled bottles", mixed_analyzer()) == terms("RECYCLE bottle",
                                                                mixed_analyzer())
    assert terms("the water of the lake", mixed_analyzer()) == ["water", "lake"]


def test_mixed_text_keeps_both_languages_and_character_offsets():
    text = "节水 saves water"
    # whoosh reuses one Token object: read each as it comes
    got = [(t.text, text[t.startchar:t.endchar])
           for t in mixed_analyzer()(text, positions=True, chars=True)]
    assert got == [
        ("节水", "节水"), ("save", "saves"), ("water", "water")]


def test_chinese_stop_words_are_dropped():
    assert "的" not in terms("我的家", mixed_analyzer())


def test_bigrams_cover_every_pair_and_lone_characters():
    assert terms("节约用水", bigram_analyzer()) == ["节约", "约用", "用水"]
    assert terms("水 water", bigram_analyzer()) == ["水"]
    assert terms("recycling", bigram_analyzer()) == []
