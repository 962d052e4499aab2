// `SpeakNode`: the generated, typed client (openapi-fetch over the types openapi-typescript made
// from the service's document) plus what generation cannot give, an `emit` that is safe to
// retry. It mints one Idempotency-Key per event and sends it on every one of its own tries, so
// however many tries reach the service, one event is stored (the service answers a repeat of the
// same key and body with the first answer, for 24 hours).

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";
import { ApiError, ConnectionFailed, SpeakNodeError, apiError } from "./errors.js";

export type EventAccepted = components["schemas"]["EventAccepted"];

/** Answers that say "not now" rather than "no": rate limited, the service (or a proxy in front of
 * it) unavailable. Any other error would answer the same again, so it is thrown at once. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface Options {
  /** Limit for one try, connect to last byte (default 10 000 ms). */
  timeoutMs?: number;
  /** Tries per emit, the first included (default 5). */
  maxAttempts?: number;
  /** First backoff (default 500 ms), doubled per try up to `maxBackoffMs` (default 8 000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A longer Retry-After than this (default 60 000 ms) is thrown rather than waited for. */
  maxRetryAfterMs?: number;
  /** For tests and custom agents. */
  fetch?: (input: Request) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
}

export interface EmitOptions {
  /** Your own key (1 to 255 visible ASCII characters), e.g. to retry later across restarts. */
  idempotencyKey?: string;
  traceparent?: string;
}

/** The data of a successful openapi-fetch call, or an ApiError for an error status:
 * `unwrap(await sn.api.GET("/api/v1/webhooks"))`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw apiError(result.response, result.error);
}

export class SpeakNode {
  /** The generated client, for every route: `sn.api.GET("/api/v1/webhooks/{id}", …)`. */
  readonly api: Client<paths>;
  private readonly o: Required<Omit<Options, "fetch">>;

  constructor(baseUrl: string, apiKey: string, options: Options = {}) {
    this.api = createClient<paths>({
      baseUrl: baseUrl.replace(/\/+$/, ""),
      headers: { Authorization: `Bearer ${apiKey}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.o = {
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 8_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
  }

  /** Emits one event and resolves to what the service stored. Retries 429 (after Retry-After),
   * 502/503/504, connection errors and timeouts, at most `maxAttempts` tries in all, with the
   * same key every time; throws ApiError or ConnectionFailed carrying that key when it gives up,
   * and ApiError at once for any other refusal. */
  async emit(type: string, data: Record<string, unknown>, options: EmitOptions = {}): Promise<EventAccepted> {
    const key = options.idempotencyKey ?? `sn_${crypto.randomUUID().replaceAll("-", "")}`;
    const keyed = <E extends SpeakNodeError>(e: E): E => Object.assign(e, { idempotencyKey: key });
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.o.maxAttempts;
      let result;
      try {
        // The body serialises to the same bytes on every try, as the service requires of a
        // repeat: another body with this key would be 409 conflict.
        result = await this.api.POST("/api/v1/events", {
          params: { header: { "Idempotency-Key": key, ...(options.traceparent ? { traceparent: options.traceparent } : {}) } },
          body: { type, data },
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
      } catch (e) {
        // fetch rejects on a refused or broken connection and on the timeout's abort.
        if (last) throw keyed(new ConnectionFailed(`no answer: ${describe(e)}`, { cause: e }));
        await this.o.sleep(this.delay(attempt));
        continue;
      }
      if (result.response.status === 202 && result.data) return result.data;
      const error = keyed(apiError(result.response, result.error));
      if (last || !RETRYABLE_STATUSES.has(error.status)) throw error;
      const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : this.delay(attempt);
      if (wait > this.o.maxRetryAfterMs) throw error;
      await this.o.sleep(wait);
    }
  }

  // Exponential, capped, with jitter so that many platform processes retrying after one outage
  // do not arrive together.
  private delay(attempt: number): number {
    const ceiling = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}

export { ApiError, ConnectionFailed };
