/** Exhaustiveness gate: a new union variant that is not handled breaks the build. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
