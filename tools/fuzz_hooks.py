"""Schemathesis hooks for tools/fuzz_api.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

Every request carries the daemon's X-API-Key (`-H` on the command line) and, from here, the bearer token of the
demo's first admin, so the JWT/RBAC routes (Supervisor, Autopack users) are exercised past 401/403.

Some rules hold between fields, and no JSON Schema can state them (a phase's `tier_id` names one of the body's
tiers; a warning threshold does not exceed its critical one; a phase result names the run and phase of its path; a
workflow's dependencies name its own tasks without a cycle; an artifact path stays inside its run). `/openapi.json`
says them in words; `map_case` below makes the fuzzer's schema-valid cases obey them, so the positive-data check
tests everything else about those routes instead of stopping at the same 422. The routes' own tests pin the refusal
of requests that break them.

The fuzzer itself calls logout (revokes the session) and may update the admin's own account (deactivate it,
change its password or roles). The first is handled by Schemathesis: a 401 drops the cached token and the next
request logs in again. The second would lock every later request out, so requests that would modify the
admin's own user are pointed at a user id that does not exist (a documented 404) instead.
"""

import copy
import os
import time
import unicodedata
from urllib.parse import unquote

import requests
import schemathesis

BASE_URL = os.environ["ARGUS_FUZZ_URL"]
ADMIN_PASSWORD = os.environ["ARGUS_ADMIN_PASSWORD"]
ADMIN_ID = 1  # the bootstrap admin is the first row of an empty users table
MISSING_USER_ID = "999999999"


@schemathesis.auth(refresh_interval=600)
class AdminBearer:
    """Logs in as `admin` through POST /auth/login; retries while the login route's own 60/min limit says 429."""

    def get(self, case, ctx):
        for _ in range(30):
            response = requests.post(f"{BASE_URL}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD},
                                      timeout=60)
            if response.status_code != 429:
                response.raise_for_status()
                return response.json()["access_token"]
            time.sleep(float(response.headers.get("Retry-After", "2")))
        raise RuntimeError("POST /auth/login kept answering 429")

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _is_admin_id(value):
    try:
        return int(str(value).strip()) == ADMIN_ID
    except ValueError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    """Keep the admin's own account out of reach of PUT/PATCH/DELETE on a user (see the module docstring)."""
    if case.method.upper() in ("PUT", "PATCH", "DELETE") and "/users/" in case.path:
        for name, value in list((case.path_parameters or {}).items()):
            if "user" in name and _is_admin_id(value):
                case.path_parameters[name] = MISSING_USER_ID


def _ordered_thresholds(case):
    """PUT /api/v1/monitoring/config: each metric's warning at most its critical (swap them when not)."""
    thresholds = case.body.get("alert_thresholds")
    if isinstance(thresholds, dict):
        for levels in thresholds.values():
            if isinstance(levels, dict) and isinstance(levels.get("warning"), (int, float)) \
                    and isinstance(levels.get("critical"), (int, float)) and levels["warning"] > levels["critical"]:
                levels["warning"], levels["critical"] = levels["critical"], levels["warning"]


def _consistent_run(case):
    """POST /runs/start: tier and phase ids unique, every phase naming one of the tiers, at most max_phases phases."""
    body = case.body
    tiers = body.get("tiers") if isinstance(body.get("tiers"), list) else []
    unique_tiers, seen = [], set()
    for tier in tiers:
        if isinstance(tier, dict) and tier.get("tier_id") not in seen:
            seen.add(tier.get("tier_id"))
            unique_tiers.append(tier)
    if isinstance(body.get("tiers"), list):
        body["tiers"] = unique_tiers
    phases = body.get("phases")
    if isinstance(phases, list):
        run = body.get("run") if isinstance(body.get("run"), dict) else {}
        cap = run.get("max_phases") if isinstance(run.get("max_phases"), int) else 25
        unique_phases, seen = [], set()
        for phase in phases:
            if isinstance(phase, dict) and phase.get("phase_id") not in seen and unique_tiers:
                seen.add(phase.get("phase_id"))
                phase["tier_id"] = unique_tiers[len(unique_phases) % len(unique_tiers)]["tier_id"]
                unique_phases.append(phase)
        body["phases"] = unique_phases[:cap]


def _workspace_path(raw, fallback):
    """`raw` when ArtifactPath.normalize surely takes it as it is (a relative path inside the run, no '..', no
    backslash, no control character, components of 1-255 bytes, 512 bytes in all, no drive letter, no '%' so
    that its double percent-decoding cannot change it), else `fallback`."""
    if not isinstance(raw, str) or not raw or "%" in raw or ".." in raw or raw.startswith("/") or "\\" in raw:
        return fallback
    try:
        data = raw.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate
        return fallback
    if len(data) > 512 or any(byte < 0x20 or byte == 0x7F for byte in data) or (len(data) >= 2 and data[1:2] == b":"):
        return fallback
    components = raw.split("/")
    if any(not part or part == "." or len(part.encode("utf-8")) > 255 for part in components):
        return fallback
    return raw


def _ids_of_the_path(case):
    """POST /runs/{run_id}/phases/{phase_id}/builder_result and auditor_result: the body names the path's run and phase,
    and each changed file is a relative path inside the workspace."""
    for name in ("run_id", "phase_id"):
        if name in (case.path_parameters or {}):
            case.body[name] = unquote(str(case.path_parameters[name]))   # path parameters arrive percent-encoded here
    if isinstance(case.body.get("files_changed"), list):
        case.body["files_changed"] = [_workspace_path(path, f"src/changed_{index}.py")
                                      for index, path in enumerate(case.body["files_changed"])]


def _artifact_path(case):
    """GET/PUT /runs/{run_id}/artifacts/file: `path` is a relative path inside the run (400 otherwise, as the spec says)."""
    if isinstance(case.query, dict) and "path" in case.query:
        case.query["path"] = _workspace_path(case.query["path"], "fuzz/artifact.txt")


def _sound_workflow(case):
    """POST /api/v1/workflows: task ids unique (as Swift compares strings: canonically equivalent ids are one id) and
    every dependency naming an earlier task, so the DAG has no unknown reference, self-dependency or cycle."""
    definition = case.body.get("definition") if "definition" in case.body else case.body
    if not isinstance(definition, dict) or not isinstance(definition.get("tasks"), list):
        return
    tasks, seen = [], set()
    for task in definition["tasks"]:
        key = unicodedata.normalize("NFC", task.get("id")) if isinstance(task, dict) and isinstance(task.get("id"), str) else None
        if key is not None and key not in seen:
            seen.add(key)
            tasks.append(task)
    definition["tasks"] = tasks
    ids = [task["id"] for task in tasks]
    for index, task in enumerate(tasks):
        if isinstance(task.get("dependencies"), list):
            task["dependencies"] = [ids[j % index] for j in range(len(task["dependencies"]))] if index else []
    if isinstance(definition.get("dependencies"), list):
        edges = []
        for j, dependency in enumerate(definition["dependencies"]):
            if isinstance(dependency, dict) and len(ids) >= 2:
                later = 1 + j % (len(ids) - 1)
                dependency["task_id"], dependency["depends_on"] = ids[later], ids[j % later]
                edges.append(dependency)
        definition["dependencies"] = edges


# (method, path template) -> how a schema-valid case is made to obey the route's rules that no schema states,
# and whether the rule edits the body (a JSON object) or the query.
CROSS_FIELD_RULES = {
    ("POST", "/runs/{run_id}/phases/{phase_id}/builder_result"): (_ids_of_the_path, "body"),
    ("POST", "/runs/{run_id}/phases/{phase_id}/auditor_result"): (_ids_of_the_path, "body"),
    ("PUT", "/api/v1/monitoring/config"): (_ordered_thresholds, "body"),
    ("POST", "/api/v1/workflows"): (_sound_workflow, "body"),
    ("POST", "/runs/start"): (_consistent_run, "body"),
    ("GET", "/runs/{run_id}/artifacts/file"): (_artifact_path, "query"),
    ("PUT", "/runs/{run_id}/artifacts/file"): (_artifact_path, "query"),
}


@schemathesis.hook
def map_case(context, case):
    """Schema-valid (positive) cases of the routes in CROSS_FIELD_RULES are made to obey those rules."""
    rule, part = CROSS_FIELD_RULES.get((case.method.upper(), case.operation.path), (None, None))
    meta = case.meta
    if rule is None or meta is None or not meta.generation.mode.is_positive or not isinstance(getattr(case, part), dict):
        return case
    setattr(case, part, copy.deepcopy(getattr(case, part)))
    rule(case)
    return case
