"""Stripe's error bodies, as the emulator answers them.

Every failure is an `ApiError` carrying what Stripe's JSON error object carries. Messages follow the
texts Stripe sends where they are known (auth, idempotency, unknown parameters, missing objects, empty
strings); where Stripe's exact text is not published, the message is ours and `code` is left out rather
than invented (see each constructor).
"""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """One Stripe error response: HTTP status plus the `error` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        if request_id is not None:
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={request_id[4:]}"
            )
        return {"error": error}


def mask_key(key: str) -> str:
    """Stripe's own masking: the prefix up to the mode, then `****` and the last four characters."""
    for prefix in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"):
        if key.startswith(prefix):
            return f"{prefix}****{key[-4:]}"
    return f"****{key[-4:]}" if len(key) > 4 else "****"


# --- authentication (401), before anything else runs -------------------------------------------------


def missing_api_key() -> ApiError:
    return ApiError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, "
        "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
        "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    )


def invalid_api_key(key: str) -> ApiError:
    return ApiError(401, f"Invalid API Key provided: {mask_key(key)}")


def expired_api_key(key: str) -> ApiError:
    return ApiError(401, f"Expired API Key provided: {mask_key(key)}", code="api_key_expired")


# --- the account a request acts on (403), after the key ------------------------------------------------


def not_a_platform() -> ApiError:
    """`Stripe-Account` with the key of an account that is no Connect platform (Stripe's text)."""
    return ApiError(
        403,
        "Only Stripe Connect platforms can work with other accounts. If you specified a client_id "
        "parameter, make sure it's correct. If you need to setup a Stripe Connect platform, you can do so "
        "at https://dashboard.stripe.com/account/applications/settings.",
    )


def no_access_to_account(key: str, account: str) -> ApiError:
    """A platform's key naming an account not connected to it. Stripe's text; the `account_invalid`
    code is ours (not confirmed in the shared reference)."""
    return ApiError(
        403,
        f"The provided key '{mask_key(key)}' does not have access to account '{account}' (or that account "
        "does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


# --- rate limiting (429), before idempotency ---------------------------------------------------------


def rate_limited(reason: str | None = None) -> ApiError:
    """Stripe's 429. No Retry-After and no Stripe-Should-Retry on a plain rate limit, as at Stripe (the SDK
    does not retry it). `Stripe-Rate-Limited-Reason` names the limiter (`global-rate`, `endpoint-rate`,
    `global-concurrency`); the message is the same for every limiter (Stripe publishes no other)."""
    headers = {"Stripe-Rate-Limited-Reason": reason} if reason else None
    return ApiError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        headers=headers,
    )


# --- routing -----------------------------------------------------------------------------------------


def unrecognized_url(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


# --- idempotency -------------------------------------------------------------------------------------


def _idempotency(status: int, message: str, code: str | None = None) -> ApiError:
    """Stripe's `idempotency_error`: the key's request is refused, never run (and never saved)."""
    return ApiError(status, message, type="idempotency_error", code=code)


def idempotency_params_mismatch(key: str) -> ApiError:
    return _idempotency(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request.",
    )


def idempotency_endpoint_mismatch(key: str, new_path: str, old_path: str) -> ApiError:
    return _idempotency(
        400,
        "Keys for idempotent requests can only be used for the same endpoint they were first used for "
        f"('{new_path}' vs '{old_path}'). Try using a key other than '{key}' if you meant to execute a "
        "different request.",
    )


def idempotency_in_flight(key: str) -> ApiError:
    return _idempotency(
        409,
        "There is currently another in-progress request using this Idempotent Key (that probably means you "
        f"submitted twice, and the other request is still going through): {key}. Please try again later.",
        code="idempotency_key_in_use",
    )


def idempotency_key_too_long() -> ApiError:
    return _idempotency(400, "Invalid Idempotency-Key header: the key must be at most 255 characters long.")


# --- parameters (400, before the endpoint runs: never saved for idempotency) -------------------------


def parameter_unknown(param: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def parameter_missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def parameter_invalid_empty(param: str) -> ApiError:
    return ApiError(
        400,
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset a "
        f"parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or "
        "supply a non-empty value.",
        code="parameter_invalid_empty",
        param=param,
    )


def parameter_invalid_integer(param: str, value: object, detail: str = "") -> ApiError:
    return ApiError(
        400,
        f"Invalid integer: {value}{detail}",
        code="parameter_invalid_integer",
        param=param,
    )


def parameter_invalid(param: str, message: str, code: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param)


def parameters_exclusive(first: str, second: str) -> ApiError:
    return ApiError(
        400,
        f"You may only specify one of these parameters: {first}, {second}.",
        code="parameters_exclusive",
        param=second,
    )


def unsupported_parameter(param: str) -> ApiError:
    """A parameter real Stripe accepts but this emulator does not model: refused loudly, never ignored."""
    return ApiError(
        400,
        f"The Stripe emulator does not support the parameter '{param}' (real Stripe accepts it). "
        "Remove it, or extend the emulator.",
        param=param,
    )


# --- objects and states (saved for idempotency: the endpoint ran) ------------------------------------


def resource_missing(object_name: str, object_id: str, param: str = "id", status: int = 404) -> ApiError:
    return ApiError(status, f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)


def invoice_not_editable(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, code="invoice_not_editable", param=param)


def api_error() -> ApiError:
    return ApiError(
        500,
        "An unknown error occurred",
        type="api_error",
        headers={"Stripe-Should-Retry": "false"},
    )
