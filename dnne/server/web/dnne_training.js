// dnne live training view: a sidebar tab that plots the run's metrics as they are written (loss, accuracy, learning
// rate; for RL mean return, episode length, env steps/s), marks epochs, evaluations and checkpoints, shows the run's
// folder, and lists the runs kept for the workflow, of which two can be overlaid.
// Values come only from the runner's metrics file: live as `dnne.metrics` websocket messages (each record as written),
// past runs from GET /dnne/runs and /dnne/runs/<export>/<run>/metrics. Plain SVG, drawn here; nothing is fetched from
// anywhere else.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

const TAB_ID = "dnne-training";
const SVG = "http://www.w3.org/2000/svg";
const PLOTTED_EVENTS = new Set(["epoch", "eval", "update", "summary"]);
const MARKED_EVENTS = { epoch: "#60a5fa", eval: "#f59e0b", checkpoint: "#34d399" };
// one chart per quantity; the first key a record has is the series' name (train/test curves share a chart)
const CHARTS = [
  { id: "loss", title: "loss", keys: ["train_loss", "test_loss", "val_loss", "loss"] },
  { id: "accuracy", title: "accuracy", keys: ["train_accuracy", "test_accuracy", "val_accuracy", "accuracy"] },
  { id: "lr", title: "learning rate", keys: ["lr", "learning_rate"] },
  { id: "return", title: "mean return", keys: ["mean_return"] },
  { id: "episode", title: "episode length", keys: ["mean_episode_length"] },
  { id: "fps", title: "env steps/s", keys: ["fps"] },
];
const COLORS = ["#60a5fa", "#f472b6", "#a3e635", "#fbbf24"];
const OVERLAY_COLORS = ["#f97316", "#22d3ee"];

const view = {
  container: null,
  live: null, // {prompt_id, export, run, run_dir, records: [], status}
  history: [], // from GET /dnne/runs
  overlay: new Map(), // "export/run" → records, at most two
  error: null,
};

function isNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}

function xOf(record, index) {
  // RL records count env steps, supervised ones training steps; the record's index when neither is there
  if (isNumber(record.env_steps)) return record.env_steps;
  if (isNumber(record.step)) return record.step;
  return index;
}

/** The points of every (chart, key) in `records`: {chartId: {key: [[x, y], ...]}}; markers [{x, event}]. */
export function seriesOf(records) {
  const charts = {};
  const markers = [];
  records.forEach((record, index) => {
    const event = record.event;
    if (event in MARKED_EVENTS && isNumber(record.step ?? record.env_steps)) {
      markers.push({ x: xOf(record, index), event });
    }
    if (!PLOTTED_EVENTS.has(event)) return;
    for (const chart of CHARTS) {
      for (const key of chart.keys) {
        if (!isNumber(record[key])) continue;
        ((charts[chart.id] ||= {})[key] ||= []).push([xOf(record, index), record[key]]);
      }
    }
  });
  return { charts, markers };
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function fmt(v) {
  if (!isNumber(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toFixed(4));
}

function drawChart(chart, layers, markers) {
  // layers: [{label, color, points: {key: [[x,y]]}}]; one <polyline> per (layer, key), its values in data-values
  const width = 300, height = 130, pad = { l: 46, r: 8, t: 18, b: 18 };
  const all = layers.flatMap((layer) => Object.values(layer.points).flat());
  if (!all.length) return null;
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const box = el("div", { class: "dnne-chart", "data-chart": chart.id });
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%" });
  svg.appendChild(svgEl("rect", { x: pad.l, y: pad.t, width: width - pad.l - pad.r, height: height - pad.t - pad.b,
                                  fill: "none", stroke: "#4b5563" })); // prettier-ignore
  for (const m of markers) {
    if (m.x < x0 || m.x > x1) continue;
    svg.appendChild(svgEl("line", { x1: sx(m.x), x2: sx(m.x), y1: pad.t, y2: height - pad.b, stroke: MARKED_EVENTS[m.event],
                                    "stroke-dasharray": "2 3", "data-marker": m.event })); // prettier-ignore
  }
  const title = svgEl("text", { x: pad.l, y: 12, fill: "#e5e7eb", "font-size": 11 });
  title.textContent = chart.title;
  svg.appendChild(title);
  for (const [y, anchor] of [[y1, pad.t + 4], [y0, height - pad.b]]) {
    const label = svgEl("text", { x: pad.l - 4, y: anchor, fill: "#9ca3af", "font-size": 9, "text-anchor": "end" });
    label.textContent = fmt(y);
    svg.appendChild(label);
  }
  const legend = el("div", { class: "dnne-legend" });
  layers.forEach((layer, li) => {
    Object.entries(layer.points).forEach(([key, points], ki) => {
      const color = layer.color || COLORS[ki % COLORS.length];
      const dash = li > 0 ? "5 3" : "";
      svg.appendChild(svgEl("polyline", {
        points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "),
        fill: "none", stroke: color, "stroke-width": 1.6, "stroke-dasharray": dash,
        "data-key": key, "data-layer": layer.label, "data-values": JSON.stringify(points),
      })); // prettier-ignore
      const last = points[points.length - 1];
      const item = el("span", { style: `color:${color};margin-right:10px` },
                      `${layer.label ? layer.label + " " : ""}${key} ${fmt(last[1])}`); // prettier-ignore
      legend.appendChild(item);
    });
  });
  box.appendChild(svg);
  box.appendChild(legend);
  return box;
}

function runKey(run) {
  return `${run.export}/${run.run}`;
}

function render() {
  const root = view.container;
  if (!root) return;
  root.replaceChildren();
  root.setAttribute("data-testid", "dnne-training-panel");
  root.style.cssText = "padding:8px;overflow:auto;height:100%;font-size:12px;color:var(--p-text-color,#e5e7eb)";
  root.appendChild(el("h3", { style: "margin:4px 0 8px" }, "dnne training"));
  const live = view.live;
  if (live) {
    const status = el("div", { "data-testid": "dnne-run-status" }, `${live.export} · ${live.status}`);
    root.appendChild(status);
    root.appendChild(el("div", { "data-testid": "dnne-run-dir", style: "opacity:.75;word-break:break-all" },
                        `run folder: ${live.run_dir}`)); // prettier-ignore
  } else {
    root.appendChild(el("div", {}, "No run yet: press Run (dnne trains by default) to see its metrics here."));
  }
  const liveSeries = seriesOf(live?.records || []);
  const overlays = [...view.overlay.entries()].map(([key, records], i) => ({ key, color: OVERLAY_COLORS[i],
                                                                              series: seriesOf(records) })); // prettier-ignore
  const charts = el("div", { "data-testid": "dnne-charts" });
  for (const chart of CHARTS) {
    const layers = [];
    if (liveSeries.charts[chart.id]) layers.push({ label: "", points: liveSeries.charts[chart.id] });
    for (const o of overlays) {
      if (o.series.charts[chart.id]) layers.push({ label: o.key.split("/")[1], color: o.color, points: o.series.charts[chart.id] });
    }
    const drawn = drawChart(chart, layers, liveSeries.markers);
    if (drawn) charts.appendChild(drawn);
  }
  root.appendChild(charts);
  const counts = liveSeries.markers.reduce((acc, m) => ((acc[m.event] = (acc[m.event] || 0) + 1), acc), {});
  if (Object.keys(counts).length) {
    const text = Object.entries(counts).map(([k, n]) => `${n} ${k}${n > 1 ? "s" : ""}`).join(", ");
    root.appendChild(el("div", { "data-testid": "dnne-markers", style: "opacity:.75" }, `marked: ${text}`));
  }
  root.appendChild(el("h4", { style: "margin:12px 0 4px" }, "Runs (tick two to overlay)"));
  const list = el("div", { "data-testid": "dnne-run-history" });
  const wanted = live?.export;
  for (const run of view.history.filter((r) => !wanted || r.export === wanted)) {
    const row = el("label", { style: "display:block;margin:2px 0", "data-run": runKey(run) });
    const box = el("input", { type: "checkbox" });
    box.checked = view.overlay.has(runKey(run));
    box.addEventListener("change", () => toggleOverlay(run, box.checked));
    const f = run.final || {};
    const numbers = ["test_accuracy", "train_accuracy", "train_loss", "mean_episode_length", "mean_return", "env_steps"]
      .filter((k) => isNumber(f[k])).slice(0, 3).map((k) => `${k} ${fmt(f[k])}`).join(", "); // prettier-ignore
    row.appendChild(box);
    row.appendChild(document.createTextNode(` ${run.run}${run.running ? " (running)" : ""} — ${numbers || "no metrics"}`));
    list.appendChild(row);
  }
  root.appendChild(list);
  if (view.error) root.appendChild(el("div", { style: "color:#f87171" }, view.error));
}

async function getJson(path) {
  const response = await api.fetchApi(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refreshHistory() {
  try {
    view.history = (await getJson("/dnne/runs")).runs || [];
    view.error = null;
  } catch (exc) {
    view.error = String(exc.message || exc);
  }
  render();
}

async function toggleOverlay(run, on) {
  const key = runKey(run);
  if (!on) {
    view.overlay.delete(key);
  } else {
    if (view.overlay.size >= 2) view.overlay.delete(view.overlay.keys().next().value);
    const path = `/dnne/runs/${encodeURIComponent(run.export)}/${encodeURIComponent(run.run)}/metrics`;
    view.overlay.set(key, (await getJson(path)).records || []);
  }
  render();
}

let pending = null;
function renderSoon() {
  // many records can arrive in one poll of the metrics file; draw once per frame
  if (pending === null) pending = requestAnimationFrame(() => ((pending = null), render()));
}

app.registerExtension({
  name: "dnne.training",
  async setup() {
    const manager = app.extensionManager;
    if (!manager?.registerSidebarTab) return;
    try {
      const info = await (await api.fetchApi("/dnne/info")).json();
      if (info?.host !== "dnne-serve") return; // runs are started and kept by `dnne serve` only
    } catch {
      return;
    }
    manager.registerSidebarTab({
      id: TAB_ID,
      icon: "pi pi-chart-line",
      title: "Training",
      tooltip: "dnne: live training metrics and past runs",
      type: "custom",
      render: (container) => {
        view.container = container;
        render();
        refreshHistory();
      },
      destroy: () => {
        view.container = null;
      },
    });
    api.addEventListener("dnne.run_started", ({ detail }) => {
      for (const key of [...view.overlay.keys()]) {
        if (!key.startsWith(`${detail.export}/`)) view.overlay.delete(key); // overlays compare runs of one export
      }
      view.live = { prompt_id: detail.prompt_id, export: detail.export, run: detail.run, run_dir: detail.run_dir,
                    records: [], status: "running" }; // prettier-ignore
      render();
      refreshHistory();
    });
    api.addEventListener("dnne.metrics", ({ detail }) => {
      if (view.live?.prompt_id !== detail.prompt_id) return;
      view.live.records.push(detail.record);
      renderSoon();
    });
    const finished = (status) => ({ detail }) => {
      if (!view.live || view.live.prompt_id !== detail?.prompt_id) return;
      view.live.status = status;
      render();
      refreshHistory();
    };
    api.addEventListener("execution_success", finished("finished"));
    api.addEventListener("execution_interrupted", finished("interrupted"));
    api.addEventListener("execution_error", finished("failed"));
  },
});
