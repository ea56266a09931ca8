/**
 * A GraphQL document as the text sent in `query`, typed with the answer it gives and the
 * variables it takes. Phantom fields only: at run time it is a plain string.
 */
export type TypedDocument<TResult, TVariables> = string & {
  readonly __result?: TResult;
  readonly __variables?: TVariables;
};

/** The answer type of a typed document. */
export type ResultOf<D> = D extends TypedDocument<infer R, unknown> ? R : never;

/** The variables type of a typed document. */
export type VariablesOf<D> = D extends TypedDocument<unknown, infer V> ? V : never;

/** Whether a call may leave out its variables: only when every one of them is optional. */
export type VariablesArgs<V, Rest extends unknown[] = []> = {} extends V
  ? [variables?: V, ...rest: Partial<Rest>]
  : [variables: V, ...rest: Partial<Rest>];
