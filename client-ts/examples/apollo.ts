// Apollo Client with an auth link that renews expired tokens: the accounts client keeps the
// token pair and refreshes it once for every query that expired together; Apollo sends queries.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { AccountsClient } from "accounts-graphql-client";
import { from, switchMap } from "rxjs";

const API = "http://localhost:8000";
export const accounts = new AccountsClient(API); // accounts.login(email, password) signs in

// Every operation carries the access token it was sent with, so the retry knows what expired.
const auth = new SetContextLink((context) => {
  const token = accounts.accessToken;
  const authorization: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return { sentToken: token, headers: { ...context.headers, ...authorization } };
});

const renew = new ErrorLink(({ error, operation, forward }) => {
  const context = operation.getContext();
  const expired =
    CombinedGraphQLErrors.is(error) &&
    error.errors.some((entry) => entry.extensions?.["code"] === "TOKEN_EXPIRED");
  if (!expired || context["retried"] === true || accounts.refreshToken === null) return;
  const sent = typeof context["sentToken"] === "string" ? context["sentToken"] : null;
  return from(accounts.renewTokens(sent)).pipe(
    switchMap(() => {
      operation.setContext({ retried: true });
      return forward(operation); // through `auth` again, with the renewed token
    }),
  );
});

export const apollo = new ApolloClient({
  link: ApolloLink.from([renew, auth, new HttpLink({ uri: `${API}/graphql` })]),
  cache: new InMemoryCache(),
});
