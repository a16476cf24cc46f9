// dnne editor extension: Run trains (export + run); "Export only", "Download runner" and "Export and run" in the
// dnne menu; examples open fitted to the view without overlapping nodes; no request ever leaves the machine.
// Works in `dnne serve` and in a real ComfyUI with the dnne node pack (served from /extensions/<pack>/).
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

// On `dnne serve`, every write must carry the server's write token in a custom header (a page of another origin
// can neither read the token nor set the header on a form or beacon). The token is read same-origin before the
// frontend's own writes need it, and attached to every same-origin write this page makes through fetch or XHR.
// A real ComfyUI has no /dnne/session: nothing is changed there.
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const nativeFetch = window.fetch.bind(window);

function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

async function readWriteToken() {
  try {
    const response = await nativeFetch(api.apiURL("/dnne/session"), { cache: "no-store" });
    if (!response.ok) return null;
    const body = await response.json();
    return body?.token && body?.header ? body : null;
  } catch {
    return null;
  }
}

function attachWriteToken({ header, token }) {
  window.fetch = function (input, init) {
    const request = input instanceof Request ? input : null;
    const method = String(init?.method || request?.method || "GET").toUpperCase();
    if (!SAFE_METHODS.has(method) && sameOrigin(request ? request.url : String(input))) {
      const headers = new Headers(init?.headers || request?.headers || undefined);
      headers.set(header, token);
      init = { ...init, headers };
    }
    return nativeFetch(input, init);
  };
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__dnneWrite = !SAFE_METHODS.has(String(method).toUpperCase()) && sameOrigin(String(url));
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (this.__dnneWrite) this.setRequestHeader(header, token);
    return send.apply(this, args);
  };
}

const writeToken = await readWriteToken();
if (writeToken) attachWriteToken(writeToken);

const EXPORT_ROUTE = "/dnne/export";
const RUN_SETTING = "dnne.RunAfterExport";

function toast(severity, summary, detail, life = 6000) {
  const manager = app.extensionManager?.toast;
  if (manager) manager.add({ severity, summary, detail, life });
  else console.log(`[dnne] ${summary}: ${detail}`);
}

function workflowName() {
  const active = app.extensionManager?.workflow?.activeWorkflow;
  return active?.filename || active?.path?.split("/").pop()?.replace(/\.json$/, "") || "workflow";
}

function describeErrors(body) {
  const lines = [];
  for (const [nodeId, entry] of Object.entries(body.node_errors || {})) {
    for (const err of entry.errors || []) {
      const where = err.extra_info?.input_name ? ` ${err.extra_info.input_name}` : "";
      lines.push(`node ${nodeId} (${entry.class_type})${where}: ${err.message}`);
    }
  }
  if (!lines.length && body.error) lines.push(body.error.message || String(body.error));
  return lines.join("\n");
}

async function postExport({ run = false, showErrors = true } = {}) {
  const { workflow, output } = await app.graphToPrompt();
  const response = await api.fetchApi(EXPORT_ROUTE, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ workflow, prompt: output, name: workflowName(), run }),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { error: { message: `HTTP ${response.status}` } };
  }
  if (!response.ok) {
    if (showErrors) toast("error", "dnne: the graph cannot be exported", describeErrors(body), 15000);
    return null;
  }
  return body;
}

let onDnneServer = null;
async function isDnneServer() {
  if (onDnneServer === null) {
    try {
      const info = await (await api.fetchApi("/dnne/info")).json();
      onDnneServer = info?.host === "dnne-serve";
    } catch {
      onDnneServer = false;
    }
  }
  return onDnneServer;
}

async function exportToPython() {
  const onDnne = await isDnneServer();
  const body = await postExport({ showErrors: !onDnne });
  if (body) {
    if (!onDnne) toast("success", "dnne: exported", `${body.export_path} (${body.files.length} files)`);
    return;
  }
  // On `dnne serve` the Run/Queue path is an export too: sent that way, the editor itself highlights the
  // invalid nodes and lists dnne's messages.
  if (onDnne) await app.queuePrompt(0, 1);
}

async function downloadRunner() {
  const body = await postExport();
  if (!body) return;
  const blob = new Blob([body.runner_py], { type: "text/x-python" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "runner.py";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  toast("info", "dnne: runner.py downloaded", `full export (config.json, dnne_runtime/): ${body.export_path}`);
}

async function exportAndRun() {
  const body = await postExport({ run: true });
  if (!body) return;
  if (body.run) toast("info", "dnne: running", `${body.export_path}/runner.py (Interrupt stops it)`);
  else toast("warn", "dnne: exported, not run", body.run_error || "");
}

let frontendDefaultGraph = null;
const runsHere = await isDnneServer();

// The frontend asks the public node registry (api.comfy.org) which pack every node type comes from, whenever its
// error panel opens, unless the node says it belongs to the server's own core set (`properties.cnr_id`). On
// `dnne serve` every node type is served by this very server: saying so keeps those lookups from leaving the machine.
// (The release check is off through /api/system_stats.)
const SERVER_PACK = "comfy-core";
let keepRegistryLookupsLocal = false;

function markAsServerNode(node) {
  if (!keepRegistryLookupsLocal || !node) return;
  node.properties = node.properties || {};
  if (typeof node.properties.cnr_id !== "string") node.properties.cnr_id = SERVER_PACK;
}

// The view is fitted to the graph, but never below this zoom (smaller is unreadable): a wider graph is then shown
// from its left end (the frontend draws full detail down to it: LiteGraph.Canvas.MinFontSizeForLOD is preset in
// dnne/server/state.py). Done here rather than with Comfy.Canvas.FitView, which animates and has no lower bound.
const MIN_READABLE_SCALE = 0.5;

function fitReadable(canvas, graph, margin = 60) {
  const ds = canvas?.ds;
  const element = canvas?.canvas;
  if (!ds || !element || !graph?.nodes?.length) return;
  const title = globalThis.LiteGraph?.NODE_TITLE_HEIGHT ?? 30;
  const x0 = Math.min(...graph.nodes.map((n) => n.pos[0]));
  const y0 = Math.min(...graph.nodes.map((n) => n.pos[1] - title));
  const x1 = Math.max(...graph.nodes.map((n) => n.pos[0] + n.size[0]));
  const y1 = Math.max(...graph.nodes.map((n) => n.pos[1] + n.size[1]));
  const width = element.clientWidth || element.width, height = element.clientHeight || element.height;
  const fit = Math.min((width - 2 * margin) / (x1 - x0), (height - 2 * margin) / (y1 - y0), 1);
  ds.scale = Math.max(fit, MIN_READABLE_SCALE);
  const shownWidth = (x1 - x0) * ds.scale, shownHeight = (y1 - y0) * ds.scale;
  const left = shownWidth <= width - 2 * margin ? (width - shownWidth) / 2 : margin;
  const top = shownHeight <= height - 2 * margin ? (height - shownHeight) / 2 : margin;
  ds.offset[0] = left / ds.scale - x0;
  ds.offset[1] = top / ds.scale - y0;
  canvas.setDirty(true, true);
}

// dnne's own words under a node the last export rejected: its code, message and hint (the frontend outlines the
// node and lists the same text in its error panel; here it is readable without opening anything).
function showDnneErrorsUnder(node) {
  const draw = node.onDrawForeground;
  node.onDrawForeground = function (ctx, ...rest) {
    const result = draw?.call(this, ctx, ...rest);
    const errors = app.lastNodeErrors?.[String(this.id)]?.errors;
    if (!errors?.length || this.flags?.collapsed) return result;
    const width = Math.max(this.size[0], 220);
    ctx.save();
    ctx.font = "12px sans-serif";
    ctx.fillStyle = "#f87171";
    let y = this.size[1] + 16;
    for (const err of errors) {
      for (const line of wrap(ctx, err.details || err.message || "", width)) {
        ctx.fillText(line, 0, y);
        y += 15;
      }
      y += 4;
    }
    ctx.restore();
    return result;
  };
}

function wrap(ctx, text, width) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.slice(0, 8);
}

function overlaps(a, b, gap) {
  return a[0] < b[0] + b[2] + gap && b[0] < a[0] + a[2] + gap && a[1] < b[1] + b[3] + gap && b[1] < a[1] + a[3] + gap;
}

function separateOverlappingNodes(graph, gap = 20) {
  // Boxes include the title bar. Left to right, each node that overlaps one already placed moves down below it.
  const title = globalThis.LiteGraph?.NODE_TITLE_HEIGHT ?? 30;
  const nodes = [...(graph?.nodes || [])].sort((a, b) => a.pos[0] - b.pos[0] || a.pos[1] - b.pos[1]);
  const placed = [];
  let moved = false;
  for (const node of nodes) {
    const box = [node.pos[0], node.pos[1] - title, node.size[0], node.size[1] + title];
    for (let tries = 0; tries < nodes.length; tries++) {
      const hit = placed.find((other) => overlaps(box, other, gap));
      if (!hit) break;
      box[1] = hit[1] + hit[3] + gap;
      moved = true;
    }
    if (box[1] + title !== node.pos[1]) node.pos = [node.pos[0], box[1] + title];
    placed.push(box);
  }
  return moved;
}

function sameNodes(a, b) {
  const key = (g) => JSON.stringify((g?.nodes || []).map((n) => [n.id, n.type]));
  return Array.isArray(a?.nodes) && key(a) === key(b);
}

app.registerExtension({
  name: "dnne.export",
  settings: [
    {
      id: RUN_SETTING,
      category: ["dnne", "Export", "Run after export"],
      name: "Run trains: the Run button exports the graph and runs it (off: it only exports)",
      type: "boolean",
      defaultValue: true, // the server's default too (dnne/server/state.py RUN_AFTER_EXPORT_DEFAULT)
    },
    {
      id: "dnne.RunArgs",
      category: ["dnne", "Export", "Runner flags"],
      name: "Runner flags for runs started here (e.g. --epochs 1 --threads 2)",
      tooltip: "Allowed: --epochs --max-steps --seed --threads --num-envs --device --timeout --stall-timeout",
      type: "text",
      defaultValue: "",
    },
  ],
  commands: [
    { id: "dnne.ExportPython", label: "Export only (no run)", icon: "pi pi-file-export", function: exportToPython },
    { id: "dnne.DownloadRunner", label: "Download runner", icon: "pi pi-download", function: downloadRunner },
    ...(runsHere ? [{ id: "dnne.ExportAndRun", label: "Export and run", icon: "pi pi-play", function: exportAndRun }] : []),
  ],
  // inside ComfyUI runs are not offered: they belong to `dnne serve` (which keeps, streams and plots them)
  menuCommands: [
    { path: ["dnne"], commands: ["dnne.ExportPython", "dnne.DownloadRunner", ...(runsHere ? ["dnne.ExportAndRun"] : [])] },
  ],
  async init() {
    if (!(await isDnneServer())) return;
    keepRegistryLookupsLocal = true;
    try {
      frontendDefaultGraph = (await import("../../scripts/defaultGraph.js")).defaultGraph;
    } catch {
      frontendDefaultGraph = null;
    }
  },
  nodeCreated(node) {
    markAsServerNode(node);
    showDnneErrorsUnder(node);
  },
  loadedGraphNode(node) {
    markAsServerNode(node);
  },
  async afterConfigureGraph() {
    if (!onDnneServer || !app.graph?.nodes?.length) return; // an empty canvas has nothing to fit
    // Examples open readable: nodes the frontend drew larger than their saved size are moved apart, then the view
    // is fitted to the whole graph.
    requestAnimationFrame(() => {
      separateOverlappingNodes(app.graph);
      fitReadable(app.canvas, app.graph);
    });
  },
  async beforeConfigureGraph(graphData) {
    // On `dnne serve`, start from an empty canvas instead of the frontend's image-generation default graph,
    // whose nodes do not exist here. A real ComfyUI keeps its default.
    if (frontendDefaultGraph && sameNodes(graphData, frontendDefaultGraph)) {
      graphData.nodes = [];
      graphData.links = [];
      graphData.groups = [];
    }
  },
  async setup() {
    api.addEventListener("dnne.exported", ({ detail }) => {
      toast("success", "dnne: exported", `${detail.export_path[0]} (${detail.files.length} files)`);
    });
    let runFolder = "";
    api.addEventListener("dnne.run_started", ({ detail }) => {
      runFolder = detail.run_dir;
      toast("info", "dnne: run started", `run folder: ${detail.run_dir}`, 4000);
    });
    // the frontend counts an interrupted job as failed ("Job failed"); say what happened to the run
    api.addEventListener("execution_interrupted", () => {
      toast("warn", "dnne: run interrupted", `stopped at a step boundary; final checkpoint in ${runFolder}`, 10000);
    });
    api.addEventListener("dnne.metrics", ({ detail }) => {
      console.debug("[dnne] metrics", detail.record);
    });
  },
});
