/** One measured figure in `npm run bench`. Every bench/<area>.ts exports `bench(): Promise<BenchResult[]>`. */
export interface BenchResult {
  area: string;
  name: string;
  /** The headline value, e.g. rows/s, calls/s, ms. */
  value: number;
  unit: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Target this figure is checked against, and whether it holds. */
  target?: string;
  holds?: boolean;
  notes?: string;
  /** Printed again, under this label, in the summary of the performance figures at the end of the run. */
  headline?: string;
}
