// Errors the client throws. Every answer the API refuses carries the contract's body,
// `{"error": {"code", "message", "field"}}`; ApiError keeps all of it, with the status.

import type { components } from "./generated/api.js";

/** The contract's error body. */
export type ErrorBody = components["schemas"]["Error"];

/** Anything this client throws on purpose. */
export class SpeakNodeError extends Error {
  override name = "SpeakNodeError";
  /** The Idempotency-Key an `emit` used: emitting again with it later can never create a second
   * event, so keep it when you queue the event for another try. Undefined elsewhere. */
  idempotencyKey?: string;
}

/** The API answered with an error status. */
export class ApiError extends SpeakNodeError {
  override name = "ApiError";
  constructor(
    readonly status: number,
    /** `bad_request`, `unauthorized`, `not_found`, `conflict`, `validation_failed`, … */
    readonly code: string,
    readonly detail: string,
    /** The dotted path of the field at fault (`data.transcript[0].role`), when one is. */
    readonly field: string | undefined,
    /** Seconds the service asked to wait (`Retry-After`), on 429 and 503. */
    readonly retryAfter: number | undefined,
    readonly body: unknown,
  ) {
    super(`${status} ${code}: ${detail}${field ? ` (field ${field})` : ""}`);
  }
}

/** No answer came: the connection failed, broke, or the request timed out. An emit may or may
 * not have been stored; retry it with `idempotencyKey` to be sure without doubling it. */
export class ConnectionFailed extends SpeakNodeError {
  override name = "ConnectionFailed";
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - Date.now()) / 1000);
}

/** The ApiError for a refused answer; `body` is what openapi-fetch parsed (or the raw text). */
export function apiError(response: Response, body: unknown): ApiError {
  const detail = (body as Partial<ErrorBody> | undefined)?.error;
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  if (detail && typeof detail.code === "string" && typeof detail.message === "string") {
    return new ApiError(response.status, detail.code, detail.message, detail.field ?? undefined, retryAfter, body);
  }
  // Not the contract's body: a proxy in front of the service answered. Say so plainly.
  const text = typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${response.status}`;
  return new ApiError(response.status, "http_error", text, undefined, retryAfter, body);
}
