"""Generate the bundled offline sample site (ingest/sample/site) from the texts below.

The pages imitate their outlets' real markup: navigation, source lines, photo captions, share
widgets, "Posted in:" section lines, comment widgets and footers around the article body. The
Global Times page carries the article in ../shared/examples/ as published on 2014-03-31.
Run ``python scripts/build_sample.py`` after editing; the output is committed.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "ingest" / "sample" / "site"
B = "{{BASE}}"  # replaced by the sample server with its own address

GT_TITLE = "Japan, N.Korea hold first government-level talks since 2012 in Beijing"
GT_CAPTION = ("Junichi Ihara (4th from left), Japanese foreign ministry director general, talks to "
              "North Korea's ambassador, Song Il-ho (4th from right) for talks to normalize "
              "relations with Japan at the North Korean Embassy in Beijing on Sunday. Photo: AFP")
GT_PARAS = [
    "Japan and North Korea on Sunday held the first formal government-level talks since 2012 "
    "following a shift in Pyongyang's handling of past abductions of Japanese citizens.",
    "The two-day meeting in Beijing came after diplomats held informal talks on the sidelines of a "
    "humanitarian conference in the Chinese city of Shenyang between Red Cross officials from the "
    "two countries earlier this month.",
    "\"We would like to have serious and frank discussions over a broad range of outstanding "
    "issues for both sides,\" Junichi Ihara, head of the Japanese foreign ministry's Asian and "
    "Oceanian Affairs Bureau, told Japanese broadcaster NHK.",
    "At the North Korean Embassy, the venue of the first day of the meeting, Song Il-ho, North "
    "Korea's ambassador for talks to normalize relations with Japan, expressed hope that relations "
    "between the two countries will start moving \"in a positive direction,\" the Kyodo news agency "
    "reported.",
    "The meeting comes amid recent mixed signals from Pyongyang over its willingness to re-engage "
    "in diplomacy.",
    "Talks were suspended in 2012 when Tokyo reiterated its demand that Pyongyang come clean on "
    "the abduction issue. The talks were officially called off in December 2012 when Pyongyang "
    "launched a long-range missile, drawing international condemnation.",
    "Also on Sunday, North Korea vowed not to rule out a \"new form\" of nuclear test  if the "
    "United States continues its hostile policy towards Pyongyang.",
    "The announcement came after the UN Security Council condemned its latest ballistic missile "
    "launch amid simmering tensions over neighbor South Korea's joint military drills with the US.",
    "South Korea also warned after the North Korean announcement that if the North Korea would "
    "conduct another nuclear test, Pyongyang will have to pay the price for it.",
]

# Sample texts written for this fixture set (not real reporting).
ARTICLES = {
    "globaltimes/content/2014/03/31/canberra-water.html": dict(
        outlet="globaltimes", section="Asia-Pacific", date="2014-03-31T02:10:00+08:00",
        title="Australia and New Zealand agree on shared drought monitoring network",
        paras=[
            "CANBERRA, March 31 - Australia and New Zealand on Monday agreed to link their drought "
            "monitoring stations into one network, officials in Canberra said, after two dry "
            "summers cut farm output across the Murray-Darling basin.",
            "The agreement lets scientists in Wellington and Canberra share rainfall and soil "
            "moisture readings every hour instead of every month, a change that farmers' groups "
            "had sought since 2012.",
            "\"Rain does not stop at the Tasman Sea, and neither should the data,\" the Australian "
            "agriculture minister told reporters, adding that the first stations would be linked "
            "before the winter planting season.",
            "New Zealand officials said the network would also help Pacific island states such as "
            "Fiji and Samoa, which have asked for access to the forecasts.",
        ]),
    "eurodesk/2014/03/31/berlin-rail-strike.html": dict(
        outlet="eurodesk", section="Europe", date="2014-03-31T09:30:00+02:00",
        title="German rail workers vote to extend strike as talks stall in Berlin",
        paras=[
            "BERLIN (Wire) - German rail workers voted on Monday to extend their strike into a "
            "second week after wage talks with the national operator stalled in Berlin, leaving "
            "commuters in Munich, Hamburg and Frankfurt without regular trains.",
            "The union said 87 percent of members backed the extension. Negotiators for Deutsche "
            "Bahn said they had offered a 4.2 percent raise over two years and called the vote "
            "\"a step backwards for passengers\".",
            "Freight operators warned that car plants in Bavaria and chemical works along the "
            "Rhine could run short of parts by the end of the week if the strike continued.",
            "Transport ministers from France and Austria said cross-border services would run on "
            "a reduced timetable until further notice.",
        ]),
    "eurodesk/2014/03/31/madrid-housing.html": dict(
        outlet="eurodesk", section="Europe", date="2014-03-31T11:00:00+02:00",
        title="Spain unveils rent support plan for young tenants",
        paras=[
            "MADRID - Spain's government on Monday unveiled a plan to cover part of the rent of "
            "tenants under 35, as prices in Madrid and Barcelona rose faster than wages for a "
            "fourth year.",
            "The housing ministry said about 200,000 young people could qualify in the first year. "
            "Landlords' associations welcomed the subsidy but warned that it might push rents "
            "higher still unless more homes were built.",
            "Opposition parties in the Spanish parliament said the plan came too late and asked "
            "for a cap on short-term holiday lets in city centres.",
        ]),
    "americas/news/2014/03/31/rail-strike-germany.html": dict(
        outlet="americas", section="World", date="2014-03-31T08:05:00-04:00",
        title="German rail workers vote to extend strike as talks stall in Berlin",
        paras="SAME_AS:eurodesk/2014/03/31/berlin-rail-strike.html"),
    "americas/news/2014/03/31/brazil-coffee.html": dict(
        outlet="americas", section="Americas", date="2014-03-31T10:15:00-03:00",
        title="Brazil coffee harvest forecast cut after dry spell in Minas Gerais",
        paras=[
            "SAO PAULO - Brazil's crop agency cut its coffee harvest forecast on Monday after a dry "
            "spell in Minas Gerais, the country's largest growing state, damaged flowering trees.",
            "The agency now expects 46 million bags, down from 49 million in its January estimate. "
            "Futures in New York rose 3 percent on the news.",
            "Growers in Colombia and Peru said the shortfall could lift prices for their beans, "
            "while roasters in the United States said retail prices were unlikely to change "
            "before the autumn.",
        ]),
    "mideast/2014/03/31/jordan-water.html": dict(
        outlet="mideast", section="Middle East", date="2014-03-31T12:00:00+03:00",
        title="Jordan and Israel sign Red Sea water sharing deal",
        paras=[
            "AMMAN - Jordan and Israel signed an agreement on Monday to build a desalination plant "
            "at Aqaba on the Red Sea and share its water, officials in Amman said.",
            "Under the plan, Jordan will sell desalinated water to southern Israel, while Israel "
            "will release more water from the Sea of Galilee to northern Jordan. The Palestinian "
            "Authority will be able to buy additional water at cost.",
            "The World Bank, which helped prepare the study behind the project, said the Dead Sea "
            "would receive brine from the plant, slowing the fall of its water level.",
        ]),
    "africa/2014/03/31/nairobi-power.html": dict(
        outlet="africa", section="Africa", date="2014-03-31T07:45:00+03:00",
        title="Kenya switches on geothermal plant in Rift Valley",
        paras=[
            "NAIROBI - Kenya switched on a 140-megawatt geothermal plant in the Rift Valley on "
            "Monday, the energy ministry in Nairobi said, raising the share of power drawn from "
            "underground steam to more than a third of national supply.",
            "The plant at Olkaria was built with loans from Japan and the European Investment "
            "Bank. Engineers said a second unit would follow next year.",
            "Neighbouring Ethiopia and Tanzania have asked Kenyan engineers to survey their own "
            "geothermal fields along the Rift, the ministry said.",
        ]),
}

NON_ARTICLES = {
    "mideast/video/2014/03/31/aqaba-plant.html": "video",
    "africa/premium/2014/03/31/markets-outlook.html": "paywall",
    "africa/section/business.html": "index",
}

OUTLETS = {
    "globaltimes": ("Global Times", "GT"),
    "eurodesk": ("Euro Desk", "ED"),
    "americas": ("Americas Daily", "AD"),
    "mideast": ("Mideast Monitor", "MM"),
    "africa": ("Africa Report", "AR"),
}


def page(path: str, art: dict) -> str:
    outlet, short = OUTLETS[art["outlet"]]
    paras = art["paras"]
    if isinstance(paras, str):
        paras = ARTICLES[paras.removeprefix("SAME_AS:")]["paras"]
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paras)
    date = art["date"]
    canonical = f"{B}/{path}"
    caption = ""
    if path.startswith("globaltimes/content/2014/03/31/japan"):
        caption = (f'      <div class="photo"><img src="{B}/img/talks.jpg" alt="">'
                   f'<p class="caption">{html.escape(GT_CAPTION)}</p></div>\n')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(art['title'])} - {outlet}</title>
  <link rel="canonical" href="{canonical}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{outlet}">
  <meta property="og:title" content="{html.escape(art['title'])}">
  <meta property="article:published_time" content="{date}">
  <meta property="article:section" content="{art['section']}">
  <meta name="author" content="{short} staff">
</head>
<body>
  <header class="masthead"><a href="{B}/{art['outlet']}/">{outlet}</a>
    <nav><a href="#">China</a> <a href="#">World</a> <a href="#">Asia-Pacific</a>
    <a href="#">Europe</a> <a href="#">Americas</a> <a href="#">Business</a> <a href="#">Sports</a></nav>
  </header>
  <div class="share">Share this: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a></div>
  <main>
    <article>
      <h1>{html.escape(art['title'])}</h1>
      <div class="source">Source:Agencies-{outlet} Published: {date[:10]} {date[11:16]}</div>
{caption}{body}
      <div class="section-line">Posted in: {art['section']}</div>
    </article>
    <aside class="related"><h3>Related stories</h3><ul>
      <li><a href="#">Markets close higher on trade hopes</a></li>
      <li><a href="#">Weather: storms expected over the weekend</a></li></ul></aside>
    <div id="disqus_thread"></div>
    <div class="comments">blog comments powered by Disqus</div>
  </main>
  <footer>Copyright 2014 {outlet}. All rights reserved. <a href="#">About us</a> <a href="#">Contact</a></footer>
</body>
</html>
"""


def non_article(path: str, kind: str) -> str:
    outlet, _ = OUTLETS[path.split("/", 1)[0]]
    if kind == "video":
        main = (f'<div class="video"><video src="{B}/media/aqaba.mp4" controls></video>'
                '<p>Watch: the Aqaba plant site.</p></div>')
        og = "video.other"
    elif kind == "paywall":
        main = ("<article><h1>Markets outlook for the second quarter</h1>"
                "<p>Investors across the continent are watching interest rates.</p>"
                "<p>Subscribe now to continue reading. This article is only available to "
                "subscribers.</p></article>")
        og = "article"
    else:
        links = "".join(f'<li><a href="{B}/africa/2014/03/{d:02d}/story-{d}.html">Business story {d}</a></li>'
                        for d in range(1, 25))
        main = f"<h1>Business</h1><ul>{links}</ul>"
        og = "website"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{outlet}</title>'
            f'<meta property="og:type" content="{og}"></head><body><header>{outlet}</header>'
            f"<main>{main}</main><footer>Copyright {outlet}</footer></body></html>\n")


def rss2(path: str, title: str, items: list[tuple[str, str, str]]) -> str:
    rows = "\n".join(
        f"""    <item>
      <title>{html.escape(t)}</title>
      <link>{B}/{p}</link>
      <guid isPermaLink="true">{B}/{p}</guid>
      <pubDate>{d}</pubDate>
    </item>""" for p, t, d in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>{html.escape(title)}</title>
    <link>{B}/{path}</link>
    <description>{html.escape(title)}</description>
{rows}
  </channel>
</rss>
"""


def atom(title: str, items: list[tuple[str, str, str]]) -> str:
    rows = "\n".join(
        f"""  <entry>
    <title>{html.escape(t)}</title>
    <link rel="alternate" href="{B}/{p}"/>
    <id>tag:eurodesk.example,2014:{p}</id>
    <updated>{d}</updated>
  </entry>""" for p, t, d in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{html.escape(title)}</title>
  <id>tag:eurodesk.example,2014:feed</id>
  <updated>2014-03-31T12:00:00Z</updated>
{rows}
</feed>
"""


def rss1(title: str, items: list[tuple[str, str, str]]) -> str:
    seq = "".join(f'<rdf:li rdf:resource="{B}/{p}"/>' for p, _, _ in items)
    rows = "\n".join(
        f"""  <item rdf:about="{B}/{p}">
    <title>{html.escape(t)}</title>
    <link>{B}/{p}</link>
    <dc:date>{d}</dc:date>
  </item>""" for p, t, d in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="{B}/mideast/rdf.xml">
    <title>{html.escape(title)}</title>
    <link>{B}/mideast/</link>
    <description>{html.escape(title)}</description>
    <items><rdf:Seq>{seq}</rdf:Seq></items>
  </channel>
{rows}
</rdf:RDF>
"""

# --- the world desk: one outlet per language, written for this sample (not real reporting) ---
# language -> (outlet, directory, section, date, title, paragraphs, boilerplate, encoding)
WORLD_CHROME = {  # nav, share, related heading, related links, section line, footer
    "zh": ("首页 国内 国际 财经 体育", "分享到：微信 微博", "相关新闻", ("股市收盘上涨", "周末天气预报"),
           "责任编辑：李明", "版权所有 © 2014 华夏新闻网 保留所有权利"),
    "ja": ("トップ 国内 国際 経済 スポーツ", "この記事をシェア：X Facebook", "関連記事", ("株価が続伸", "週末の天気"),
           "（共同）", "Copyright 2014 東方通信 無断転載を禁じます"),
    "ko": ("홈 정치 경제 사회 국제", "공유하기: 카카오톡 페이스북", "관련 기사", ("증시 상승 마감", "주말 날씨"),
           "<저작권자(c) 한빛통신, 무단 전재-재배포 금지>", "Copyright 2014 한빛통신 All rights reserved"),
    "ar": ("الرئيسية أخبار اقتصاد رياضة", "شارك: فيسبوك تويتر", "أخبار ذات صلة", ("البورصة تغلق على ارتفاع", "طقس نهاية الأسبوع"),
           "المصدر: وكالات", "جميع الحقوق محفوظة © 2014 الشرق اليوم"),
    "ru": ("Главная Политика Экономика Спорт", "Поделиться: ВКонтакте Telegram", "Читайте также", ("Биржи закрылись ростом", "Погода на выходные"),
           "При использовании материалов ссылка обязательна", "© 2014 Северное агентство новостей"),
    "es": ("Portada Internacional Economía Deportes", "Compartir: Facebook Twitter", "Noticias relacionadas", ("La bolsa cierra al alza", "El tiempo del fin de semana"),
           "Archivado en: América", "© 2014 Diario del Sur. Todos los derechos reservados"),
    "fr": ("Accueil International Économie Sports", "Partager : Facebook Twitter", "À lire aussi", ("La Bourse termine en hausse", "La météo du week-end"),
           "Publié dans : Afrique", "© 2014 Le Courrier du Monde. Tous droits réservés"),
    "de": ("Startseite Politik Wirtschaft Sport", "Teilen: Facebook Twitter", "Mehr zum Thema", ("Börse schließt im Plus", "Das Wetter am Wochenende"),
           "Rubrik: Europa", "© 2014 Nordkurier Nachrichten. Alle Rechte vorbehalten"),
    "pt": ("Início Mundo Economia Esportes", "Compartilhe: Facebook Twitter", "Leia também", ("Bolsa fecha em alta", "Previsão do tempo"),
           "Publicado em: Mundo", "© 2014 Jornal do Atlântico. Todos os direitos reservados"),
    "id": ("Beranda Nasional Internasional Ekonomi", "Bagikan: Facebook Twitter", "Berita terkait", ("Bursa ditutup menguat", "Prakiraan cuaca akhir pekan"),
           "Editor: Budi Santoso", "Hak cipta © 2014 Warta Nusantara"),
}
WORLD = {
    "zh": dict(outlet="华夏新闻网", dir="world/huaxia", section="国际", date="2014-03-31T10:20:00+08:00",
               encoding="gbk",
               title="日朝在北京举行政府间会谈",
               paras=["新华社北京3月31日电（记者王磊）日本和朝鲜政府代表团30日在北京举行会谈，这是双方自2012年以来首次举行正式的政府间会谈。",
                      "日本外务省亚洲大洋洲局局长伊原纯一在会谈前对记者表示，希望就双方关心的广泛问题进行坦诚的讨论。朝方代表团团长宋日昊表示，希望两国关系朝着积极的方向发展。",
                      "据日本媒体报道，双方在会谈中讨论了二战结束前后在朝鲜半岛去世的日本人遗骨归还问题，以及上世纪七八十年代朝鲜绑架日本人问题的重新调查。日方要求朝方提供更多有关被绑架者下落的信息。",
                      "朝方则希望日本放宽对朝鲜的单边制裁，包括恢复两国之间的人员往来和货船停靠。双方同意在会谈结束后各自向本国政府汇报，并就下一轮会谈的时间和地点保持沟通。",
                      "分析人士指出，绑架问题仍是日朝关系中最敏感的议题，日本国内舆论对朝方的诚意仍有疑虑。韩国和美国对此次会谈表示关注，中方表示欢迎双方通过对话改善关系，愿为此继续提供便利。"]),
    "ja": dict(outlet="東方通信", dir="world/toho", section="国際", date="2014-03-31T09:05:00+09:00",
               encoding="utf-8",
               title="ロシア、ウクライナ国境付近から一部部隊を撤収",
               paras=["【モスクワ共同】ロシア国防省は31日、ウクライナ国境付近に展開していた部隊の一部を撤収させると発表した。",
                      "ロシアのプーチン大統領はドイツのメルケル首相との電話会談で、撤収の方針を伝えたという。欧米諸国はロシア軍の大規模な展開に懸念を示していた。",
                      "ロシア軍は3月上旬から、ウクライナ東部との国境に近い地域で大規模な演習を続けていた。米国防総省の当局者は、国境付近には依然として数万人規模の部隊が残っているとの見方を示した。",
                      "一方、ロシア外務省は声明で、ウクライナ東部のロシア語を話す住民の権利が守られるべきだと改めて主張した。ラブロフ外相は近く米国のケリー国務長官と会談する予定で、事態の打開につながるかが焦点となる。",
                      "ウクライナ暫定政権はキエフで、撤収が確認されるまで警戒を続けると述べた。北大西洋条約機構（NATO）は撤収の事実を確認できていないとしており、加盟国の国防相らがブリュッセルで対応を協議する。"]),
    "ko": dict(outlet="한빛통신", dir="world/hanbit", section="국제", date="2014-03-31T11:30:00+09:00",
               encoding="utf-8",
               title="미국 연준, 양적완화 축소 지속 방침",
               paras=["(워싱턴=한빛통신) 김지훈 특파원 = 미국 연방준비제도 의장은 31일 시카고에서 열린 회의에서 경기 회복을 위한 지원이 당분간 필요하다고 밝혔다.",
                      "그는 미국의 고용 시장이 여전히 완전히 회복되지 않았다며 양적완화 축소를 신중하게 진행하겠다고 말했다. 뉴욕 증시는 이 발언 이후 상승세로 마감했다.",
                      "전문가들은 연준의 이번 발언이 신흥국 금융시장에도 영향을 줄 것으로 내다봤다. 한국 정부도 시장 상황을 면밀히 점검하겠다고 밝혔다."]),
    "ar": dict(outlet="الشرق اليوم", dir="world/sharq", section="الشرق الأوسط", date="2014-03-31T13:00:00+03:00",
               encoding="utf-8",
               title="مصر تعلن موعد الانتخابات الرئاسية",
               paras=["القاهرة - أعلنت اللجنة العليا للانتخابات الرئاسية في مصر يوم الأحد أن الاقتراع سيجري في السادس والعشرين والسابع والعشرين من مايو المقبل.",
                      "وقال رئيس اللجنة في مؤتمر صحفي بالقاهرة إن باب الترشح سيفتح اعتبارا من الأسبوع المقبل، وإن المصريين في الخارج سيصوتون قبل ذلك بأيام.",
                      "ورحبت عدة أحزاب مصرية بتحديد الموعد، فيما دعت منظمات حقوقية إلى ضمان نزاهة العملية الانتخابية ومراقبتها من قبل مراقبين دوليين."]),
    "ru": dict(outlet="Северное агентство новостей", dir="world/sever", section="Европа", date="2014-03-31T12:40:00+04:00",
               encoding="utf-8",
               title="В Германии началась забастовка работников аэропортов",
               paras=["БЕРЛИН, 31 марта. Работники крупнейших аэропортов Германии в понедельник начали предупредительную забастовку, сообщает профсоюз.",
                      "Из-за забастовки во Франкфурте-на-Майне, Мюнхене и Гамбурге отменены сотни рейсов. Немецкие авиакомпании рекомендовали пассажирам заранее уточнять расписание.",
                      "Профсоюз требует повышения заработной платы на сто евро в месяц. Переговоры с работодателями продолжатся в Берлине в четверг."]),
    "es": dict(outlet="Diario del Sur", dir="world/diariosur", section="América", date="2014-03-31T10:00:00-03:00",
               encoding="utf-8",
               title="Chile evalúa los daños tras el terremoto en el norte del país",
               paras=["SANTIAGO (Agencias) - El Gobierno chileno evaluaba este lunes los daños causados por el fuerte terremoto que sacudió el norte del país durante la noche.",
                      "Las autoridades de Iquique informaron de cortes de electricidad y daños en viviendas, aunque el sistema de alerta de tsunami funcionó según lo previsto y miles de vecinos fueron evacuados a zonas altas.",
                      "La presidenta visitó la región y anunció ayudas para las familias afectadas. Perú y Bolivia ofrecieron su colaboración a Chile."]),
    "fr": dict(outlet="Le Courrier du Monde", dir="world/courrier", section="Afrique", date="2014-03-31T11:15:00+00:00",
               encoding="utf-8",
               title="Le Sénégal lance un programme d'électrification rurale",
               paras=["DAKAR (AFP) - Le gouvernement sénégalais a lancé lundi un programme destiné à raccorder au réseau électrique plus de cinq cents villages d'ici deux ans.",
                      "Le ministre de l'Énergie a indiqué à Dakar que le programme serait financé en partie par la Banque africaine de développement. Les premiers travaux commenceront dans la région de Kaolack.",
                      "Les habitants des zones rurales du Sénégal dépendent encore largement des groupes électrogènes, dont le coût a fortement augmenté ces dernières années."]),
    "de": dict(outlet="Nordkurier Nachrichten", dir="world/nordkurier", section="Europa", date="2014-03-31T14:00:00+02:00",
               encoding="utf-8",
               title="Polen und Litauen vereinbaren gemeinsames Stromnetz",
               paras=["WARSCHAU (dpa) - Polen und Litauen haben am Montag den Bau einer gemeinsamen Stromleitung vereinbart, die das Baltikum enger an das europäische Netz anbinden soll.",
                      "Die polnische Regierung erklärte in Warschau, die Leitung solle bis 2015 fertig sein. Die litauische Energieministerin sprach von einem wichtigen Schritt zur Unabhängigkeit von russischen Lieferungen.",
                      "Die Europäische Kommission unterstützt das Vorhaben mit Fördermitteln. Auch Lettland und Estland wollen sich an das neue Netz anschließen."]),
    "pt": dict(outlet="Jornal do Atlântico", dir="world/atlantico", section="Mundo", date="2014-03-31T09:30:00-03:00",
               encoding="utf-8",
               title="Angola anuncia novo plano para diversificar a economia",
               paras=["LUANDA - O governo angolano apresentou nesta segunda-feira um plano para reduzir a dependência do petróleo, que responde por grande parte das exportações do país.",
                      "O ministro da Economia disse em Luanda que o plano prevê incentivos à agricultura e à indústria transformadora, com linhas de crédito para pequenas empresas angolanas.",
                      "Economistas ouvidos pelo jornal afirmaram que a medida chega em boa hora, mas alertaram para a falta de infraestrutura no interior de Angola."]),
    "id": dict(outlet="Warta Nusantara", dir="world/warta", section="Nasional", date="2014-03-31T15:00:00+07:00",
               encoding="utf-8",
               title="Banjir rendam ribuan rumah di Jakarta Timur",
               paras=["JAKARTA - Banjir merendam ribuan rumah di Jakarta Timur setelah hujan deras mengguyur ibu kota sejak Minggu malam, kata Badan Penanggulangan Bencana Daerah.",
                      "Ketinggian air di beberapa permukiman mencapai satu meter. Petugas gabungan mengevakuasi warga ke masjid dan sekolah terdekat, sementara dapur umum didirikan di kantor kelurahan.",
                      "Gubernur meminta warga di sepanjang Sungai Ciliwung tetap waspada karena hujan diperkirakan masih turun hingga akhir pekan di wilayah Bogor dan Jakarta."]),
}


def world_page(lang: str, path: str, art: dict) -> bytes:
    nav, share, related, links, section_line, footer = WORLD_CHROME[lang]
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in art["paras"])
    nav_links = " ".join(f'<a href="#">{html.escape(n)}</a>' for n in nav.split())
    related_links = "".join(f'<li><a href="#">{html.escape(t)}</a></li>' for t in links)
    direction = ' dir="rtl"' if lang == "ar" else ""
    text = f"""<!DOCTYPE html>
<html lang="{lang}"{direction}>
<head>
  <meta charset="{art['encoding']}">
  <title>{html.escape(art['title'])} - {html.escape(art['outlet'])}</title>
  <link rel="canonical" href="{B}/{path}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{html.escape(art['outlet'])}">
  <meta property="og:title" content="{html.escape(art['title'])}">
  <meta property="article:published_time" content="{art['date']}">
  <meta property="article:section" content="{html.escape(art['section'])}">
</head>
<body>
  <header class="masthead"><a href="{B}/{art['dir']}/">{html.escape(art['outlet'])}</a>
    <nav>{nav_links}</nav></header>
  <div class="share">{html.escape(share)}</div>
  <main>
    <article>
      <h1>{html.escape(art['title'])}</h1>
      <div class="meta">{art['date'][:10]} {art['date'][11:16]}</div>
{body}
      <p class="editor">{html.escape(section_line)}</p>
    </article>
    <aside class="related"><h3>{html.escape(related)}</h3><ul>{related_links}</ul></aside>
  </main>
  <footer>{html.escape(footer)}</footer>
</body>
</html>
"""
    return text.encode(art["encoding"], errors="xmlcharrefreplace")


def write_world() -> None:
    """One outlet per language: its page (in its own encoding) and an RSS 2.0 feed."""
    for lang, art in WORLD.items():
        path = f"{art['dir']}/2014/03/31/{lang}-story.html"
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(world_page(lang, path, art))
        stamp = datetime.fromisoformat(art["date"]).astimezone(UTC)
        item = [(path, art["title"], format_datetime(stamp))]
        feed = rss2(f"{art['dir']}/rss.xml", art["outlet"], item)
        (ROOT / art["dir"] / "rss.xml").write_text(feed, encoding="utf-8")


def main() -> None:
    ARTICLES["globaltimes/content/2014/03/31/japan-nk-talks.html"] = dict(
        outlet="globaltimes", section="Asia-Pacific", date="2014-03-31T01:28:01+08:00",
        title=GT_TITLE, paras=GT_PARAS)
    for path, art in ARTICLES.items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page(path, art), encoding="utf-8")
    for path, kind in NON_ARTICLES.items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(non_article(path, kind), encoding="utf-8")
    gt = [("globaltimes/content/2014/03/31/japan-nk-talks.html", GT_TITLE,
           "Sun, 30 Mar 2014 17:28:01 +0000"),
          ("globaltimes/content/2014/03/31/canberra-water.html",
           ARTICLES["globaltimes/content/2014/03/31/canberra-water.html"]["title"],
           "Sun, 30 Mar 2014 18:10:00 +0000")]
    (ROOT / "globaltimes/rss").mkdir(parents=True, exist_ok=True)
    (ROOT / "globaltimes/rss/asia-pacific.xml").write_text(
        rss2("globaltimes/rss/asia-pacific.xml", "Global Times - Asia-Pacific", gt), encoding="utf-8")
    eu = [(p, ARTICLES[p]["title"], "2014-03-31T07:30:00Z") for p in ARTICLES if p.startswith("eurodesk")]
    (ROOT / "eurodesk/atom.xml").write_text(atom("Euro Desk", eu), encoding="utf-8")
    am = {"version": "https://jsonfeed.org/version/1.1", "title": "Americas Daily",
          "home_page_url": f"{B}/americas/", "feed_url": f"{B}/americas/feed.json",
          "items": [{"id": p, "url": f"{B}/{p}", "title": ARTICLES[p]["title"],
                     "date_published": "2014-03-31T12:05:00Z"}
                    for p in ARTICLES if p.startswith("americas")]}
    (ROOT / "americas/feed.json").write_text(json.dumps(am, indent=1) + "\n", encoding="utf-8")
    me = [("mideast/2014/03/31/jordan-water.html", ARTICLES["mideast/2014/03/31/jordan-water.html"]["title"],
           "2014-03-31T09:00:00Z"),
          ("mideast/video/2014/03/31/aqaba-plant.html", "Video: the Aqaba plant site", "2014-03-31T09:30:00Z")]
    (ROOT / "mideast/rdf.xml").write_text(rss1("Mideast Monitor", me), encoding="utf-8")
    af = [("africa/2014/03/31/nairobi-power.html", ARTICLES["africa/2014/03/31/nairobi-power.html"]["title"],
           "Mon, 31 Mar 2014 04:45:00 +0000"),
          ("africa/premium/2014/03/31/markets-outlook.html", "Markets outlook for the second quarter",
           "Mon, 31 Mar 2014 05:00:00 +0000"),
          ("africa/section/business.html", "Business", "Mon, 31 Mar 2014 05:10:00 +0000")]
    (ROOT / "africa/rss.xml").write_text(rss2("africa/rss.xml", "Africa Report", af), encoding="utf-8")
    write_world()
    (ROOT / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    print(f"wrote {sum(1 for _ in ROOT.rglob('*') if _.is_file())} files under {ROOT}")


if __name__ == "__main__":
    main()
