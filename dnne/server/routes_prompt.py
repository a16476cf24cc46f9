"""Export and run routes: `/api/prompt` (the editor's Run button), `/dnne/export`, interrupt, queue, history, jobs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import web

from dnne import __version__
from dnne.server.exporting import (
    BadRequest,
    ExportOutcome,
    export_async,
    export_name,
    failure_response,
    read_json,
    workflow_from_export_body,
    workflow_from_prompt_body,
)
from dnne.server.node_errors import plain_error
from dnne.server.runs import STOP_GRACE_SECONDS, RunArgsError, RunProcess, progress_state, run_flags
from dnne.server.state import RUN_AFTER_EXPORT, RUN_AFTER_EXPORT_DEFAULT, RUN_ARGS, STATE_KEY, Job, ServerState, log

routes = web.RouteTableDef()
MAX_PROMPT_ID_CHARS = 128


def _dnne_options(body: dict) -> dict:
    extra = body.get("extra_data")
    options = extra.get("dnne") if isinstance(extra, dict) else None
    return options if isinstance(options, dict) else {}


def _report_node(source: dict) -> str | None:
    """A node id to attach export/run results to: the last sink-like node of the graph, else the last node."""
    if isinstance(source.get("nodes"), list):
        nodes = [(str(n.get("id")), n.get("type")) for n in source["nodes"] if isinstance(n, dict) and "id" in n]
    else:
        nodes = [(str(k), v.get("class_type")) for k, v in source.items() if isinstance(v, dict)]
    if not nodes:
        return None
    try:
        from dnne.catalog import default_catalog

        catalog = default_catalog()
        for node_id, kind in reversed(nodes):
            spec = catalog.get(catalog.canonical(kind) or "") if isinstance(kind, str) else None
            if spec is not None and (spec.is_sink or spec.output_node):
                return node_id
    except Exception as exc:  # the catalog only picks a nicer node here; never fail an export over it
        log.debug("catalog unavailable while choosing the report node: %s", exc)
    return nodes[-1][0]


def _busy(what: str = "a run is already in progress") -> web.Response:
    body = plain_error("run_in_progress", f"{what}: interrupt it first (Cancel / Interrupt)", code="E_RUN_IN_PROGRESS")
    return web.json_response(body, status=409)


def _run_folder(state: ServerState, name: str, job: Job) -> Path:
    """`<workdir>/runs/<export name>/<UTC timestamp>-<job>/`: outside the export, so re-exporting never touches it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return state.runs_dir / name / f"{stamp}-{job.id[:8]}"


async def _export_serialized(state: ServerState, source: dict, name: str, *, for_run: bool) -> ExportOutcome:
    """Export under the server's export lock; refuses (409) to rewrite the export a run uses or is about to use."""
    async with state.export_lock:
        running = state.run is not None and state.run.export_dir == state.exports_dir / name
        if running or (not for_run and state.run_claim == name):
            raise _ExportBusy(name)
        return await export_async(source, state.exports_dir, name)


class _ExportBusy(Exception):
    def __init__(self, name: str):
        super().__init__(f"the export {name!r} is being run")


async def stop_everything(state: ServerState) -> None:
    """Server shutdown: no new run starts; the active child gets SIGTERM (SIGKILL after a grace); tasks end."""
    state.closing = True
    if state.run is not None:
        await state.run.stop()
    pending = [t for t in state.tasks if not t.done()]
    if pending:  # an export in flight finishes (its run is refused: closing); then nothing is left behind
        _, still = await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS * 2)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=STOP_GRACE_SECONDS)


async def _announce_export(state: ServerState, job: Job, outcome: ExportOutcome, node: str | None) -> None:
    """Websocket messages for a finished export (sent just after the HTTP answer)."""
    await asyncio.sleep(0.05)
    pid = job.id
    await state.send_status()  # the queue panel counts this job as running
    await state.send("execution_start", {"prompt_id": pid, "timestamp": int(time.time() * 1000)})
    if node is not None:
        await state.send("executing", {"node": node, "display_node": node, "prompt_id": pid})
    await state.send("progress", {"value": 1, "max": 1, "prompt_id": pid, "node": node})
    await state.send("progress_state", progress_state(pid, node, 1, 1))
    output = {"export_path": [str(outcome.export_path)], "files": outcome.files}
    job.outputs[node or "export"] = output
    if node is not None:
        await state.send("executed", {"node": node, "display_node": node, "output": output, "prompt_id": pid})
    await state.send("dnne.exported", {"prompt_id": pid, "name": outcome.name, **output})


async def _finish(state: ServerState, job: Job, status: str, error: dict | None = None) -> None:
    job.status = status
    job.end_time = int(time.time() * 1000)
    job.error = error
    pid = job.id
    if status == "completed":
        await state.send("executing", {"node": None, "prompt_id": pid})
        await state.send("execution_success", {"prompt_id": pid, "timestamp": job.end_time})
    elif status == "cancelled":
        await state.send("execution_interrupted", {"prompt_id": pid, "node_id": "", "node_type": "", "executed": []})
    else:
        await state.send("execution_error", error or {"prompt_id": pid})
    await state.send_status()


async def _export_then_maybe_run(state: ServerState, job: Job, outcome: ExportOutcome, node, flags) -> None:
    """`flags` is None for an export only; otherwise the caller claimed the run slot, which `_run` releases."""
    try:
        await _announce_export(state, job, outcome, node)
    except BaseException:
        if flags is not None:
            state.release_run()
        raise
    if flags is None:
        await _finish(state, job, "completed")
        return
    await _run(state, job, outcome, node, flags)


async def _run(state: ServerState, job: Job, outcome: ExportOutcome, node: str | None, flags: list[str]) -> None:
    """Run the export (the caller holds the run slot; released here). The child never outlives this task."""
    run_dir = _run_folder(state, outcome.name, job)
    metrics, events = run_dir / "metrics.jsonl", run_dir / "events.jsonl"
    proc = RunProcess(
        outcome.export_path,
        job.id,
        state.send,
        metrics_path=metrics,
        events_path=events,
        flags=flags,
        node=node,
        run_dir=run_dir,
        on_output=state.add_log,
    )
    try:
        if state.closing:
            await _finish(state, job, "cancelled")
            return
        state.run = proc
        try:
            await proc.start()
            job.run_pid = proc.pid
            if state.closing:  # shutdown began while the child was starting: stop it like the others
                await proc.stop()
            log.info("run %s: %s (in %s)", job.id, " ".join(proc.argv[1:]), outcome.export_path)
            started = {"prompt_id": job.id, "metrics": str(metrics), "events": str(events), "run_dir": str(run_dir),
                       "argv": proc.argv[1:], "pid": proc.pid, "export": outcome.name,
                       "run": run_dir.name}  # fmt: skip
            await state.send("dnne.run_started", started)
            if node is not None:
                await state.send("executing", {"node": node, "display_node": node, "prompt_id": job.id})
                await state.send("progress_state", progress_state(job.id, node, 0, 1))
            code = await proc.watch()
        except OSError as exc:
            code = -1
            proc.output_tail.append(f"could not start the run: {exc}")
        finally:
            proc.kill()  # a no-op once it exited; kills it if this task was cancelled mid-run
            state.run = None
    finally:
        state.release_run()
    job.outputs.update(proc.node_outputs())
    run_output = {"metrics": [str(metrics)], "events": [str(events)], "run_dir": [str(run_dir)], "exit_code": [code],
                  "records": [proc.records]}  # fmt: skip
    job.outputs[node or "run"] = {**job.outputs.get(node or "run", {}), **run_output}
    log.info("run %s exited with %s after %d metrics records", job.id, code, proc.records)
    if proc.interrupted or code in (130, 143):
        await _finish(state, job, "cancelled")
    elif code == 0:
        shown = [n for n in proc.nodes if n != node] + ([node] if node is not None else [])
        for node_id in shown:  # every node of the run, the report node (with the run's files) last
            output = job.outputs.get(node_id, {})
            await state.send(
                "executed", {"node": node_id, "display_node": node_id, "output": output, "prompt_id": job.id}
            )
        await _finish(state, job, "completed")
    else:
        failed = proc.error_record or {}
        message = str(failed.get("message") or f"runner.py exited with code {code}")
        error = {
            "prompt_id": job.id,
            "node_id": str(failed.get("node_id") or proc.last_node or node or ""),
            "node_type": str(failed.get("node_type") or ""),
            "executed": [],
            "exception_message": message + "\n" + "\n".join(list(proc.output_tail)[-15:]),
            "exception_type": "NodeError" if failed else "RunnerExit",
            "traceback": list(proc.output_tail),
            "current_inputs": {},
            "current_outputs": {},
            "timestamp": int(time.time() * 1000),
        }
        await _finish(state, job, "failed", error)


@routes.post("/api/prompt")
async def post_prompt(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        body = await read_json(request)
        source = workflow_from_prompt_body(body)
        options = _dnne_options(body)
        # the Run button trains: export, then run (Settings → dnne → Run after export; dnne ▸ Export only does not)
        run = bool(options.get("run", state.settings.get(RUN_AFTER_EXPORT, RUN_AFTER_EXPORT_DEFAULT)))
        flags = run_flags(options.get("run_args", state.settings.get(RUN_ARGS, ""))) if run else None
        prompt_id = body.get("prompt_id") if isinstance(body.get("prompt_id"), str) else None
        if prompt_id is not None and len(prompt_id) > MAX_PROMPT_ID_CHARS:
            raise BadRequest(f"prompt_id is longer than {MAX_PROMPT_ID_CHARS} characters", "E_NAME_TOO_LONG")
    except BadRequest as exc:
        return failure_response(exc)
    except RunArgsError as exc:
        return web.json_response(plain_error("invalid_run_args", str(exc), code="E_RUN_ARGS"), status=400)
    name = export_name(options.get("name"), source)
    if run and not state.claim_run(name):  # claimed before the export's await: two requests cannot both run
        return _busy()
    try:
        outcome = await _export_serialized(state, source, name, for_run=run)
    except _ExportBusy as exc:
        if run:
            state.release_run()
        return _busy(str(exc))
    except Exception as exc:  # validation errors → 400 node_errors; internal errors → 500 with the reason
        if run:
            state.release_run()
        return failure_response(exc)
    job = state.new_job(prompt_id, workflow=source)
    job.status, job.start_time = "in_progress", int(time.time() * 1000)
    log.info("exported %s to %s", name, outcome.export_path)
    state.spawn(_export_then_maybe_run(state, job, outcome, _report_node(source), flags))
    answer = {"prompt_id": job.id, "number": job.number, "node_errors": {}}
    answer.update(export_path=str(outcome.export_path), files=outcome.files, run=run)
    return web.json_response(answer)


@routes.get("/api/prompt")
async def get_prompt(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({"exec_info": {"queue_remaining": state.queue_remaining()}})


def export_route(app: web.Application) -> None:
    """`POST /dnne/export` (and `/api/dnne/export`): the extension's Export / Download runner / Export and run."""
    state = app[STATE_KEY]

    async def dnne_export(request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
            source = workflow_from_export_body(body)
        except BadRequest as exc:
            return failure_response(exc)
        name = export_name(body.get("name"), source)
        flags, answer = None, {"run": False}
        if body.get("run"):
            try:
                flags = run_flags(body.get("run_args", state.settings.get(RUN_ARGS, "")))
            except RunArgsError as exc:
                answer["run_error"] = str(exc)
            if flags is not None and not state.claim_run(name):
                flags, answer["run_error"] = None, "a run is already in progress"
        try:
            outcome = await _export_serialized(state, source, name, for_run=flags is not None)
        except Exception as exc:  # every failure becomes a JSON answer the editor can show
            if flags is not None:
                state.release_run()
            return _busy(str(exc)) if isinstance(exc, _ExportBusy) else failure_response(exc)
        job = state.new_job(workflow=source)
        job.status, job.start_time = "in_progress", int(time.time() * 1000)
        state.spawn(_export_then_maybe_run(state, job, outcome, _report_node(source), flags))
        answer.update(outcome.to_json(), prompt_id=job.id, run=flags is not None)
        return web.json_response(answer)

    app.router.add_post("/dnne/export", dnne_export)
    app.router.add_post("/api/dnne/export", dnne_export)


async def dnne_info(request: web.Request) -> web.Response:
    return web.json_response({"dnne_version": __version__, "host": "dnne-serve"})


@routes.post("/api/interrupt")
async def interrupt(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request) if request.can_read_body else None
    wanted = body.get("prompt_id") if isinstance(body, dict) else None  # the frontend may name the run
    run = state.run
    if run is not None and run.running and (not isinstance(wanted, str) or wanted == run.prompt_id):
        log.info("interrupt: sending SIGINT to run %s", run.prompt_id)
        state.spawn(run.interrupt())
    return web.Response(status=200)


@routes.get("/api/queue")
async def get_queue(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    running = [[j.number, j.id, {}, {}, []] for j in state.jobs.values() if j.status == "in_progress"]
    return web.json_response({"queue_running": running, "queue_pending": []})


@routes.post("/api/queue")
async def post_queue(request: web.Request) -> web.Response:
    await read_json(request)  # clear/delete: nothing is ever pending here
    return web.Response(status=200)


def _finished(state: ServerState) -> list[Job]:
    return [j for j in state.jobs.values() if j.status in ("completed", "failed", "cancelled")]


@routes.get("/api/history")
async def get_history(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        limit = int(request.query.get("max_items", "0") or 0)
    except ValueError:
        limit = 0
    jobs = _finished(state)
    if limit > 0:
        jobs = jobs[-limit:]
    return web.json_response({j.id: j.history() for j in jobs})


@routes.get("/api/history/{prompt_id}")
async def get_history_item(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job = state.jobs.get(request.match_info["prompt_id"])
    return web.json_response({job.id: job.history()} if job is not None and job in _finished(state) else {})


@routes.post("/api/history")
async def post_history(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request)
    if isinstance(body, dict):
        if body.get("clear"):
            for job in _finished(state):
                del state.jobs[job.id]
        for prompt_id in body.get("delete") or []:
            if isinstance(prompt_id, str) and prompt_id in state.jobs and state.jobs[prompt_id] in _finished(state):
                del state.jobs[prompt_id]
    return web.Response(status=200)


def _int_query(request: web.Request, key: str, default: int) -> int:
    try:
        return max(0, int(request.query.get(key, default)))
    except ValueError:
        return default


@routes.get("/api/jobs")
async def get_jobs(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    wanted = {s for s in request.query.get("status", "").split(",") if s}
    jobs = [j for j in reversed(list(state.jobs.values())) if not wanted or j.status in wanted]
    limit, offset = _int_query(request, "limit", 200), _int_query(request, "offset", 0)
    page = jobs[offset : offset + limit]
    pagination = {"offset": offset, "limit": limit, "total": len(jobs), "has_more": offset + len(page) < len(jobs)}
    return web.json_response({"jobs": [j.summary() for j in page], "pagination": pagination})


@routes.get("/api/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job = state.jobs.get(request.match_info["job_id"])
    if job is None:
        return web.json_response({"error": "no such job"}, status=404)
    extra = {"workflow": job.workflow, "outputs": job.outputs, "run_pid": job.run_pid}
    return web.json_response(job.summary() | extra)


@routes.post("/api/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if state.run is not None and state.run.prompt_id == request.match_info["job_id"]:
        state.spawn(state.run.interrupt())
    return web.Response(status=200)


def add_prompt_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
    export_route(app)
    app.router.add_get("/dnne/info", dnne_info)
    app.router.add_get("/api/dnne/info", dnne_info)
