"""A faithful fake of the Oracle JD Edwards EnterpriseOne AIS Server REST API (the demo's JDE).

Follows ../shared/reference/jde-ais.md, its "Behaviours of real AIS servers" included: a paged result
set lives `page_state_max_age_seconds` (Oracle's `resultSetTimeout`, 60 s by default; tests set ~1 s)
and then answers 500 with Oracle's body `{"sysErrors": [{"TITLE": "JAS_MSG347: The query results
expired…", "DESC": …}]}` (no `message`); blank character fields come back as `" "`; tokens are standard
base64 (`+`, `/`, `=`), URL-encoded in next links; `environment`, `role` and `deviceName` may be left
off a token request (server defaults); the token response echoes `username` as typed and carries
`userInfo.username`/`appsRelease`/`country`; data-service answers carry `stackId`/`stateId`/`rid`;
`GET /jderest/defaultconfig` answers. Where it departs from a real AIS server, and why:

- Data lives in SQLite tables holding only the columns the pipeline reads (see `store.TABLES`), seeded
  deterministically (the A/R world of F03B11, F42119 and F0018 from its own stream, `seed_ar`, whose
  docstring lists its simplifications); numbers are stored as exact decimal text at display scale
  rather than integers with implied decimals (the JSON output, already scaled, is the same).
- Only `targetType: "table"`; a business view answers 400 (views differ per site: none is modelled).
  Only `specialValueId` LITERAL. No form service, application stacks or orchestrations.
- `outputType` GRID_DATA (default), VERSION1 and VERSION2. The reference names the VERSION types but
  not their shape: here each grid cell is `{"id", "internalValue", "value"}` (VERSION1 adds `title`,
  `staticText`, `visible`, `editable`), `internalValue` being the GRID_DATA value and `value` the
  display text (dates in the user's format), rows with `rowIndex` and `MOExist`. Anything else is 400.
- AGGREGATION answers `{"ds_<T>": {"output": [{"groupBy": {"T.COL": v}, "T.COL_SUM": n, ...}]}}` (no
  `groupBy` key without grouping), in one answer (no next page); `aggregations` (SUM, AVG, MIN, MAX,
  COUNT and their _DISTINCT forms), `groupBy` and an `orderBy` on grouped columns only; `having` and
  anything else answer 400 (stricter than a server that would accept them). Sums are exact decimals.
- COUNT answers `{"fs_DATABROWSE_<T>": {"title", "data": {"totalCount": n}, "errors", "warnings"}, ...}`:
  the reference does not document a COUNT response, so this shape is the sandbox's own.
- A failed login (unknown user, wrong password or environment) answers 403 with message
  "Authorization Failure", as real AIS does. A token requested without a device name is bound to no
  device (any or none is accepted later); one requested with a device name must be used with it.
- `userInfo.appsRelease` is `apps_release` (E920), `country` the user's (US); `GET /jderest/defaultconfig`
  answers a subset of a real server's fields (defaults, timeouts, a short `capabilityList`).
- Tokens always contain `+`, `/` and `=` (real ones usually do): every client meets them.
- Token lifetime: `token_max_age_seconds` (rest.ini's session timeout) and `token_max_calls` (an extra
  knob so tests can make a token die on the N+1th data call). Only dataservice and dataservice/next
  count as calls (an injected 500 counts too: the server did see the call); validate and logout do not.
- A query's date literals are parsed strictly in the user's `simpleDateFormat` (1-2 digit day/month,
  4-digit year, a real date): anything else answers 400 naming the literal and the expected format.
- `maxPageSize` defaults to `default_max_page_size` (100); "No Max" is accepted. Rows always come in
  the requested `orderBy` then key order, so pages are stable.
- Next-page state is a snapshot of the matching rows' keys taken when the query first runs (a
  database cursor in real AIS): rows changed later show their new values, deleted rows are skipped.
  The state dies with the token (444), `page_state_max_age_seconds` after the query ran (counted from
  the first page, not from the last use: the stricter reading), or once the last page has been served;
  a dead, finished or unknown state answers the same JAS_MSG347 500. A next-page link carries no
  deviceName, so the next-page endpoint alone accepts a token without one (a different device name is
  still refused).
- String comparisons are case-sensitive (as on the databases under JDE); STR_BLANK on a number or
  date column means 0. A blank date comes back as `""` in GRID_DATA (the reference says nothing of
  blank dates).
- An IP allowlist (`allowlist`) answers 403 with a JSON error body, before anything else, on /jderest/*.
- Admin row reads (`GET /_sandbox/tables/{T}/rows`, `AisSandbox.rows`) give values as stored (blank
  strings as `""`, not `" "`): Julian CYYDDD dates, HHMMSS times, exact decimals; admin writes take the
  same forms and stamp UPMJ and UPMT/TDAY with the sandbox clock (wall time in `timezone`) unless given.
- Extras that real AIS lacks: faults (`fail_rate`, `drop_rate`, `latency_ms`, deterministic from
  `fault_seed`) and the token-free admin API under /_sandbox/ (config, stats, reset, table rows,
  tokens/expire), which ignores the allowlist so a test can always reach it. GET /_sandbox/config
  masks passwords.
- REST-layer error bodies carry message, exception, timeStamp and status; exceptionId, errorText, type
  and userDefinedErrorText are not produced. Grid rows carry only the requested columns.
"""

from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig, AisUser, ConfigError
from jde_stripe_pipeline.sandboxes.ais.sandbox import AisSandbox

__all__ = ["AisSandbox", "AisSandboxConfig", "AisUser", "ConfigError"]
