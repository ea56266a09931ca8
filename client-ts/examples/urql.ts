// urql with an auth exchange that renews expired tokens: the accounts client keeps the token
// pair and refreshes it once for every query that expired together; urql sends queries.
import { authExchange } from "@urql/exchange-auth";
import { AccountsClient } from "accounts-graphql-client";
import { Client, cacheExchange, fetchExchange, type Operation } from "urql";

const API = "http://localhost:8000";
export const accounts = new AccountsClient(API); // accounts.login(email, password) signs in

/** The access token an operation was sent with. */
function sentToken(operation: Operation): string | null {
  const { fetchOptions } = operation.context;
  const options = typeof fetchOptions === "function" ? fetchOptions() : fetchOptions;
  const header = new Headers(options?.headers).get("Authorization");
  return header?.replace(/^Bearer /, "") ?? null;
}

export const urql = new Client({
  url: `${API}/graphql`,
  exchanges: [
    cacheExchange,
    authExchange(async (utils) => {
      let expired: string | null = null;
      return {
        addAuthToOperation(operation) {
          const token = accounts.accessToken;
          return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
        },
        didAuthError(error, operation) {
          expired = sentToken(operation);
          return error.graphQLErrors.some((entry) => entry.extensions["code"] === "TOKEN_EXPIRED");
        },
        async refreshAuth() {
          await accounts.renewTokens(expired);
        },
      };
    }),
    fetchExchange,
  ],
});
