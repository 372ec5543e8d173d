/**
 * A lookup table keyed by names taken from a query (functions, types, units, operators). Built without a prototype,
 * so a name like `constructor` or `toString` finds nothing instead of Object's own members.
 */
export function lookupTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}
