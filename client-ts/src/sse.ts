// GraphQL over SSE, distinct connections mode: one POST with `Accept: text/event-stream` per
// subscription; `event: next` carries each result, `event: complete` ends the stream.
import { NetworkError, fromGraphQLErrors, type GraphQLErrorEntry } from "./errors.js";
import { dataOf, send, type HttpOptions } from "./http.js";
import type { GraphQLBody } from "./persisted.js";

interface SseEvent {
  event: string;
  data: string;
}

/** The events of a text/event-stream body (comments such as `: ping` are skipped). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === "\r" ? end + 2 : end + 1);
        if (line === "") {
          if (data.length > 0 || event !== "message") yield { event, data: data.join("\n") };
          event = "message";
          data = [];
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Subscribe: the `data` of each `next` event until `complete`; the error its first GraphQL
 * error names when an event carries errors. A server that answers with plain JSON instead (an
 * error before the stream starts) has that answer's error thrown.
 */
export async function* subscribeSse(
  url: string,
  body: GraphQLBody,
  options: HttpOptions,
): AsyncGenerator<Record<string, unknown>> {
  const response = await send(
    url,
    {
      method: "POST",
      headers: { ...options.headers, "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal: options.signal,
    },
    options.fetch,
  );
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream") || response.body === null) {
    await dataOf(response); // an answer in JSON instead: its error
    throw new NetworkError(`HTTP ${response.status} without an event stream`, response.status);
  }
  for await (const { event, data } of sseEvents(response.body)) {
    if (event === "complete") return;
    if (event !== "next") continue;
    const result = parse(data, response.status);
    const errors = result["errors"];
    if (Array.isArray(errors) && errors.length > 0) throw fromGraphQLErrors(errors as GraphQLErrorEntry[]);
    const payload = result["data"];
    if (typeof payload !== "object" || payload === null) {
      throw new NetworkError("An event without data", response.status);
    }
    yield payload as Record<string, unknown>;
  }
  throw new NetworkError("The event stream ended without `complete`", response.status);
}

function parse(data: string, status: number): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (cause) {
    throw new NetworkError("An event whose data is not JSON", status, { cause });
  }
  throw new NetworkError("An event whose data is not a GraphQL result", status);
}
