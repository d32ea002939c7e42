"""Language of a row: the declaration checked against the text, with the detector's
probability recorded. The texts are short news excerpts written for these tests."""

from __future__ import annotations

import pytest

from ingest.language import Language, decide, normalise

TEXTS = {
    "zh": "国务院总理周三主持召开常务会议，部署进一步稳定和扩大就业的政策措施，会议强调要加大支持力度。",
    "ja": "政府は31日、新たな経済対策を閣議決定した。物価高に対応するため、家計への支援を拡充する。",
    "ko": "정부는 31일 주택 공급 확대를 골자로 한 부동산 대책을 발표했다. 수도권에 공급을 늘릴 계획이다.",
    "ar": "أعلنت وزارة المالية موازنة العام المقبل، متوقعة عجزا أقل من العام الماضي بفضل ارتفاع الإيرادات.",
    "ru": "Президент в понедельник провел оперативное совещание с постоянными членами Совета безопасности.",
    "es": "El Consejo de Ministros aprobó este martes la reforma del sistema de pensiones, que será "
          "remitida a las Cortes.",
    "fr": "Le gouvernement a présenté mercredi en Conseil des ministres un projet de budget marqué "
          "par des économies.",
    "de": "Der Bundestag hat nach monatelangem Streit das umstrittene Heizungsgesetz beschlossen, "
          "die Opposition kündigte eine Klage an.",
    "pt": "O presidente sancionou nesta quarta-feira a reforma tributária em cerimônia no palácio, "
          "com ministros e parlamentares.",
    "id": "Presiden meresmikan jalan tol baru yang menghubungkan dua kota besar. Jalan tol ini "
          "diharapkan mengurangi kemacetan.",
    "en": "The committee approved the budget on Tuesday after a long debate about school funding "
          "and road repairs.",
}


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_each_language_is_detected_when_nothing_is_declared(code: str) -> None:
    got = decide(TEXTS[code])
    assert got.code == code
    assert got.confidence is not None and got.confidence >= 0.5


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_a_feed_default_of_english_does_not_hide_the_real_language(code: str) -> None:
    assert decide(TEXTS[code], page="", feed="en").code == code


def test_a_plausible_declaration_is_kept_and_a_wrong_one_is_not() -> None:
    # the page says French and is French: kept, with the detector's probability of French
    kept = decide(TEXTS["fr"], page="fr-FR", feed="en")
    assert kept.code == "fr" and kept.confidence is not None and kept.confidence > 0.9
    # the page says English and is Chinese: the text wins
    assert decide(TEXTS["zh"], page="en", feed="en").code == "zh"
    # no page declaration: the feed's, when the text supports it
    assert decide(TEXTS["de"], page="", feed="de") == decide(TEXTS["de"], page="de")


def test_texts_too_short_to_judge_keep_the_declaration_without_confidence() -> None:
    assert decide("OK", page="fr") == Language("fr", None)
    assert decide("", page="", feed="de") == Language("de", None)
    assert decide("12 345 !!!") == Language("", None)


def test_declarations_are_normalised() -> None:
    assert [normalise(c) for c in ("en-US", "zh_Hant", "IW", "in", "", None, "x-klingon",
                                   "und")] == ["en", "zh", "he", "id", "", "", "", ""]


def test_the_same_text_always_gets_the_same_answer() -> None:
    assert {decide(TEXTS["ru"], page="en") for _ in range(3)} == {decide(TEXTS["ru"], page="en")}


def test_the_faster_scoring_table_ranks_exactly_as_py3langid_does() -> None:
    # ingest.language keeps its restricted table contiguous and in float32; py3langid's own
    # identifier, restricted the same way, must give the very same probabilities
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from ingest.language import rank

    plain = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    plain.set_languages([code for code in plain.nb_classes if len(code) == 2])
    for text in TEXTS.values():
        ours = rank(text)
        assert ours is not None
        assert ours == [(str(c), float(p)) for c, p in plain.rank(text)]
