// The two kinds of HTTP call the client makes: a GraphQL POST and a file GET over REST.
// Nothing here knows about tokens; failures come back as the errors of errors.ts.
import { NetworkError, fromGraphQLErrors, fromRestError, type GraphQLErrorEntry } from "./errors.js";
import type { GraphQLBody } from "./persisted.js";

export type Fetch = typeof globalThis.fetch;

export interface HttpOptions {
  fetch: Fetch;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
}

export async function send(url: string, init: RequestInit, fetch: Fetch): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (cause) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new NetworkError(`No answer from ${url}: ${reason}`, null, { cause });
  }
}

async function json(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch (cause) {
    throw new NetworkError(`HTTP ${response.status} with a body that is not JSON`, response.status, {
      cause,
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** POST one operation; its `data`, or the error its first GraphQL error names. */
export async function postGraphQL(
  url: string,
  body: GraphQLBody,
  options: HttpOptions,
): Promise<Record<string, unknown>> {
  const response = await send(
    url,
    {
      method: "POST",
      headers: {
        ...options.headers,
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify(body),
      signal: options.signal,
    },
    options.fetch,
  );
  return await dataOf(response);
}

/** A GraphQL response's `data`, or the error its first GraphQL error names. */
export async function dataOf(response: Response): Promise<Record<string, unknown>> {
  const answer = await json(response);
  if (!isRecord(answer)) throw new NetworkError("The answer is not a GraphQL response", response.status);
  const errors = answer["errors"];
  if (Array.isArray(errors) && errors.length > 0) {
    throw fromGraphQLErrors(errors as GraphQLErrorEntry[]);
  }
  const data = answer["data"];
  if (!isRecord(data)) throw new NetworkError("The answer has no data", response.status);
  return data;
}

/** GET a file from a REST route; its text, or the error of the legacy envelope. */
export async function getText(url: string, options: HttpOptions): Promise<string> {
  const response = await send(
    url,
    { method: "GET", headers: options.headers, signal: options.signal },
    options.fetch,
  );
  if (response.ok) return await response.text();
  const envelope = await json(response).catch(() => null);
  const error = isRecord(envelope) ? envelope["error"] : null;
  if (!isRecord(error)) {
    throw new NetworkError(`Download failed with HTTP ${response.status}`, response.status);
  }
  throw fromRestError(error);
}
