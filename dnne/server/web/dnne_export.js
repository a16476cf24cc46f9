// dnne editor extension: "Export to Python", "Download runner" and "Export and run" for dnne node graphs.
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
      name: "Run the exported program after Run/Queue (progress shows in the editor)",
      type: "boolean",
      defaultValue: false,
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
    { id: "dnne.ExportPython", label: "Export to Python", icon: "pi pi-file-export", function: exportToPython },
    { id: "dnne.DownloadRunner", label: "Download runner", icon: "pi pi-download", function: downloadRunner },
    { id: "dnne.ExportAndRun", label: "Export and run", icon: "pi pi-play", function: exportAndRun },
  ],
  menuCommands: [{ path: ["dnne"], commands: ["dnne.ExportPython", "dnne.DownloadRunner", "dnne.ExportAndRun"] }],
  async init() {
    if (!(await isDnneServer())) return;
    try {
      frontendDefaultGraph = (await import("../../scripts/defaultGraph.js")).defaultGraph;
    } catch {
      frontendDefaultGraph = null;
    }
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
    api.addEventListener("dnne.run_started", ({ detail }) => {
      toast("info", "dnne: run started", `metrics: ${detail.metrics}`, 4000);
    });
    api.addEventListener("dnne.metrics", ({ detail }) => {
      console.debug("[dnne] metrics", detail.record);
    });
  },
});
