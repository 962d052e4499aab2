// SpeakNode Webhooks for TypeScript and Node.js 20+: emit events that a retry never doubles,
// manage webhooks through the generated typed client, and verify deliveries in a receiver.

export { SpeakNode, RETRYABLE_STATUSES, unwrap } from "./client.js";
export type { EventAccepted, Options, EmitOptions } from "./client.js";
export { ApiError, ConnectionFailed, SpeakNodeError, parseRetryAfter } from "./errors.js";
export type { ErrorBody } from "./errors.js";
export { verify, verifySpeakNode, verifyStandard, VerificationError, DEFAULT_TOLERANCE_SECONDS } from "./verify.js";
export type { Body, HeaderSource, StandardOptions } from "./verify.js";
export type { components, paths } from "./generated/api.js";
