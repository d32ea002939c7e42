// The News view: four screens over /news/api/*. Every value from the server is shown with
// textContent or as an SVG attribute, never parsed as HTML (feed titles, URLs and errors come
// from the outside world).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  "africa": "#d97706", "americas": "#2563eb", "asia-pacific": "#dc2626", "europe": "#7c3aed",
  "middle-east": "#059669", "global": "#0891b2", "none": "#9ca3af",
};
const EXTRA = ["#db2777", "#65a30d", "#92400e", "#4338ca", "#0f766e", "#be123c"];
const state = { feeds: null, sort: null, gridPick: [] };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, String(v));
    else if (k === "title") node.title = String(v);
    else node[k] = v;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function color(region, regions) {
  if (COLORS[region]) return COLORS[region];
  return EXTRA[Math.max(0, regions.indexOf(region)) % EXTRA.length];
}

function setStatus(text, isError) {
  const node = document.getElementById("status");
  node.textContent = text;
  node.className = isError ? "error" : "";
}

async function get(path) {
  const resp = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : resp.statusText;
    throw new Error(`${path}: ${resp.status} ${detail}`);
  }
  return body;
}

function when(iso) {
  if (!iso) return "never";
  return iso.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, " UTC");
}

function pct(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
}

// ---- feed health -----------------------------------------------------------------------
const FEED_COLUMNS = [
  ["feed_id", "feed"], ["group", "group"], ["last_poll", "last poll"], ["last_status", "outcome"],
  ["failures", "failures"], ["last_ok", "last success"], ["entries_24h", "entries 24 h"],
  ["new_entries_24h", "new 24 h"], ["pages_fetched_24h", "fetched"], ["pages_failed_24h", "failed"],
  ["not_modified_share", "304 share"], ["articles_per_day", "articles / day (7 d)"],
  ["may_have_missed", "missed?"],
];

function sparkline(values) {
  const w = 84, h = 20, max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  return svg("svg", { width: w, height: h, class: "spark", role: "img", "aria-label": values.join(", ") },
    svg("polyline", { points: points.join(" "), fill: "none", stroke: "#2563eb", "stroke-width": 1.5 }),
    svg("title", {}, `articles per day: ${values.join(", ")}`));
}

function feedCell(row, key) {
  const v = row[key];
  switch (key) {
    case "feed_id":
      return el("td", {}, el("a", { href: "#feeds", class: "feed-link", "data-feed": row.feed_id, title: row.url }, row.feed_id),
        el("div", { class: "sub" }, row.title || row.publisher));
    case "last_poll": case "last_ok": return el("td", {}, when(v));
    case "last_status":
      return el("td", { class: `outcome ${v === "error" ? "bad" : ""}`, title: row.last_error || "" }, v,
        row.last_error ? el("div", { class: "sub error-text" }, row.last_error) : null);
    case "not_modified_share": return el("td", { class: "num" }, pct(v));
    case "articles_per_day": return el("td", {}, sparkline(v));
    case "may_have_missed":
      return el("td", { class: v ? "warn" : "", title: (row.missed_at || []).join(", ") }, v ? "may have missed items" : "");
    default: return el("td", { class: typeof v === "number" ? "num" : "" }, v);
  }
}

function sortValue(row, key) {
  const v = row[key];
  if (Array.isArray(v)) return v.reduce((a, b) => a + b, 0);
  if (v === null || v === undefined) return -Infinity;
  return typeof v === "boolean" ? Number(v) : v;
}

function renderFeeds() {
  const data = state.feeds;
  const head = document.querySelector("#feed-table thead tr");
  head.replaceChildren(...FEED_COLUMNS.map(([key, label]) => {
    const mark = state.sort && state.sort.key === key ? (state.sort.dir > 0 ? " ▲" : " ▼") : "";
    return el("th", { "data-key": key, class: "sortable", onclick: () => sortFeeds(key) }, label + mark);
  }));
  let rows = data.feeds.slice();
  if (state.sort) {
    const { key, dir } = state.sort;
    rows.sort((a, b) => {
      const x = sortValue(a, key), y = sortValue(b, key);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.feed_id.localeCompare(b.feed_id);
    });
  }
  document.querySelector("#feed-table tbody").replaceChildren(...rows.map((row) => {
    const tr = el("tr", { "data-feed": row.feed_id, class: row.failures > 0 || row.last_status === "error" ? "failing" : "" },
      ...FEED_COLUMNS.map(([key]) => feedCell(row, key)));
    tr.addEventListener("click", () => openReport(row.feed_id));
    return tr;
  }));
  document.getElementById("feeds-summary").textContent =
    `${data.feeds.length} feeds, ${data.failing} failing; last ${data.window_hours} h of polls (as of ${when(data.generated_at)}).`;
}

function sortFeeds(key) {
  const dir = state.sort && state.sort.key === key ? -state.sort.dir : 1;
  state.sort = { key, dir };
  renderFeeds();
}

async function openReport(feedId) {
  const panel = document.getElementById("feed-report");
  panel.hidden = false;
  document.getElementById("feed-report-id").textContent = feedId;
  const fields = document.getElementById("feed-report-fields");
  const pre = document.getElementById("feed-report-json");
  fields.replaceChildren(el("dd", {}, "loading…"));
  pre.textContent = "";
  try {
    const found = await get(`api/feeds/${encodeURIComponent(feedId)}/report`);
    if (!found.outcome) {
      fields.replaceChildren(el("dd", {}, found.message || "no report"));
      return;
    }
    const o = found.outcome;
    const items = [["report", found.uri || found.report], ["polled at", when(found.polled_at)],
      ["interval", found.interval], ["status", o.status], ["HTTP status", o.http_status],
      ["error", o.error || "none"], ["entries / new", `${o.entries} / ${o.new_entries}`],
      ["pages fetched / failed", `${o.pages_ok} / ${o.pages_failed}`], ["backlog", o.backlog]];
    fields.replaceChildren(...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v === null ? "–" : v)]));
    pre.textContent = JSON.stringify(o, null, 2);
    panel.scrollIntoView({ block: "nearest" });
  } catch (err) {
    fields.replaceChildren(el("dd", { class: "error-text" }, err.message));
  }
}

async function loadFeeds() {
  state.feeds = await get("api/feeds");
  renderFeeds();
}

// ---- coverage ----------------------------------------------------------------------------
function barChart(container, days, series, opts) {
  // series: [{name, color, values: {day: n}}] stacked bottom-up
  const w = Math.max(480, days.length * 22 + 60), h = opts.height || 220, left = 48, bottom = 36, top = 8;
  const totals = days.map((d) => series.reduce((s, x) => s + (x.values[d] || 0), 0));
  const max = opts.max || Math.max(1, ...totals);
  const bw = (w - left - 8) / Math.max(1, days.length);
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  const chart = svg("svg", { width: w, height: h, class: "bars", role: "img", "aria-label": opts.label });
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    chart.append(svg("line", { x1: left, x2: w - 8, y1: y(v), y2: y(v), class: "gridline" }),
      svg("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end", class: "axis" }, opts.format ? opts.format(v) : Math.round(v)));
  }
  days.forEach((day, i) => {
    let base = 0;
    const x = left + i * bw + 1;
    for (const s of series) {
      const v = s.values[day] || 0;
      if (v > 0) {
        chart.append(svg("rect", { x, y: y(base + v), width: Math.max(1, bw - 2), height: y(base) - y(base + v), fill: s.color,
          class: "bar", "data-day": day, "data-series": s.name, "data-value": v },
        svg("title", {}, `${day} ${s.name}: ${opts.format ? opts.format(v) : v}`)));
      }
      base += v;
    }
    if (days.length <= 16 || i % Math.ceil(days.length / 12) === 0) {
      chart.append(svg("text", { x: x + bw / 2, y: h - bottom + 14, "text-anchor": "middle", class: "axis" }, day.slice(5)));
    }
  });
  container.replaceChildren(chart);
}

function renderCoverage(data) {
  const series = data.regions.map((r) => ({ name: r, color: color(r, data.regions),
    values: Object.fromEntries(data.days.map((d) => [d, data.articles[d][r]])) }));
  barChart(document.getElementById("coverage-chart"), data.days, series, { label: "articles per region per day" });
  document.getElementById("coverage-legend").replaceChildren(...data.regions.map((r) =>
    el("span", { class: "key" }, el("span", { class: "swatch", "data-color": color(r, data.regions) }), r)));
  for (const sw of document.querySelectorAll("#coverage-legend .swatch")) sw.style.background = sw.dataset.color;
  const share = { name: "near-duplicate share", color: "#f59e0b",
    values: Object.fromEntries(data.days.map((d) => [d, data.near_duplicate_share[d] || 0])) };
  barChart(document.getElementById("neardup-chart"), data.days, [share], { label: "near-duplicate share", height: 120, max: 1, format: pct });
  const total = document.getElementById("coverage-total");
  total.textContent = data.total;
  total.dataset.total = data.total;
  document.querySelector("#top-sources tbody").replaceChildren(...data.top_sources.map((s) =>
    el("tr", {}, el("td", {}, s.source), el("td", { class: "num" }, s.articles))));
  document.querySelector("#coverage-table thead tr").replaceChildren(el("th", {}, "day"),
    ...data.regions.map((r) => el("th", {}, r)), el("th", {}, "total"), el("th", {}, "near-dup"));
  document.querySelector("#coverage-table tbody").replaceChildren(...data.days.filter((d) => data.totals[d] > 0).map((d) =>
    el("tr", { "data-day": d }, el("td", {}, d),
      ...data.regions.map((r) => el("td", { class: "num count", "data-day": d, "data-region": r }, data.articles[d][r])),
      el("td", { class: "num" }, data.totals[d]), el("td", { class: "num" }, pct(data.near_duplicate_share[d])))));
  document.getElementById("coverage-sql").textContent = data.sql;
  showRange("coverage-range", data);
}

function rangeQuery(start, end) {
  return start ? `?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}` : "";
}

function showRange(formId, data) {
  const form = document.getElementById(formId);
  form.start.value = data.start;
  form.end.value = data.end;
}

async function loadCoverage(start, end) {
  renderCoverage(await get(`api/coverage${rangeQuery(start, end)}`));
}

// ---- completeness -----------------------------------------------------------------------
function backfillCommand(first, last) {
  const end = new Date(`${last}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return `airflow backfill create --dag-id news_poll --from-date ${first} --to-date ${end.toISOString().slice(0, 10)} --reprocess-behavior failed`;
}

function showBackfill(first, last) {
  document.getElementById("backfill-range").textContent = first ? `${first} to ${last}` : "";
  document.getElementById("backfill-command").textContent = first ? backfillCommand(first, last) : "nothing to backfill in this range";
}

function pickDay(day) {
  state.gridPick = state.gridPick.length === 1 ? [state.gridPick[0], day].sort() : [day];
  for (const th of document.querySelectorAll("#grid thead th[data-day]")) {
    const [a, b] = [state.gridPick[0], state.gridPick[state.gridPick.length - 1]];
    th.classList.toggle("picked", th.dataset.day >= a && th.dataset.day <= b);
  }
  showBackfill(state.gridPick[0], state.gridPick[state.gridPick.length - 1]);
}

function renderGrid(data) {
  state.gridPick = [];
  document.querySelector("#grid thead tr").replaceChildren(el("th", {}, "feed"),
    ...data.days.map((d) => el("th", { "data-day": d, class: "day", title: `select ${d}`, onclick: () => pickDay(d) }, d.slice(5))));
  document.querySelector("#grid tbody").replaceChildren(...data.feeds.map((f) =>
    el("tr", {}, el("th", {}, f), ...data.days.map((d) => {
      const c = data.grid[f][d];
      const tip = c.status === "missing" ? `${f} ${d}: no report` :
        `${f} ${d}: ${c.status}, ${c.intervals} interval(s), ${c.incomplete} incomplete, ${c.fetch_failed} fetch failures, ${c.extracted} articles`;
      return el("td", { class: `cell ${c.status}`, "data-status": c.status, title: tip }, "");
    }))));
  const gaps = data.days_with_gaps;
  showBackfill(gaps.length ? gaps[0] : null, gaps.length ? gaps[gaps.length - 1] : null);
  showRange("grid-range", data);
}

async function loadGrid(start, end) {
  renderGrid(await get(`api/completeness${rangeQuery(start, end)}`));
}

// ---- runs --------------------------------------------------------------------------------
async function loadRuns() {
  const data = await get("api/runs");
  const body = document.querySelector("#run-table tbody");
  body.replaceChildren(...data.runs.map((r) => {
    const c = r.counts || {};
    const tr = el("tr", { class: r.error_count ? "failing" : "" }, el("td", {}, when(r.written_at)), el("td", {}, r.day),
      el("td", {}, r.batch), el("td", { class: "num" }, r.captures.length), el("td", { class: "num" }, c.articles ?? c.extracted ?? 0),
      el("td", { class: "num" }, (c.duplicates || 0) + (c.near_duplicates || 0)),
      el("td", { class: "num", title: Object.entries(r.skip_reasons).map(([k, v]) => `${k}: ${v}`).join(", ") }, r.skipped),
      el("td", { class: "num" }, r.error_count));
    tr.addEventListener("click", () => {
      const panel = document.getElementById("run-detail");
      panel.hidden = false;
      panel.querySelector("pre").textContent = JSON.stringify(r, null, 2);
    });
    return tr;
  }));
}

// ---- navigation ----------------------------------------------------------------------------
// a tab shown again asks again (the server answers from data at most 30 s old), keeping the
// range the reader chose
function formRange(formId) {
  const form = document.getElementById(formId);
  return [form.start.value || undefined, form.end.value || undefined];
}
// (before the first answer the range forms are empty: the server's default range)
const LOADERS = {
  feeds: loadFeeds, runs: loadRuns,
  coverage: () => loadCoverage(...formRange("coverage-range")),
  completeness: () => loadGrid(...formRange("grid-range")),
};

async function show(tab) {
  if (!LOADERS[tab]) tab = "feeds";
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== tab;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.tab === tab);
  document.body.dataset[`${tab}Loaded`] = "false";
  setStatus("loading…");
  try {
    await LOADERS[tab]();
    document.body.dataset[`${tab}Ms`] = Math.round(performance.now());  // since navigation start
    document.body.dataset[`${tab}Loaded`] = "true";
    setStatus("");
  } catch (err) {
    setStatus(err.message, true);
  }
}

function onRange(formId, load) {
  document.getElementById(formId).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    setStatus("loading…");
    try {
      await load(form.start.value, form.end.value);
      setStatus("");
    } catch (err) {
      setStatus(err.message, true);
    }
  });
}

onRange("coverage-range", loadCoverage);
onRange("grid-range", loadGrid);
window.addEventListener("hashchange", () => show(location.hash.slice(1)));
// the tab already open, clicked again: no hash change, so ask again here
for (const a of document.querySelectorAll("#tabs a")) {
  a.addEventListener("click", () => {
    if (location.hash.slice(1) === a.dataset.tab) show(a.dataset.tab);
  });
}
show(location.hash.slice(1) || "feeds");
