import { constArg, type FunctionTable, str } from "./functions-common.js";
import { seriesDecomposeAnomalies, seriesOutliers } from "./series.js";
import type { Fn } from "./values.js";

// Series functions over make-series arrays: series_outliers, series_decompose_anomalies.

const seriesNumber = (x: unknown): number | null => (typeof x === "number" ? x : null);

export const SERIES_FUNCTIONS: FunctionTable = {
  series_outliers: {
    min: 1,
    max: 5,
    impl: (args) => {
      const a = args[0]!.fn;
      const kind = args[1] ? str(constArg(args, 1)) || "ctukey" : "ctukey";
      const ignore = args[2] ? (constArg(args, 2) as number | null) : null;
      const lo = args[3] ? Number(constArg(args, 3)) : 10;
      const hi = args[4] ? Number(constArg(args, 4)) : 90;
      return {
        fn: (r) => {
          const v = a(r);
          return Array.isArray(v) ? seriesOutliers(v.map(seriesNumber), kind, ignore, lo, hi) : null;
        },
        type: "dynamic",
      };
    },
  },
  series_decompose_anomalies: {
    min: 1,
    max: 3,
    impl: (args) => {
      const [a, t, s] = args.map((x) => x.fn) as [Fn, Fn | undefined, Fn | undefined];
      return {
        fn: (r) => {
          const v = a(r);
          if (!Array.isArray(v)) return null;
          return seriesDecomposeAnomalies(v.map(seriesNumber), t ? Number(t(r)) : 1.5, s ? Number(s(r)) : -1);
        },
        type: "dynamic",
      };
    },
  },
};
