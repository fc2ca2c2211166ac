"""Schemathesis hooks for tools/fuzz_api.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

Every request carries the daemon's X-API-Key (`-H` on the command line) and, from here, the bearer token of the
demo's first admin, so the JWT/RBAC routes (Supervisor, Autopack users) are exercised past 401/403.

The fuzzer itself calls logout (revokes the session) and may update the admin's own account (deactivate it,
change its password or roles). The first is handled by Schemathesis: a 401 drops the cached token and the next
request logs in again. The second would lock every later request out, so requests that would modify the
admin's own user are pointed at a user id that does not exist (a documented 404) instead.
"""

import os
import time

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
