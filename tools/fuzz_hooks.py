"""Schemathesis hooks for tools/fuzz_api.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

Every request carries the daemon's X-API-Key (`-H` on the command line) and, from here, the bearer token of the
demo's first admin, so the JWT/RBAC routes (Supervisor, Autopack users) are exercised past 401/403.

Some rules hold between fields, and no JSON Schema can state them (a phase's `tier_id` names one of the body's
tiers; a warning threshold does not exceed its critical one; a phase result names the run and phase of its path).
`/openapi.json` says them in words; `map_case` below makes the fuzzer's schema-valid cases obey them, so the
positive-data check tests everything else about those routes instead of stopping at the same 422. The routes' own
tests pin the refusal of bodies that break them.

The fuzzer itself calls logout (revokes the session) and may update the admin's own account (deactivate it,
change its password or roles). The first is handled by Schemathesis: a 401 drops the cached token and the next
request logs in again. The second would lock every later request out, so requests that would modify the
admin's own user are pointed at a user id that does not exist (a documented 404) instead.
"""

import copy
import os
import time
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


def _ordered_thresholds(body, case):
    """PUT /api/v1/monitoring/config: each metric's warning at most its critical (swap them when not)."""
    thresholds = body.get("alert_thresholds")
    if isinstance(thresholds, dict):
        for levels in thresholds.values():
            if isinstance(levels, dict) and isinstance(levels.get("warning"), (int, float)) \
                    and isinstance(levels.get("critical"), (int, float)) and levels["warning"] > levels["critical"]:
                levels["warning"], levels["critical"] = levels["critical"], levels["warning"]
    return body


def _consistent_run(body, case):
    """POST /runs/start: tier and phase ids unique, every phase naming one of the tiers, at most max_phases phases."""
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
    return body


def _ids_of_the_path(body, case):
    """POST /runs/{run_id}/phases/{phase_id}/builder_result and auditor_result: the body names the path's run and phase,
    and each changed file is a relative path inside the workspace (ArtifactPath.normalize)."""
    for name in ("run_id", "phase_id"):
        if name in (case.path_parameters or {}):
            body[name] = unquote(str(case.path_parameters[name]))   # path parameters arrive percent-encoded here
    if isinstance(body.get("files_changed"), list):
        body["files_changed"] = [f"src/changed_{index}.py" for index in range(len(body["files_changed"]))]
    return body


# (method, path template) -> how a schema-valid body is made to obey the route's rules between fields.
CROSS_FIELD_RULES = {
    ("POST", "/runs/{run_id}/phases/{phase_id}/builder_result"): _ids_of_the_path,
    ("POST", "/runs/{run_id}/phases/{phase_id}/auditor_result"): _ids_of_the_path,
    ("PUT", "/api/v1/monitoring/config"): _ordered_thresholds,
    ("POST", "/runs/start"): _consistent_run,
}


@schemathesis.hook
def map_case(context, case):
    """Schema-valid (positive) cases of the routes in CROSS_FIELD_RULES are made to obey their cross-field rules."""
    rule = CROSS_FIELD_RULES.get((case.method.upper(), case.operation.path))
    meta = case.meta
    if rule is None or meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    case.body = rule(copy.deepcopy(case.body), case)
    return case
