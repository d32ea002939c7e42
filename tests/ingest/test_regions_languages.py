"""Region tagging in the languages besides English: names in each script, their inflected
forms, datelines and section labels, and texts whose declared language is wrong or missing.

The texts are short news excerpts written for these tests."""

from __future__ import annotations

import pytest

from ingest import localnames
from ingest.regions import tag

CASES = [
    # language, title, text, primary region, evidence that must be there
    ("zh", "外交部回应美方言论", "新华社北京3月31日电（记者王磊）外交部发言人31日在例行记者会上表示，中方"
     "敦促美方停止干涉中国内政。", "asia-pacific", "dateline:北京=CN"),
    ("zh", "法国总统访问柏林", "法国总统周一抵达柏林，与德国总理就欧盟预算问题举行会谈。", "europe",
     "title:法国=FR"),
    ("ja", "ロシア軍がキーウを攻撃", "【モスクワ共同】ロシア国防省は、ウクライナの首都キーウの軍事施設をミサイルで"
     "攻撃したと発表した。", "europe", "dateline:モスクワ=RU"),
    ("ja", "米大統領が来日", "米国の大統領が東京に到着し、首相と会談した。日米同盟の強化を確認した。",
     "americas", "title:米大統領=US"),
    ("ko", "북한, 미사일 발사", "(서울=연합뉴스) 이민호 기자 = 북한이 31일 동해상으로 탄도미사일을 "
     "발사했다고 합동참모본부가 밝혔다.", "asia-pacific", "dateline:서울=KR"),
    ("ko", "이스라엘, 가자지구 공습", "이스라엘군은 가자지구 남부를 공습했다고 밝혔다. 팔레스타인 "
     "당국은 사상자가 늘고 있다고 전했다.", "middle-east", "title:이스라엘=IL"),
    ("ar", "انفجار في بيروت", "بيروت - (رويترز) قالت السلطات اللبنانية إن انفجارا وقع في ميناء العاصمة"
     " وأسفر عن إصابة العشرات.", "middle-east", "dateline:بيروت=LB"),
    ("ar", "الرئيس الروسي يزور الصين", "موسكو - أعلن الكرملين أن الرئيس الروسي سيزور الصين الشهر المقبل "
     "لبحث العلاقات الروسية الصينية.", "europe", "dateline:موسكو=RU"),
    ("ru", "Удар по Харькову", "КИЕВ, 12 мая. /ТАСС/. Украинские власти сообщили об ударе по Харькову. "
     "В Киеве объявлена воздушная тревога.", "europe", "dateline:КИЕВ=UA"),
    ("ru", "Токио ответил Пекину", "Министр иностранных дел Японии заявил, что японское правительство "
     "не согласно с позицией Китая.", "asia-pacific", "body:Японии=JP"),
    ("es", "Terremoto en México", "CIUDAD DE MÉXICO (AP) — Un sismo sacudió el centro del país. Las "
     "autoridades mexicanas no reportan víctimas.", "americas", "body:mexicanas=MX"),
    ("fr", "Séisme au Maroc", "RABAT (AFP) - Un séisme a frappé le sud du Maroc, selon le ministère "
     "marocain de l'Intérieur.", "africa", "body:marocain=MA"),
    ("de", "Kanzler reist nach Peking", "BERLIN (dpa) - Der Bundeskanzler reist nach Peking, um mit "
     "der chinesischen Führung zu sprechen.", "asia-pacific", "title:Peking=CN"),
    ("pt", "Lula recebe líder chinês", "BRASÍLIA - O presidente brasileiro recebeu o líder chinês no "
     "Palácio do Planalto.", "americas", "body:brasileiro=BR"),
    ("id", "Gempa guncang Jepang", "TOKYO - Gempa berkekuatan magnitudo 7,1 mengguncang Jepang "
     "bagian barat, kata badan meteorologi setempat.", "asia-pacific", "title:Jepang=JP"),
]


@pytest.mark.parametrize(("language", "title", "text", "region", "evidence"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_language_tags_its_own_news(language: str, title: str, text: str, region: str,
                                         evidence: str) -> None:
    tags = tag(text, title=title, language=language)
    assert tags.primary_region == region, tags.evidence
    assert evidence in tags.evidence  # the matched text in its own script


@pytest.mark.parametrize(("text", "code"), [
    ("Переговоры прошли в России.", "RU"), ("Делегация прибыла в Россию.", "RU"),
    ("Президент Южной Кореи выступил.", "KR"), ("Российские военные вышли.", "RU"),
    ("Китайцы купили завод.", "CN"), ("Губернатор Курской области заявил.", "RU"),
    ("Соглашение с Соединенными Штатами подписано.", "US"), ("Переговоры в Киеве.", "UA"),
])
def test_russian_names_match_in_every_case_and_as_adjectives(text: str, code: str) -> None:
    assert code in tag(text, language="ru").countries


@pytest.mark.parametrize(("text", "code"), [
    ("وصل الوفد إلى الصين أمس.", "CN"), ("قال مسؤول في وزارة الخارجية والصين ترفض.", "CN"),
    ("أكد المسؤول الروسي أن المحادثات مستمرة.", "RU"), ("الحكومة المصرية تعلن خطة.", "EG"),
    ("وصل بالطائرة إلى الولايات المتحدة.", "US"), ("أعلنت ألمانيا الخطة.", "DE"),
    ("قال الوزير الألماني إن الخطة جاهزة.", "DE"),
])
def test_arabic_names_match_with_clitics_and_as_nisba(text: str, code: str) -> None:
    assert code in tag(text, language="ar").countries


def test_names_inside_other_words_are_not_places() -> None:
    # "タイ" (Thailand) in "タイム" (time); "груз" (cargo) is not "Грузия"; a Russian given name
    # that is also a city is not evidence; "الجديدة" (the new) is not El Jadida
    assert "TH" not in tag("新しいタイムラインが発表された。", language="ja").countries
    assert tag("Груз доставили вовремя, сообщил Владимир Иванов.", language="ru").countries == {}
    assert "MA" not in tag("أعلنت الشركة عن الخطة الجديدة للعام المقبل.", language="ar").countries


def test_section_labels_in_other_languages() -> None:
    tags = tag("Текст без названий мест.", hints=["Ближний Восток"], language="ru")
    assert tags.primary_region == "middle-east"
    assert tag("本文。", hints=["中东"]).primary_region == "middle-east"
    assert tag("Un texte.", hints=["Moyen-Orient"], language="fr").primary_region == "middle-east"


def test_a_wrong_or_missing_language_still_finds_names_in_other_scripts() -> None:
    # declared English, written in Chinese; no language at all; mixed scripts
    assert tag("美国总统周二在白宫发表讲话。", language="en").primary_region == "americas"
    assert tag("Президент Франции прибыл в Берлин.").countries.keys() >= {"FR", "DE"}
    mixed = tag("Officials in Seoul said 북한 fired a missile toward 日本.")
    assert {"KR", "KP", "JP"} <= set(mixed.countries)


def test_languages_not_listed_get_what_evidence_there_is() -> None:
    # Italian is not a tagger language: English-spelled names still count, nothing raises
    tags = tag("Il presidente ha incontrato a Roma il primo ministro del Japan.", language="it")
    assert "IT" in tags.countries or "JP" in tags.countries
    assert tag("", language="xx").primary_region is None
    assert localnames.languages_of("", None) == ()


def test_latin_language_names_only_for_that_language() -> None:
    # "Island" is Iceland in German and an island in English
    assert "IS" in tag("Die Regierung in Island hat gewählt.", language="de").countries
    assert "IS" not in tag("The ferry reached the Island of Mull.", language="en").countries


def test_every_listed_language_has_names_for_every_region() -> None:
    from ingest.regions import RegionTable

    table = RegionTable.load()
    doc = localnames._document()
    for language in sorted(localnames.LANGUAGES):
        rows = doc["languages"][language]  # type: ignore[index]
        regions = {table.by_country.get(code) for _, code, _ in rows}
        assert set(table.names) <= regions, language


@pytest.mark.parametrize(("language", "text", "code"), [
    ("ru", "Госдума приняла закон в третьем чтении.", "RU"),
    ("ja", "衆院は31日の本会議で補正予算案を可決した。", "JP"),
    ("fr", "Les députés ont adopté le texte au Palais-Bourbon.", "FR"),
    ("pt", "O Copom manteve a Selic em 10,5%.", "BR"),
    ("fr", "La Côte d'Ivoire accueille la CAN.", "CI"),
    ("ru", "Делегация прилетела в Нью-Йорк.", "US"),
    ("ru", "Пенсии вырастут на тысячу рублей.", "RU"),
])
def test_institutions_and_names_with_hyphens_or_apostrophes(language: str, text: str,
                                                            code: str) -> None:
    assert code in tag(text, language=language).countries


@pytest.mark.parametrize(("language", "text"), [
    ("ru", "Могу сказать, что самое главное впереди."),   # verbs and "самое" (most), not Самоа
    ("ru", "Метро закрыли на ремонт."),                   # a sentence opened by a city's name
    ("id", "Ri dan As adalah nama panggilan mereka."),   # abbreviations only in capitals
    ("ar", "أعلنت فرقة موسيقية عن حفل، ووقع على ورقة."),  # a band and a sheet, not Raqqa
    ("ar", "قالت إن حماية المدنيين أولوية."),             # protection, not Hama
])
def test_frequent_words_that_look_like_places_are_not_places(language: str, text: str) -> None:
    assert tag(text, language=language).countries == {}


def test_a_frequent_word_city_still_counts_where_its_capital_letter_marks_it() -> None:
    assert "RU" in tag("Жители Сочи вышли на улицы.", language="ru").countries
    assert "RU" in tag("ИРКУТСК, 5 мая. Сообщили власти.", language="ru").countries
    assert "SY" in tag("غارات على الرقة وبالرقة.", language="ar").countries
