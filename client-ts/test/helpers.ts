// What the live tests share: the servers the harness started, and accounts on them.
import assert from "node:assert/strict";
import { AccountsClient, type ClientOptions } from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  assert.ok(
    value,
    `${name} is not set: run these tests through the server's pytest (tests/test_client_ts.py), ` +
      "which starts the servers and passes their URLs",
  );
  return value;
}

/** The API under test, its twin with 3-second access tokens, and the admin account on them. */
export const env = {
  get url(): string {
    return required("API_URL");
  },
  get shortTokensUrl(): string {
    return required("SHORT_TOKENS_API_URL");
  },
  get adminEmail(): string {
    return required("ADMIN_EMAIL");
  },
  get password(): string {
    return required("ADMIN_PASSWORD");
  },
};

export const AGENT = "accounts-graphql-client-ts/test";

export function client(options: ClientOptions & { url?: string } = {}): AccountsClient {
  return new AccountsClient(options.url ?? env.url, { userAgent: AGENT, ...options });
}

export async function admin(url?: string): Promise<AccountsClient> {
  const api = client(url === undefined ? {} : { url });
  await api.login(env.adminEmail, env.password);
  return api;
}

let serial = 0;

/** An address no other test uses. */
export function email(label: string): string {
  serial += 1;
  return `${label}-${process.pid}-${serial}@example.com`;
}

/** A signed-in user of its own, and the client it signed in with. */
export async function user(label: string): Promise<{ api: AccountsClient; email: string }> {
  const address = email(label);
  const api = client();
  await api.register({ name: label, email: address, password: env.password });
  await api.login(address, env.password);
  return { api, email: address };
}
