// Runs on the main thread: the dashboard's page, one HTML document with its
// style and script inline and nothing fetched from elsewhere (it works
// offline). The script polls `api/snapshot` once a second (with the token
// from its own URL, if any) and draws every panel from it in SVG and HTML.
// Its elements carry data- attributes naming what they show, which the
// browser test reads as a person would read the page.

const STYLE = `
:root {
  --bg: #f4f5f7; --panel: #fff; --ink: #1b1f24; --muted: #667085;
  --line: #e4e7ec; --grid: #eef0f3; --fail: #e5484d; --ok: #2f9e44;
  --accent: #3b6fd8; --queued: #e08a1e; --idle: #c5cad3;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --panel: #161a21; --ink: #e6e9ee; --muted: #98a2b3;
    --line: #262c36; --grid: #1e242d; --idle: #3a414d;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink);
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px;
  padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: baseline; gap: 8px; min-width: 0; }
h1 { font-size: 16px; margin: 0; white-space: nowrap; }
.sub { color: var(--muted); font-size: 12px; white-space: nowrap; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--idle);
  display: inline-block; align-self: center; flex: none; }
.dot.live { background: var(--ok); box-shadow: 0 0 0 3px color-mix(in srgb, var(--ok) 25%, transparent); }
.dot.down { background: var(--fail); }
.tiles { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 3px 10px;
  min-width: 74px; }
.tile .k { color: var(--muted); font-size: 11px; display: block; }
.tile .v { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile.bad .v { color: var(--fail); }
main { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px;
  padding: 12px 16px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 12px; min-width: 0; display: flex; flex-direction: column; }
.wide { grid-column: span 2; }
.head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 6px; }
h2 { font-size: 13px; margin: 0; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.scroll { overflow: auto; max-height: 330px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px; }
.legend span, .swatch-label { display: inline-flex; align-items: center; gap: 4px; }
.sw { width: 10px; height: 10px; border-radius: 2px; display: inline-block; flex: none; }
.range { margin-left: auto; display: flex; gap: 4px; }
button { font: inherit; font-size: 12px; color: var(--ink); background: transparent;
  border: 1px solid var(--line); border-radius: 6px; padding: 2px 8px; cursor: pointer; }
button.on { background: var(--accent); border-color: var(--accent); color: #fff; }
svg { display: block; width: 100%; }
svg text { fill: var(--muted); font-size: 10px; }
svg .lane-label { fill: var(--ink); font-size: 11px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 500; font-size: 11px;
  border-bottom: 1px solid var(--line); padding: 3px 4px; }
td { padding: 3px 4px; border-bottom: 1px solid var(--grid); white-space: nowrap; }
td.n, th.n { text-align: right; }
td.fail { color: var(--fail); }
.state { display: inline-flex; align-items: center; gap: 5px; }
.state .dot { width: 8px; height: 8px; }
.state.busy .dot { background: var(--ok); }
.note { color: var(--muted); font-size: 11px; margin-top: 6px; }
.fn-row { margin: 4px 0 10px; }
.fn-top { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; }
.fn-top b { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.fn-top span { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.stack-bar { display: flex; height: 8px; border-radius: 4px; overflow: hidden;
  background: var(--grid); margin-top: 3px; }
.stack-bar i { display: block; height: 100%; }
.running { margin-top: 4px; }
.task-progress { display: grid; grid-template-columns: minmax(0, 1fr) 90px 44px; gap: 6px;
  align-items: center; font-size: 12px; padding: 2px 0; }
.task-progress .who { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.task-progress .who small { color: var(--muted); }
.meter { height: 6px; background: var(--grid); border-radius: 3px; overflow: hidden; }
.meter i { display: block; height: 100%; background: var(--accent); }
.task-progress .val { text-align: right; font-variant-numeric: tabular-nums; }
.task-progress.text { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.task-progress.text .val { text-align: left; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; color: var(--muted); }
.chart-title { display: flex; justify-content: space-between; font-size: 12px; margin-top: 4px; }
.chart-title b { font-variant-numeric: tabular-nums; }
details { border-bottom: 1px solid var(--grid); padding: 4px 0; }
summary { cursor: pointer; list-style: none; display: grid;
  grid-template-columns: auto minmax(0, 1fr); gap: 2px 8px; }
summary::-webkit-details-marker { display: none; }
summary .when { color: var(--muted); font-variant-numeric: tabular-nums; }
summary .msg { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
summary .msg b { color: var(--fail); }
summary .where { grid-column: 2; color: var(--muted); font-size: 11px; }
details[open] summary .msg { white-space: normal; overflow-wrap: anywhere; }
pre { margin: 6px 0 2px; padding: 8px; background: var(--bg); border-radius: 6px;
  font-size: 11px; overflow: auto; max-height: 220px; }
.empty { color: var(--muted); padding: 8px 0; }
footer { color: var(--muted); font-size: 11px; padding: 0 16px 14px; }
footer a { color: inherit; }
@media (min-width: 1101px) {
  main { min-height: calc(100vh - 96px); grid-template-rows: auto 1fr; }
  .scroll { max-height: none; flex: 1 1 0; min-height: 160px; }
}
@media (max-width: 1100px) {
  main { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
@media (max-width: 700px) {
  header { padding: 8px 10px; }
  main { grid-template-columns: minmax(0, 1fr); padding: 8px; gap: 8px; }
  .wide { grid-column: span 1; }
  .tiles { margin-left: 0; display: grid; grid-template-columns: repeat(5, minmax(0, 1fr));
    width: 100%; gap: 4px; }
  .tile { min-width: 0; padding: 2px 5px; }
  .tile .k { font-size: 10px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .tile .v { font-size: 14px; white-space: nowrap; }
  .scroll { max-height: none; }
}
`;

// The client. Plain ES2020 in a string: no framework, no template strings
// (this file's own), every text from the snapshot escaped before it meets
// innerHTML.
const SCRIPT = `
"use strict";
var token = new URLSearchParams(location.search).get("token");
var headers = token ? { authorization: "Bearer " + token } : {};
var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
  "#9c755f", "#86bcb6", "#8cd17d", "#a0cbe8", "#d4a6c8", "#bab0ac"];
var range = 60000;
var last = null;
var openFailures = new Set();
var failuresKey = "";
var $ = function (id) { return document.getElementById(id); };

function esc(value) {
  return String(value).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}
function fmtInt(n) { return Math.round(n).toLocaleString("en-US"); }
function fmtMs(ms) {
  if (!(ms > 0)) return "0";
  if (ms < 1) return (ms * 1000).toFixed(0) + " µs";
  if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  return (ms / 60000).toFixed(1) + " min";
}
function fmtBytes(b) {
  if (b >= 1073741824) return (b / 1073741824).toFixed(1) + " GB";
  if (b >= 1048576) return (b / 1048576).toFixed(0) + " MB";
  return (b / 1024).toFixed(0) + " kB";
}
function fmtRate(r) { return r >= 100 ? fmtInt(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2); }
function clock(at) {
  var d = new Date(at);
  return d.toLocaleTimeString("en-GB", { hour12: false });
}
function colorMap(snapshot) {
  var colors = {};
  snapshot.functions.forEach(function (f, i) { colors[f.name] = PALETTE[i % PALETTE.length]; });
  snapshot.tasks.forEach(function (t) {
    if (!(t.fn in colors)) colors[t.fn] = PALETTE[Object.keys(colors).length % PALETTE.length];
  });
  return colors;
}
// Tasks finished per second over the last few samples.
function rateNow(rates) {
  if (rates.length < 2) return 0;
  var a = rates[Math.max(0, rates.length - 6)], b = rates[rates.length - 1];
  var dt = (b.at - a.at) / 1000;
  return dt > 0 ? (b.completed + b.failed - a.completed - a.failed) / dt : 0;
}
function workerOrder(a, b) {
  var na = a.match(/(\\d+)$/), nb = b.match(/(\\d+)$/);
  var pa = na ? a.slice(0, na.index) : a, pb = nb ? b.slice(0, nb.index) : b;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return (na ? +na[1] : 0) - (nb ? +nb[1] : 0);
}

function renderTiles(s) {
  var st = s.stats;
  var tiles = [
    ["workers", "Workers busy", st.busy + " / " + st.workers],
    ["queued", "Queued", fmtInt(st.queued)],
    ["running", "Running", fmtInt(st.running)],
    ["completed", "Completed", fmtInt(st.completed)],
    ["failed", "Failed", fmtInt(st.failed)],
    ["cancelled", "Cancelled", fmtInt(st.cancelled)],
    ["rate", "Tasks / s", fmtRate(rateNow(s.rates))],
    ["utilization", "Utilization", Math.round(st.utilization * 100) + " %"],
    ["p50", "Run p50", fmtMs(st.runTime.p50)],
    ["p90", "Run p90", fmtMs(st.runTime.p90)],
  ];
  $("tiles").innerHTML = tiles.map(function (t) {
    var bad = t[0] === "failed" && st.failed > 0 ? " bad" : "";
    return '<div class="tile' + bad + '" data-stat="' + t[0] + '"><span class="k">' + t[1] +
      '</span><span class="v">' + esc(t[2]) + "</span></div>";
  }).join("");
}

function renderStream(s, colors) {
  var box = $("stream-chart");
  var width = Math.max(280, box.clientWidth);
  var narrow = width < 520;
  var labelW = narrow ? 58 : 96, axisH = 18, right = 6;
  var plotW = width - labelW - right;
  var now = s.now, from = now - range;
  // A worker is a lane; a Redis node (a row with a node) is one per worker: <id>#1, <id>#2, …
  var laneIds = [];
  s.workers.forEach(function (w) {
    if (w.node === undefined) laneIds.push(w.id);
    else for (var k = 1; k <= w.workers; k++) laneIds.push(w.id + "#" + k);
  });
  var lanes = new Set(laneIds);
  var tasks = s.tasks.filter(function (t) { return t.worker && (t.end === undefined || t.end >= from); });
  tasks.forEach(function (t) { lanes.add(t.worker); });
  var names = Array.from(lanes).sort(workerOrder);
  // About 220 px of lanes, each 10 to 52 px high.
  var laneH = Math.max(10, Math.min(52, Math.floor(220 / Math.max(1, names.length))));
  var height = Math.max(1, names.length) * laneH + axisH;
  var x = function (t) { return labelW + Math.max(0, Math.min(1, (t - from) / range)) * plotW; };
  var live = new Set(laneIds);
  var out = [];
  out.push('<svg viewBox="0 0 ' + width + " " + height + '" height="' + height + '" role="img" aria-label="Task stream">');
  var step = range <= 30000 ? 5000 : range <= 60000 ? 10000 : 60000;
  for (var t = Math.ceil(from / step) * step; t <= now; t += step) {
    var gx = x(t);
    out.push('<line x1="' + gx + '" x2="' + gx + '" y1="0" y2="' + (height - axisH) + '" stroke="var(--grid)"/>');
    var ago = Math.round((now - t) / 1000);
    out.push('<text x="' + gx + '" y="' + (height - 5) + '" text-anchor="middle">' + (ago === 0 ? "now" : "-" + ago + "s") + "</text>");
  }
  names.forEach(function (name, i) {
    var y = i * laneH;
    out.push('<g data-lane="' + esc(name) + '">');
    if (i % 2 === 1) out.push('<rect x="' + labelW + '" y="' + y + '" width="' + plotW + '" height="' + laneH + '" fill="var(--grid)" opacity=".5"/>');
    if (laneH >= 12) {
      // A node's lane: the end of its id (host-pid-xxxxxxxx) and the lane.
      var label = /#\\d+$/.test(name) ? name.replace(/^(?:.*-)?(\\w{4})\\w*#(\\d+)$/, "$1 #$2")
        : narrow ? name.replace(/^.*?-(\\d+)$/, "#$1") : name.replace(/^(.*)Executor-(\\d+)$/, "$1 #$2");
      out.push('<text class="lane-label" x="' + (labelW - 6) + '" y="' + (y + laneH / 2 + 4) +
        '" text-anchor="end"' + (live.has(name) ? "" : ' opacity=".45"') + ">" + esc(label) + "</text>");
    }
    out.push("</g>");
  });
  var index = new Map(names.map(function (n, i) { return [n, i]; }));
  tasks.forEach(function (task) {
    var lane = index.get(task.worker);
    var y = lane * laneH + 3, h = laneH - 6;
    var end = task.end === undefined ? now : task.end;
    // A failure stays visible however short it was.
    var x0 = x(task.start), x1 = Math.max(x0 + (task.outcome === "failed" ? 3 : 1.5), x(end));
    var color = colors[task.fn] || "#888";
    var tip = task.fn + " #" + task.id + " on " + task.worker + ": " + task.outcome + ", " + fmtMs(end - task.start);
    var attrs = ' data-task="' + esc(task.id) + '" data-fn="' + esc(task.fn) + '" data-outcome="' + task.outcome + '"';
    if (task.outcome === "running") {
      out.push('<rect class="bar"' + attrs + ' x="' + x0 + '" y="' + y + '" width="' + (x1 - x0) + '" height="' + h +
        '" rx="2" fill="' + color + '" fill-opacity=".45" stroke="' + color + '" stroke-dasharray="3 2"><title>' + esc(tip) + "</title></rect>");
    } else if (task.outcome === "failed") {
      out.push('<rect class="bar"' + attrs + ' x="' + x0 + '" y="' + y + '" width="' + (x1 - x0) + '" height="' + h +
        '" rx="2" fill="' + color + '" stroke="var(--fail)" stroke-width="2"><title>' + esc(tip) + "</title></rect>");
      out.push('<path d="M' + (x1 - 4) + " " + (y - 2) + "l8 0l-4 6z" + '" fill="var(--fail)"/>');
    } else {
      out.push('<rect class="bar"' + attrs + ' x="' + x0 + '" y="' + y + '" width="' + (x1 - x0) + '" height="' + h +
        '" rx="2" fill="' + color + '"><title>' + esc(tip) + "</title></rect>");
    }
  });
  if (names.length === 0) {
    out.push('<text x="' + (width / 2) + '" y="14" text-anchor="middle">no worker yet</text>');
  }
  out.push("</svg>");
  box.innerHTML = out.join("");
  var shown = new Set(tasks.map(function (t) { return t.fn; }));
  $("legend").innerHTML = Object.keys(colors).filter(function (n) { return shown.has(n); }).map(function (n) {
    return '<span><i class="sw" style="background:' + colors[n] + '"></i>' + esc(n) + "</span>";
  }).join("") + (tasks.some(function (t) { return t.outcome === "failed"; })
    ? '<span><i class="sw" style="border:2px solid var(--fail)"></i>failed</span>' : "");
}

function renderWorkers(s) {
  var rows = s.workers.slice().sort(function (a, b) { return workerOrder(a.id, b.id); });
  var hasMem = rows.some(function (w) { return w.memory !== undefined; });
  var many = rows.some(function (w) { return w.workers > 1 || w.node !== undefined; });
  var html = "<table><thead><tr><th>" + (many ? "Node" : "Worker") + "</th><th>State</th>" +
    (many ? '<th class="n">Workers</th>' : "") + '<th class="n">Done</th><th class="n">Failed</th>' +
    (hasMem ? '<th class="n">Memory</th>' : "") + "</tr></thead><tbody>";
  rows.forEach(function (w) {
    var busy = w.busy > 0;
    var state = many ? w.busy + " busy" : busy ? "busy" : "idle";
    var labels = w.labels && w.labels.length ? ' <small class="note">' + esc(w.labels.join(", ")) + "</small>" : "";
    html += '<tr data-worker="' + esc(w.id) + '" data-busy="' + w.busy + '"><td>' + esc(w.id) + labels + "</td>" +
      '<td><span class="state' + (busy ? " busy" : "") + '"><i class="dot"></i>' + state + "</span></td>" +
      (many ? '<td class="n" data-col="workers">' + w.workers + "</td>" : "") +
      '<td class="n" data-col="completed">' + fmtInt(w.completed) + "</td>" +
      '<td class="n' + (w.failed > 0 ? " fail" : "") + '" data-col="failed">' + fmtInt(w.failed) + "</td>" +
      (hasMem ? '<td class="n">' + (w.memory === undefined ? "–" : fmtBytes(w.memory)) + "</td>" : "") + "</tr>";
  });
  html += "</tbody></table>";
  if (rows.length === 0) html = '<div class="empty">No live worker: workers start with work and leave when idle.</div>';
  if (s.memory) {
    html += '<div class="note" data-memory>Memory: ' + fmtBytes(s.memory.rss) + " resident, heap " +
      fmtBytes(s.memory.heapUsed) + " of " + fmtBytes(s.memory.heapTotal) + " (" + esc(s.memory.note) + ")</div>";
  }
  $("workers-body").innerHTML = html;
}

function renderProgress(s, colors) {
  var html = "";
  s.functions.forEach(function (f) {
    var total = Math.max(1, f.total);
    var pct = function (n) { return (n / total * 100).toFixed(2) + "%"; };
    var color = colors[f.name] || "#888";
    html += '<div class="fn-row" data-function="' + esc(f.name) + '">' +
      '<div class="fn-top"><b class="swatch-label"><i class="sw" style="background:' + color + '"></i>' + esc(f.name) + "</b>" +
      '<span><b data-col="done">' + fmtInt(f.completed) + "</b> / " + fmtInt(f.total) + " done" +
      (f.failed ? ' · <b class="fail" data-col="failed" style="color:var(--fail)">' + fmtInt(f.failed) + " failed</b>" : "") +
      (f.running ? " · " + fmtInt(f.running) + " running" : "") +
      (f.queued ? " · " + fmtInt(f.queued) + " queued" : "") +
      (f.cancelled ? " · " + fmtInt(f.cancelled) + " cancelled" : "") + "</span></div>" +
      '<div class="stack-bar"><i style="width:' + pct(f.completed) + ";background:" + color + '"></i>' +
      '<i style="width:' + pct(f.failed) + ';background:var(--fail)"></i>' +
      '<i style="width:' + pct(f.running) + ";background:" + color + ';opacity:.4"></i>' +
      '<i style="width:' + pct(f.cancelled) + ';background:var(--idle)"></i></div></div>';
  });
  var running = s.tasks.filter(function (t) { return t.outcome === "running"; });
  var reporting = running.filter(function (t) { return t.progress !== undefined; });
  if (reporting.length > 0) {
    html += '<div class="running"><h2>Running tasks</h2>';
    reporting.slice(0, 24).forEach(function (t) {
      var v = t.progress;
      var who = '<span class="who">' + esc(t.fn) + " <small>#" + esc(t.id) + " · " + esc(t.worker) + "</small></span>";
      var attrs = ' data-task="' + esc(t.id) + '" data-progress="' + esc(typeof v === "string" ? v : JSON.stringify(v)) + '"';
      if (typeof v === "number" && v >= 0 && v <= 1) {
        html += '<div class="task-progress"' + attrs + ">" + who + '<span class="meter"><i style="width:' +
          (v * 100).toFixed(1) + '%"></i></span><span class="val">' + Math.floor(v * 100) + "%</span></div>";
      } else {
        var text = typeof v === "string" ? v : JSON.stringify(v);
        html += '<div class="task-progress text"' + attrs + ">" + who + '<span class="val" title="' + esc(text) + '">' + esc(text) + "</span></div>";
      }
    });
    if (reporting.length > 24) html += '<div class="note">and ' + (reporting.length - 24) + " more</div>";
    html += "</div>";
  }
  if (html === "") html = '<div class="empty">No task since the dashboard started.</div>';
  $("progress-body").innerHTML = html;
}

function lineChart(points, value, color, height, width, from, to, fmt) {
  var max = 1;
  points.forEach(function (p) { max = Math.max(max, value(p)); });
  var top = 4, bottom = 14, left = 4, w = width - left - 4, h = height - top - bottom;
  var px = function (t) { return left + (t - from) / (to - from) * w; };
  var py = function (v) { return top + h - v / max * h; };
  var line = points.map(function (p, i) { return (i ? "L" : "M") + px(p.at).toFixed(1) + " " + py(value(p)).toFixed(1); }).join("");
  var out = '<svg viewBox="0 0 ' + width + " " + height + '" height="' + height + '">' +
    '<line x1="' + left + '" x2="' + (left + w) + '" y1="' + (top + h) + '" y2="' + (top + h) + '" stroke="var(--line)"/>' +
    '<text x="' + (left + w) + '" y="' + (top + 8) + '" text-anchor="end">max ' + fmt(max) + "</text>" +
    '<text x="' + left + '" y="' + (height - 2) + '">-' + Math.round((to - from) / 1000) + 's</text><text x="' + (left + w) +
    '" y="' + (height - 2) + '" text-anchor="end">now</text>';
  if (points.length > 1) {
    out += '<path d="' + line + "L" + px(points[points.length - 1].at).toFixed(1) + " " + (top + h) + "L" +
      px(points[0].at).toFixed(1) + " " + (top + h) + 'Z" fill="' + color + '" fill-opacity=".15"/>' +
      '<path d="' + line + '" fill="none" stroke="' + color + '" stroke-width="1.6"/>';
  }
  return out + "</svg>";
}

function renderRates(s) {
  var box = $("rates-body");
  var width = Math.max(240, box.clientWidth);
  var from = s.now - range;
  var pts = s.rates.filter(function (p) { return p.at >= from - 1000; });
  var perSecond = [];
  for (var i = 1; i < pts.length; i++) {
    var dt = (pts[i].at - pts[i - 1].at) / 1000;
    var done = pts[i].completed + pts[i].failed - pts[i - 1].completed - pts[i - 1].failed;
    perSecond.push({ at: pts[i].at, v: dt > 0 ? done / dt : 0 });
  }
  box.innerHTML =
    '<div class="chart-title"><span>Tasks finished per second</span><b data-rate>' + fmtRate(rateNow(s.rates)) + "</b></div>" +
    lineChart(perSecond, function (p) { return p.v; }, "var(--accent)", 90, width, from, s.now, fmtRate) +
    '<div class="chart-title"><span>Queued tasks</span><b data-queued>' + fmtInt(s.stats.queued) + "</b></div>" +
    lineChart(pts, function (p) { return p.queued; }, "var(--queued)", 90, width, from, s.now, fmtInt);
}

function renderFailures(s) {
  var key = s.failures.map(function (f) { return f.id + "@" + f.at; }).join(",");
  if (key === failuresKey) return;
  failuresKey = key;
  var box = $("failures-body");
  // Keep open what the reader opened (and closed what they closed).
  box.querySelectorAll("details").forEach(function (d) {
    if (d.open) openFailures.add(d.dataset.failure);
    else openFailures.delete(d.dataset.failure);
  });
  if (s.failures.length === 0) {
    box.innerHTML = '<div class="empty">No failure since the dashboard started.</div>';
    return;
  }
  box.innerHTML = s.failures.map(function (f) {
    var id = f.id + "@" + f.at;
    var where = [f.fn + " #" + f.id, f.node ? "node " + f.node : "", f.worker ? "on " + f.worker : ""].filter(Boolean).join(" · ");
    return '<details class="failure" data-failure="' + esc(id) + '"' + (openFailures.has(id) ? " open" : "") + ">" +
      '<summary><span class="when">' + clock(f.at) + '</span><span class="msg"><b>' + esc(f.name) + "</b>: " +
      '<span data-message>' + esc(f.message) + "</span></span>" +
      '<span class="where">' + esc(where) + "</span></summary>" +
      "<pre>" + esc(f.stack || f.name + ": " + f.message) + "</pre></details>";
  }).join("");
}

function render(s) {
  last = s;
  document.title = s.title + " · dashboard";
  $("title").textContent = s.title;
  var colors = colorMap(s);
  renderTiles(s);
  renderStream(s, colors);
  renderWorkers(s);
  renderProgress(s, colors);
  renderRates(s);
  renderFailures(s);
  document.body.dataset.updated = String(s.now);
}

function setLive(ok, text) {
  $("live").className = "dot " + (ok ? "live" : "down");
  $("status").textContent = text;
}

async function poll() {
  try {
    var response = await fetch("api/snapshot", { headers: headers, cache: "no-store" });
    if (!response.ok) throw new Error(response.status + " " + (await response.text()).split("\\n")[0]);
    render(await response.json());
    setLive(true, "live");
  } catch (error) {
    setLive(false, "disconnected: " + error.message);
  }
  setTimeout(poll, 1000);
}

document.querySelectorAll("[data-range]").forEach(function (b) {
  b.addEventListener("click", function () {
    range = +b.dataset.range;
    document.querySelectorAll("[data-range]").forEach(function (o) { o.classList.toggle("on", o === b); });
    if (last) render(last);
  });
});
window.addEventListener("resize", function () { if (last) render(last); });
if (token) {
  document.querySelectorAll("footer a").forEach(function (a) {
    a.href = a.getAttribute("href") + "?token=" + encodeURIComponent(token);
  });
}
poll();
`;

/** The page, its script allowed by `nonce`. */
export function page(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>dashboard · @concurrent/futures</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <div class="brand"><i id="live" class="dot"></i><h1 id="title">executor</h1>
    <span class="sub">@concurrent/futures · <span id="status">connecting…</span></span></div>
  <div id="tiles" class="tiles"></div>
</header>
<main>
  <section id="stream" class="panel wide">
    <div class="head"><h2>Task stream</h2><div id="legend" class="legend"></div>
      <div class="range"><button data-range="30000">30 s</button><button data-range="60000" class="on">1 min</button><button data-range="300000">5 min</button></div></div>
    <div id="stream-chart"></div>
  </section>
  <section id="rates" class="panel"><div class="head"><h2>Rates</h2></div><div id="rates-body"></div></section>
  <section id="workers" class="panel"><div class="head"><h2>Workers</h2></div><div id="workers-body" class="scroll"></div></section>
  <section id="progress" class="panel"><div class="head"><h2>Progress</h2></div><div id="progress-body" class="scroll"></div></section>
  <section id="failures" class="panel"><div class="head"><h2>Failures</h2></div><div id="failures-body" class="scroll"></div></section>
</main>
<footer>Read-only. Also as data: <a href="api/snapshot">api/snapshot</a> (JSON) · <a href="metrics">metrics</a> (Prometheus)</footer>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
