// Apollo's automatic persisted queries (contract section 6): the document's SHA-256 goes first;
// the text follows only when the server answers that it does not know the hash yet.
import { PersistedQueryNotFound } from "./errors.js";

export interface GraphQLBody {
  query?: string;
  variables: unknown;
  extensions?: { persistedQuery: { version: 1; sha256Hash: string } };
}

const hashes = new Map<string, Promise<string>>();

/** The lower-case hex SHA-256 of a document's text, worked out once per document. */
export function sha256Hex(text: string): Promise<string> {
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(text))
      .then((digest) => [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join(""));
    hashes.set(text, hash);
  }
  return hash;
}

/** `post` the hash alone; once more with the text when the server answers PERSISTED_QUERY_NOT_FOUND. */
export async function sendPersisted<T>(
  query: string,
  variables: unknown,
  post: (body: GraphQLBody) => Promise<T>,
): Promise<T> {
  const extensions = { persistedQuery: { version: 1 as const, sha256Hash: await sha256Hex(query) } };
  try {
    return await post({ variables, extensions });
  } catch (error) {
    if (!(error instanceof PersistedQueryNotFound)) throw error;
  }
  return await post({ query, variables, extensions });
}
