// The token pair a client keeps, and the single-flight refresh that concurrent calls share.
import { TokenExpired } from "./errors.js";

export interface Tokens {
  accessToken: string | null;
  refreshToken: string | null;
}

export class TokenKeeper {
  private pair: Tokens;
  private refreshing: Promise<void> | null = null;

  constructor(
    initial: Tokens,
    private readonly onChange: ((tokens: Tokens) => void) | undefined,
  ) {
    this.pair = { ...initial };
  }

  get tokens(): Tokens {
    return { ...this.pair };
  }

  set(tokens: Tokens): void {
    this.pair = { ...tokens };
    this.onChange?.(this.tokens);
  }

  /**
   * Run `attempt` with the access token; when it fails with TOKEN_EXPIRED and a refresh token is
   * kept, renew the pair once and run it again once.
   */
  async signed<T>(attempt: (accessToken: string | null) => Promise<T>, refresh: () => Promise<void>): Promise<T> {
    const sent = this.pair.accessToken;
    try {
      return await attempt(sent);
    } catch (error) {
      if (!(error instanceof TokenExpired) || this.pair.refreshToken === null) throw error;
    }
    await this.renew(sent, refresh);
    return await attempt(this.pair.accessToken);
  }

  /**
   * Renew the pair after `expired` failed, unless another call already did. Calls that expire
   * together share one refresh: a second refresh with the same refresh token would look like
   * a stolen token to the server and end the session.
   */
  async renew(expired: string | null, refresh: () => Promise<void>): Promise<void> {
    if (this.pair.accessToken !== expired) return;
    this.refreshing ??= refresh().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }
}
